"""A GitHub repository's milestones as pmhub's ``milestone`` records (title, description, due date,
open/closed), for the GitHub connector.

GitHub lists milestones sorted by due date or completeness, never by when they changed, and takes no
``since``: every listing reads them all (``state=all``, 100 a page; a repository has few) and sorts
them by ``updated_at`` here, so the engine can treat the listing as it treats the issues'. What did
not change since the cursor is left out, and what did but only echoes a write of ours is dropped by
the engine's fingerprints, so a quiet run costs the pages and writes nothing.

The marker of a milestone pmhub created rides in its description as the same hidden line an issue
body carries. ``due_on`` is a timestamp to the API but a day to people: GitHub keeps the day at
Pacific midnight (07:00 or 08:00 UTC), so the day is read in UTC and written at noon UTC, which is
that same day in every zone GitHub may use.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from hub.connector import Remote
from hub.errors import PermanentError
from hub.model import Milestone, MilestoneState

if TYPE_CHECKING:
    from .connector import GitHubConnector

PAGE = 100


def listing(conn: GitHubConnector, scope: str, since: dt.datetime | None,
            operation: str = "list") -> Iterator[Remote]:
    """The milestones changed at or after ``since`` (all when None), oldest change first."""
    from .connector import _next_link

    everything: list[dict[str, Any]] = []
    url: str | None = f"{conn._repo_path(scope)}/milestones"
    params: dict[str, Any] | None = {"state": "all", "sort": "due_on", "direction": "asc", "per_page": PAGE}
    while url is not None:
        _, headers, page = conn._request_raw(operation, "GET", url, params)
        everything.extend(page or [])
        url, params = _next_link(headers), None
    # The whole list is at hand: the issue writes that name a milestone need no listing of their own.
    conn._milestones[scope] = {m["title"]: m["number"] for m in everything}
    remotes = sorted((to_remote(conn, m) for m in everything), key=lambda r: (r.updated, int(r.id)))
    for remote in remotes:
        conn._remember(scope, "milestone", remote)
        if since is None or (remote.updated is not None and remote.updated >= since):
            yield remote


def get(conn: GitHubConnector, scope: str, external_id: str) -> Remote | None:
    try:
        data = conn._request("get", "GET", _path(conn, scope, external_id))
    except PermanentError as error:
        if error.status in (404, 410):
            return None
        raise
    return conn._remember(scope, "milestone", to_remote(conn, data))


def find_by_marker(conn: GitHubConnector, scope: str, marker: str) -> Remote | None:
    """The milestone whose description carries ``marker``: the listing is complete and consistent
    at once (no search index), so a create whose reply was lost a moment ago is found."""
    return next((r for r in listing(conn, scope, None, "find") if r.marker == marker), None)


def create(conn: GitHubConnector, scope: str, item: Milestone, marker: str) -> Remote:
    from .connector import _with_marker

    payload = {"title": item.name, "description": _with_marker(item.description or "", marker),
               **_fields(item, frozenset({"due_date", "state"}))}
    data = conn._request("create", "POST", f"{conn._repo_path(scope)}/milestones", payload)
    conn._milestones.setdefault(scope, {})[data["title"]] = data["number"]
    return conn._remember(scope, "milestone", to_remote(conn, data))


def update(conn: GitHubConnector, scope: str, external_id: str, item: Milestone,
           changed: frozenset[str]) -> Remote:
    from .connector import _with_marker

    path = _path(conn, scope, external_id)
    payload = _fields(item, changed)
    if "name" in changed:
        payload["title"] = item.name
    if "description" in changed:
        key = (scope, "milestone", external_id)
        if key not in conn._markers:  # the marker to keep: remembered from a read, else one GET
            conn._remember(scope, "milestone", to_remote(conn, conn._request("update", "GET", path)))
        payload["description"] = _with_marker(item.description or "", conn._markers[key] or None)
    verb = "PATCH" if payload else "GET"  # nothing GitHub keeps changed: report it as it is
    data = conn._request("update", verb, path, payload or None)
    known = conn._milestones.get(scope)
    if known is not None:  # the title issue writes look the number up by may have moved
        for title in [t for t, number in known.items() if number == data["number"]]:
            del known[title]
        known[data["title"]] = data["number"]
    return conn._remember(scope, "milestone", to_remote(conn, data))


def to_remote(conn: GitHubConnector, data: dict[str, Any]) -> Remote:
    from .connector import _parse_time, split_marker

    description, marker = split_marker(data.get("description") or "")
    due = _parse_time(data["due_on"]).date() if data.get("due_on") else None
    updated = _parse_time(data["updated_at"])
    item = Milestone(name=data["title"], description=description or None, due_date=due,
                     state=MilestoneState.CLOSED if data.get("state") == "closed" else MilestoneState.OPEN,
                     updated=updated, url=data.get("html_url"))
    return Remote(id=str(data["number"]), updated=updated, item=item, version=data["updated_at"],
                  url=data.get("html_url"), marker=marker)


def _fields(item: Milestone, changed: frozenset[str]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if "due_date" in changed:
        fields["due_on"] = f"{item.due_date.isoformat()}T12:00:00Z" if item.due_date else None
    if "state" in changed:
        fields["state"] = item.state.value
    return fields


def _path(conn: GitHubConnector, scope: str, external_id: str) -> str:
    if not external_id.isdigit():
        raise PermanentError(f"{conn.name}: {external_id!r} is not a GitHub milestone number")
    return f"{conn._repo_path(scope)}/milestones/{external_id}"
