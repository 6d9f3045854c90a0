"""``$filter`` as F&O accepts it: comparisons, and/or/not, arithmetic, enum literals, ``*``.

Supported (fact sheet 2.4): ``eq ne gt ge lt le and or not add sub mul div divby mod`` and
parentheses; ``has`` and ``in`` are refused; ``Name eq '*retail*'`` matches with wildcards;
enum properties compare only with ``eq``/``ne`` against ``Namespace.Enum'Symbol'`` literals.
String comparisons ignore case, as F&O's SQL collation does. The string functions
(``contains`` ...) are refused unless the sandbox is told to accept them.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from payledger.sandbox.d365.catalog import NAMESPACE, Catalog, EntityType
from payledger.sandbox.d365.errors import ODataError, bad_request
from payledger.sandbox.d365.values import as_instant, parse_instant

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<enum>[A-Za-z_][\w.]*'(?:[^']|'')*')
  | (?P<string>'(?:[^']|'')*')
  | (?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2}))
  | (?P<date>\d{4}-\d{2}-\d{2})
  | (?P<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)[mMdDlLfF]?
  | (?P<name>[A-Za-z_$][\w]*)
  | (?P<punct>[(),/])
    """,
    re.VERBOSE,
)
_COMPARE = {"eq", "ne", "gt", "ge", "lt", "le"}
_ARITHMETIC = {
    "add": operator.add,
    "sub": operator.sub,
    "mul": operator.mul,
    "div": operator.truediv,
    "divby": operator.truediv,
    "mod": operator.mod,
}
_OPERATOR_NAMES = {
    "eq": "Equal",
    "ne": "NotEqual",
    "gt": "GreaterThan",
    "ge": "GreaterThanOrEqual",
    "lt": "LessThan",
    "le": "LessThanOrEqual",
}
_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "contains": lambda a, b: b.casefold() in a.casefold(),
    "startswith": lambda a, b: a.casefold().startswith(b.casefold()),
    "endswith": lambda a, b: a.casefold().endswith(b.casefold()),
    "tolower": str.lower,
    "toupper": str.upper,
}

Row = Mapping[str, Any]
Evaluator = Callable[[Row], Any]


@dataclass(frozen=True)
class Token:
    kind: str
    text: str


@dataclass(frozen=True)
class Operand:
    """A compiled operand: how to evaluate it and its static type (for enum checks)."""

    evaluate: Evaluator
    type_name: str
    literal: Any = None
    is_literal: bool = False


def invalid(message: str) -> ODataError:
    return bad_request(f"The query specified in the URI is not valid. {message}")


def tokenize(text: str) -> list[Token]:
    tokens, position = [], 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match:
            raise invalid(f"Syntax error at position {position} in '{text}'.")
        position = match.end()
        kind = match.lastgroup or ""
        if kind != "ws":
            tokens.append(Token(kind, match.group(kind)))
    return tokens


def parse_literal(token: Token, catalog: Catalog) -> Operand:
    """A literal token as an operand; also used for key values in URLs."""
    text = token.text
    if token.kind == "string":
        value = text[1:-1].replace("''", "'")
        return Operand(lambda _r: value, "Edm.String", value, True)
    if token.kind == "number":
        try:
            number: Any = int(text) if re.fullmatch(r"-?\d+", text) else Decimal(text)
        except InvalidOperation:
            raise invalid(f"'{text}' is not a number.") from None
        return Operand(lambda _r: number, "Edm.Decimal", number, True)
    if token.kind in ("datetime", "date"):
        try:
            moment = parse_instant(text)
        except ValueError:
            raise invalid(f"'{text}' is not a valid DateTimeOffset.") from None
        return Operand(lambda _r: moment, "Edm.DateTimeOffset", moment, True)
    type_name, _, quoted = text.partition("'")
    symbol = quoted[:-1].replace("''", "'")
    enum_name = type_name.removeprefix(NAMESPACE + ".")
    if symbol not in catalog.enums.get(enum_name, ()):
        raise invalid(f"The string '{text}' is not a valid enumeration type constant.")
    return Operand(lambda _r: symbol, f"{NAMESPACE}.{enum_name}", symbol, True)


