"""Property: any interleaving of creates, edits, comments and closes on both sides of a two-way
flow, with transient failures sprinkled in, converges to equal canonical states with no duplicate."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from hub.model import Comment, Issue, StatusCategory
from tests.conftest import Pair

SIDES = st.sampled_from(["a", "b"])
TITLES = st.text(alphabet="abcdefgh ", min_size=1, max_size=8).map(lambda s: s.strip() or "x")

operations = st.lists(st.one_of(
    st.tuples(st.just("create"), SIDES, TITLES),
    st.tuples(st.just("edit"), SIDES, st.integers(0, 50), TITLES),
    st.tuples(st.just("close"), SIDES, st.integers(0, 50)),
    st.tuples(st.just("comment"), SIDES, st.integers(0, 50), TITLES),
    st.tuples(st.just("fail"), SIDES, st.sampled_from(["create", "update", "list", "find"]),
              st.sampled_from([1, 2, 9])),
    st.tuples(st.just("sync")),
), min_size=1, max_size=25)


def _state(pair: Pair, side: str) -> tuple[list[tuple[str, str]], list[str]]:
    store = pair.store(side)
    issues = sorted((item.title, item.status.value) for _, item in store.all("proj", "issue"))
    comments = sorted(item.body for _, item in store.all("proj", "comment"))
    return issues, comments


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ops=operations)
# Found by Hypothesis: an issue's create stays ambiguous for three runs (its outcome unknown, so it
# is not re-sent), its comment parks waiting for it, and must follow once the issue is linked.
@example(ops=[("sync",), ("fail", "a", "create", 1), ("create", "a", "cg a"), ("close", "a", 37), ("sync",),
              ("create", "a", "efhf"), ("create", "a", "a"), ("create", "a", "d"), ("create", "b", "d edeh"),
              ("comment", "b", 37, "x"), ("sync",), ("close", "a", 35), ("fail", "a", "create", 1),
              ("sync",), ("close", "b", 48), ("comment", "b", 40, "h"), ("fail", "a", "find", 1),
              ("fail", "a", "find", 2), ("fail", "a", "create", 1), ("sync",), ("comment", "a", 43, "fa"),
              ("create", "a", "d bcaegh"), ("sync",), ("comment", "b", 20, "eh"),
              ("edit", "b", 25, "bgghcfb")])
@example(ops=[("create", "a", "a"), ("create", "a", "a"), ("create", "b", "a")])
def test_random_interleavings_converge_without_duplicates(ops):
    with tempfile.TemporaryDirectory() as tmp:
        # Without the title rule: records that exist on both sides before a first sync and share a
        # title are parked for a person by design (tests/engine/test_markers_and_creates.py and the
        # matching tests), so "converges without anyone" holds for markers and links only. Found
        # by Hypothesis: two "a" on one side and one on the other stay parked as ambiguous.
        pair = Pair(Path(tmp), f"sqlite:///{tmp}/state.db", conflict="prefer-a", match=["marker", "link"])
        try:
            for op in ops:
                kind, *args = op
                if kind == "create":
                    side, title = args
                    pair.store(side).put("proj", "issue", Issue(title=title))
                elif kind in ("edit", "close", "comment"):
                    side, index = args[0], args[1]
                    existing = pair.store(side).all("proj", "issue")
                    if not existing:
                        continue
                    ident, _ = existing[index % len(existing)]
                    if kind == "edit":
                        pair.store(side).edit("proj", "issue", ident, title=args[2])
                    elif kind == "close":
                        pair.store(side).edit("proj", "issue", ident, status=StatusCategory.DONE)
                    else:
                        pair.store(side).put("proj", "comment", Comment(body=args[2], issue=ident))
                elif kind == "fail":
                    side, operation, times = args
                    pair.store(side).inject(operation, "transient", times=times)
                else:
                    pair.sync(expect=None)
            pair.a.clear_faults()
            pair.b.clear_faults()
            for _ in range(3):
                pair.sync(expect=None)
            final = pair.sync()
            assert "0 created, 0 updated" in final.output
            assert _state(pair, "a") == _state(pair, "b")
            for side in ("a", "b"):
                store = pair.store(side)
                for _, item in store.all("proj", "issue"):
                    assert item.title  # nothing half-written
            assert pair.a.count("proj", "issue") == pair.b.count("proj", "issue")
        finally:
            pair.close()
