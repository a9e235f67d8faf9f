"""Syncing named records of one flow (what a webhook or a queue worker asks for), not a listing."""

from __future__ import annotations

import datetime as dt

import pytest

from hub.engine.runner import LEASE_TTL, open_hub, sync_records
from hub.model import Issue, StatusCategory


@pytest.fixture
def linked(make_pair):
    """A pair after one full sync: two issues on a, each linked to its twin on b."""
    pair = make_pair(records=["issue"])
    ids = [pair.a.put("proj", "issue", Issue(title=f"task {n}")) for n in range(2)]
    pair.sync()
    pair.sync()  # reads back the creates on b once, so every cursor is where a cron run leaves it
    return pair, ids


def cursors(hub):
    return {side: hub.store.cursor("main", side, "issue") for side in ("a", "b")}


def twins(pair):
    return {item.title: (ident, item) for ident, item in pair.b.all("proj", "issue")}


def test_an_edit_on_a_reaches_b_with_one_get_and_one_write_and_no_cursor_moves(linked):
    pair, ids = linked
    pair.a.edit("proj", "issue", ids[0], title="task 0, edited", status=StatusCategory.IN_PROGRESS)
    with open_hub(pair.config) as hub:
        before = cursors(hub)
        result = sync_records(hub, "main", "issue", "a", [ids[0]])
        assert result.status == "ok", result.error
        assert hub.connectors["left"].calls.counts == {"get": 1}
        assert hub.connectors["right"].calls.counts == {"update": 1}
        assert (result.stats["a"].api_calls, result.stats["b"].updated) == (1, 1)
        assert cursors(hub) == before
        [run] = hub.store.last_runs()
        assert (run["status"], run["stats"]["b"]["updated"]) == ("ok", 1)
    twin = twins(pair)["task 0, edited"][1]
    assert twin.status == StatusCategory.IN_PROGRESS
    assert "task 1" in twins(pair)
    # The next run from the cursors sees the edit as applied: nothing goes either way.
    out = pair.sync()
    assert "left: 0 created, 0 updated" in out.output and "right: 0 created, 0 updated" in out.output


def test_an_unlinked_id_gets_its_twin_once(linked):
    pair, _ = linked
    new = pair.a.put("proj", "issue", Issue(title="from a webhook"))
    with open_hub(pair.config) as hub:
        before = cursors(hub)
        result = sync_records(hub, "main", "issue", "a", [new, new])
        assert (result.status, result.stats["b"].created) == ("ok", 1)
        assert cursors(hub) == before
    assert sorted(twins(pair)) == ["from a webhook", "task 0", "task 1"]
    pair.sync()
    assert pair.b.count("proj", "issue") == 3


def test_a_deleted_id_applies_on_delete(linked):
    pair, ids = linked
    pair.a.remove("proj", "issue", ids[1])
    with open_hub(pair.config) as hub:
        result = sync_records(hub, "main", "issue", "a", [ids[1]])
    assert (result.status, result.stats["b"].deleted) == ("ok", 1)
    assert twins(pair)["task 1"][1].status == StatusCategory.CANCELLED
    assert twins(pair)["task 0"][1].status == StatusCategory.TODO


def test_an_edit_on_b_goes_to_a(linked):
    pair, ids = linked
    twin_id = twins(pair)["task 1"][0]
    pair.b.edit("proj", "issue", twin_id, title="task 1, edited on b")
    with open_hub(pair.config) as hub:
        result = sync_records(hub, "main", "issue", "b", [twin_id])
    assert (result.status, result.stats["a"].updated) == ("ok", 1)
    assert pair.a.get("proj", "issue", ids[1]).title == "task 1, edited on b"


def test_a_held_lease_skips_the_targeted_sync(linked):
    pair, ids = linked
    pair.a.edit("proj", "issue", ids[0], title="waits for the lease")
    with open_hub(pair.config) as hub:
        assert hub.store.acquire_lease("main", "another-host:1", LEASE_TTL)
        result = sync_records(hub, "main", "issue", "a", [ids[0]])
        assert result.status == "skipped" and "another-host:1" in (result.error or "")
        assert hub.store.lease_holder("main") == "another-host:1"
        hub.store.release_lease("main", "another-host:1")
    assert "waits for the lease" not in twins(pair)


def test_a_record_type_the_flow_does_not_sync_is_refused(linked):
    pair, ids = linked
    with open_hub(pair.config) as hub:
        result = sync_records(hub, "main", "comment", "a", ids)
    assert result.status == "failed" and "does not sync comments" in (result.error or "")


def test_the_lease_is_released_afterwards(linked):
    pair, ids = linked
    with open_hub(pair.config) as hub:
        sync_records(hub, "main", "issue", "a", ids)
        assert hub.store.lease_holder("main") is None
        assert hub.store.acquire_lease("main", "next:1", dt.timedelta(seconds=5))
