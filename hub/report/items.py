"""Reading a customer's issues and their history from the state store (no tool is called).

An item is one active issue link: its canonical fields from the link's snapshots (the delivery
side ``b`` first, the side ``a`` where ``b`` says nothing), the events ``hub.state.history``
recorded for it, and where it lives in each tool (``hub.report.urls``).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from hub.state.history import HistoryEvent, events
from hub.state.schema import links
from hub.state.store import StateStore


@dataclass(frozen=True, slots=True)
class Place:
    """One tool's copy of an item."""

    connection: str
    external_id: str
    url: str | None


@dataclass(slots=True)
class Item:
    link_id: int
    flow: str
    title: str
    kind: str
    status: str
    priority: str | None
    milestone: str | None
    due_date: dt.date | None
    labels: list[str]
    customer: str | None
    created: dt.datetime
    #: The parent's id on either side, once the project layer syncs parents (issue 11).
    parent: str | None = None
    places: list[Place] = field(default_factory=list)
    history: list[HistoryEvent] = field(default_factory=list)

    @property
    def closed(self) -> bool:
        return self.status in ("done", "cancelled")

    def entered(self, status: str) -> dt.datetime | None:
        """When the item last entered ``status`` (None when the history never saw it there)."""
        found = None
        for event in self.history:
            if event.status == status and event.event in ("added", "status"):
                found = event.at
        return found


@dataclass(frozen=True, slots=True)
class FlowSides:
    """The connection and scope on each side of a flow (for URLs)."""

    name: str
    a: tuple[str, str]
    b: tuple[str, str]


def customer_of(a: dict[str, Any], b: dict[str, Any]) -> str | None:
    value = a.get("customer") or b.get("customer")
    return str(value) if value else None


def read_items(store: StateStore, flows: Sequence[FlowSides], urls: Any = None) -> list[Item]:
    """Every active issue link of ``flows`` with its history. ``urls(flow, side, id)`` gives a URL."""
    by_name = {flow.name: flow for flow in flows}
    items: dict[int, Item] = {}
    with store.engine.connect() as conn:
        query = select(links.c.id, links.c.flow, links.c.a_id, links.c.b_id, links.c.a_snapshot,
                       links.c.b_snapshot, links.c.created_at).where(
            links.c.flow.in_(list(by_name)), links.c.record_type == "issue", links.c.state == "active")
        for row in conn.execute(query):
            a = json.loads(row.a_snapshot) if row.a_snapshot else {}
            b = json.loads(row.b_snapshot) if row.b_snapshot else {}

            def pick(name: str, a: dict[str, Any] = a, b: dict[str, Any] = b) -> Any:
                return b.get(name) if b.get(name) not in (None, "", []) else a.get(name)

            due = pick("due_date")
            created = row.created_at if row.created_at.tzinfo else row.created_at.replace(tzinfo=dt.UTC)
            flow = by_name[row.flow]
            places = []
            for side, external_id in (("a", row.a_id), ("b", row.b_id)):
                connection = getattr(flow, side)[0]
                places.append(Place(connection, external_id, urls(flow, side, external_id) if urls else None))
            items[row.id] = Item(
                link_id=row.id, flow=row.flow, title=pick("title") or "(untitled)",
                kind=pick("kind") or "task", status=pick("status") or "todo", priority=pick("priority"),
                milestone=pick("milestone"), due_date=dt.date.fromisoformat(due) if due else None,
                labels=sorted(set(a.get("labels") or []) | set(b.get("labels") or [])),
                customer=customer_of(a, b), created=created, places=places, parent=pick("parent"))
        for event in events(conn, list(by_name)):
            item = items.get(event.link_id)
            if item is not None:
                item.history.append(event)
    for item in items.values():
        if not item.history:  # linked before history was kept and not backfilled: its link's birth
            item.history.append(HistoryEvent(item.flow, item.link_id, "added", item.status, None,
                                             item.created, None, "backfill"))
    return sorted(items.values(), key=lambda i: i.link_id)


def milestone_dues(store: StateStore, flows: Sequence[str]) -> dict[str, dt.date]:
    """Milestone name -> due date, from linked milestone records (when a flow syncs them)."""
    dues: dict[str, dt.date] = {}
    with store.engine.connect() as conn:
        rows = conn.execute(select(links.c.a_snapshot, links.c.b_snapshot).where(
            links.c.flow.in_(list(flows)), links.c.record_type == "milestone", links.c.state == "active"))
        for row in rows:
            for raw in (row.b_snapshot, row.a_snapshot):
                view = json.loads(raw) if raw else {}
                if view.get("name") and view.get("due_date"):
                    dues.setdefault(view["name"], dt.date.fromisoformat(view["due_date"]))
    return dues


def project_link(store: StateStore, flows: Sequence[str],
                 project_id: str) -> tuple[str, dict[str, Any]] | None:
    """(flow, the project's snapshot) of the project linked under ``project_id`` on either side."""
    with store.engine.connect() as conn:
        row = conn.execute(select(links.c.flow, links.c.a_id, links.c.b_id, links.c.a_snapshot,
                                  links.c.b_snapshot).where(
            links.c.flow.in_(list(flows)), links.c.record_type == "project",
            (links.c.a_id == project_id) | (links.c.b_id == project_id))).first()
    if row is None:
        return None
    view = json.loads(row.b_snapshot or row.a_snapshot or "{}")
    return row.flow, {**view, "ids": [row.a_id, row.b_id]}
