"""Field names as words: split, normalised and folded onto shared concepts.

``PaymentReference``, ``payment.gateway_txn_id`` and ``billing_address.zip`` become tuples of
concepts (``payment reference``, ``payment gateway transaction id``, ``billing address zip``)
so names from D365, PayTrace and payledger's source document can be compared word by word.

:data:`SYNONYMS` is vocabulary, not answers: each row is a concept and the words the vendor
references use for it (the D365 F&O OData fact sheet's entity properties, the PayTrace v1 API
fact sheet's request and export fields, docs/mapping.md §2 for the source document). It never
names a whole target field with its source.
"""

from __future__ import annotations

import re
from functools import cache

SYNONYMS: dict[str, tuple[str, ...]] = {
    # identifiers and references
    "id": ("id", "identifier", "ref", "reference", "no", "num", "number", "nr", "key"),
    "transaction": ("transaction", "txn", "trans", "tran"),
    "authorization": ("authorization", "authorisation", "auth", "approval"),
    "gateway": ("gateway", "paytrace", "pt"),
    "customer": ("customer", "cust", "payer", "buyer", "client", "party"),
    "account": ("account", "acct", "acc"),
    "order": ("order", "ord", "so"),
    "invoice": ("invoice", "inv", "bill"),
    "item": ("item", "sku", "product", "article"),
    "line": ("line", "ln"),
    "batch": ("batch", "settlement"),
    "journal": ("journal", "jrnl"),
    # money and quantities
    "amount": ("amount", "amt", "sum", "total", "net", "gross"),
    "price": ("price", "rate"),
    "quantity": ("quantity", "qty", "count", "ordered"),
    "currency": ("currency", "cur", "ccy"),
    "tax": ("tax", "vat"),
    "fee": ("fee", "fees", "charge", "charges"),
    "credit": ("credit", "cr"),
    "debit": ("debit", "dr"),
    # time
    "date": ("date", "day", "time", "timestamp", "occurred", "at", "on", "when", "created"),
    "due": ("due", "maturity"),
    # contact and address
    "email": ("email", "mail"),
    "phone": ("phone", "telephone", "tel", "mobile"),
    "name": ("name", "title"),
    "street": ("street", "lines", "address1", "line1"),
    "city": ("city", "town", "locality"),
    "state": ("state", "province", "region", "county"),
    "zip": ("zip", "zipcode", "postcode", "postal"),
    "country": ("country", "iso"),
    "delivery": ("delivery", "shipping", "ship", "shipto"),
    "billing": ("billing", "billto"),
    "organization": ("organization", "organisation", "company", "business", "org"),
    # text
    "message": ("message", "msg", "notes", "note", "text", "memo", "comment", "reason"),
    "description": ("description", "desc", "details"),
    "status": ("status", "outcome"),
    "kind": ("kind", "type", "category"),
    "method": ("method", "mode", "tender"),
    "card": ("card", "pan"),
    "masked": ("masked", "last4", "mask"),
}
"""concept → the words that mean it (the concept itself first)."""

PHRASES: dict[tuple[str, ...], str] = {
    ("postal", "code"): "zip",
    ("zip", "code"): "zip",
    ("post", "code"): "zip",
    ("e", "mail"): "email",
    ("unit", "price"): "price",
    ("sales", "price"): "price",
    ("occurred", "at"): "date",
    ("created", "at"): "date",
    ("is", "organization"): "organization",
    ("party", "type"): "organization",
    ("country", "region"): "country",
    ("state", "id"): "state",
    ("region", "iso", "code"): "country",
    ("street", "address"): "street",
    ("address", "lines"): "street",
    ("payment", "id"): "transaction id",
    ("payment", "reference"): "transaction id",
    ("auth", "code"): "authorization id",
    ("requisition", "number"): "order id",
}
"""Word sequences read as one concept (a synonym of the whole phrase, not of its words)."""

WEAK = frozenset({"id", "code", "value", "display", "is", "primary", "contact", "address", "v2"})
"""Concepts that say little on their own: they count half."""

NOISE = frozenset({"d365", "enrich", "context", "data", "the", "of", "fields", "custom"})
"""Words that never distinguish two fields (namespaces of the document, filler)."""

_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")
_WORD = {word: concept for concept, words in SYNONYMS.items() for word in words}


def words(name: str) -> tuple[str, ...]:
    """``PrimaryContactEmail`` → primary contact email; ``gateway_txn_id`` → gateway txn id."""
    found: list[str] = []
    for part in re.split(r"[^A-Za-z0-9]+", name):
        found += [token.lower() for token in _CAMEL.findall(part)]
    return tuple(token for token in found if token not in NOISE and not token.isdigit())


@cache
def concepts(name: str) -> tuple[str, ...]:
    """The concepts a name speaks of, phrases first, each word folded onto its concept."""
    tokens = words(name)
    result: list[str] = []
    index = 0
    while index < len(tokens):
        for size in (3, 2):
            phrase = PHRASES.get(tokens[index : index + size])
            if phrase is not None:
                result += phrase.split()
                index += size
                break
        else:
            result.append(_WORD.get(tokens[index], tokens[index]))
            index += 1
    return tuple(dict.fromkeys(result))


def weight(concept: str) -> float:
    """How much a matching concept counts."""
    return 0.5 if concept in WEAK else 1.0
