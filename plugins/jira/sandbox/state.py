"""State records of the Jira stand-in and the small parsers its handlers share."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from html import escape
from typing import Any

from hub.sandbox.service import BadPayload, Call

from . import custom_fields, seed

ISSUE_EXPANDABLE = "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations"
#: Fields a GET of a search returns for "*navigable" (comment is not navigable in Jira).
NAVIGABLE = (*(f[0] for f in seed.SYSTEM_FIELDS if f[4] and f[0] != "statusCategory"),
             *custom_fields.FIELD_IDS)
ALL_FIELDS = (*NAVIGABLE, "project", "comment")
SETTABLE = {"summary", "description", "issuetype", "project", "priority", "labels", "assignee",
            "reporter", "duedate", "parent", "fixVersions", *custom_fields.FIELD_IDS}


class JiraFailure(Exception):
    """A reply in Jira's error envelope with field errors (BadPayload carries only a message)."""

    def __init__(self, status: int, messages: list[str] | None = None,
                 errors: dict[str, str] | None = None) -> None:
        super().__init__(messages or errors)
        self.status = status
        self.body = {"errorMessages": messages or [], "errors": errors or {}}


@dataclass
class CommentRecord:
    """A comment as stored: the body in wiki markup, people by accountId."""

    id: int
    body: str
    author: str
    update_author: str
    created: dt.datetime
    updated: dt.datetime
    properties: dict[str, Any] = field(default_factory=dict)


@dataclass
class IssueRecord:
    """An issue as stored: ids of status, type and priority from ``seed``, description in wiki markup."""

    id: int
    key: str
    project: str
    summary: str
    issuetype: str
    status: str
    created: dt.datetime
    updated: dt.datetime
    description: str | None = None
    priority: str | None = seed.DEFAULT_PRIORITY
    labels: list[str] = field(default_factory=list)
    assignee: str | None = None
    reporter: str | None = None
    creator: str | None = None
    duedate: str | None = None
    parent: int | None = None
    #: Ids of the project versions the issue is to be fixed in (``fixVersions``).
    fix_versions: list[int] = field(default_factory=list)
    resolutiondate: dt.datetime | None = None
    status_changed: dt.datetime | None = None
    comments: list[CommentRecord] = field(default_factory=list)
    properties: dict[str, Any] = field(default_factory=dict)
    #: Custom field values (and time tracking) by field id, as Jira sends them.
    custom: dict[str, Any] = field(default_factory=dict)


def jira_time(value: dt.datetime | None) -> str | None:
    """Jira's own timestamp spelling: milliseconds and a +HHMM offset (not RFC 3339)."""
    if value is None:
        return None
    value = value.astimezone(dt.UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}+0000"


MISSING = object()


def status_def(status_id: str) -> seed.StatusDef:
    return next(s for s in seed.STATUSES if s.id == status_id)


def priority_id(value: Any) -> str | None:
    if isinstance(value, dict):
        wanted_id, wanted_name = value.get("id"), value.get("name")
    elif isinstance(value, str):
        wanted_id = wanted_name = value
    else:
        return None
    for pid, name, _colour in seed.PRIORITIES:
        if str(wanted_id) == pid or wanted_name == name:
            return pid
    return None


def field_schema(spec: tuple[Any, ...]) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": spec[2], "system": spec[0]}
    if spec[3]:
        schema["items"] = spec[3]
    return schema


def avatars(prefix: str) -> dict[str, str]:
    return {size: f"{prefix}?size={size}" for size in ("48x48", "24x24", "16x16", "32x32")}


def render_html(wiki: str | None) -> str:
    if not wiki:
        return ""
    return "".join(f"<p>{escape(block)}</p>" for block in wiki.split("\n\n"))


def object_body(call: Call) -> dict[str, Any]:
    body = call.json()
    if not isinstance(body, dict):
        raise BadPayload(400, "Can not deserialize instance of the request out of START_ARRAY token")
    return body


def int_arg(call: Call, name: str, default: int) -> int:
    raw = call.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise JiraFailure(400, [f"The '{name}' parameter must be an integer."]) from None


def list_arg(values: list[str]) -> set[str]:
    return {part.strip() for value in values for part in value.split(",") if part.strip()}


def fields_arg(values: list[str], *, default: str) -> tuple[str, ...] | None:
    """Resolve a ``fields`` parameter (repeated and/or comma lists) to field ids; None means all."""
    parts = [p.strip() for value in values for p in value.split(",") if p.strip()] or [default]
    chosen: list[str] = []
    excluded = {p[1:] for p in parts if p.startswith("-")}
    for part in parts:
        if part == "*all":
            chosen.extend(ALL_FIELDS)
        elif part == "*navigable":
            chosen.extend(NAVIGABLE)
        elif not part.startswith("-"):
            chosen.append(part)
    known = {f[0] for f in seed.SYSTEM_FIELDS} | {"id", "key", *custom_fields.FIELD_IDS}
    result = tuple(dict.fromkeys(n for n in chosen if n in known and n not in excluded))
    return result


def update_sets(update: Any) -> dict[str, Any]:
    """``update: {field: [{"set": v}]}`` operations become plain field values (labels aside)."""
    out: dict[str, Any] = {}
    if not isinstance(update, dict):
        return out
    for name, ops in update.items():
        if name in ("labels", "comment") or not isinstance(ops, list):
            continue
        for op in ops:
            if isinstance(op, dict) and "set" in op:
                out[name] = op["set"]
    return out


def label_ops(update: Any, current: list[str], errors: dict[str, str]) -> list[str] | None:
    if not isinstance(update, dict) or "labels" not in update:
        return None
    labels = list(current)
    for op in update["labels"] or []:
        if not isinstance(op, dict):
            continue
        if "set" in op:
            labels = list(op["set"] or [])
        if "add" in op:
            value = str(op["add"])
            if any(c.isspace() for c in value):
                errors["labels"] = f"The label '{value}' contains spaces which is invalid."
            elif value not in labels:
                labels.append(value)
        if "remove" in op and op["remove"] in labels:
            labels.remove(op["remove"])
    return labels


def encode_token(offset: int, jql_text: str) -> str:
    raw = json.dumps({"o": offset, "q": fingerprint(jql_text)}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token: str, jql_text: str) -> int:
    try:
        padded = token + "=" * (-len(token) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        offset = int(data["o"])
        if data["q"] != fingerprint(jql_text):
            raise ValueError("token of another query")
    except (ValueError, KeyError, TypeError):
        raise JiraFailure(400, ["The provided next page token is invalid or expired."]) from None
    return offset


def fingerprint(text: str) -> str:
    return hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()[:12]
