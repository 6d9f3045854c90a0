"""Configuration: one TOML file plus ``PAYLEDGER_<SECTION>__<KEY>`` environment overrides.

The file is ``--config``, else ``$PAYLEDGER_CONFIG``, else ``./payledger.toml`` when present;
without any file the defaults run the embedded SQLite mode. Each area's sections are in their
own module (``service``, ``vault``, ``vendors``, ``ledger``, ``billing``, ``risk``). Every key
is documented in ``docs/configuration.md``. A wrong or unknown key stops start-up with a
message naming it.
``PAYLEDGER_<SECTION>__<KEY>_FILE=/path`` gives a key the text of a file instead (Docker and
systemd secrets).
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from payledger.config.billing import (
    DEFAULT_HARD_DECLINES,
    DEFAULT_SOFT_DECLINES,
    DunningCollectionsSettings,
    DunningNoticeSettings,
    DunningSettings,
    SubscriptionSettings,
)
from payledger.config.ledger import (
    FeeRuleSettings,
    MappingSettings,
    OrderSettings,
    PostingSettings,
    ReconcileSettings,
    SyncSettings,
)
from payledger.config.risk import (
    RiskModelSettings,
    RiskRuleSettings,
    RiskSettings,
)
from payledger.config.service import (
    OTLP_EXPORTER,
    AlertSmtpSettings,
    AlertsSettings,
    AlertWebhookSettings,
    ApiSettings,
    DatabaseSettings,
    LoggingSettings,
    ServiceSettings,
    TracingSettings,
    WebhookSettings,
    WorkerSettings,
)
from payledger.config.vault import (
    AzureKeyVaultSettings,
    HashiCorpVaultSettings,
    VaultSettings,
)
from payledger.config.vendors import (
    D365EntitySetNames,
    D365Fields,
    D365Settings,
    D365SetupEntitySetNames,
    PayTraceSettings,
)
from payledger.domain.errors import ConfigError

ENV_PREFIX = "PAYLEDGER_"
FILE_SUFFIX = "_FILE"
DEFAULT_CONFIG_FILE = Path("payledger.toml")
# Environment variables that share the prefix but are not configuration keys.
_NON_SETTING_ENV = {"PAYLEDGER_CONFIG", "PAYLEDGER_MASTER_KEY"}

__all__ = [
    "DEFAULT_CONFIG_FILE",
    "DEFAULT_HARD_DECLINES",
    "DEFAULT_SOFT_DECLINES",
    "ENV_PREFIX",
    "FILE_SUFFIX",
    "OTLP_EXPORTER",
    "AlertSmtpSettings",
    "AlertWebhookSettings",
    "AlertsSettings",
    "ApiSettings",
    "AzureKeyVaultSettings",
    "D365EntitySetNames",
    "D365Fields",
    "D365Settings",
    "D365SetupEntitySetNames",
    "DatabaseSettings",
    "DunningCollectionsSettings",
    "DunningNoticeSettings",
    "DunningSettings",
    "FeeRuleSettings",
    "HashiCorpVaultSettings",
    "LoggingSettings",
    "MappingSettings",
    "OrderSettings",
    "PayTraceSettings",
    "PostingSettings",
    "ReconcileSettings",
    "RiskModelSettings",
    "RiskRuleSettings",
    "RiskSettings",
    "ServiceSettings",
    "Settings",
    "SubscriptionSettings",
    "SyncSettings",
    "TracingSettings",
    "VaultSettings",
    "WebhookSettings",
    "WorkerSettings",
    "load_settings",
    "secret_file_variable",
    "setting_key",
]


class Settings(BaseSettings):
    """All of payledger's configuration, validated at start-up."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_nested_delimiter="__", extra="forbid", frozen=True
    )

    database: DatabaseSettings = DatabaseSettings()
    worker: WorkerSettings = WorkerSettings()
    service: ServiceSettings = ServiceSettings()
    vault: VaultSettings = VaultSettings()
    logging: LoggingSettings = LoggingSettings()
    tracing: TracingSettings = TracingSettings()
    paytrace: PayTraceSettings = PayTraceSettings()
    d365: D365Settings = D365Settings()
    posting: PostingSettings = PostingSettings()
    sync: SyncSettings = SyncSettings()
    orders: OrderSettings = OrderSettings()
    mapping: MappingSettings = MappingSettings()
    reconcile: ReconcileSettings = ReconcileSettings()
    subscriptions: SubscriptionSettings = SubscriptionSettings()
    dunning: DunningSettings = DunningSettings()
    risk: RiskSettings = RiskSettings()
    alerts: AlertsSettings = AlertsSettings()
    api: ApiSettings = ApiSettings()
    webhooks: WebhookSettings = WebhookSettings()

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The file's values arrive as init arguments; the environment overrides them.
        return _EnvironmentWithFiles(settings_cls), init_settings


