"""The connector's $batch encoder and parser against the sandbox's parser and renderer."""

from __future__ import annotations

from decimal import Decimal

from payledger.adapters.d365 import BatchRequest, parse_batch_response
from payledger.sandbox.d365.batch import ChangeSet, parse_batch, render_changeset, render_part
from payledger.sandbox.d365.service import ODataResponse


def test_encoded_batch_is_read_by_the_sandbox_as_sent():
    batch = BatchRequest()
    batch.get("CustomersV3(dataAreaId='usmf',CustomerAccount='US-001')")
    changes = batch.changeset()
    changes.post("CustomerPaymentJournalLines", {"CreditAmount": Decimal("1.10")})
    changes.patch(
        "CustomersV3(dataAreaId='usmf',CustomerAccount='US-001')", {"X": "y"}, etag='W/"abc"'
    )
    changes.delete("CustomersV3(dataAreaId='usmf',CustomerAccount='US-009')")

    content_type, body = batch.encode("https://env.example/data")
    items = parse_batch(content_type, body)

    read, changeset = items
    assert read.method == "GET" and read.content_id == "1"
    assert isinstance(changeset, ChangeSet)
    assert [op.method for op in changeset.operations] == ["POST", "PATCH", "DELETE"]
    assert [op.content_id for op in changeset.operations] == ["2", "3", "4"]
    assert changeset.operations[0].body == b'{"CreditAmount":1.10}'
    assert changeset.operations[1].headers["if-match"] == 'W/"abc"'
    assert changeset.operations[0].url == "https://env.example/data/CustomerPaymentJournalLines"
    assert batch.operation_count == 4


def test_sandbox_batch_answer_is_parsed_per_part():
    created = ODataResponse.json(201, {"LineNumber": 1}, {"ETag": 'W/"x"'})
    inner = {"message": "Write failed...", "type": "AxODataWriteException"}
    failed = ODataResponse.json(500, {"error": {"code": "", "message": "x", "innererror": inner}})
    body = (
        b"--b\r\n" + render_part(ODataResponse.json(200, {"a": 1}), "1")
        + b"--b\r\n" + render_changeset([(created, "2")])
        + b"--b\r\n" + render_changeset([(failed, "3")])
        + b"--b--\r\n"
    )  # fmt: skip

    response = parse_batch_response("multipart/mixed; boundary=b", body)

    read, ok, bad = response.items
    assert read.json() == {"a": 1}
    assert ok.ok and ok.parts[0].headers["etag"] == 'W/"x"'
    assert ok.parts[0].json()["LineNumber"] == 1
    assert not bad.ok
    assert bad.failure.error.is_write_error
    assert bad.failure.error.text == "Write failed..."
