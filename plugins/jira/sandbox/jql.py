"""The subset of JQL the Jira stand-in understands, parsed into predicates over sandbox issues.

Supported: ``field op value`` clauses joined by ``AND``, and ``ORDER BY field [ASC|DESC], ...``.
Fields: project, key/issuekey, labels, status, statusCategory, issuetype/type, priority, assignee,
reporter, parent (by key or id), updated, created. Operators: ``=``, ``!=``, ``in``, ``not in``
and, for dates, ``>``, ``>=``, ``<``, ``<=``. Date literals are ``"yyyy/MM/dd HH:mm"``,
``"yyyy-MM-dd HH:mm"``, ``"yyyy/MM/dd"``, ``"yyyy-MM-dd"`` (read in the searching user's time
zone, as Jira does) or a relative offset such as ``-5m``, ``-2h``, ``-1d``, ``-1w``. Anything else
is a ``JqlError``, which the stand-in answers with Jira's own 400 envelope, so a connector that
drifts outside what the sandbox checks fails loudly instead of silently matching everything.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

#: Sandbox issue attributes a predicate may read (the stand-in supplies them).
IssueView = dict[str, Any]

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
      | (?P<op>!=|>=|<=|!~|=|>|<|~)
      | (?P<punct>[(),])
      | (?P<word>[^\s"'(),=!<>~]+)
    )""",
    re.VERBOSE,
)