class _EnvironmentWithFiles(EnvSettingsSource):
    """The environment, where ``PAYLEDGER_<SECTION>__<KEY>_FILE=/path`` stands for
    ``PAYLEDGER_<SECTION>__<KEY>`` holding that file's text (one trailing newline dropped)."""

    def __init__(self, settings_cls: type[BaseSettings]) -> None:
        super().__init__(settings_cls)
        variables = dict(self.env_vars)
        for name in list(variables):
            if not secret_file_variable(name.upper()):
                continue
            stem, path = name[: -len(FILE_SUFFIX)], variables.pop(name)
            if stem in variables:
                raise ConfigError(f"set {stem.upper()} or {name.upper()}, not both")
            variables[stem] = _read_secret_file(name.upper(), Path(path or ""))
        self.env_vars = variables


def _read_secret_file(variable: str, path: Path) -> str:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{variable}: cannot read {path}: {exc.__class__.__name__}") from None
    return text.removesuffix("\n").removesuffix("\r")


def setting_key(variable: str) -> str | None:
    """The key (``database.url``) that an environment variable sets, or None."""
    if not variable.startswith(ENV_PREFIX):
        return None
    section, _, key = variable[len(ENV_PREFIX) :].lower().partition("__")
    key = key.split("__")[0]
    model = Settings.model_fields.get(section)
    annotation = model.annotation if model else None
    known = isinstance(annotation, type) and key in getattr(annotation, "model_fields", {})
    return f"{section}.{key}" if known else None


def secret_file_variable(variable: str) -> bool:
    """Whether ``variable`` names a file holding a key's value (``PAYLEDGER_DATABASE__URL_FILE``)
    rather than a key itself (``PAYLEDGER_VAULT__KEY_FILE``)."""
    return (
        variable.endswith(FILE_SUFFIX)
        and setting_key(variable) is None
        and setting_key(variable[: -len(FILE_SUFFIX)]) is not None
    )


def load_settings(path: Path | str | None = None) -> Settings:
    """Read and validate the configuration; raise :class:`ConfigError` naming any bad key."""
    source = _config_path(path)
    data = _read_toml(source) if source else {}
    _reject_unknown_env_keys()
    try:
        return Settings(**data)
    except ValidationError as exc:
        where = f" in {source}" if source else ""
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigError(f"invalid configuration{where}: {problems}") from None


def _config_path(path: Path | str | None) -> Path | None:
    explicit = path or os.environ.get("PAYLEDGER_CONFIG")
    if explicit:
        chosen = Path(explicit)
        if not chosen.is_file():
            raise ConfigError(f"configuration file {chosen} does not exist")
        return chosen
    return DEFAULT_CONFIG_FILE if DEFAULT_CONFIG_FILE.is_file() else None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None


def _reject_unknown_env_keys() -> None:
    for name in os.environ:
        if not name.startswith(ENV_PREFIX) or name in _NON_SETTING_ENV:
            continue
        if setting_key(name) is None and not secret_file_variable(name):
            raise ConfigError(f"unknown configuration key in environment variable {name}")
