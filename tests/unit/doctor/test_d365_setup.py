"""Every entity set the doctor reads to verify ``[d365]`` values is a configured one."""

from __future__ import annotations

from payledger.config import D365EntitySetNames, D365SetupEntitySetNames, Settings
from payledger.doctor.d365_setup import values_to_verify


def renamed(model: type[D365EntitySetNames | D365SetupEntitySetNames]) -> dict[str, str]:
    return {key: f"Renamed_{key}" for key in model.model_fields}


def test_every_entity_set_read_comes_from_configuration():
    settings = Settings(
        d365={
            "ach_payment_method": "ACH",
            "fee_account": "618160--",
            "entity_sets": renamed(D365EntitySetNames),
            "setup_entity_sets": renamed(D365SetupEntitySetNames),
        }
    )
    values = values_to_verify(settings)

    read = {s.entity_set for v in values for s in (v.authority, *v.usage)}
    assert read and all(name.startswith("Renamed_") for name in read), sorted(read)
    assert set(renamed(D365SetupEntitySetNames).values()) <= read  # each setup set is used


def test_ledger_accounts_are_looked_up_by_their_main_account():
    settings = Settings(d365={"fee_account": "618160-001--", "deposit_account_type": "Ledger"})
    by_key = {v.key: v for v in values_to_verify(settings)}

    fee = by_key["fee_account"]
    assert (fee.value, fee.used_as) == ("618160", "618160-001--")
    assert not fee.authority.company_scoped  # the chart of accounts is shared
    assert by_key["deposit_account"].name == "deposit account (Ledger)"
