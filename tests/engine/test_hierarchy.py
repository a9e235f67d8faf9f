"""An issue's parent crosses through the issue links: a child lands under its parent's twin, follows
a re-parent, and is linked in the same run when it is read before its parent (no extra fetch)."""

from __future__ import annotations

import re

from hub.model import Issue


def twins_by_title(pair) -> dict[str, tuple[str, Issue]]:
    return {item.title: (twin_id, item) for twin_id, item in pair.b.all("proj", "issue")}


def api_calls(output: str, connection: str) -> int:
    found = re.search(rf"{connection}: .*?(\d+) API calls", output)
    assert found, output
    return int(found.group(1))


def test_children_read_before_their_parent_land_under_its_twin_in_one_run(pair):
    epic = pair.a.put("proj", "issue", Issue(title="epic"))
    for n in (1, 2):
        pair.a.put("proj", "issue", Issue(title=f"child {n}", parent=epic))
    pair.a.edit("proj", "issue", epic, description="edited last, so listed after its children")
    out = pair.sync()
    twins = twins_by_title(pair)
    assert twins["child 1"][1].parent == twins["epic"][0]
    assert twins["child 2"][1].parent == twins["epic"][0]
    assert twins["epic"][1].parent is None
    assert "0 parked" in out.output
    # The children waited in memory, not parked and fetched again: a reads one listing page per
    # record type (issue, comment) and nothing else, as a run without parents does.
    assert api_calls(out.output, "left") == 2
    quiet = pair.sync()
    assert "right: 0 created, 0 updated" in quiet.output and "left: 0 created, 0 updated" in quiet.output
    # The children placed later in the run hold the cursor back no more: the next listing starts at
    # the newest record read (the epic), not before the first child.
    assert "left: 0 created, 0 updated, 1 unchanged" in quiet.output, quiet.output


def test_a_grandchild_chain_listed_upside_down_is_linked_in_one_run(pair):
    top = pair.a.put("proj", "issue", Issue(title="top"))
    middle = pair.a.put("proj", "issue", Issue(title="middle", parent=top))
    pair.a.put("proj", "issue", Issue(title="leaf", parent=middle))
    pair.a.edit("proj", "issue", middle, description="now after the leaf")
    pair.a.edit("proj", "issue", top, description="now last")
    pair.sync()
    twins = twins_by_title(pair)
    assert twins["leaf"][1].parent == twins["middle"][0]
    assert twins["middle"][1].parent == twins["top"][0]


def test_a_reparent_and_a_removal_follow_on_the_other_side_both_ways(pair):
    first = pair.a.put("proj", "issue", Issue(title="first"))
    second = pair.a.put("proj", "issue", Issue(title="second"))
    child = pair.a.put("proj", "issue", Issue(title="child", parent=first))
    pair.sync()
    pair.a.edit("proj", "issue", child, parent=second)
    pair.sync()
    twins = twins_by_title(pair)
    assert twins["child"][1].parent == twins["second"][0]
    # Moved out on b: the original on a loses its parent too.
    pair.b.edit("proj", "issue", twins["child"][0], parent=None)
    pair.sync()
    assert pair.a.get("proj", "issue", child).parent is None
    # And put back under the first on b: a follows with a's own id for it.
    pair.b.edit("proj", "issue", twins["child"][0], parent=twins["first"][0])
    pair.sync()
    assert pair.a.get("proj", "issue", child).parent == first


def test_a_parent_parked_for_another_reason_parks_its_child_until_it_is_linked(pair):
    epic = pair.a.put("proj", "issue", Issue(title="epic"))
    pair.a.put("proj", "issue", Issue(title="child", parent=epic))
    pair.b.inject("create", "permanent", times=1, match_title="epic")  # the epic's create is refused
    pair.sync(expect=None)
    assert pair.b.count("proj", "issue") == 0, "the child waits for its parent's twin"
    parked = pair.cli("parked").output
    assert "waiting for its parent issue" in parked, parked
    pair.b.clear_faults()
    pair.cli("retry")
    pair.sync()
    twins = twins_by_title(pair)
    assert set(twins) == {"epic", "child"}
    assert twins["child"][1].parent == twins["epic"][0]


def test_a_child_under_a_parent_the_filter_leaves_out_syncs_without_one(make_pair):
    pair = make_pair(filter={"labels": ["customer"]})
    epic = pair.a.put("proj", "issue", Issue(title="internal epic"))
    pair.a.put("proj", "issue", Issue(title="customer work", labels=["customer"], parent=epic))
    out = pair.sync()
    twins = twins_by_title(pair)
    assert set(twins) == {"customer work"}
    assert twins["customer work"][1].parent is None
    assert "0 parked" in out.output


def test_children_beyond_what_memory_holds_wait_parked_and_the_next_run_places_them(pair, monkeypatch):
    from hub.engine import context

    monkeypatch.setattr(context, "DEFERRED_AT_MOST", 2)
    epic = pair.a.put("proj", "issue", Issue(title="epic"))
    for n in range(5):
        pair.a.put("proj", "issue", Issue(title=f"child {n}", parent=epic))
    pair.a.edit("proj", "issue", epic, description="listed after its children")
    out = pair.sync(expect=1)
    assert "3 parked" in out.output, "two waited in memory, three were parked"
    assert len(twins_by_title(pair)) == 3
    pair.sync()
    twins = twins_by_title(pair)
    assert len(twins) == 6 and all(twins[f"child {n}"][1].parent == twins["epic"][0] for n in range(5))
