"""Dynamics 365 Finance & Operations connector: Entra ID / AD FS auth, OData v4, $batch.

``D365Client`` is the transport-level OData client (paging, ETags, batch, throttling, safe
retries); ``D365Ledger`` is what payledger does in F&O with it, configured by ``D365Settings``.
"""

from payledger.adapters.d365.auth import (
    AdfsCredential,
    ClientCertificate,
    D365Credential,
    EntraIdCredential,
)
from payledger.adapters.d365.batch import (
    BatchPartResponse,
    BatchRequest,
    BatchResponse,
    ChangeSet,
    ChangeSetResponse,
    parse_batch_response,
)
from payledger.adapters.d365.client import D365Client, D365Record, ODataPage
from payledger.adapters.d365.errors import (
    D365ErrorDetail,
    D365NotFound,
    D365PreconditionFailed,
    WritesDisabled,
    map_errors,
    parse_error_body,
)
from payledger.adapters.d365.ledger import (
    D365EntitySets,
    D365Ledger,
    D365Settings,
    LinesResult,
    NaturalKeys,
)
from payledger.adapters.d365.metadata import (
    EntitySetInfo,
    PropertyInfo,
    ServiceMetadata,
    parse_metadata,
)
from payledger.adapters.d365.odata import (
    EnumValue,
    Field,
    Filter,
    NextLinkPaginator,
    ODataQuery,
    all_of,
    any_of,
    escape_display_value,
    field,
    key_path,
    literal,
    unescape_display_value,
)
from payledger.adapters.d365.throttle import AdaptiveConcurrency, RetryPolicy

__all__ = [
    "AdaptiveConcurrency",
    "AdfsCredential",
    "BatchPartResponse",
    "BatchRequest",
    "BatchResponse",
    "ChangeSet",
    "ChangeSetResponse",
    "ClientCertificate",
    "D365Client",
    "D365Credential",
    "D365EntitySets",
    "D365ErrorDetail",
    "D365Ledger",
    "D365NotFound",
    "D365PreconditionFailed",
    "D365Record",
    "D365Settings",
    "EntitySetInfo",
    "EntraIdCredential",
    "EnumValue",
    "Field",
    "Filter",
    "LinesResult",
    "NaturalKeys",
    "NextLinkPaginator",
    "ODataPage",
    "ODataQuery",
    "PropertyInfo",
    "RetryPolicy",
    "ServiceMetadata",
    "WritesDisabled",
    "all_of",
    "any_of",
    "escape_display_value",
    "field",
    "key_path",
    "literal",
    "map_errors",
    "parse_batch_response",
    "parse_error_body",
    "parse_metadata",
    "unescape_display_value",
]