class FilterParser:
    """Recursive-descent parser that compiles a ``$filter`` into a row predicate."""

    def __init__(self, text: str, entity: EntityType, catalog: Catalog, functions: bool):
        self.tokens = tokenize(text)
        self.position = 0
        self.entity = entity
        self.catalog = catalog
        self.functions = functions

    def parse(self) -> Evaluator:
        if not self.tokens:
            raise invalid("The $filter expression is empty.")
        result = self._or()
        if self.position != len(self.tokens):
            raise invalid(f"Syntax error: unexpected '{self.tokens[self.position].text}'.")
        return result.evaluate

    def _peek(self) -> Token | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def _accept_word(self, *words: str) -> str | None:
        token = self._peek()
        if token and token.kind == "name" and token.text in words:
            self.position += 1
            return token.text
        if token and token.kind == "name" and token.text in ("has", "in"):
            raise invalid(f"The '{token.text}' operator is not supported.")
        return None

    def _expect(self, text: str) -> None:
        token = self._peek()
        if not token or token.text != text:
            raise invalid(f"Syntax error: '{text}' expected.")
        self.position += 1

    def _or(self) -> Operand:
        left = self._and()
        while self._accept_word("or"):
            left = _either(left, self._and())
        return left

    def _and(self) -> Operand:
        left = self._comparison()
        while self._accept_word("and"):
            left = _both(left, self._comparison())
        return left

    def _comparison(self) -> Operand:
        left = self._additive()
        word = self._accept_word(*_COMPARE)
        if not word:
            return left
        return compare(word, left, self._additive())

    def _additive(self) -> Operand:
        left = self._multiplicative()
        while word := self._accept_word("add", "sub"):
            left = _arithmetic(word, left, self._multiplicative())
        return left

    def _multiplicative(self) -> Operand:
        left = self._unary()
        while word := self._accept_word("mul", "div", "divby", "mod"):
            left = _arithmetic(word, left, self._unary())
        return left

    def _unary(self) -> Operand:
        if self._accept_word("not"):
            inner = self._unary()
            return _boolean(lambda r: not inner.evaluate(r))
        return self._primary()

    def _primary(self) -> Operand:
        token = self._peek()
        if token is None:
            raise invalid("Syntax error: unexpected end of the expression.")
        self.position += 1
        if token.text == "(":
            inner = self._or()
            self._expect(")")
            return inner
        if token.kind == "name":
            return self._name(token.text)
        if token.kind == "punct":
            raise invalid(f"Syntax error: unexpected '{token.text}'.")
        return parse_literal(token, self.catalog)

    def _name(self, name: str) -> Operand:
        constants = {"true": True, "false": False, "null": None}
        if name in constants:
            value = constants[name]
            return Operand(lambda _r: value, "Edm.Boolean", value, True)
        token = self._peek()
        if token and token.text == "(":
            return self._function(name)
        if token and token.text == "/":
            raise invalid("Navigation paths are not supported in $filter.")
        prop = self.entity.properties.get(name)
        if prop is None:
            raise invalid(
                f"Could not find a property named '{name}' on type '{self.entity.qualified_type}'."
            )
        return Operand(lambda r: r.get(name), prop.edm_type)

    def _function(self, name: str) -> Operand:
        if not self.functions or name not in _FUNCTIONS:
            raise invalid(f"An unknown function with name '{name}' was found.")
        self._expect("(")
        args = [self._or()]
        while (token := self._peek()) and token.text == ",":
            self.position += 1
            args.append(self._or())
        self._expect(")")
        function = _FUNCTIONS[name]
        result_type = "Edm.String" if name in ("tolower", "toupper") else "Edm.Boolean"
        return Operand(lambda r: function(*[str(a.evaluate(r) or "") for a in args]), result_type)