_DATE_FORMATS = ("%Y/%m/%d %H:%M", "%Y-%m-%d %H:%M", "%Y/%m/%d", "%Y-%m-%d")
_RELATIVE = re.compile(r"^([+-]?)(\d+)([mhdw])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}

_TEXT_FIELDS = {
    "project": "project", "key": "key", "issuekey": "key", "id": "key", "labels": "labels",
    "status": "status", "statuscategory": "statusCategory", "issuetype": "issuetype",
    "type": "issuetype", "priority": "priority", "assignee": "assignee", "reporter": "reporter",
    "parent": "parent",
}
_DATE_FIELDS = {"updated": "updated", "updateddate": "updated", "created": "created",
                "createddate": "created"}
_ORDER_FIELDS = {"updated": "updated", "created": "created", "key": "key", "issuekey": "key",
                 "id": "key", "priority": "priority"}


class JqlError(ValueError):
    """A query outside the supported subset, or naming values that do not exist."""


@dataclass(frozen=True)
class Clause:
    field: str
    op: str
    values: tuple[str, ...]
    #: For date clauses: the bound as an aware UTC datetime.
    when: dt.datetime | None = None


@dataclass
class Query:
    clauses: list[Clause] = field(default_factory=list)
    #: (field, descending) pairs; empty means Jira's default (key descending... per project).
    order: list[tuple[str, bool]] = field(default_factory=list)

    def matches(self, issue: IssueView) -> bool:
        return all(_match(clause, issue) for clause in self.clauses)

    def needs(self) -> frozenset[str]:
        """The issue terms ``matches`` and ``sort_key`` read."""
        order = self.order or [("key", True)]
        return frozenset({c.field for c in self.clauses} | {f"_order_{name}" for name, _ in order})

    def sort_key(self) -> Callable[[IssueView], Any]:
        order = self.order or [("key", True)]

        def key(issue: IssueView) -> tuple[Any, ...]:
            parts: list[Any] = []
            for name, descending in order:
                value = issue[f"_order_{name}"]
                parts.append(_Reversed(value) if descending else value)
            return tuple(parts)

        return key


class _Reversed:
    """Wraps a value so that sorting ascending orders it descending (for mixed ORDER BY)."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value

    def __lt__(self, other: _Reversed) -> bool:
        return bool(other.value < self.value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Reversed) and other.value == self.value

    def __hash__(self) -> int:
        return hash(self.value)


def parse(jql: str, *, time_zone: str, now: dt.datetime) -> Query:
    """Parse ``jql``; dates are read in ``time_zone`` and relative dates against ``now``."""
    tokens = _tokenize(jql)
    query = Query()
    pos = 0

    def peek(offset: int = 0) -> tuple[str, str] | None:
        index = pos + offset
        return tokens[index] if index < len(tokens) else None

    def is_word(token: tuple[str, str] | None, *words: str) -> bool:
        return token is not None and token[0] == "word" and token[1].lower() in words

    if tokens and not is_word(peek(), "order"):
        while True:
            clause, pos = _clause(tokens, pos, time_zone, now)
            query.clauses.append(clause)
            if is_word(peek(), "and"):
                pos += 1
                continue
            if is_word(peek(), "or"):
                raise JqlError("The sandbox supports AND between clauses, not OR.")
            break
    if is_word(peek(), "order"):
        if not is_word(peek(1), "by"):
            raise JqlError("Error in the JQL Query: Expecting 'BY' after 'ORDER'.")
        pos += 2
        while True:
            token = peek()
            if token is None or token[0] not in ("word", "string"):
                raise JqlError("Error in the JQL Query: Expecting a field name after ORDER BY.")
            name = _unquote(token).lower()
            if name not in _ORDER_FIELDS:
                raise JqlError(f"Field '{_unquote(token)}' does not exist or you do not have "
                               "permission to view it.")
            pos += 1
            descending = name in ("updated", "created")  # Jira's default direction for dates
            if is_word(peek(), "asc", "desc"):
                descending = peek()[1].lower() == "desc"  # type: ignore[index]
                pos += 1
            query.order.append((_ORDER_FIELDS[name], descending))
            if peek() == ("punct", ","):
                pos += 1
                continue
            break
    if pos != len(tokens):
        raise JqlError(f"Error in the JQL Query: The character or word '{tokens[pos][1]}' is not "
                       "expected here.")
    return query


def _tokenize(jql: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    pos = 0
    text = jql.strip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise JqlError(f"Error in the JQL Query: The character '{text[pos]}' is a reserved "
                           f"JQL character (at position {pos}).")
        kind = match.lastgroup or "word"
        tokens.append((kind, match.group(kind)))
        pos = match.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return tokens


def _unquote(token: tuple[str, str]) -> str:
    kind, text = token
    if kind == "string":
        return re.sub(r"\\(.)", r"\1", text[1:-1])
    return text


def _clause(tokens: list[tuple[str, str]], pos: int, time_zone: str,
            now: dt.datetime) -> tuple[Clause, int]:
    def at(index: int) -> tuple[str, str]:
        if index >= len(tokens):
            raise JqlError("Error in the JQL Query: Expecting an operator or a value at the end "
                           "of the query.")
        return tokens[index]

    name_token = at(pos)
    if name_token[0] not in ("word", "string"):
        raise JqlError(f"Error in the JQL Query: Expecting a field name but got '{name_token[1]}'.")
    raw_name = _unquote(name_token)
    name = raw_name.lower()
    if name not in _TEXT_FIELDS and name not in _DATE_FIELDS:
        raise JqlError(f"Field '{raw_name}' does not exist or you do not have permission to view it.")
    pos += 1
    op_token = at(pos)
    if op_token[0] == "op":
        op = op_token[1]
        pos += 1
    elif op_token[0] == "word" and op_token[1].lower() == "in":
        op = "in"
        pos += 1
    elif (op_token[0] == "word" and op_token[1].lower() == "not"
          and at(pos + 1)[0] == "word" and at(pos + 1)[1].lower() == "in"):
        op = "not in"
        pos += 2
    else:
        raise JqlError(f"Error in the JQL Query: Expecting operator but got '{op_token[1]}'.")
    if op in ("~", "!~"):
        raise JqlError(f"The operator '{op}' is not supported by the sandbox for field '{raw_name}'.")

    values: list[str] = []
    if op in ("in", "not in"):
        if at(pos) != ("punct", "("):
            raise JqlError("Error in the JQL Query: Expecting '(' after 'in'.")
        pos += 1
        while True:
            token = at(pos)
            if token[0] not in ("word", "string"):
                raise JqlError(f"Error in the JQL Query: Expecting a value but got '{token[1]}'.")
            values.append(_unquote(token))
            pos += 1
            token = at(pos)
            pos += 1
            if token == ("punct", ")"):
                break
            if token != ("punct", ","):
                raise JqlError("Error in the JQL Query: Expecting ',' or ')' in a list of values.")
    else:
        token = at(pos)
        if token[0] not in ("word", "string"):
            raise JqlError(f"Error in the JQL Query: Expecting a value but got '{token[1]}'.")
        values.append(_unquote(token))
        pos += 1

    if name in _DATE_FIELDS:
        if op not in (">", ">=", "<", "<=", "=", "!="):
            raise JqlError(f"The operator '{op}' is not supported by the '{raw_name}' field.")
        when = _date(values[0], raw_name, time_zone, now)
        return Clause(_DATE_FIELDS[name], op, tuple(values), when), pos
    if op in (">", ">=", "<", "<="):
        raise JqlError(f"The operator '{op}' is not supported by the '{raw_name}' field.")
    return Clause(_TEXT_FIELDS[name], op, tuple(values)), pos


def _date(text: str, field_name: str, time_zone: str, now: dt.datetime) -> dt.datetime:
    relative = _RELATIVE.match(text.strip())
    if relative:
        sign = -1 if relative.group(1) == "-" else 1
        delta = dt.timedelta(**{_UNITS[relative.group(3)]: int(relative.group(2))})
        return now + sign * delta
    for fmt in _DATE_FORMATS:
        try:
            local = dt.datetime.strptime(text.strip(), fmt)
        except ValueError:
            continue
        return local.replace(tzinfo=ZoneInfo(time_zone)).astimezone(dt.UTC)
    raise JqlError(
        f"Date value '{text}' for field '{field_name}' is invalid. Valid formats include: "
        "'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', 'yyyy-MM-dd', or a period format "
        "e.g. '-5d', '4w 2d'.")


def _match(clause: Clause, issue: IssueView) -> bool:
    if clause.when is not None:
        value: dt.datetime = issue[clause.field]
        return {
            ">": value > clause.when, ">=": value >= clause.when, "<": value < clause.when,
            "<=": value <= clause.when, "=": value == clause.when, "!=": value != clause.when,
        }[clause.op]
    # Text comparisons in JQL are case-insensitive for these system fields.
    have = {str(v).lower() for v in _as_list(issue.get(clause.field))}
    wanted = {v.lower() for v in clause.values}
    # "EMPTY" matches an unset field as well as the literal value.
    hit = bool(have & wanted) or (not have and bool(wanted & {"empty", "null"}))
    return not hit if clause.op in ("!=", "not in") else hit


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, (list, tuple, set, frozenset)):
        return list(value)
    return [value]
