"""A run's memory does not grow with the work: waiting changes spill to disk, a listing remembers its
position rather than every id, and a real run keeps only the plan entries that need a person."""

from __future__ import annotations

import datetime as dt

from hub.connector import Remote
from hub.engine import pending
from hub.engine.context import Seen
from hub.engine.pending import PendingChanges
from hub.engine.read import Yielded
from hub.engine.results import ATTENTION_KEPT
from hub.model import Issue
from hub.state.store import Link

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def change(n: int, *, linked: bool = True, title: str = "") -> Seen:
    remote = Remote(str(n), T0 + dt.timedelta(seconds=n), Issue(title=title or f"t{n}"))
    link = Link("f", "issue", str(n), f"b{n}", id=n) if linked else None
    return Seen("b", remote, link, values={"title": title or f"t{n}"}, synced={"title": title or f"t{n}"})


def test_waiting_changes_beyond_the_memory_limit_spill_and_keep_their_order():
    waiting = PendingChanges(in_memory=2)
    for n in range(6):
        waiting.add(change(n))
    waiting.add(change(9, linked=False))
    waiting.add(change(4, title="t4 again"))  # a later read replaces the change, in its place
    assert len(waiting) == 7 and waiting._spill is not None
    assert [s.id for s in waiting.unlinked()] == ["9"]
    popped = waiting.pop("3")
    assert popped is not None and popped.link is not None and popped.link.b_id == "b3"
    assert waiting.pop("3") is None and waiting.pop("nope") is None
    rest = list(waiting.remaining())
    assert [s.id for s in rest] == ["0", "1", "2", "4", "5", "9"]
    assert rest[3].values["title"] == "t4 again"
    assert all(s.remote.item is None for s in rest)  # the tool's record object is not kept
    waiting.close()


def test_a_sorted_listing_remembers_its_position_and_skips_what_it_gave_after_a_restart():
    yielded = Yielded(ordered=True)
    first = [Remote(str(n), T0 + dt.timedelta(seconds=n // 2), None) for n in range(3000)]
    for remote in first:
        assert remote not in yielded
        yielded.add(remote)
    # Bounded: the recent window and the ties at the newest moment, not every id.
    assert len(yielded._recent) == Yielded.RECENT and yielded._ids == set()
    old = Remote("5", T0 + dt.timedelta(seconds=2), None)
    assert old not in yielded  # before a restart, a record that comes again is handed on...
    assert Remote("2999", T0 + dt.timedelta(seconds=1499), None) in yielded  # ...unless just given
    yielded.restarted = True
    assert old in yielded
    assert Remote("5", T0 + dt.timedelta(seconds=5000), None) not in yielded  # edited meanwhile


def test_an_unsorted_listing_remembers_every_id():
    yielded = Yielded(ordered=False)
    for n in range(3000):
        yielded.add(Remote(str(n), None, None))
    assert Remote("0", T0, None) in yielded and Remote("3000", T0, None) not in yielded


def test_changes_on_both_sides_still_merge_when_the_waiting_ones_spill(make_pair, monkeypatch):
    monkeypatch.setattr(pending, "IN_MEMORY", 1)
    pair = make_pair(records=["issue"], conflict="newest")
    ids = [pair.a.put("proj", "issue", Issue(title=f"task {n}")) for n in range(6)]
    pair.sync()
    on_b = {item.title: ident for ident, item in pair.b.all("proj", "issue")}
    for n in range(6):
        pair.b.edit("proj", "issue", on_b[f"task {n}"], title=f"b {n}", description=f"from b {n}")
    for n in (1, 4):  # later than b's edit of the same field: the newest wins on both sides
        pair.a.edit("proj", "issue", ids[n], title=f"a {n}")
    pair.sync()
    for n in range(6):
        title = f"a {n}" if n in (1, 4) else f"b {n}"
        on_a = pair.a.get("proj", "issue", ids[n])
        assert (on_a.title, on_a.description) == (title, f"from b {n}")
        assert pair.b.get("proj", "issue", on_b[f"task {n}"]).title == title


def test_a_real_run_keeps_only_plan_entries_that_need_a_person(make_pair):
    from hub.engine.runner import open_hub, sync

    pair = make_pair(records=["issue"])
    for title in ("fine", "broken"):
        pair.a.put("proj", "issue", Issue(title=title))
    pair.b.inject("create", "permanent", times=None, match_title="broken")
    with open_hub(pair.config) as hub:
        [result] = sync(hub)
    assert [entry.action for entry in result.plan] == ["park"]
    assert result.stats["b"].created == 1 and ATTENTION_KEPT >= 100


def test_sync_says_how_many_entries_needing_a_person_it_did_not_list(make_pair, monkeypatch):
    from hub.engine import context

    monkeypatch.setattr(context, "ATTENTION_KEPT", 1)
    pair = make_pair(records=["issue"])
    for n in range(3):
        pair.a.put("proj", "issue", Issue(title=f"broken {n}"))
    pair.b.inject("create", "permanent", times=None)
    out = pair.sync(expect=1)
    assert out.output.count("park ") == 1
    assert "... and 2 more not listed (pmhub parked, pmhub conflicts list them all)" in out.output


def test_a_full_disk_under_the_waiting_changes_stops_the_run_with_one_line(make_pair, monkeypatch):
    import sqlite3

    monkeypatch.setattr(pending, "IN_MEMORY", 1)
    real_connect = sqlite3.connect

    def tiny(database, *args, **kwargs):  # the spill file fills after two pages, as a full disk does
        connection = real_connect(database, *args, **kwargs)
        if database == "":
            connection.execute("PRAGMA max_page_count = 2")
        return connection

    monkeypatch.setattr(pending.sqlite3, "connect", tiny)
    pair = make_pair(records=["issue"])
    ids = [pair.a.put("proj", "issue", Issue(title=f"task {n}")) for n in range(40)]
    pair.sync()
    on_b = {item.title: ident for ident, item in pair.b.all("proj", "issue")}
    for n in range(40):
        pair.b.edit("proj", "issue", on_b[f"task {n}"], description="x" * 400)
    out = pair.sync(expect=2)
    assert "temporary file in" in out.output and "cannot keep the changes waiting" in out.output
    assert "point TMPDIR at a disk with room" in out.output and "Traceback" not in out.output
    monkeypatch.setattr(pending.sqlite3, "connect", real_connect)
    pair.sync()
    assert all(pair.a.get("proj", "issue", i).description == "x" * 400 for i in ids), \
        "nothing was lost: the next run with room syncs every edit"
