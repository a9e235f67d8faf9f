"""An issue's milestone crosses by name through the milestone links (``hub.engine.references``),
and an issue whose milestone has no twin yet waits for it."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.engine.policies import IssuePolicy
from hub.engine.references import References, waiting_reason
from hub.errors import PermanentError
from hub.state.store import Link, StateStore


@pytest.fixture
def store(tmp_path: Path) -> StateStore:
    return StateStore.open(f"sqlite:///{tmp_path / 'state.db'}")


def linked(store: StateStore, a_name: str, b_name: str, a_id: str = "1", b_id: str = "10001") -> None:
    store.insert_link(Link("portal", "milestone", a_id, b_id, None, None, None, None,
                           f'{{"name": "{a_name}"}}', f'{{"name": "{b_name}"}}'))


def place(references: References, side: str, milestone: str | None) -> dict[str, object]:
    return IssuePolicy().place({"title": "t", "milestone": milestone}, {}, flow="portal", via="gh",
                               twin_of=lambda rt, i: None,
                               twin_name=lambda rt, name: references.twin_name(rt, side, name))


def test_the_twin_name_is_what_the_other_side_calls_the_linked_milestone(store: StateStore) -> None:
    linked(store, "v1.0", "Release 1.0")
    references = References(store, "portal", ["milestone", "issue"])
    assert place(references, "a", "v1.0")["milestone"] == "Release 1.0"
    assert place(references, "b", "Release 1.0")["milestone"] == "v1.0"
    assert place(references, "a", None)["milestone"] is None, "no milestone: nothing to translate"


def test_an_unlinked_milestone_parks_the_issue_until_it_is_linked(store: StateStore) -> None:
    references = References(store, "portal", ["milestone", "issue"])
    with pytest.raises(PermanentError) as waiting:
        place(references, "a", "v2.0")
    row = {"record_type": "issue", "side": "a", "source_id": "7", "reason": str(waiting.value)}
    assert references.ready([row], "issue") == []
    linked(store, "v2.0", "v2.0", a_id="2", b_id="10002")
    assert references.ready([row], "issue") == [], "read once per run: a commit makes it read again"
    references.forget("milestone")
    assert references.ready([row], "issue") == [row]
    assert references.ready([row], "comment") == [], "only the holders of that record type"


def test_a_flow_without_milestones_leaves_the_name_alone(store: StateStore) -> None:
    references = References(store, "portal", ["issue", "comment"])
    assert place(references, "a", "v1.0")["milestone"] == "v1.0"
    policy = IssuePolicy()
    fields = ("title", "milestone")
    assert policy.synced_fields(fields, ("issue",), frozenset({"issue", "milestone"})) == ("title",), \
        "a mapping of milestones as records: without them in the flow the field stays home"
    assert policy.synced_fields(fields, ("issue",), frozenset({"issue"})) == fields
    assert policy.synced_fields(fields, ("milestone", "issue"), frozenset({"issue", "milestone"})) == fields


def test_a_waiting_reason_names_the_milestone_even_with_quotes_in_it() -> None:
    reason = waiting_reason("milestone", 'Beta "2" (pilot)')
    store_row = {"record_type": "issue", "side": "a", "source_id": "1", "reason": reason}

    class Linked(References):
        def twin_name(self, record_type: str, side: str, name: str) -> str | None:
            return name if name == 'Beta "2" (pilot)' else None

    assert Linked(None, "portal", ["milestone"]).ready([store_row], "issue") == [store_row]  # type: ignore[arg-type]
