"""Records named by id rather than found by a listing: parked records replayed (``pmhub retry``)
and records a webhook or a queue named (``FlowRun.sync_records``). No cursor moves."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from hub.connector import chunks
from hub.engine.batch import Batch
from hub.engine.context import RunContext, Seen
from hub.engine.pending import PendingChanges
from hub.engine.read import PAGE, Reader

#: How a page of changes is applied (``FlowRun._apply``): side, record type, page, the other side's
#: waiting changes.
Apply = Callable[[str, str, list[Seen], PendingChanges], Batch]


class ById:
    def __init__(self, ctx: RunContext, reader: Reader, apply: Apply) -> None:
        self.ctx = ctx
        self.reader = reader
        self.apply = apply

    def sync(self, record_type: str, side: str, ids: Iterable[str]) -> None:
        """Fetch each record (one that is gone counts as deleted) and apply it as a change."""
        for page in chunks(ids, PAGE):
            remotes = list(self.reader.fetch_all(side, record_type, page))
            seen = self.reader.classify(side, record_type, remotes)
            self.ctx.commit(self.apply(side, record_type, seen, PendingChanges()), record_type)

    def replay(self, parked: list[dict[str, Any]]) -> None:
        """Replay parked records as fresh changes, side b's kept while side a's are applied (as in a
        run), so that parked records of the two sides can still be matched with each other (an
        ambiguous title made unique). A parked record gone from its tool, without a twin, is
        forgotten: nothing is left to do for it."""
        for record_type in self.ctx.flow.records:
            ids = {side: [r["source_id"] for r in parked
                          if r["record_type"] == record_type and r["side"] == side] for side in ("a", "b")}
            waiting = PendingChanges()
            try:
                for page in chunks(ids["b"], PAGE):
                    batch = Batch()
                    for seen in self._refetch("b", record_type, page, batch):
                        waiting.add(seen)
                    self.ctx.commit(batch, record_type)
                for page in chunks(ids["a"], PAGE):
                    gone = Batch()
                    changes = self._refetch("a", record_type, page, gone)
                    batch = self.apply("a", record_type, changes, waiting)
                    batch.unparks += gone.unparks
                    self.ctx.commit(batch, record_type)
                for chunk in chunks(waiting.remaining(), PAGE):
                    self.ctx.commit(self.apply("b", record_type, chunk, PendingChanges()), record_type)
            finally:
                waiting.close()

    def _refetch(self, side: str, record_type: str, ids: list[str], batch: Batch) -> list[Seen]:
        remotes = list(self.reader.fetch_all(side, record_type, ids))
        seen = self.reader.classify(side, record_type, remotes)
        kept = {s.id for s in seen}
        batch.unparks += [(record_type, side, r.id) for r in remotes if r.deleted and r.id not in kept]
        return seen
