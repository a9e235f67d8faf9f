"""One run of one flow: the orchestration. The rooms do the work (``read``, ``write``, ``match``,
``conflicts``, ``deletions``, ``batch``, ``cursor``, ``pending``); this module decides the order.

The order of work, and why:
1. Side b's changes are read first and kept (echoes and unchanged records are dropped on the
   way in, so only real changes wait; see ``pending``).
2. Side a's changes are streamed page by page; a change whose twin also changed on b is merged
   three-way; the rest go one way. Every page ends in one commit (links, snapshots, cursor).
3. What is left of b's changes goes b -> a, again page by page; then children that waited for a
   parent created meanwhile, and the cursors (held back only by what is still not applied).
Creates are preceded by committed intents and carry a deterministic marker, so a crash, a timeout
or a lost reply is recovered by finding the marker rather than by creating again (``creating``).
An unlinked record that carries this flow's marker is never created anywhere: it is matched to
its source (``match``), or reported as a duplicate (``marked``).

Record types go parents first (milestones, issues, comments); before each, records parked until
what they wait for (a milestone, a parent) had a twin are replayed once it has (``references``).
Targeted ways in move no cursor: ``retry_parked``, ``sync_records`` (records named by id, e.g. by
a webhook; ``by_id``) and ``apply_resolutions`` (``pmhub conflicts resolve``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable

from hub.config import FlowConfig
from hub.connector import chunks
from hub.engine.batch import Batch
from hub.engine.by_id import ById
from hub.engine.conflicts import Merger
from hub.engine.context import OTHER, Progress, RunContext, Seen, Side
from hub.engine.cursor import EMPTY_LISTING_MARGIN, CursorTracker
from hub.engine.customer_notes import write_progress_notes
from hub.engine.deletions import Deleter
from hub.engine.marked import MarkedRecords
from hub.engine.match import Matcher
from hub.engine.pending import PendingChanges
from hub.engine.read import PAGE, Reader
from hub.engine.results import FlowResult, PlanEntry, SideStats
from hub.engine.write import Writer
from hub.errors import AuthError, BudgetExhausted, ConfigError, PermanentError, TransientError
from hub.mapping import Mapping_
from hub.state.starting import RunStart
from hub.state.store import StateStore

__all__ = ["OTHER", "PAGE", "FlowResult", "FlowRun", "PlanEntry", "Progress", "Side", "SideStats"]


class FlowRun:
    def __init__(self, flow: FlowConfig, sides: dict[str, Side], store: StateStore, mapping: Mapping_,
                 *, dry_run: bool = False, full: bool = False, progress: Progress | None = None,
                 reported_calls: dict[str, int] | None = None, start: RunStart | None = None) -> None:
        self.ctx = RunContext(flow, sides, store, mapping, dry_run=dry_run, start=start)
        self.flow, self.sides, self.store, self.dry_run = flow, sides, store, dry_run
        self.reader = Reader(self.ctx, full=full, progress=progress)
        self.writer = Writer(self.ctx)
        self.merger = Merger(self.ctx, self.writer)
        self.matcher = Matcher(self.ctx, self.merger)
        self.marked = MarkedRecords(self.ctx)
        self.by_id = ById(self.ctx, self.reader, self._apply)
        self.deleter = Deleter(self.ctx, self.writer)
        #: Calls per connection already counted in earlier runs of this process; everything since
        #: (opening the connection included) is this run's. Updated when the run finishes.
        self.reported_calls = {} if reported_calls is None else reported_calls
        self._calls_at_start = {s: self.reported_calls.get(side.connection, 0) for s, side in sides.items()}

    @property
    def result(self) -> FlowResult:
        return self.ctx.result

    @property
    def on_commit(self) -> Callable[[], None] | None:
        """Called after each committed batch (the runner renews its lease there)."""
        return self.ctx.on_commit

    @on_commit.setter
    def on_commit(self, callback: Callable[[], None] | None) -> None:
        self.ctx.on_commit = callback

    # -- entry points ----------------------------------------------------------------------
    def run(self) -> FlowResult:
        def everything() -> None:
            self.apply_resolved_conflicts()
            for record_type in self.flow.records:
                # Records parked until a milestone they name, or their parent, got its twin.
                if ready := self.ctx.references.ready(self.ctx.parked_now(), record_type):
                    self.by_id.replay(ready)
                self.ctx.deferring = True
                self._sync_type(record_type)
            if self.flow.progress_notes is not None:
                write_progress_notes(self.ctx)

        return self._guarded(everything, resumes=True)

    def retry_parked(self) -> FlowResult:
        """Replay parked records: fetch each again and process it as a fresh change."""
        rows = self.store.parked_records(self.flow.name)
        self.ctx.replaying = True
        return self._guarded(lambda: self.by_id.replay(rows))

    def apply_resolutions(self) -> FlowResult:
        """Only write the values people chose for conflicts (``pmhub conflicts resolve``)."""
        return self._guarded(self.apply_resolved_conflicts)

    def sync_records(self, record_type: str, side: str, external_ids: Iterable[str]) -> FlowResult:
        """Sync the records of ``side`` with these ids (a webhook named them, a queue handed them on).

        Each is fetched (one that is gone counts as deleted) and takes the normal way: classified,
        pushed or created on the other side, its deletion applied, in committed batches. The other
        side is not read, so a twin's own unsynced edit of a field written here is not merged; the
        read-back keeps every other field's base, as in a run. Cursors do not move: the next listing
        still covers everything, and finds these records unchanged.
        """
        if record_type not in self.flow.records:
            raise ConfigError(f"flow {self.flow.name!r} does not sync {record_type}s")
        if side not in OTHER:
            raise ConfigError(f"a flow's sides are 'a' and 'b', not {side!r}")
        ids = list(dict.fromkeys(external_ids)) if self.flow.reads(side) else []
        return self._guarded(lambda: self.by_id.sync(record_type, side, ids))

    def apply_resolved_conflicts(self) -> None:
        self.merger.apply_resolved()

    def _guarded(self, work: Callable[[], None], *, resumes: bool = False) -> FlowResult:
        """Do ``work``; a connector error ends it as this flow's failure, with what was done kept."""
        try:
            try:
                work()
            finally:
                self.store.settle()  # the last page, written behind the run, lands (or fails it)
        except AuthError as error:
            self._fail(f"authentication failed: {error}")
        except TransientError as error:
            self._fail(f"stopped, will resume next run: {error}" if resumes else f"stopped: {error}")
        except PermanentError as error:
            self._fail(f"stopped: {error}")
        return self._finish()

    # -- one record type from its cursors ----------------------------------------------------
    def _sync_type(self, record_type: str) -> None:
        read_b = self.flow.reads("b") or self._first_run("b", record_type)
        floor = dt.datetime.now(dt.UTC) - EMPTY_LISTING_MARGIN
        pending_b, unlinked_a = PendingChanges(), PendingChanges()
        try:
            b_cursor = CursorTracker(self.ctx.cursor("b", record_type), floor)
            if read_b:  # nothing is applied while b is read: each page is looked up ahead
                for page, changes in self.reader.classified("b", record_type):
                    b_cursor.saw(page)
                    for seen in changes:
                        pending_b.add(seen)
            a_cursor = CursorTracker(self.ctx.cursor("a", record_type), floor)
            if self.flow.reads("a"):
                sorted_a = self.sides["a"].connector.sorted_by_updated
                for page in chunks(self.reader.listing("a", record_type), PAGE):
                    a_cursor.saw(page)
                    changes = self.reader.classify("a", record_type, page)
                    batch = self._apply("a", record_type, changes, pending_b)
                    a_cursor.failed(changes, self.ctx.failed(record_type))
                    moved = a_cursor.value(complete=False) if sorted_a else None
                    self.ctx.commit(batch, record_type, "a", moved)
            elif self._first_run("a", record_type):
                # A b->a flow's first run looks at a too, only so that records already there are
                # recognised as twins of b's instead of being created again.
                for page in chunks(self.reader.listing("a", record_type), PAGE):
                    for seen in self.reader.classify("a", record_type, page):
                        if seen.link is None:
                            unlinked_a.add(seen)
            if self.flow.reads("b"):
                for chunk in chunks(pending_b.remaining(), PAGE):
                    batch = self._apply("b", record_type, chunk, unlinked_a)
                    b_cursor.failed(chunk, self.ctx.failed(record_type))
                    self.ctx.commit(batch, record_type)
        finally:
            pending_b.close()
            unlinked_a.close()
        self._apply_deferred(record_type)
        for tracker in (a_cursor, b_cursor):
            tracker.release(self.ctx.failed(record_type))
        self.ctx.save_cursors(record_type, {"a": a_cursor.value(complete=True),
                                            "b": b_cursor.value(complete=True) if read_b else None})

    def _apply_deferred(self, record_type: str) -> None:
        """Children read before their parent had a twin, applied again while that links more of
        them (a grandchild waits for its parent's turn); the round that links none parks them."""
        waiting = self.ctx.deferred.pop(record_type, [])
        while waiting:
            for side in ("a", "b"):
                for chunk in chunks([s for s in waiting if s.side == side], PAGE):
                    self.ctx.commit(self._apply(side, record_type, chunk, PendingChanges()), record_type)
            again = self.ctx.deferred.pop(record_type, [])
            self.ctx.deferring = len(again) < len(waiting)
            waiting = again
        self.ctx.deferring = False

    def _first_run(self, side: str, record_type: str) -> bool:
        return self.ctx.cursor(side, record_type) is None

    # -- applying a page -------------------------------------------------------------------
    def _apply(self, side: str, record_type: str, page: list[Seen], pending_other: PendingChanges) -> Batch:
        batch = Batch()
        other = OTHER[side]
        creates: list[Seen] = []
        for seen in page:
            try:
                if seen.remote.deleted:
                    self.deleter.delete_twin(seen, record_type, batch)
                elif seen.link is not None:
                    twin = pending_other.pop(seen.link.id_on(other))
                    if twin is not None:
                        self.merger.merge(seen, twin, record_type, batch)
                    elif self.flow.writes(other):
                        self.writer.push(seen, record_type, batch)
                elif seen.remote.marker is not None or (self.flow.writes(other) and seen.eligible):
                    creates.append(seen)  # a marked record may be a copy of ours: matched, never copied
            except PermanentError as error:
                self.ctx.park(batch, record_type, seen, str(error))
            except BudgetExhausted:
                raise
            except TransientError as error:
                self.ctx.note_failure(record_type, seen, str(error))
        if creates:
            matched = self.matcher.match(side, record_type, creates, pending_other, batch)
            matched |= {s.id for s in self.matcher.held(record_type, creates)}
            unmatched = [s for s in creates if s.id not in matched]
            rest = self.marked.unclaimed(side, record_type, unmatched, batch)
            if self.flow.writes(other):
                self.writer.create(side, record_type, [s for s in rest if s.eligible], batch)
        return batch

    # -- the end ---------------------------------------------------------------------------
    def _fail(self, message: str) -> None:
        self.result.status, self.result.error = "failed", message

    def _finish(self) -> FlowResult:
        for side, ctx in self.sides.items():
            stats = self.result.stats[side]
            stats.api_calls = ctx.connector.calls.total - self._calls_at_start[side]
            self.reported_calls[ctx.connection] = ctx.connector.calls.total
        if self.result.status == "ok":
            totals = self.result.stats.values()
            # Conflicts still open from before the run (it may have applied their resolutions).
            earlier = bool(self.ctx.held) and bool(self.store.open_conflicts(self.flow.name))
            if any(s.parked or s.conflicts for s in totals) or earlier:
                self.result.status = "attention"
            if any(s.failed for s in totals):
                self.result.status = "incomplete"
        return self.result
