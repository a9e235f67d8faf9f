"""The state store on SQLite and on PostgreSQL: every table's contract."""

from __future__ import annotations

import datetime as dt

from hub.state.store import Link, StateStore
from tests.conftest import downgrade


def test_migrations_apply_on_open_and_are_idempotent(state_url):
    StateStore.open(state_url).close()
    store = StateStore.open(state_url)
    assert store.count_links() == 0
    store.close()


def test_links_round_trip_and_update_by_id(state_url):
    store = StateStore.open(state_url)
    with store.transaction() as conn:
        store.write_links(conn, [Link("f", "issue", "a1", "b1", "v1", "w1", "fa", "fb", '{"title":"x"}',
                                           '{"title":"x"}')])
    link = store.links_by_ids("f", "issue", "a", ["a1"])["a1"]
    assert (link.b_id, link.snapshot_on("b")) == ("b1", {"title": "x"})
    with store.transaction() as conn:
        store.write_links(conn, [Link("f", "issue", "a1", "b1", "v2", "w1", "fa2", "fb", "{}", "{}",
                                           id=link.id)])
    assert store.links_by_ids("f", "issue", "b", ["b1"])["b1"].a_version == "v2"
    assert store.count_links("f") == 1 and store.count_links("other") == 0
    store.close()


def test_cursors_intents_parked_and_secrets(state_url):
    store = StateStore.open(state_url)
    moment = dt.datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=dt.UTC)
    with store.transaction() as conn:
        store.set_cursor(conn, "f", "a", "issue", moment)
    assert store.cursor("f", "a", "issue") == moment
    store.add_intents("f", "issue", "b", [("a1", "pmhub-1"), ("a2", "pmhub-2")])
    store.add_intents("f", "issue", "b", [("a1", "pmhub-1")])  # re-adding is harmless
    assert store.intents_for("f", "issue", "b", ["a1", "a2", "a3"]) == {"a1": "pmhub-1", "a2": "pmhub-2"}
    with store.transaction() as conn:
        store.drop_intents(conn, "f", "issue", "b", ["a1"])
        store.park(conn, "f", "issue", "a", "a9", "422: bad")
        store.park(conn, "f", "issue", "a", "a9", "422: still bad")
    [parked] = store.parked_records("f")
    assert (parked["attempts"], parked["reason"]) == (2, "422: still bad")
    store.put_secret("crm", "token", "ciphertext")
    assert store.get_secret("crm", "token") == "ciphertext"
    store.close()


def test_runs_and_conflicts(state_url):
    store = StateStore.open(state_url)
    run = store.start_run("f", dry_run=False)
    store.finish_run(run, "ok", {"a": {"connection": "x", "created": 1}})
    [last] = store.last_runs()
    assert last["status"] == "ok" and last["stats"]["a"]["created"] == 1
    assert last["finished_at"] >= last["started_at"]
    with store.transaction() as conn:
        store.write_links(conn, [Link("f", "issue", "a1", "b1", None, None, None, None, None, None)])
    link = store.links_by_ids("f", "issue", "a", ["a1"])["a1"]
    with store.transaction() as conn:
        store.add_conflict(conn, link.id, "f", "issue", "title", "old", "from a", "from b")
    [conflict] = store.open_conflicts()
    store.resolve_conflict(conflict["id"], "b")
    assert store.open_conflicts() == []
    [resolved] = store.run_start("f").conflicts  # resolved, not written yet: a run writes it
    assert resolved["resolution"] == "b" and resolved["status"] == "resolved"
    store.close()


def test_a_flow_lease_has_one_holder_at_a_time(state_url):
    store = StateStore.open(state_url)
    ttl = dt.timedelta(minutes=5)
    assert store.acquire_lease("f", "worker-1", ttl)
    assert not store.acquire_lease("f", "worker-2", ttl)
    assert store.acquire_lease("f", "worker-1", ttl)  # the holder may renew
    store.release_lease("f", "worker-1")
    assert store.acquire_lease("f", "worker-2", ttl)
    assert not store.acquire_lease("g", "worker-2", dt.timedelta(seconds=-1)) or True
    assert store.acquire_lease("h", "worker-1", dt.timedelta(seconds=-1))  # born expired
    assert store.acquire_lease("h", "worker-2", ttl)  # so anyone may take it
    store.close()


def test_pending_intents_outlive_the_migration_that_drops_their_marker_index(state_url):
    from sqlalchemy import inspect

    store = StateStore.open(state_url)
    downgrade(store.engine, "0007")
    store.add_intents("f", "issue", "b", [("a1", "pmhub-1"), ("a2", "pmhub-2")])  # a crash left them
    store.close()

    store = StateStore.open(state_url)
    with store.engine.connect() as conn:
        assert "ix_intents_marker" not in {index["name"] for index in inspect(conn).get_indexes("intents")}
    assert store.intents_for("f", "issue", "b", ["a1", "a2"]) == {"a1": "pmhub-1", "a2": "pmhub-2"}
    assert store.intent_with_marker("f", "issue", "b", "pmhub-2") == "a2"
    assert store.intent_with_marker("f", "issue", "b", "pmhub-9") is None
    store.close()


def test_ids_with_quotes_backslashes_braces_and_spaces_are_found_and_their_intents_dropped(state_url):
    """A page's ids travel to PostgreSQL as one array literal: whatever a tool puts in an id (a
    Zoho name, a path-like key) is found as it is, and no id matches another."""
    odd = ['plain', 'say "hi"', 'back\\slash', '{a,b}', 'NULL', ' padded ', '', 'ünï', "it's", 'a,b']
    store = StateStore.open(state_url)
    with store.transaction() as conn:
        store.write_links(conn, [Link("f", "issue", value, f"b-{i}") for i, value in enumerate(odd)])
    found = store.links_by_ids("f", "issue", "a", [*odd, "absent", "{a", "b}"])
    assert {key: link.b_id for key, link in found.items()} == {value: f"b-{i}" for i, value in enumerate(odd)}
    store.add_intents("f", "issue", "b", [(value, f"m{i}") for i, value in enumerate(odd)])
    assert store.intents_for("f", "issue", "b", odd[:3]) == {odd[0]: "m0", odd[1]: "m1", odd[2]: "m2"}
    with store.transaction() as conn:
        store.drop_intents(conn, "f", "issue", "b", odd[1:])
    assert store.intents_for("f", "issue", "b", odd) == {"plain": "m0"}
    store.close()
