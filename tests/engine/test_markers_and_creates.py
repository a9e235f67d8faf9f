"""Issue 10 items 1 and 2 over two reference tools, through the CLI: a lost state store is rebuilt
by marker in every direction for issues and comments; an ambiguous create is not re-sent in its
run, a refused one is; a marked record is never copied back."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from hub.model import Comment, Issue
from tests.conftest import Pair


def everything(pair: Pair) -> tuple[list[str], list[str], list[str], list[str]]:
    return (sorted(t.title for _, t in pair.a.all("proj", "issue")),
            sorted(t.title for _, t in pair.b.all("proj", "issue")),
            sorted(c.body for _, c in pair.a.all("proj", "comment")),
            sorted(c.body for _, c in pair.b.all("proj", "comment")))


@pytest.mark.parametrize("direction", ["both", "a->b", "b->a"])
def test_a_lost_state_store_is_rebuilt_by_marker_in_every_direction(
        tmp_path: Path, make_pair, direction: str) -> None:
    pair = make_pair(direction=direction, match=["marker"])  # markers count whatever `match` says
    sources = [pair.a] if direction == "a->b" else [pair.b] if direction == "b->a" else [pair.a, pair.b]
    for n, tool in enumerate(sources):
        issue = tool.put("proj", "issue", Issue(title=f"issue {n}"))
        tool.put("proj", "comment", Comment(issue=issue, body=f"comment {n}"))
    pair.sync()
    before = everything(pair)
    assert len(before[0]) == len(before[1]) == len(sources)

    (tmp_path / "p0" / "state.db").unlink()
    out = pair.sync()
    assert "0 created" in out.output and " 1 created" not in out.output, out.output
    assert everything(pair) == before
    pair.sync()
    assert everything(pair) == before


def test_an_ambiguous_create_is_not_resent_in_its_run_and_the_next_run_decides(pair: Pair) -> None:
    pair.a.put("proj", "issue", Issue(title="maybe written"))
    # A 503 after the request went out: the service may or may not have written it (here: not).
    pair.b.inject("create", "transient", times=1)
    started = time.monotonic()
    out = pair.sync(expect=1)
    assert time.monotonic() - started >= 1.5, "the marker was looked for over a settling window"
    assert "outcome is unknown" in out.output
    assert pair.b.count("proj", "issue") == 0, "never re-sent blind within the run"
    pair.sync()
    assert pair.b.count("proj", "issue") == 1
    pair.sync()
    assert pair.b.count("proj", "issue") == 1


def test_a_create_that_landed_after_its_run_gave_up_is_adopted_not_sent_again(pair: Pair) -> None:
    pair.a.put("proj", "issue", Issue(title="slow"))
    pair.b.inject("create", "lost_reply", times=1)  # written, reply lost...
    pair.b.inject("find", "not_found", times=None)  # ...and not visible while the run looks for it
    pair.sync(expect=1)
    assert pair.b.count("proj", "issue") == 1
    pair.b.clear_faults()
    pair.sync()
    pair.sync()
    assert pair.b.count("proj", "issue") == 1, "the next run found it by marker"
    assert pair.a.count("proj", "issue") == 1, "and never copied it back"


def test_a_second_copy_carrying_the_marker_is_parked_as_a_duplicate_never_synced(pair: Pair) -> None:
    pair.a.put("proj", "issue", Issue(title="once"))
    pair.sync()
    [(twin_id, twin)] = pair.b.all("proj", "issue")
    marker = pair.b.record("proj", "issue", twin_id).marker
    pair.b.insert("proj", "issue", [(twin, marker)])  # the same create, landed twice
    out = pair.sync(expect=1)
    assert "duplicate of b:" in out.output
    assert pair.a.count("proj", "issue") == 1, "the copy did not travel back"
    status = pair.cli("status", "--json")
    assert '"duplicates": 1' in status.output
    pair.sync()
    assert pair.a.count("proj", "issue") == 1