def _boolean(evaluate: Evaluator) -> Operand:
    return Operand(evaluate, "Edm.Boolean")


def _either(left: Operand, right: Operand) -> Operand:
    return _boolean(lambda r: bool(left.evaluate(r) or right.evaluate(r)))


def _both(left: Operand, right: Operand) -> Operand:
    return _boolean(lambda r: bool(left.evaluate(r) and right.evaluate(r)))


def _arithmetic(word: str, left: Operand, right: Operand) -> Operand:
    function = _ARITHMETIC[word]

    def evaluate(row: Row) -> Any:
        a, b = left.evaluate(row), right.evaluate(row)
        try:
            return function(Decimal(a), Decimal(b))
        except (TypeError, ArithmeticError, InvalidOperation):
            return None

    return Operand(evaluate, "Edm.Decimal")


def _is_enum(type_name: str) -> bool:
    return type_name.startswith(NAMESPACE + ".")


def compare(word: str, left: Operand, right: Operand) -> Operand:
    """A comparison with F&O's typing rules for enums and its ``*`` wildcard for strings."""
    if _is_enum(left.type_name) or _is_enum(right.type_name):
        _check_enum_comparison(word, left, right)
    else:
        _check_types(word, left, right)
    if word in ("eq", "ne") and right.is_literal and _has_wildcard(right.literal):
        return _wildcard_match(left, _wildcard(right.literal), negate=word == "ne")
    function = getattr(operator, word)

    def evaluate(row: Row) -> bool:
        a, b = comparable(left.evaluate(row)), comparable(right.evaluate(row))
        if a is None or b is None:
            return function(a, b) if word in ("eq", "ne") else False
        try:
            return bool(function(a, b))
        except TypeError:
            return word == "ne"

    return _boolean(evaluate)


def _check_enum_comparison(word: str, left: Operand, right: Operand) -> None:
    if left.type_name != right.type_name and not (right.is_literal and right.literal is None):
        raise invalid(
            "A binary operator with incompatible types was detected. Found operand types "
            f"'{left.type_name}' and '{right.type_name}' for operator kind "
            f"'{_OPERATOR_NAMES[word]}'."
        )
    if word not in ("eq", "ne"):
        raise invalid(f"The operator '{_OPERATOR_NAMES[word]}' is not supported for enums.")


def _check_types(word: str, left: Operand, right: Operand) -> None:
    """A string literal never compares with a number or a date (ODataLib refuses it)."""
    types = {left.type_name, right.type_name}
    is_null = (left.is_literal and left.literal is None) or (
        right.is_literal and right.literal is None
    )
    if "Edm.String" in types and len(types) > 1 and not is_null:
        raise invalid(
            "A binary operator with incompatible types was detected. Found operand types "
            f"'{left.type_name}' and '{right.type_name}' for operator kind "
            f"'{_OPERATOR_NAMES[word]}'."
        )


def _wildcard_match(left: Operand, pattern: re.Pattern[str], *, negate: bool) -> Operand:
    def evaluate(row: Row) -> bool:
        matched = pattern.fullmatch(str(left.evaluate(row) or "")) is not None
        return matched != negate

    return _boolean(evaluate)


def _has_wildcard(value: Any) -> bool:
    return isinstance(value, str) and "*" in value


def _wildcard(pattern: str) -> re.Pattern[str]:
    parts = (re.escape(part) for part in pattern.split("*"))
    return re.compile(".*".join(parts), re.IGNORECASE | re.DOTALL)


def comparable(value: Any) -> Any:
    if isinstance(value, str):
        return value.casefold()
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return Decimal(value)
    return as_instant(value)


def compile_filter(text: str, entity: EntityType, catalog: Catalog, functions: bool) -> Evaluator:
    """A predicate over rows (with defaults filled) for ``$filter=text``."""
    return FilterParser(text, entity, catalog, functions).parse()
