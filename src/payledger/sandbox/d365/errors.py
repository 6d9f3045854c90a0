"""OData error answers exactly as F&O shapes them (fact sheet 5.2)."""

from __future__ import annotations

from typing import Any

WRITE_EXCEPTION = "Microsoft.Dynamics.Platform.Integration.Services.OData.AxODataWriteException"
ODATA_EXCEPTION = "Microsoft.OData.ODataException"
GENERIC_MESSAGE = "An error has occurred."
_STACK = (
    "   at Microsoft.Dynamics.Platform.Integration.Services.OData.AxODataDelegatingHandler"
    ".<SendAsync>d__2.MoveNext()\r\n"
    "   at System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw()"
)


class ODataError(Exception):
    """An error answer: status, top-level message and the inner error F&O adds."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        inner_message: str | None = None,
        inner_type: str = ODATA_EXCEPTION,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.inner_message = message if inner_message is None else inner_message
        self.inner_type = inner_type
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {
            "error": {
                "code": "",
                "message": self.message,
                "innererror": {
                    "message": self.inner_message,
                    "type": self.inner_type,
                    "stacktrace": _STACK,
                },
            }
        }


class WriteFailed(ODataError):
    """An X++ validation failure: AxODataWriteException with the Infolog in innererror."""

    def __init__(self, aot_name: str, infolog: list[str], status: int = 500) -> None:
        text = f"Write failed for table row of type '{aot_name}'. Infolog: " + "; ".join(infolog)
        super().__init__(status, GENERIC_MESSAGE, inner_message=text, inner_type=WRITE_EXCEPTION)
        self.infolog = infolog


def bad_request(message: str) -> ODataError:
    return ODataError(400, message)


def not_found(segment: str) -> ODataError:
    return ODataError(404, f"Resource not found for the segment '{segment}'.")


def no_route() -> ODataError:
    """A key that does not name every key property, as F&O answers it (ISS-2063)."""
    return ODataError(404, "No route data was found for this request.")


def precondition_failed(status: int = 412) -> ODataError:
    return ODataError(
        status,
        "The ETag value in the request header does not match with the current ETag value of "
        "the object.",
    )


def throttled(retry_after_s: int | None) -> ODataError:
    headers = {"Retry-After": str(retry_after_s)} if retry_after_s is not None else {}
    return ODataError(
        429,
        "This request could not be processed at this time due to system experiencing high "
        "resource utilization.",
        headers=headers,
    )
