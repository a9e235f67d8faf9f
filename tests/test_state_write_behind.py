"""A page's writes behind the run (``hub.state.behind``): on PostgreSQL the run goes on while they
are written, yet reads what they write, gets their failure, and never leaves them half done."""

from __future__ import annotations

import threading

import pytest

from hub.engine.batch import Batch, commit, touches
from hub.errors import StateStoreError
from hub.state.store import Link, StateStore


def page(*ids: int) -> Batch:
    return Batch(links=[Link("f", "issue", f"a{i}", f"b{i}") for i in ids])


def left_behind(store: StateStore, *ids: int, after: float | None = None) -> threading.Event:
    """A page of links for ``ids`` written behind, held until the returned event is set (by
    itself ``after`` seconds, when given)."""
    batch, release = page(*ids), threading.Event()

    def work() -> None:
        assert release.wait(10)
        commit(store, "f", batch, "issue", None, None)

    store.write_behind(work, touches("f", batch))
    if after is not None:
        threading.Timer(after, release.set).start()
    return release


ON_POSTGRESQL = pytest.mark.parametrize(
    "state_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True)


@pytest.fixture
def postgres_store(state_url: str):
    store = StateStore.open(state_url)
    yield store
    store.close()


@pytest.mark.parametrize("state_url", ["sqlite"], indirect=True)
def test_sqlite_writes_the_page_at_once(state_url: str) -> None:
    store = StateStore.open(state_url)
    batch = page(1, 2)
    store.write_behind(lambda: commit(store, "f", batch, "issue", None, None), touches("f", batch))
    assert store.count_links("f") == 2
    store.close()


@ON_POSTGRESQL
def test_a_lookup_of_what_the_page_does_not_write_does_not_wait_for_it(postgres_store: StateStore) -> None:
    store = postgres_store
    commit(store, "f", page(0), "issue", None, None)
    release = left_behind(store, 1, 2)
    # a0 and a3 are not in the page: answered from what is committed while the page still waits.
    assert set(store.links_by_ids("f", "issue", "a", ["a0", "a3"])) == {"a0"}
    assert store.intents_for("f", "issue", "b", ["a3"]) == {}
    release.set()
    # a1 is: the lookup waits for the page, and finds it.
    assert set(store.links_by_ids("f", "issue", "a", ["a1", "a3"])) == {"a1"}


@ON_POSTGRESQL
def test_a_lookup_of_what_the_page_writes_waits_for_it(postgres_store: StateStore) -> None:
    store = postgres_store
    release = left_behind(store, 1, 2, after=0.3)
    assert set(store.links_by_ids("f", "issue", "b", ["b2"])) == {"b2"}
    assert release.is_set()  # it waited for the page


@ON_POSTGRESQL
def test_every_other_use_of_the_store_waits_for_the_page(postgres_store: StateStore) -> None:
    store = postgres_store
    left_behind(store, 1, 2, after=0.3)
    assert store.count_links("f") == 2


@ON_POSTGRESQL
def test_another_thread_reads_what_is_committed_without_waiting(postgres_store: StateStore) -> None:
    store = postgres_store
    release = left_behind(store, 1, 2)
    counted: list[int] = []
    reader = threading.Thread(target=lambda: counted.append(store.count_links("f")))
    reader.start()
    reader.join(5)
    assert counted == [0]  # a status page's request: neither waits nor sees the page half written
    release.set()
    store.settle()
    assert store.count_links("f") == 2


@ON_POSTGRESQL
def test_the_pages_failure_is_raised_to_the_run_at_its_next_use_of_the_store(
        postgres_store: StateStore) -> None:
    store = postgres_store

    def failing() -> None:
        raise StateStoreError("state", "the disk is full", "free space")

    store.write_behind(failing, touches("f", page(1)))
    with pytest.raises(StateStoreError, match="the disk is full"):
        store.cursor("f", "a", "issue")
    assert store.cursor("f", "a", "issue") is None  # raised once; the store is usable again


@ON_POSTGRESQL
def test_a_lookup_ahead_runs_on_the_reader_thread_while_the_caller_goes_on(
        postgres_store: StateStore, monkeypatch: pytest.MonkeyPatch) -> None:
    store = postgres_store
    commit(store, "f", page(0), "issue", None, None)
    real, threads = store.links_by_ids, []

    def noting_thread(*args: object, **kwargs: object):
        threads.append(threading.current_thread().name)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(store, "links_by_ids", noting_thread)
    answer = store.links_by_ids_ahead("f", "issue", "a", ["a0", "a9"])
    assert set(answer()) == {"a0"}
    assert len(threads) == 1 and threads[0].startswith("pmhub-store-read")


@ON_POSTGRESQL
def test_a_lookup_ahead_of_what_the_page_writes_starts_once_the_page_landed(
        postgres_store: StateStore) -> None:
    store = postgres_store
    release = left_behind(store, 1, after=0.3)
    answer = store.links_by_ids_ahead("f", "issue", "a", ["a1"])
    assert release.is_set()  # it waited for the page before it started
    assert set(answer()) == {"a1"}
