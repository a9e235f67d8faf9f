"""What a run costs the state store in statements and round trips, and that the faster ways of
writing a page keep what they write right: new links' ids in their history, a lease taken once,
pooled connections that went stale replaced, a failed bulk write reported like any other."""

from __future__ import annotations

import datetime as dt
import json

import psycopg
import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from hub.engine.batch import Batch, commit
from hub.errors import StateStoreError
from hub.state import bulk, pinging
from hub.state.history import issue_history
from hub.state.schema import links
from hub.state.starting import read_start
from hub.state.store import Link, StateStore
from tests.sent import sent_to_stores
from tests.test_state_batching import selects_of, statements


def snapshot(title: str, status: str | None) -> str:
    return json.dumps({"title": title, "status": status}, sort_keys=True)


def test_new_issue_links_are_added_to_the_history_under_the_ids_they_were_stored_with(state_url):
    """More than one multi-row INSERT's worth on SQLite, whose RETURNING promises no order."""
    store = StateStore.open(state_url)
    statuses = ["todo", "in_progress", "done"]
    page = [Link("f", "issue", f"a{i}", f"b{i}", "1", "1", "fa", "fb",
                 snapshot(f"t{i}", statuses[i % 3] if i % 7 else None), snapshot(f"t{i}", "todo"))
            for i in range(1200)]
    page.append(Link("f", "comment", "a5", "b5"))  # the same a id in another record type
    with store.transaction() as conn:
        store.write_links(conn, page)
    with store.engine.connect() as conn:
        stored = {row.id: row.a_id for row in conn.execute(
            select(links.c.id, links.c.a_id).where(links.c.record_type == "issue"))}
        added = {row.link_id: row.status for row in conn.execute(
            select(issue_history.c.link_id, issue_history.c.status).where(issue_history.c.event == "added"))}
    assert set(added) == set(stored) and len(stored) == 1200
    for link_id, a_id in stored.items():
        i = int(a_id[1:])
        # a's status, or b's where a's snapshot has none.
        assert added[link_id] == (statuses[i % 3] if i % 7 else "todo"), a_id
    store.close()


def test_a_status_event_is_written_only_when_a_snapshot_changed(state_url):
    store = StateStore.open(state_url)
    with store.transaction() as conn:
        store.write_links(conn, [Link("f", "issue", "a1", "b1", "1", "1", "fa", "fb",
                                      snapshot("t", "todo"), snapshot("t", "todo"))])
    [link] = store.links_of("f", "issue")
    with store.transaction() as conn:
        store.write_links(conn, [link.with_side("b", version="2")])  # an echo: a version moved
        store.write_links(conn, [link.with_side("a", version="3", fp="fa2", snapshot=snapshot("t", "done"))])
    with store.engine.connect() as conn:
        events = [(row.event, row.previous, row.status) for row in conn.execute(
            select(issue_history).order_by(issue_history.c.id))]
    assert events == [("added", None, "todo"), ("status", "todo", "done")]
    store.close()


def test_a_page_checks_the_ledger_with_one_statement_that_reads_no_snapshot(state_url):
    store = StateStore.open(state_url)
    with store.transaction() as conn:
        store.write_links(conn, [Link("f", "issue", "a0", "b0")])
    batch = Batch(links=[Link("f", "issue", f"a{i}", f"b{i}") for i in range(500)]
                  + [Link("f", "issue", "a-new", "b3")])
    with statements(store) as sent:
        commit(store, "f", batch, "issue", None, None)
    [ledger] = selects_of(sent, "links")
    assert "snapshot" not in ledger
    # a0-b0 was linked already, and b3 is claimed by a3 earlier in the page.
    assert sorted(link.a_id for link in store.links_of("f", "issue")) == sorted(f"a{i}" for i in range(500))
    store.close()


def test_a_page_of_records_nobody_linked_is_inserted_without_a_look_at_the_ledger(state_url):
    store = StateStore.open(state_url)
    batch = Batch(links=[Link("f", "issue", f"a{i}", f"b{i}") for i in range(500)])
    with statements(store) as sent:
        commit(store, "f", batch, "issue", None, None)
    assert selects_of(sent, "links") == []
    assert store.count_links("f") == 500
    store.close()


