"""A page's writes done behind the run, and its lookup ahead of it, on PostgreSQL.

A backfill spent a third of its time on PostgreSQL waiting while the server wrote each page (its
links, their history, its finished intents, the cursor). Here that transaction runs on one writer
thread while the run lists and maps the next page. The thread that left it behind waits for it at
its next use of the store, and gets its failure there, except for lookups of links and intents the
page does not write (``Touches``): those read what is committed, which for them is the same. One
page at a time and in order, so a kill -9 still loses at most the page in flight, as before, and
its intents make it safe to redo.

Reading a side before anything is applied, the run looks each page up in the ledger on a reader
thread while it lists the next page (``ahead``).

Other threads (a service's request handlers) never wait: they read what is committed, as they
always did. SQLite writes in this process under one file lock, where a second thread would only
queue on it: there the work runs at once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

Key = tuple[str, str, str, str]
T = TypeVar("T")


@dataclass(frozen=True)
class Touches:
    """What a page's writes change: (flow, record type, side, id) of its links, (flow, record type,
    target side, source id) of its intents, and whether it changes a link's state (then every link
    lookup waits for it)."""

    links: frozenset[Key] = frozenset()
    intents: frozenset[Key] = frozenset()
    every_link: bool = False
    #: How many of its links are new.
    new_links: int = 0


@dataclass(frozen=True)
class _Pending:
    done: Future[None]
    owner: int
    touches: Touches


class WriteBehind:
    def __init__(self, *, enabled: bool) -> None:
        self.enabled = enabled
        self._pending: _Pending | None = None
        self._writer: ThreadPoolExecutor | None = None
        self._reader: ThreadPoolExecutor | None = None
        #: Set on the writer thread while it does the work.
        self._here = threading.local()

    def submit(self, work: Callable[[], None], touches: Touches) -> None:
        """Do ``work`` behind the calling thread (at once when not enabled), after what it left
        behind before."""
        self.settle()
        if not self.enabled:
            work()
            return
        if self._writer is None:
            self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pmhub-store")
        self._pending = _Pending(self._writer.submit(self._behind, work), threading.get_ident(), touches)

    def _behind(self, work: Callable[[], None]) -> None:
        self._here.writing = True
        work()

    def writing_here(self) -> bool:
        """Whether the calling thread is the writer, doing work left behind."""
        return bool(getattr(self._here, "writing", False))

    def ahead(self, lookup: Callable[[], T]) -> Callable[[], T]:
        """Start ``lookup`` (a read) now on the reader thread, and return what answers it: the
        caller lists its next page meanwhile. At once when not enabled."""
        if not self.enabled:
            found = lookup()
            return lambda: found
        if self._reader is None:
            self._reader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pmhub-store-read")
        return self._reader.submit(lookup).result

    def settle(self) -> None:
        """Wait for the work the calling thread left behind; raise its failure."""
        pending = self._pending
        if pending is None or pending.owner != threading.get_ident():
            return
        self._pending = None
        pending.done.result()

    def unaffected(self, kind: str, keys: Iterable[Key]) -> bool:
        """Whether the work the calling thread left behind leaves these keys of ``kind`` ("links"
        or "intents") as they are, so that a lookup of them need not wait for it."""
        pending = self._pending
        if pending is None or pending.owner != threading.get_ident():
            return True
        if kind == "links":
            return not pending.touches.every_link and pending.touches.links.isdisjoint(keys)
        return pending.touches.intents.isdisjoint(keys)

    def close(self) -> None:
        try:
            self.settle()
        finally:
            for pool in (self._writer, self._reader):
                if pool is not None:
                    pool.shutdown()
            self._writer = self._reader = None
