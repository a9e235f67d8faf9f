"""A Jira project's versions (releases) as pmhub's ``milestone`` records, for the Jira connector.

A version has a name (unique in its project), a description, a start and a release date, and is
released or not: a released version is a closed milestone, its release date the milestone's due
date. Jira keeps no ``updated`` time on a version and lists a project's versions in one request
without paging, so every listing is that one request; each version's ``Remote.version`` is a digest
of what pmhub reads from it, so an unchanged version is passed over without being compared.

The marker of a version pmhub created is the last line of its description, ``[pmhub-...]``, the
only text a version carries besides its name.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from hub.connector import Remote
from hub.errors import PermanentError
from hub.model import Milestone, MilestoneState

if TYPE_CHECKING:
    from .connector import JiraConnector

#: What pmhub reads from a version (its digest is the version's ``Remote.version``).
READ_KEYS = ("name", "description", "releaseDate", "startDate", "released", "archived")
_MARKER = re.compile(r"\s*\[(?P<marker>pmhub-[A-Za-z0-9._:-]+)\]\s*\Z")


def listing(conn: JiraConnector, scope: str) -> Iterator[Remote]:
    """Every version of the project (Jira lists them whole, in one request)."""
    raw = conn._call("GET", f"project/{scope}/versions", operation="list")
    for version in raw if isinstance(raw, list) else []:
        yield to_remote(conn, version)


def get(conn: JiraConnector, external_id: str) -> Remote | None:
    try:
        return to_remote(conn, conn._call("GET", f"version/{_id(external_id)}", operation="get"))
    except PermanentError as error:
        if error.status == 404:
            return None
        raise


def find_by_marker(conn: JiraConnector, scope: str, marker: str) -> Remote | None:
    """The version whose description ends in ``marker``: the listing is read directly (no search
    index), so a create whose reply was lost a moment ago is found."""
    return next((r for r in listing(conn, scope) if r.marker == marker), None)


def create(conn: JiraConnector, scope: str, item: Milestone, marker: str) -> Remote:
    # POST /version through the library's session: its create_version sleeps a second after each.
    dated = {k: v for k, v in _fields(item, None).items() if v is not None}
    body = {"name": item.name, "project": scope, **dated}
    body["description"] = with_marker(item.description, marker)
    return to_remote(conn, conn._call("POST", "version", json_body=body, operation="create"))


def update(conn: JiraConnector, external_id: str, item: Milestone, changed: frozenset[str]) -> Remote:
    path = f"version/{_id(external_id)}"
    body = _fields(item, changed)
    if "name" in changed:
        body["name"] = item.name
    if "description" in changed:
        current = to_remote(conn, conn._call("GET", path, operation="update"))
        body["description"] = with_marker(item.description, current.marker)
    if not body:
        return to_remote(conn, conn._call("GET", path, operation="update"))
    return to_remote(conn, conn._call("PUT", path, json_body=body, operation="update"))


def to_remote(conn: JiraConnector, raw: dict[str, Any]) -> Remote:
    description, marker = split_marker(raw.get("description"))
    item = Milestone(
        name=raw.get("name") or "", description=description,
        due_date=dt.date.fromisoformat(raw["releaseDate"]) if raw.get("releaseDate") else None,
        start_date=dt.date.fromisoformat(raw["startDate"]) if raw.get("startDate") else None,
        state=MilestoneState.CLOSED if raw.get("released") else MilestoneState.OPEN,
        url=raw.get("self"))
    # No `updated` in Jira's version: a digest of what is read stands in for it.
    read = {k: raw.get(k) for k in READ_KEYS}
    digest = hashlib.blake2b(json.dumps(read, sort_keys=True).encode(), digest_size=8).hexdigest()
    return Remote(id=str(raw["id"]), updated=None, item=item, version=digest, url=raw.get("self"),
                  marker=marker)


def split_marker(description: str | None) -> tuple[str | None, str | None]:
    """A version's description without pmhub's marker line, and the marker (None when absent)."""
    text = description or ""
    found = _MARKER.search(text)
    if found is None:
        return text or None, None
    return text[:found.start()] or None, found.group("marker")


def with_marker(description: str | None, marker: str | None) -> str:
    text = split_marker(description)[0] or ""
    if not marker:
        return text
    return f"{text}\n\n[{marker}]" if text else f"[{marker}]"


def _fields(item: Milestone, changed: frozenset[str] | None) -> dict[str, Any]:
    def wanted(name: str) -> bool:
        return changed is None or name in changed

    body: dict[str, Any] = {}
    if wanted("due_date"):
        body["releaseDate"] = item.due_date.isoformat() if item.due_date else None
    if wanted("start_date"):
        body["startDate"] = item.start_date.isoformat() if item.start_date else None
    if wanted("state"):
        body["released"] = item.state is MilestoneState.CLOSED
    return body


def _id(external_id: str) -> str:
    if not external_id.isdigit():
        raise PermanentError(f"{external_id!r} is not a Jira version id", status=404)
    return external_id