def test_a_page_sends_no_savepoint_unless_it_breaks_a_unique_key(state_url):
    store = StateStore.open(state_url)
    with statements(store) as sent:
        commit(store, "f", Batch(), "issue", None, None)
        commit(store, "f", Batch(links=[Link("f", "issue", f"a{i}", f"b{i}") for i in range(500)]),
               "issue", None, None)
    assert not [sql for sql, _ in sent if "SAVEPOINT" in sql]
    # One record of the next page was linked meanwhile: the page is written again, checked, and
    # the rest of it lands with the page's cursor.
    with store.transaction() as conn:
        store.write_links(conn, [Link("f", "issue", "a600", "b600")])
    late = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    commit(store, "f", Batch(links=[Link("f", "issue", f"a{i}", f"b{i}") for i in range(500, 700)]),
           "issue", "a", late)
    assert store.count_links("f") == 700
    assert store.cursor("f", "a", "issue") == late
    store.close()


def test_the_history_of_a_runs_pages_names_the_run_without_a_lookup_per_page(state_url):
    store = StateStore.open(state_url)
    run_id = store.start_run("f", dry_run=False)
    with statements(store) as sent:
        for start in (0, 500):
            commit(store, "f", Batch(links=[Link("f", "issue", f"a{i}", f"b{i}")
                                            for i in range(start, start + 500)]), "issue", None, None)
    assert selects_of(sent, "runs") == []
    store.finish_run(run_id, "ok", {})
    with store.transaction() as conn:  # after the run, a link stored by a tool names none
        store.write_links(conn, [Link("f", "issue", "a-late", "b-late")])
    with store.engine.connect() as conn:
        named = list(conn.execute(select(issue_history.c.run_id).order_by(issue_history.c.id)).scalars())
    assert named == [run_id] * 1000 + [None]
    store.close()


def test_taking_a_lease_is_one_statement_and_on_postgresql_no_transaction(state_url):
    store = StateStore.open(state_url)
    ttl = dt.timedelta(minutes=5)
    with statements(store) as sent:
        assert store.acquire_lease("f", "worker-1", ttl)
        assert not store.acquire_lease("f", "worker-2", ttl)
    assert len(sent) == 2, sent
    assert not [sql for sql, _ in sent if sql.startswith(("BEGIN", "SAVEPOINT", "COMMIT"))]
    if store.engine.dialect.name == "postgresql":
        # Each ran on its own in autocommit, so none left a transaction open to commit.
        with store.engine.connect() as conn:
            assert conn.execute(text("SELECT holder FROM leases")).scalar() == "worker-1"
    store.close()


def test_a_connection_used_moments_ago_is_not_pinged_and_one_idle_for_long_is(
        state_url, monkeypatch: pytest.MonkeyPatch) -> None:
    store = StateStore.open(state_url)
    pings: list[object] = []
    real_ping = store.engine.dialect.do_ping
    monkeypatch.setattr(store.engine.dialect, "do_ping", lambda c: pings.append(c) or real_ping(c))
    for _ in range(5):
        store.cursor("f", "a", "issue")
    assert pings == []
    monkeypatch.setattr(pinging, "TRUSTED_FOR", 0.0)
    store.cursor("f", "a", "issue")
    assert len(pings) == 1
    store.close()


