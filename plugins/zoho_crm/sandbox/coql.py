"""A subset of COQL, Zoho's SQL-like query language, for the sandbox's ``POST /crm/v8/coql``.

Supported: ``select f1, f2 from Module [where COND] [order by f [asc|desc], ...]
[limit N [offset M] | limit M, N]``. ``COND`` combines, with ``and``/``or`` and parentheses,
comparisons ``f = v``, ``!=``, ``<``, ``<=``, ``>``, ``>=``, ``like '%x%'``, ``not like``,
``in (v, ...)``, ``not in (...)``, ``is null``, ``is not null``. A field may be a lookup path
(``Account_Name.Account_Name``) one level deep. That covers what sync connectors ask
(markers, ids, time windows); anything else is a ``SYNTAX_ERROR`` as the real service answers.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>'(?:[^'\\]|\\.|'')*')
      | (?P<number>-?\d+(?:\.\d+)?)
      | (?P<op><=|>=|!=|<>|=|<|>|\(|\)|,|\*)
      | (?P<word>[A-Za-z_$][A-Za-z0-9_$.]*)
    )""",
    re.VERBOSE,
)

Row = dict[str, Any]
Predicate = Callable[[Callable[[str], Any]], bool]


class CoqlError(Exception):
    """The query cannot be parsed; ``clause`` names where, as Zoho's error details do."""

    def __init__(self, message: str, clause: str) -> None:
        super().__init__(message)
        self.clause = clause


