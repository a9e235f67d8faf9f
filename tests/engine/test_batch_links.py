"""A page's commit never links a record twice: a new link for a record that is linked already is
left out (checked first, and a unique violation from a race is taken for the same), and the rest
of the page's bookkeeping still lands."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from hub.engine.batch import Batch, commit
from hub.state.store import Link, StateStore


@pytest.fixture
def store(state_url: str) -> Iterator[StateStore]:
    """On SQLite and on PostgreSQL (where a failed statement spoils its transaction)."""
    store = StateStore.open(state_url)
    with store.transaction() as conn:
        store.write_links(conn, [Link("portal", "comment", "g1", "j1")])
    yield store
    store.close()


def pairs(store: StateStore) -> list[tuple[str, str]]:
    return sorted((link.a_id, link.b_id) for link in store.links_of("portal", "comment"))


def test_a_new_link_for_a_record_linked_already_is_left_out_and_the_page_commits(store: StateStore) -> None:
    store.add_intents("portal", "comment", "a", [("j1", "m-j1")])
    batch = Batch(links=[Link("portal", "comment", "g2", "j1"), Link("portal", "comment", "g3", "j3")],
                  done_intents=[("comment", "a", "j1")])
    commit(store, "portal", batch, "comment", None, None)
    assert pairs(store) == [("g1", "j1"), ("g3", "j3")]
    assert store.intents_for("portal", "comment", "a", ["j1"]) == {}


def test_two_new_links_of_one_record_in_one_page_keep_the_first(store: StateStore) -> None:
    batch = Batch(links=[Link("portal", "comment", "g4", "j4"), Link("portal", "comment", "g5", "j4")])
    commit(store, "portal", batch, "comment", None, None)
    assert pairs(store) == [("g1", "j1"), ("g4", "j4")]


def test_a_record_linked_by_a_racing_process_after_the_check_is_not_a_crash(
        store: StateStore, monkeypatch: pytest.MonkeyPatch) -> None:
    # The check sees nothing (as if the other process linked j1 just after it looked).
    monkeypatch.setattr(store, "linked_ends", lambda *args, **kwargs: (set(), set()))
    batch = Batch(links=[Link("portal", "comment", "g2", "j1"), Link("portal", "comment", "g3", "j3")])
    commit(store, "portal", batch, "comment", None, None)
    assert pairs(store) == [("g1", "j1"), ("g3", "j3")]
