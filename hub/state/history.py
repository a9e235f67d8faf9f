"""Issue history: when each linked issue entered each canonical status, and scope changes.

The store appends rows as it writes links (``StateStore.write_links``): a new issue link is an
``added`` event with its first status; a link whose canonical status differs from the one in its
previous snapshots is a ``status`` event (``cancelled`` is one, and takes the issue out of scope);
a link whose record was deleted on one side is ``removed``. Each row names the run that wrote it
(the flow's run in progress, when there is one). The report (``hub.report``) replays these rows.

Links made before this table existed were backfilled by migration 0005 from what the store knew:
the link's creation time as ``added``, and its last update as the entry into a closed status.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, Connection, DateTime, Index, Integer, String, Table, select

from hub.state import bulk
from hub.state.membership import among_ids
from hub.state.schema import NAME, links, metadata, runs

#: What one issue went through. ``status`` is the canonical status after the event.
issue_history = Table(
    "issue_history", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("flow", NAME, nullable=False),
    Column("link_id", Integer, nullable=False),
    #: added, status, removed
    Column("event", String(12), nullable=False),
    Column("status", String(20)),
    Column("previous", String(20)),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("run_id", Integer),
    #: "sync" (written as it happened) or "backfill" (inferred when the table was made)
    Column("origin", String(10), nullable=False, default="sync"),
    Index("ix_issue_history_flow", "flow", "link_id", "id"),
)

TRACKED_TYPE = "issue"
_EVENT_COLUMNS = ("flow", "link_id", "event", "status", "previous", "at", "run_id", "origin")


@dataclass(frozen=True, slots=True)
class HistoryEvent:
    flow: str
    link_id: int
    event: str
    status: str | None
    previous: str | None
    at: dt.datetime
    run_id: int | None
    origin: str


def snapshot_status(a_snapshot: str | None, b_snapshot: str | None, before: str | None = None) -> str | None:
    """The canonical status a link stands for. After a sync both sides agree; while they do not
    (one side read, the other not written yet), the side that moved away from ``before`` wins."""
    seen = [status for status in (_status(a_snapshot), _status(b_snapshot)) if status]
    if not seen:
        return None
    moved = [status for status in seen if status != before]
    return moved[0] if moved else seen[0]


def first_status(a_snapshot: str | None, b_snapshot: str | None) -> str | None:
    """``snapshot_status`` of a new link (nothing before it): a's status, else b's. b's snapshot
    is parsed only when a's has none (a new link's two usually agree)."""
    return _status(a_snapshot) or _status(b_snapshot)


def _status(snapshot: str | None) -> str | None:
    if not snapshot:
        return None
    value = json.loads(snapshot).get("status")
    return str(value) if value else None


def snapshots_before(conn: Connection, link_ids: Sequence[int]) -> dict[int, tuple[str | None, str | None]]:
    """link id -> its stored (a, b) snapshots, read before they change."""
    out: dict[int, tuple[str | None, str | None]] = {}
    for among in among_ids(conn, links.c.id, link_ids):
        rows = conn.execute(select(links.c.id, links.c.a_snapshot, links.c.b_snapshot).where(among))
        out.update({row.id: (row.a_snapshot, row.b_snapshot) for row in rows})
    return out


def running_run(conn: Connection, flow: str, known: Mapping[str, int] | None = None) -> int | None:
    """The flow's run in progress (the lease allows one), or None outside a run (tests, tools).
    ``known``: flow -> the run this process started, which needs no lookup."""
    if known is not None and flow in known:
        return known[flow]
    found = conn.execute(select(runs.c.id).where(runs.c.flow == flow, runs.c.status == "running")
                         .order_by(runs.c.id.desc()).limit(1)).scalar()
    return int(found) if found is not None else None


def append(conn: Connection, rows: list[dict[str, Any]]) -> None:
    if rows:
        bulk.insert_rows(conn, issue_history, _EVENT_COLUMNS, [tuple(row[c] for c in _EVENT_COLUMNS)
                                                               for row in rows])


def event_row(flow: str, link_id: int, event: str, status: str | None, previous: str | None,
              at: dt.datetime, run_id: int | None, origin: str = "sync") -> dict[str, Any]:
    return dict(flow=flow, link_id=link_id, event=event, status=status, previous=previous, at=at,
                run_id=run_id, origin=origin)


def events(conn: Connection, flows: Sequence[str]) -> Iterator[HistoryEvent]:
    """Every event of the flows' issues, oldest first."""
    query = select(issue_history).where(issue_history.c.flow.in_(list(flows))).order_by(
        issue_history.c.at, issue_history.c.id)
    for row in conn.execute(query):
        at = row.at if row.at.tzinfo else row.at.replace(tzinfo=dt.UTC)
        yield HistoryEvent(row.flow, row.link_id, row.event, row.status, row.previous, at, row.run_id,
                           row.origin)


def record_links(conn: Connection, updated: Sequence[Any], before: dict[int, tuple[str | None, str | None]],
                 inserted: Sequence[tuple[Any, int]], at: dt.datetime,
                 running: Mapping[str, int] | None = None) -> None:
    """Append the events of one ``write_links`` call: ``updated`` are its stored links (``Link``)
    and ``before`` their snapshots as ``snapshots_before`` read them; ``inserted`` its new links,
    each with the id the insert gave it; ``running`` as for ``running_run``."""
    rows: list[dict[str, Any]] = []
    run_ids: dict[str, int | None] = {}

    def run_of(flow: str) -> int | None:
        if flow not in run_ids:
            run_ids[flow] = running_run(conn, flow, running)
        return run_ids[flow]

    for link in updated:
        if link.record_type != TRACKED_TYPE:
            continue
        old_a, old_b = before.get(link.id, (None, None))
        if link.a_snapshot == old_a and link.b_snapshot == old_b:
            continue  # the same snapshots (a version or fingerprint moved): the same status
        old = snapshot_status(old_a, old_b)
        new = snapshot_status(link.a_snapshot, link.b_snapshot, old)
        if new is not None and new != old:
            rows.append(event_row(link.flow, link.id, "status", new, old, at, run_of(link.flow)))
    for link, link_id in inserted:
        if link.record_type == TRACKED_TYPE:
            rows.append(event_row(link.flow, link_id, "added", first_status(link.a_snapshot, link.b_snapshot),
                                  None, at, run_of(link.flow)))
    append(conn, rows)


def record_removed(conn: Connection, link_id: int, state: str, at: dt.datetime,
                   running: Mapping[str, int] | None = None) -> None:
    """A link whose record was deleted on one side (``state`` "deleted-a"/"deleted-b") leaves scope."""
    if not state.startswith("deleted"):
        return
    row = conn.execute(select(links.c.flow, links.c.record_type).where(links.c.id == link_id)).first()
    if row is not None and row.record_type == TRACKED_TYPE:
        run_id = running_run(conn, row.flow, running)
        append(conn, [event_row(row.flow, link_id, "removed", None, None, at, run_id)])


def record_inserted(conn: Connection, link: Any, link_id: int, at: dt.datetime,
                    running: Mapping[str, int] | None = None) -> None:
    """The ``added`` event of one link stored on its own (``StateStore.insert_link``)."""
    if link.record_type == TRACKED_TYPE:
        status = first_status(link.a_snapshot, link.b_snapshot)
        run_id = running_run(conn, link.flow, running)
        append(conn, [event_row(link.flow, link_id, "added", status, None, at, run_id)])