@pytest.mark.postgres
def test_a_postgresql_connection_closed_while_idle_is_replaced(state_url, monkeypatch: pytest.MonkeyPatch):
    """A daemon's connection that the server dropped between runs (a restart, an idle timeout)."""
    if not state_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only")
    store = StateStore.open(state_url)
    with store.engine.connect() as conn:
        pid = conn.execute(text("SELECT pg_backend_pid()")).scalar()
    with psycopg.connect("host=127.0.0.1 port=5432 dbname=test user=postgres", autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    monkeypatch.setattr(pinging, "TRUSTED_FOR", 0.0)  # as if it had sat in the pool for long
    assert store.cursor("f", "a", "issue") is None
    store.close()


@pytest.mark.postgres
def test_a_failed_copy_on_postgresql_is_the_stores_one_line_error(state_url):
    """COPY runs on the driver's connection, outside SQLAlchemy: its failures still read as the
    store's (a lost server here), and a unique violation as SQLAlchemy's IntegrityError."""
    if not state_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only")
    store = StateStore.open(state_url)
    now = dt.datetime.now(dt.UTC)
    row = ("f", "issue", "a1", "b1", None, None, None, None, None, None, "active", now, now)
    columns = ("flow", "record_type", "a_id", "b_id", "a_version", "b_version", "a_fp", "b_fp",
               "a_snapshot", "b_snapshot", "state", "created_at", "updated_at")
    with store.transaction() as conn:
        bulk.insert_rows(conn, links, columns, [row])
    with pytest.raises(IntegrityError), store.transaction() as conn:
        bulk.insert_rows(conn, links, columns, [row])
    with pytest.raises(StateStoreError) as raised, store.transaction() as conn:
        pid = conn.execute(text("SELECT pg_backend_pid()")).scalar()
        with psycopg.connect("host=127.0.0.1 port=5432 dbname=test user=postgres", autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        bulk.insert_rows(conn, links, columns, [(*row[:2], "a2", "b2", *row[4:])])
    assert "cannot reach the database server" in str(raised.value)
    assert store.count_links("f") == 1
    store.close()


def test_a_leased_run_starts_and_ends_in_one_round_trip_each_on_postgresql(state_url):
    store = StateStore.open(state_url)
    ttl = dt.timedelta(minutes=5)
    with sent_to_stores() as started_trips:
        started = store.start_leased_run("f", "worker-1", ttl)
    assert started is not None and store.lease_holder("f") == "worker-1"
    assert store.start_leased_run("f", "worker-2", ttl) is None  # held: no run recorded for it
    assert [run["status"] for run in store.last_runs(limit_per_flow=5)] == ["running"]
    with sent_to_stores() as finished_trips:
        store.finish_run(started.id, "ok", {}, release=("f", "worker-1"))
    assert store.lease_holder("f") is None
    assert [run["status"] for run in store.last_runs(limit_per_flow=5)] == ["ok"]
    if store.engine.dialect.name == "postgresql":
        assert (started_trips.round_trips, finished_trips.round_trips) == (1, 1)
        assert len(started_trips.statements) == 4  # the lease and run, parked, conflicts, cursors
    store.close()


def test_a_run_starts_from_the_flows_parked_records_waiting_conflicts_and_cursors(state_url):
    """What the run's start reads with its lease is what the store's own reads give, for this
    flow only: a conflict already written and another flow's records are left out."""
    store = StateStore.open(state_url)
    at = dt.datetime(2026, 5, 1, 12, 30, tzinfo=dt.UTC)
    with store.transaction() as conn:
        store.write_links(conn, [Link("f", "issue", "a1", "b1"), Link("g", "issue", "a1", "b1")])
        [mine, other] = [store.links_by_ids(flow, "issue", "a", ["a1"], conn)["a1"].id for flow in "fg"]
        store.park(conn, "f", "issue", "a", "a7", "b refused the title")
        store.park(conn, "g", "issue", "a", "a8", "another flow's")
        for field in ("title", "status", "labels"):
            store.add_conflict(conn, mine, "f", "issue", field, "base", "from a", "from b")
        store.add_conflict(conn, other, "g", "issue", "title", "base", "x", "y")
        store.set_cursors(conn, "f", {("a", "issue"): at, ("b", "comment"): at + dt.timedelta(hours=1)})
        store.set_cursors(conn, "g", {("a", "issue"): at - dt.timedelta(days=1)})
    [_title, status, labels] = store.open_conflicts("f")
    store.resolve_conflict(status["id"], "a")
    with store.transaction() as conn:
        store.close_conflict(conn, labels["id"])  # written: nothing waits on it any more

    started = store.start_leased_run("f", "worker-1", dt.timedelta(minutes=5))
    assert started is not None
    assert started.start == store.run_start("f")
    with store.engine.connect() as conn:  # the pipeline's fixed SQL reads what SQLAlchemy's does
        assert started.start == read_start(conn, "f")
    assert started.start.parked == store.parked_records("f")
    assert [row["source_id"] for row in started.start.parked] == ["a7"]
    assert started.start.conflicts[:1] == store.open_conflicts("f")
    assert [(c["field"], c["status"], c["a_id"], c["b_id"]) for c in started.start.conflicts] == [
        ("title", "open", "a1", "b1"), ("status", "resolved", "a1", "b1")]
    assert started.start.cursors == {("a", "issue"): at, ("b", "comment"): at + dt.timedelta(hours=1)}
    store.close()


@pytest.mark.postgres
def test_a_run_start_that_loses_the_server_is_the_stores_one_line_error(state_url):
    """The pipelined start runs on the driver's connection, outside SQLAlchemy: a server gone
    away mid-run still reads as the store's failure, records no run, and the next start works."""
    if not state_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only")
    store = StateStore.open(state_url)
    with store.engine.connect() as conn:  # the pooled connection the start will take
        pid = conn.execute(text("SELECT pg_backend_pid()")).scalar()
    with psycopg.connect("host=127.0.0.1 port=5432 dbname=test user=postgres", autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    with pytest.raises(StateStoreError) as raised:
        store.start_leased_run("f", "worker-1", dt.timedelta(minutes=5))
    assert "cannot reach the database server" in str(raised.value)
    assert store.last_runs() == [] and store.lease_holder("f") is None
    started = store.start_leased_run("f", "worker-1", dt.timedelta(minutes=5))
    assert started is not None and [run["id"] for run in store.last_runs()] == [started.id]
    store.close()