@dataclass
class Query:
    fields: list[str]
    module: str
    where: Predicate | None = None
    order_by: list[tuple[str, bool]] = field(default_factory=list)  # (field, descending)
    limit: int = 200
    offset: int = 0


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    text = text.strip().rstrip(";")
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            if text[pos:].strip() == "":
                break
            raise CoqlError(f"unexpected text near {text[pos:pos + 20]!r}", "select")
        kind = match.lastgroup or ""
        out.append((kind, match.group(kind)))
        pos = match.end()
    return out


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.pos = 0

    def peek(self, offset: int = 0) -> tuple[str, str] | None:
        index = self.pos + offset
        return self.tokens[index] if index < len(self.tokens) else None

    def word(self, offset: int = 0) -> str:
        token = self.peek(offset)
        return token[1].lower() if token and token[0] == "word" else ""

    def take(self, clause: str) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise CoqlError("query ended early", clause)
        self.pos += 1
        return token

    def expect_word(self, word: str, clause: str) -> None:
        if self.word() != word:
            raise CoqlError(f"expected {word!r}", clause)
        self.pos += 1

    def expect_op(self, op: str, clause: str) -> None:
        token = self.take(clause)
        if token != ("op", op):
            raise CoqlError(f"expected {op!r}", clause)

    # -- grammar ---------------------------------------------------------------------------
    def query(self) -> Query:
        self.expect_word("select", "select")
        fields = [self.field_name("select")]
        while self.peek() == ("op", ","):
            self.pos += 1
            fields.append(self.field_name("select"))
        self.expect_word("from", "from")
        kind, module = self.take("from")
        if kind != "word":
            raise CoqlError("expected a module name", "from")
        query = Query(fields, module)
        if self.word() == "where":
            self.pos += 1
            query.where = self.disjunction()
        if self.word() == "order":
            self.pos += 1
            self.expect_word("by", "order by")
            query.order_by.append(self.order_item())
            while self.peek() == ("op", ","):
                self.pos += 1
                query.order_by.append(self.order_item())
        if self.word() == "limit":
            self.pos += 1
            first = self.integer("limit")
            if self.peek() == ("op", ","):
                self.pos += 1
                query.offset, query.limit = first, self.integer("limit")
            else:
                query.limit = first
                if self.word() == "offset":
                    self.pos += 1
                    query.offset = self.integer("offset")
        if self.peek() is not None:
            raise CoqlError(f"unexpected {self.peek()[1]!r}", "select")  # type: ignore[index]
        return query

    def field_name(self, clause: str) -> str:
        kind, value = self.take(clause)
        if kind != "word":
            raise CoqlError(f"expected a field name, got {value!r}", clause)
        return value

    def integer(self, clause: str) -> int:
        kind, value = self.take(clause)
        if kind != "number" or not value.isdigit():
            raise CoqlError("expected a whole number", clause)
        return int(value)

    def order_item(self) -> tuple[str, bool]:
        name = self.field_name("order by")
        descending = False
        if self.word() in ("asc", "desc"):
            descending = self.word() == "desc"
            self.pos += 1
        return name, descending

    def disjunction(self) -> Predicate:
        parts = [self.conjunction()]
        while self.word() == "or":
            self.pos += 1
            parts.append(self.conjunction())
        return parts[0] if len(parts) == 1 else (lambda get: any(p(get) for p in parts))

    def conjunction(self) -> Predicate:
        parts = [self.atom()]
        while self.word() == "and":
            self.pos += 1
            parts.append(self.atom())
        return parts[0] if len(parts) == 1 else (lambda get: all(p(get) for p in parts))

    def atom(self) -> Predicate:
        if self.peek() == ("op", "("):
            self.pos += 1
            inner = self.disjunction()
            self.expect_op(")", "where")
            return inner
        name = self.field_name("where")
        negate = False
        if self.word() == "is":
            self.pos += 1
            if self.word() == "not":
                negate = True
                self.pos += 1
            self.expect_word("null", "where")
            return lambda get: (_value_of(get(name)) is None) != negate
        if self.word() == "not":
            negate = True
            self.pos += 1
        if self.word() == "in":
            self.pos += 1
            self.expect_op("(", "where")
            values = [self.literal()]
            while self.peek() == ("op", ","):
                self.pos += 1
                values.append(self.literal())
            self.expect_op(")", "where")
            wanted = {_text(v) for v in values}
            return lambda get: (_text(_value_of(get(name))) in wanted) != negate
        if self.word() == "like":
            self.pos += 1
            pattern = _like(self.literal())
            return lambda get: (pattern.fullmatch(_text(_value_of(get(name))) or "") is not None) != negate
        if negate:
            raise CoqlError("expected 'in' or 'like' after 'not'", "where")
        kind, op = self.take("where")
        if kind != "op" or op not in ("=", "!=", "<>", "<", "<=", ">", ">="):
            raise CoqlError(f"unknown operator {op!r}", "where")
        value = self.literal()
        return lambda get: _compare(_value_of(get(name)), op, value)

    def literal(self) -> Any:
        kind, value = self.take("where")
        if kind == "string":
            return value[1:-1].replace("''", "'").replace("\\'", "'")
        if kind == "number":
            return float(value) if "." in value else int(value)
        if kind == "word" and value.lower() in ("true", "false"):
            return value.lower() == "true"
        if kind == "word" and value.lower() == "null":
            return None
        raise CoqlError(f"expected a value, got {value!r}", "where")


def _value_of(value: Any) -> Any:
    """Lookups compare by id, as in real COQL (``Account_Name = '<id>'``)."""
    if isinstance(value, dict):
        return value.get("id")
    return value


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _like(pattern: Any) -> re.Pattern[str]:
    text = str(pattern)
    return re.compile("".join(".*" if ch == "%" else re.escape(ch) for ch in text), re.IGNORECASE | re.DOTALL)


def _compare(left: Any, op: str, right: Any) -> bool:
    if op in ("=", "!=", "<>"):
        equal = _text(left) == _text(right)
        return equal if op == "=" else not equal
    if left is None or right is None:
        return False
    if isinstance(right, (int, float)) and not isinstance(left, (int, float)):
        try:
            left = float(left)
        except (TypeError, ValueError):
            return False
    elif not isinstance(right, (int, float)):
        left, right = str(left), str(right)
    return {"<": left < right, "<=": left <= right, ">": left > right, ">=": left >= right}[op]


def parse(text: str) -> Query:
    """Parse one ``select_query``; raises CoqlError naming the clause at fault."""
    if not text or not text.strip():
        raise CoqlError("empty query", "select")
    return _Parser(text).query()
