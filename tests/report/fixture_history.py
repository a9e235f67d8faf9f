"""A customer's history over five weeks, written through the state store's own methods.

Links are written with ``write_links(..., at=...)``, so the store records the history rows as a
sync would, at the times given: issues created, moved, done, re-opened, blocked and cancelled.
Report date 2026-11-30, period 2026-11-16 .. 2026-11-30. The expected figures are worked out by
hand in ``test_report_figures.py``.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from hub.state.store import Link, StateStore
from tests.conftest import write_config

AS_OF = "2026-11-30"
SINCE = "2026-11-16"
FLOW = "delivery"


def at(day: str) -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T10:00:00+00:00")


class History:
    def __init__(self, store: StateStore, flow: str = FLOW) -> None:
        self.store, self.flow = store, flow
        self.views: dict[str, dict[str, Any]] = {}
        self.links: dict[str, Link] = {}

    def _write(self, key: str, day: str) -> None:
        snapshot = json.dumps(self.views[key], sort_keys=True)
        old = self.links.get(key)
        link = Link(self.flow, "issue", f"A-{key}", f"{key}", a_snapshot=snapshot, b_snapshot=snapshot,
                    id=old.id if old else None)
        with self.store.transaction() as conn:
            self.store.write_links(conn, [link], at=at(day))
        self.links[key] = self.store.links_by_ids(self.flow, "issue", "a", [f"A-{key}"])[f"A-{key}"]

    def add(self, key: str, day: str, title: str, **fields: Any) -> None:
        self.views[key] = {"title": title, "kind": "task", "status": "todo", "priority": None,
                           "labels": [], "milestone": None, "due_date": None, "customer": "Acme Corp",
                           "description": "", "assignees": [], **fields}
        self._write(key, day)

    def move(self, key: str, day: str, **changes: Any) -> None:
        self.views[key].update(changes)
        self._write(key, day)


def build(history: History) -> None:
    h = history
    m1, m2, m3 = "M1 Design", "M2 Build", "M3 Launch"
    h.add("1", "2026-10-26", "Wireframes", milestone=m1, due_date="2026-11-13", kind="requirement")
    h.add("2", "2026-10-26", "Style guide", milestone=m1, due_date="2026-11-20")
    h.add("3", "2026-10-26", "Design sign-off", milestone=m1, due_date="2026-11-20")
    h.move("1", "2026-10-28", status="in_progress")
    h.add("4", "2026-11-02", "Public API", milestone=m2, due_date="2026-12-10", kind="requirement")
    h.add("5", "2026-11-02", "Database", milestone=m2, due_date="2026-12-15")
    h.add("8", "2026-11-02", "Old export", milestone=m2)
    h.move("1", "2026-11-05", status="done")
    h.move("3", "2026-11-10", status="in_progress")
    h.add("6", "2026-11-17", "Reports page", milestone=m2, due_date="2026-11-25")
    h.add("7", "2026-11-18", "Dark mode", milestone=m3, due_date="2027-01-10", kind="change_request")
    h.move("2", "2026-11-18", status="done")
    h.add("9", "2026-11-19", "Vendor delay", kind="risk", priority="high")
    h.move("8", "2026-11-19", status="cancelled")
    h.move("4", "2026-11-20", status="done")
    h.move("5", "2026-11-21", status="blocked")
    h.move("4", "2026-11-23", status="in_progress")  # re-opened: the customer found a gap
    h.add("10", "2026-11-24", "Feedback: colours", kind="feedback")
    h.add("11", "2026-11-24", "Login", milestone=m3, due_date="2027-01-15")
    h.move("4", "2026-11-26", status="done")
    h.move("10", "2026-11-27", status="done", labels=["accepted"])
    h.add("G1", "2026-11-20", "Globex portal", customer="Globex")  # another customer's: never counted
    h.move("G1", "2026-11-22", status="done")


def make_config(home: Path, state_url: str, left: dict[str, Any] | None = None,
                left_scope: str = "proj") -> Path:
    """Two reference tools by default; ``left`` replaces side a's connection (a CRM to publish to)."""
    return write_config(
        home / "pmhub.toml", state_url=state_url,
        connections={"left": left or {"plugin": "reference", "path": f"memory:report-left-{home.name}"},
                     "right": {"plugin": "reference", "path": f"memory:report-right-{home.name}"}},
        flows=[{"name": FLOW, "a": {"connection": "left", "scope": left_scope},
                "b": {"connection": "right", "scope": "proj"}, "records": ["issue"]}])
