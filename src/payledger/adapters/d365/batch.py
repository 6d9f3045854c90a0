"""``$batch`` requests and responses: multipart/mixed with atomic changesets.

>>> batch = BatchRequest()
>>> changes = batch.changeset()
>>> _ = changes.post("CustomerPaymentJournalLines", {"JournalBatchNumber": "00001"})
>>> content_type, body = batch.encode("https://env.example/data")
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from payledger.adapters.d365.errors import D365ErrorDetail, parse_error_body
from payledger.adapters.d365.odata import dumps, loads

_JSON = "application/json;odata.metadata=minimal"
_BOUNDARY = re.compile(r'boundary="?([^";]+)"?', re.IGNORECASE)


@dataclass
class BatchOperation:
    method: str
    path: str
    """Relative to the service root, e.g. ``CustomersV3`` or a key path."""
    body: Mapping[str, Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    content_id: str = ""


@dataclass
class ChangeSet:
    """Operations that F&O applies all together or not at all."""

    operations: list[BatchOperation] = field(default_factory=list)
    _next_id: list[int] = field(default_factory=lambda: [1])

    def _add(self, operation: BatchOperation) -> BatchOperation:
        operation.content_id = str(self._next_id[0])
        self._next_id[0] += 1
        self.operations.append(operation)
        return operation

    def post(self, entity_set: str, body: Mapping[str, Any]) -> BatchOperation:
        """Create a row; ``entity_set`` may be ``$<content id>/<navigation>`` to create a row
        related to one created earlier in this changeset."""
        return self._add(BatchOperation("POST", entity_set, body))

    def patch(self, path: str, body: Mapping[str, Any], etag: str | None = None) -> BatchOperation:
        headers = {"If-Match": etag} if etag else {}
        return self._add(BatchOperation("PATCH", path, body, headers))

    def delete(self, path: str, etag: str | None = None) -> BatchOperation:
        headers = {"If-Match": etag} if etag else {}
        return self._add(BatchOperation("DELETE", path, None, headers))

    def __len__(self) -> int:
        return len(self.operations)


@dataclass
class BatchRequest:
    """A ``$batch``: changesets, and reads outside them (GETs never go in a changeset)."""

    items: list[BatchOperation | ChangeSet] = field(default_factory=list)
    _ids: list[int] = field(default_factory=lambda: [1])

    def changeset(self) -> ChangeSet:
        changeset = ChangeSet(_next_id=self._ids)
        self.items.append(changeset)
        return changeset

    def get(self, path: str) -> BatchOperation:
        operation = BatchOperation("GET", path, content_id=str(self._ids[0]))
        self._ids[0] += 1
        self.items.append(operation)
        return operation

    @property
    def operation_count(self) -> int:
        return sum(len(i) if isinstance(i, ChangeSet) else 1 for i in self.items)

    def encode(self, service_root: str) -> tuple[str, bytes]:
        """The ``Content-Type`` header and body of the batch request."""
        boundary = f"batch_{uuid.uuid4()}"
        chunks = []
        for item in self.items:
            if isinstance(item, ChangeSet):
                chunks.append(_encode_changeset(item, service_root))
            else:
                chunks.append(_encode_operation(item, service_root))
        body = b"".join(f"--{boundary}\r\n".encode() + chunk for chunk in chunks)
        return f"multipart/mixed; boundary={boundary}", body + f"--{boundary}--\r\n".encode()


def _target(path: str, service_root: str) -> str:
    """A Content-ID reference (``$1/Lines``: a row created earlier in the changeset) is sent as
    it is; any other path below the service root."""
    return path if path.startswith("$") else f"{service_root}/{path}"


def _encode_operation(operation: BatchOperation, service_root: str) -> bytes:
    lines = [
        "Content-Type: application/http",
        "Content-Transfer-Encoding: binary",
        f"Content-ID: {operation.content_id}",
        "",
        f"{operation.method} {_target(operation.path, service_root)} HTTP/1.1",
        "Accept: application/json",
        "OData-Version: 4.0",
        *(f"{k}: {v}" for k, v in operation.headers.items()),
    ]
    body = b""
    if operation.body is not None:
        lines.append(f"Content-Type: {_JSON}")
        body = dumps(operation.body)
    return "\r\n".join([*lines, "", ""]).encode() + body + b"\r\n"


def _encode_changeset(changeset: ChangeSet, service_root: str) -> bytes:
    boundary = f"changeset_{uuid.uuid4()}"
    head = f"Content-Type: multipart/mixed; boundary={boundary}\r\n\r\n".encode()
    parts = b"".join(
        f"--{boundary}\r\n".encode() + _encode_operation(op, service_root)
        for op in changeset.operations
    )
    return head + parts + f"--{boundary}--\r\n".encode()


@dataclass
class BatchPartResponse:
    """One operation's answer inside a batch response."""

    status: int
    headers: dict[str, str]
    body: bytes
    content_id: str = ""

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def json(self) -> Any:
        return loads(self.body) if self.body.strip() else None

    @property
    def error(self) -> D365ErrorDetail:
        return parse_error_body(self.body)


@dataclass
class ChangeSetResponse:
    """A changeset's answer: one part per operation, or a single error part if it failed."""

    parts: list[BatchPartResponse]

    @property
    def ok(self) -> bool:
        return bool(self.parts) and all(p.ok for p in self.parts)

    @property
    def failure(self) -> BatchPartResponse | None:
        return next((p for p in self.parts if not p.ok), None)


@dataclass
class BatchResponse:
    items: list[BatchPartResponse | ChangeSetResponse]

    @property
    def changesets(self) -> list[ChangeSetResponse]:
        return [i for i in self.items if isinstance(i, ChangeSetResponse)]


def _boundary(content_type: str) -> str:
    match = _BOUNDARY.search(content_type)
    if not match:
        raise ValueError(f"no multipart boundary in {content_type!r}")
    return match.group(1)


def _head(chunk: bytes) -> tuple[dict[str, str], bytes]:
    match = re.search(rb"\r?\n\r?\n", chunk)
    head, rest = (chunk[: match.start()], chunk[match.end() :]) if match else (chunk, b"")
    headers = {}
    for line in head.decode("utf-8", "replace").splitlines():
        name, colon, value = line.partition(":")
        if colon:
            headers[name.strip().lower()] = value.strip()
    return headers, rest


def _parts(body: bytes, boundary: str) -> list[bytes]:
    parts = []
    for chunk in body.split(b"--" + boundary.encode())[1:]:
        if chunk.startswith(b"--"):
            break
        parts.append(re.sub(rb"^\r?\n", b"", chunk, count=1).removesuffix(b"\r\n"))
    return parts


def _part_response(part: bytes) -> BatchPartResponse:
    mime, message = _head(part)
    status_end = message.find(b"\n")
    status_line = message[:status_end].decode().strip()
    headers, body = _head(message[status_end + 1 :])
    status = int(status_line.split(" ")[1])
    return BatchPartResponse(status, headers, body.strip(), mime.get("content-id", ""))


def parse_batch_response(content_type: str, body: bytes) -> BatchResponse:
    """Parse a ``multipart/mixed`` batch response into per-operation answers."""
    items: list[BatchPartResponse | ChangeSetResponse] = []
    for part in _parts(body, _boundary(content_type)):
        headers, rest = _head(part)
        if headers.get("content-type", "").startswith("multipart/mixed"):
            inner = _parts(rest, _boundary(headers["content-type"]))
            items.append(ChangeSetResponse([_part_response(p) for p in inner]))
        else:
            items.append(_part_response(part))
    return BatchResponse(items)
