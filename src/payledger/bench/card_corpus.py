"""Realistic data that is *not* card data, generated deterministically, per category.

The card detector (``domain/card_data.py``) must leave these alone; the share it flags is its
false-positive rate, measured by ``payledger bench pan`` and bounded by a unit test. Every item
is what payledger meets in payloads and logs: ids, timestamps, phone numbers, references,
amounts, addresses. Nothing here is a card number by construction, only by accident, which is
exactly what is measured.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from random import Random

Generator = Callable[[Random], str]


def _digits(rng: Random, count: int, *, lead: str = "0123456789") -> str:
    return rng.choice(lead) + "".join(rng.choice("0123456789") for _ in range(count - 1))


def _uuid(rng: Random) -> str:
    value = str(uuid.UUID(int=rng.getrandbits(128), version=rng.choice([1, 4, 5])))
    return rng.choice(
        [value, value.upper(), f"{{{value}}}", f"urn:uuid:{value}", f"Idempotency-Key: {value}"]
    )


def _moment(rng: Random) -> datetime:
    start = datetime(2020, 1, 1, tzinfo=UTC)
    offset = timezone(timedelta(minutes=rng.choice([0, 60, 120, 330, 540, -300, -420, -480])))
    return (start + timedelta(seconds=rng.uniform(0, 11 * 365 * 86400))).astimezone(offset)


def _timestamp(rng: Random) -> str:
    moment = _moment(rng)
    fraction = _digits(rng, rng.choice([3, 6, 7, 9]))
    offset = moment.strftime("%z")
    zone = rng.choice(["Z", "", f"{offset[:3]}:{offset[3:]}", offset])
    forms = [
        moment.strftime("%Y-%m-%dT%H:%M:%S") + f".{fraction}{zone}",  # ISO 8601, D365 7 digits
        moment.strftime("%Y-%m-%dT%H:%M:%S") + zone,
        str(moment),  # Python's str(): space, microseconds, offset
        moment.strftime("%Y-%m-%d %H:%M:%S") + f".{fraction}",
        moment.strftime("%d/%b/%Y:%H:%M:%S %z"),  # access log
        str(int(moment.timestamp() * 1000)),  # epoch milliseconds
        str(int(moment.timestamp() * 1_000_000)),  # epoch microseconds
    ]
    return rng.choice(forms)


def _phone(rng: Random) -> str:
    area, exchange, line = (
        _digits(rng, 3, lead="23456789"),
        _digits(rng, 3, lead="23456789"),
        (_digits(rng, 4)),
    )
    forms = [
        f"({area}) {exchange}-{line}", f"{area}-{exchange}-{line}", f"{area}.{exchange}.{line}",
        f"+1 {area} {exchange} {line}", f"+1-{area}-{exchange}-{line}", f"+1{area}{exchange}{line}",
        f"1 ({area}) {exchange}-{line} ext. {_digits(rng, 3)}",
        f"{area}-{exchange}-{line} / {area}-{exchange}-{_digits(rng, 4)}",
        f"+44 20 {_digits(rng, 4)} {_digits(rng, 4)}", f"+44 7{_digits(rng, 3)} {_digits(rng, 6)}",
        f"+49 {_digits(rng, 2, lead='123456789')} {_digits(rng, rng.randint(6, 9))}",
        f"+49{_digits(rng, 2, lead='123456789')}{_digits(rng, rng.randint(6, 9))}",
        f"0049 30 {_digits(rng, 4)} {_digits(rng, 4)}",
        "+33 " + " ".join([_digits(rng, 1, lead="123456789"), *(_digits(rng, 2) for _ in "abcd")]),
        f"+81 3-{_digits(rng, 4)}-{_digits(rng, 4)}", f"+61 2 {_digits(rng, 4)} {_digits(rng, 4)}",
        f"+91 9{_digits(rng, 4)} {_digits(rng, 5)}", f"+55 11 9{_digits(rng, 4)}-{_digits(rng, 4)}",
        f"+86 13{_digits(rng, 1)} {_digits(rng, 4)} {_digits(rng, 4)}",
    ]  # fmt: skip
    return rng.choice(forms)


def _order_number(rng: Random) -> str:
    forms = [
        f"SO-{_digits(rng, 6)}", f"CIV-{_digits(rng, 8)}", f"PO-{_digits(rng, 10)}",
        f"INV-{rng.randint(2020, 2030)}-{_digits(rng, 6)}", f"#{rng.randint(1000, 999999)}",
        f"ORD-{_digits(rng, 12)}", f"SO-{_digits(rng, 6)}, SO-{_digits(rng, 6)}",
        f"US-{_digits(rng, 6)}", f"PT{_digits(rng, 10)}",
    ]  # fmt: skip
    return rng.choice(forms)


def _bank_reference(rng: Random) -> str:
    routing = rng.choice(["0", "1", "2", "3", "6", "7"]) + _digits(rng, 8)
    forms = [
        _digits(rng, rng.randint(20, 30)),  # bank and ACH references, one group
        f"REF {_digits(rng, rng.randint(20, 30))}",
        routing[:8] + _digits(rng, 7),  # ACH trace number: ODFI routing + sequence
        f"{routing} {_digits(rng, rng.randint(8, 12))}",  # routing and account
        f"RTN {routing} ACCT {_digits(rng, rng.randint(8, 17))}",
        f"{_digits(rng, 4)}-{_digits(rng, 4)}-{_digits(rng, 4)}-{_digits(rng, 4)}-"
        f"{_digits(rng, 4)}",  # 20-digit grouped settlement id
    ]
    return rng.choice(forms)


_IBAN_BBAN = {"DE": "n18", "GB": "a4n14", "FR": "n23", "NL": "a4n10", "ES": "n20", "BE": "n12"}


def _iban(rng: Random) -> str:
    country = rng.choice(sorted(_IBAN_BBAN))
    layout, bban = _IBAN_BBAN[country], ""
    if layout.startswith("a"):
        bban = "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(int(layout[1])))
        layout = layout[2:]
    bban += _digits(rng, int(layout[1:]))
    numeric = "".join(str(int(char, 36)) for char in bban + country + "00")
    iban = f"{country}{98 - int(numeric) % 97:02d}{bban}"
    return rng.choice([iban, " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))])


def _amount(rng: Random) -> str:
    value = rng.choice([rng.randint(1, 999), rng.randint(1000, 99_999), rng.randint(1, 10**7)])
    cents = _digits(rng, 2)
    us = f"{value:,}.{cents}"
    forms = [us, f"${us}", f"USD {us}", f"{us} USD", f"{value:,}.{cents}".replace(",", " ")]
    forms += [f"{value:,}".replace(",", ".") + f",{cents} EUR", f"{value}.{cents}"]
    return rng.choice(forms)


def _amount_list(rng: Random) -> str:
    separator = rng.choice([", ", "; ", " | ", " ", "\t"])
    return separator.join(_amount(rng) for _ in range(rng.randint(2, 8)))


def _date(rng: Random) -> str:
    day, other = _moment(rng).date(), _moment(rng).date()
    forms = [
        day.isoformat(), day.strftime("%m/%d/%Y"), day.strftime("%d.%m.%Y"),
        day.strftime("%b %d, %Y"), day.strftime("%Y%m%d"), f"{day} \u2013 {other}",
        f"{day.strftime('%m/%d/%Y')} - {other.strftime('%m/%d/%Y')}", f"{day}/{other}",
    ]  # fmt: skip
    return rng.choice(forms)


def _ip_address(rng: Random) -> str:
    def v4() -> str:
        return ".".join(str(rng.randint(0, 255)) for _ in range(4))

    v6 = ":".join(f"{rng.getrandbits(16):x}" for _ in range(8))
    forms = [v4(), f"{v4()}:{rng.randint(1, 65535)}", f"{v4()}, {v4()}", f"[{v6}]:443"]
    forms += [f"X-Forwarded-For: {v4()}, {v4()}, {v4()}", f"{v4()}/{rng.randint(8, 32)}"]
    return rng.choice(forms)


def _paytrace_id(rng: Random) -> str:
    ids = [str(rng.randint(100_000_000, 999_999_999)) for _ in range(4)]
    forms = [ids[0], f"transaction {ids[0]}", ", ".join(ids), f"{ids[0]} {ids[1]}"]
    return rng.choice(forms)


def _d365_recid(rng: Random) -> str:
    ids = [str(5_637_144_576 + rng.randint(0, 10**8)) for _ in range(3)]
    forms = [ids[0], f"RecId {ids[0]}", ", ".join(ids), str(rng.randint(10**10, 2**40))]
    return rng.choice(forms)


def _tracking_number(rng: Random) -> str:
    usps = "9400" + _digits(rng, 18)
    forms = [
        f"1Z{_digits(rng, 3)}AA1{_digits(rng, 10)}",  # UPS
        _digits(rng, 12), f"{_digits(rng, 4)} {_digits(rng, 4)} {_digits(rng, 4)}",  # FedEx
        "96" + _digits(rng, 20),  # FedEx Ground 22 digits
        usps, " ".join(usps[i : i + 4] for i in range(0, len(usps), 4)),  # USPS
    ]  # fmt: skip
    return rng.choice(forms)


def _log_line(rng: Random) -> str:
    moment = _moment(rng).astimezone(UTC)
    event = {
        "event": rng.choice(["payment.posted", "journal.flushed", "inbox.received", "job.done"]),
        "gateway_txn_id": str(rng.randint(100_000_000, 999_999_999)),
        "amount": f"{rng.randint(1, 99_999)}.{_digits(rng, 2)}",
        "currency": "USD",
        "journal_line": rng.randint(1, 5000),
        "request_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "elapsed_ms": round(rng.uniform(0.1, 900), 3),
        "level": "info",
        "logger": "payledger.flows",
        "timestamp": moment.isoformat().replace("+00:00", "Z"),
    }
    return json.dumps(event)


CATEGORIES: dict[str, Generator] = {
    "uuid": _uuid,
    "timestamp": _timestamp,
    "phone number": _phone,
    "order/invoice number": _order_number,
    "bank/ACH reference": _bank_reference,
    "IBAN": _iban,
    "amount": _amount,
    "amount list": _amount_list,
    "date": _date,
    "IP address": _ip_address,
    "PayTrace transaction id": _paytrace_id,
    "D365 RecId": _d365_recid,
    "tracking number": _tracking_number,
    "log line": _log_line,
}


def non_card_corpus(per_category: int, *, seed: int = 2026) -> dict[str, list[str]]:
    """``per_category`` items of every category, the same for the same seed."""
    rng = Random(seed)
    return {name: [make(rng) for _ in range(per_category)] for name, make in CATEGORIES.items()}


def typical_log_lines(count: int, *, seed: int = 2026) -> list[str]:
    """JSON log lines as payledger writes them (timestamps, ids, amounts; no card data)."""
    rng = Random(seed)
    return [_log_line(rng) for _ in range(count)]
