"""``POST /data/$batch``: multipart/mixed with atomic changesets (fact sheet 6).

The batch answers 200 whatever happened inside; each operation gets its own status line; a
changeset that fails is rolled back and answered with a single error part.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from http import HTTPStatus
from urllib.parse import parse_qsl, urlsplit

from payledger.sandbox.d365.errors import bad_request
from payledger.sandbox.d365.service import ODataRequest, ODataResponse, ODataService

_BOUNDARY = re.compile(r'boundary="?([^";]+)"?', re.IGNORECASE)


@dataclass
class Operation:
    method: str
    url: str
    headers: dict[str, str]
    body: bytes
    content_id: str | None = None


@dataclass
class ChangeSet:
    operations: list[Operation] = field(default_factory=list)


def boundary_of(content_type: str) -> str:
    match = _BOUNDARY.search(content_type or "")
    if not match:
        raise bad_request("The batch request must have a multipart/mixed boundary.")
    return match.group(1)


def _split_head(chunk: bytes) -> tuple[dict[str, str], bytes]:
    """Headers (lower-cased names) and the rest of a MIME part or HTTP message."""
    text_end = re.search(rb"\r?\n\r?\n", chunk)
    head, rest = (chunk[: text_end.start()], chunk[text_end.end() :]) if text_end else (chunk, b"")
    headers = {}
    for line in head.decode("utf-8", "replace").splitlines():
        name, colon, value = line.partition(":")
        if colon:
            headers[name.strip().lower()] = value.strip()
    return headers, rest


def split_parts(body: bytes, boundary: str) -> list[bytes]:
    delimiter = b"--" + boundary.encode()
    chunks = body.split(delimiter)[1:]
    parts = []
    for chunk in chunks:
        if chunk.startswith(b"--"):
            break
        parts.append(
            re.sub(rb"^\r?\n", b"", chunk, count=1).removesuffix(b"\r\n").removesuffix(b"\n")
        )
    return parts


def _operation(part: bytes) -> Operation:
    mime_headers, message = _split_head(part)
    message = message.lstrip(b"\r\n")
    line_end = message.find(b"\n")
    request_line = message[:line_end].decode().strip() if line_end >= 0 else message.decode()
    pieces = request_line.split(" ")
    if len(pieces) < 2:
        raise bad_request(f"Invalid request line '{request_line}' in the batch.")
    headers, body = _split_head(message[line_end + 1 :]) if line_end >= 0 else ({}, b"")
    return Operation(
        pieces[0].upper(), pieces[1], headers, body.strip(), mime_headers.get("content-id")
    )


def parse_batch(content_type: str, body: bytes) -> list[Operation | ChangeSet]:
    items: list[Operation | ChangeSet] = []
    for part in split_parts(body, boundary_of(content_type)):
        headers, rest = _split_head(part)
        if headers.get("content-type", "").lower().startswith("multipart/mixed"):
            inner = split_parts(rest, boundary_of(headers["content-type"]))
            items.append(ChangeSet([_operation(p) for p in inner]))
        else:
            items.append(_operation(part))
    return items


def _relative_path(url: str, locations: dict[str, str]) -> tuple[str, list[tuple[str, str]]]:
    if url.startswith("$"):
        reference, _, rest = url[1:].partition("/")
        if reference not in locations:
            raise bad_request(f"Content-ID reference '${reference}' is not defined.")
        url = locations[reference] + ("/" + rest if rest else "")
    parts = urlsplit(url)
    path = parts.path
    if "/data/" in path:
        path = path.split("/data/", 1)[1]
    return path.lstrip("/"), parse_qsl(parts.query, keep_blank_values=True)


def _status_line(status: int) -> str:
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = ""
    return f"HTTP/1.1 {status} {phrase}"


def render_part(response: ODataResponse, content_id: str | None) -> bytes:
    lines = ["Content-Type: application/http", "Content-Transfer-Encoding: binary"]
    if content_id:
        lines.append(f"Content-ID: {content_id}")
    lines += ["", _status_line(response.status)]
    lines += [f"{k}: {v}" for k, v in response.headers.items() if k != "ms-dyn-aid"]
    lines += ["", ""]
    return "\r\n".join(lines).encode() + response.body + b"\r\n"


class BatchRunner:
    """Executes parsed batch items against the OData service."""

    def __init__(self, service: ODataService, template: ODataRequest) -> None:
        self.service = service
        self.template = template
        self.committed_writes = 0

    def _run(self, operation: Operation, locations: dict[str, str]) -> ODataResponse:
        path, params = _relative_path(operation.url, locations)
        request = ODataRequest(
            operation.method,
            path,
            params,
            operation.headers,
            operation.body,
            self.template.base_url,
            self.template.company,
            in_batch=True,
        )
        return self.service.handle(request)

    def run_changeset(self, changeset: ChangeSet) -> bytes:
        store = self.service.state.store
        snapshot = store.snapshot()
        locations: dict[str, str] = {}
        answers = []
        for operation in changeset.operations:
            response = self._run(operation, locations)
            if response.status >= 400:
                store.restore(snapshot)
                self.service.state.stats.changesets_failed += 1
                return render_changeset([(response, operation.content_id)])
            if operation.content_id and "Location" in response.headers:
                locations[operation.content_id] = response.headers["Location"]
            answers.append((response, operation.content_id))
        self.committed_writes += len(changeset.operations)
        return render_changeset(answers)

    def run(self, items: list[Operation | ChangeSet]) -> ODataResponse:
        boundary = f"batchresponse_{uuid.uuid4()}"
        chunks = []
        for item in items:
            if isinstance(item, ChangeSet):
                chunks.append(self.run_changeset(item))
            else:
                chunks.append(render_part(self._run(item, {}), item.content_id))
        body = b"".join(f"--{boundary}\r\n".encode() + chunk for chunk in chunks)
        body += f"--{boundary}--\r\n".encode()
        headers = {"Content-Type": f"multipart/mixed; boundary={boundary}", "OData-Version": "4.0"}
        return ODataResponse(200, body, headers)


def render_changeset(answers: list[tuple[ODataResponse, str | None]]) -> bytes:
    boundary = f"changesetresponse_{uuid.uuid4()}"
    head = f"Content-Type: multipart/mixed; boundary={boundary}\r\n\r\n".encode()
    parts = b"".join(
        f"--{boundary}\r\n".encode() + render_part(response, content_id)
        for response, content_id in answers
    )
    return head + parts + f"--{boundary}--\r\n".encode()


def count_operations(items: list[Operation | ChangeSet]) -> int:
    return sum(len(i.operations) if isinstance(i, ChangeSet) else 1 for i in items)
