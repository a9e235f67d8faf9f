"""The state store keeps each linked issue's status changes and scope changes as the engine syncs."""

from __future__ import annotations

import datetime as dt
import json

import sqlalchemy as sa
from alembic import command
from alembic.config import Config as AlembicConfig

from hub.model import Issue, StatusCategory
from hub.state.history import events
from hub.state.store import MIGRATIONS, StateStore


def _history(state_url: str, flow: str = "main") -> list[tuple[str, str | None, str | None, bool]]:
    store = StateStore.open(state_url)
    try:
        with store.engine.connect() as conn:
            return [(e.event, e.previous, e.status, e.run_id is not None) for e in events(conn, [flow])]
    finally:
        store.close()


def test_a_sync_records_added_and_each_status_change_with_its_run(make_pair):
    pair = make_pair(records=["issue"])
    pair.a.put("proj", "issue", Issue(title="Login page", customer="Globex"))
    pair.sync()
    [(twin, _)] = pair.b.all("proj", "issue")
    pair.b.edit("proj", "issue", twin, status=StatusCategory.IN_PROGRESS)
    pair.sync()
    pair.sync()  # quiet: nothing new in the history
    pair.b.edit("proj", "issue", twin, status=StatusCategory.DONE)
    pair.sync()
    pair.b.edit("proj", "issue", twin, status=StatusCategory.CANCELLED)
    pair.sync()
    assert _history(pair.state_url) == [
        ("added", None, "todo", True),
        ("status", "todo", "in_progress", True),
        ("status", "in_progress", "done", True),
        ("status", "done", "cancelled", True),
    ]


def test_an_edit_that_keeps_the_status_records_nothing(make_pair):
    pair = make_pair(records=["issue"])
    pair.a.put("proj", "issue", Issue(title="Login page"))
    pair.sync()
    [(twin, _)] = pair.b.all("proj", "issue")
    pair.b.edit("proj", "issue", twin, title="Login page (v2)")
    pair.sync()
    assert _history(pair.state_url) == [("added", None, "todo", True)]


def test_the_migration_backfills_issues_linked_before_history_was_kept(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, "0004")
        created, closed = dt.datetime(2026, 10, 1, tzinfo=dt.UTC), dt.datetime(2026, 10, 20, tzinfo=dt.UTC)
        for n, status in ((1, "in_progress"), (2, "done")):
            snapshot = json.dumps({"title": f"Old {n}", "status": status})
            conn.execute(sa.text(
                "INSERT INTO links (flow, record_type, a_id, b_id, a_snapshot, b_snapshot, state, created_at,"
                " updated_at) VALUES ('main', 'issue', :a, :b, :s, :s, 'active', :c, :u)"),
                dict(a=f"a{n}", b=f"b{n}", s=snapshot, c=created, u=closed))
    engine.dispose()
    store = StateStore.open(url)  # migrates to the head, 0005 included
    with store.engine.connect() as conn:
        rows = [(e.link_id, e.event, e.status, e.at.date(), e.origin) for e in events(conn, ["main"])]
    store.close()
    assert rows == [(1, "added", "in_progress", created.date(), "backfill"),
                    (2, "added", "todo", created.date(), "backfill"),
                    (2, "status", "done", closed.date(), "backfill")]


def test_a_record_deleted_on_one_side_leaves_scope(make_pair):
    pair = make_pair(records=["issue"], on_delete="ignore")
    pair.a.put("proj", "issue", Issue(title="Login page"))
    pair.a.put("proj", "issue", Issue(title="Reports"))
    pair.sync()
    [(gone, _), _other] = sorted(pair.a.all("proj", "issue"))
    pair.a.remove("proj", "issue", gone)
    pair.sync()
    history = _history(pair.state_url)
    assert [event for event, *_ in history] == ["added", "added", "removed"]
