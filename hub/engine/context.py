"""What every room of the engine works with during one run of one flow.

``RunContext`` holds the flow, its two sides, the state store and the mapping, and what the run has
learnt so far (its result, which records are parked or failed, which fields wait for a person). The
rooms (``read``, ``write``, ``match``, ``conflicts``, ``deletions``) take it instead of reaching into
``FlowRun``; ``Seen`` is a record as they pass it between them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any

from hub.config import FlowConfig
from hub.connector import Connector, Remote
from hub.engine.batch import Batch, commit, touches
from hub.engine.policies import RecordPolicy, policies
from hub.engine.references import PARENT, WAITING, References
from hub.engine.results import ATTENTION_KEPT, FlowResult, PlanEntry, SideStats, keeps
from hub.engine.retry import Retrier
from hub.mapping import Mapping_
from hub.model import RECORD_MODELS
from hub.state.starting import RunStart
from hub.state.store import Link, StateStore

OTHER = {"a": "b", "b": "a"}
PARENT_WAIT = WAITING + PARENT
#: Children held in memory for their parent at most (a run's memory stays flat); more are parked,
#: and the next run places them (fetching each again).
DEFERRED_AT_MOST = 5000
#: Called as records are read: (flow, side, record_type, how many more).
Progress = Callable[[str, str, str, int], None]


@dataclass
class Side:
    name: str
    connection: str
    connector: Connector
    scope: str
    retrier: Retrier


@dataclass
class Seen:
    """A record read from one side, in the flow's canonical vocabulary."""

    side: str
    remote: Remote
    link: Link | None
    values: dict[str, Any] = field(default_factory=dict)
    synced: dict[str, Any] = field(default_factory=dict)
    snapshot: str = ""
    fp: str = ""
    #: False for an unlinked record the flow's filter leaves out: no twin is created for it, but
    #: a first run may still recognise it as the twin of a record on the other side.
    eligible: bool = True
    #: ``StateStore.links_stored`` when the ledger was found without a link for this record: while
    #: that count stands, no link was stored since, so nothing need look it up again.
    unlinked_as_of: int | None = None

    @property
    def id(self) -> str:
        return self.remote.id


class RunContext:
    def __init__(self, flow: FlowConfig, sides: dict[str, Side], store: StateStore, mapping: Mapping_,
                 *, dry_run: bool, start: RunStart | None = None) -> None:
        self.flow = flow
        self.sides = sides
        self.store = store
        self.mapping = mapping
        self.dry_run = dry_run
        self.result = FlowResult(flow.name, stats={
            name: SideStats(side.connection) for name, side in sides.items()})
        # What the run starts from: read as the run took its lease, or now (one round trip).
        start = start if start is not None else store.run_start(flow.name)
        #: The parked records as the run started, and (record type, side, id) -> why.
        self.parked_rows = start.parked
        self.parked = {(r["record_type"], r["side"], r["source_id"]): r["reason"] for r in self.parked_rows}
        #: Whether this run parked or unparked anything (then ``parked_now`` reads the store again).
        self.parks_changed = False
        #: (side, record type) -> its cursor as stored, kept as this run moves them.
        self._cursors = dict(start.cursors)
        #: True while parked records are replayed (``pmhub retry``): a person asked to try them again.
        self.replaying = False
        self.failed_ids: dict[str, set[str]] = {}
        #: (side, record type, id) of unlinked records read this run that the flow's filter leaves out.
        self.excluded: set[tuple[str, str, str]] = set()
        #: Fields waiting for a person (manual conflicts) are not pushed either way meanwhile.
        self.held: dict[int, set[str]] = {}
        #: Conflicts a person resolved, to be written at the run's start (read with the open ones).
        self.resolved: list[dict[str, Any]] = []
        for conflict in start.conflicts:
            if conflict["status"] == "resolved":
                self.resolved.append(conflict)
            else:
                self.held.setdefault(conflict["link_id"], set()).add(conflict["field"])
        # Looked up once: pydantic class attributes are slow to reach per record.
        self.policies: dict[str, RecordPolicy] = policies()
        self.fields = {rt: self.policies[rt].synced_fields(mapping.fields(rt), tuple(flow.records),
                                                           frozenset(mapping.records))
                       for rt in RECORD_MODELS}
        #: (record type, side) -> the flow's record types a parent named on that side may be.
        self.parent_types = self._parent_types()
        self.model_fields = {rt: frozenset(model.model_fields) for rt, model in RECORD_MODELS.items()}
        #: Records that would park only because their parent had no twin yet, by record type: the
        #: run applies them again after the type's listing (``FlowRun``), so a child read before its
        #: parent (or moved under a parent created in the same run) is placed in that run, without
        #: fetching it again. Parked for real only when ``deferring`` is off. The cursor holds
        #: back before them like before failures until then.
        self.deferred: dict[str, list[Seen]] = {}
        self.deferring = False
        #: Names of linked records (milestones) across the sides, for references that hold them by name.
        self.references = References(store, flow.name, flow.records)
        #: Called after each committed batch (the runner renews its lease there).
        self.on_commit: Callable[[], None] | None = None

    def _parent_types(self) -> dict[tuple[str, str], tuple[str, ...]]:
        """Where each side keeps parents (its connector's ``parent_types``), as the flow's types; a
        type whose parents one side cannot name or the flow cannot link leaves its parent alone."""
        found: dict[tuple[str, str], tuple[str, ...]] = {}
        for record_type, policy in self.policies.items():
            if policy.parent_field is None:
                continue
            for name, side in self.sides.items():
                tool_type = side.connector.parent_types.get(self.flow.held_as(name, record_type))
                found[record_type, name] = self.flow.flow_types(name, tool_type) if tool_type else ()
            if not all(found[record_type, name] for name in self.sides):
                kept = self.fields[record_type]
                self.fields[record_type] = tuple(f for f in kept if f != policy.parent_field)
        return found

    # -- the result ------------------------------------------------------------------------
    def stats(self, side: str) -> SideStats:
        return self.result.stats[side]

    def plan(self, action: str, record_type: str, side: str, source: Seen | None, target: str | None,
             fields: tuple[str, ...] = (), detail: str = "") -> None:
        if keeps(action, dry_run=self.dry_run):  # checked first: most entries of a real run are not kept
            origin = f"{source.side}:{source.id}" if source is not None else "-"
            self._keep(PlanEntry(action, record_type, side, origin, target, fields, detail))

    def add_plan_entry(self, entry: PlanEntry) -> None:
        if keeps(entry.action, dry_run=self.dry_run):
            self._keep(entry)

    def _keep(self, entry: PlanEntry) -> None:
        if self.dry_run or len(self.result.plan) < ATTENTION_KEPT:
            self.result.plan.append(entry)
        else:
            self.result.plan_omitted += 1

    # -- records that were not applied -------------------------------------------------------
    def park(self, batch: Batch, record_type: str, seen: Seen, reason: str) -> None:
        waiting = self.deferred.setdefault(record_type, []) if self.deferring else None
        if waiting is not None and len(waiting) < DEFERRED_AT_MOST and reason.startswith(PARENT_WAIT):
            waiting.append(seen)
            return
        self.stats(seen.side).parked += 1
        self.plan("park", record_type, seen.side, seen, None, (), reason)
        batch.parks.append((record_type, seen.side, seen.id, reason))

    def note_failure(self, record_type: str, seen: Seen, reason: str) -> None:
        self.stats(seen.side).failed += 1
        self.failed_ids.setdefault(record_type, set()).add(seen.id)
        self.plan("retry", record_type, seen.side, seen, None, (), f"not applied, next run: {reason}")

    def skip(self, batch: Batch, record_type: str, seen: Seen, reason: str) -> None:
        """Leave a record without a twin on purpose (no park, no retry); unpark it if it was parked."""
        self.stats(seen.side).skipped += 1
        self.plan("skip", record_type, seen.side, seen, None, (), reason)
        self.unpark_if_needed(batch, record_type, seen)

    def parked_as(self, record_type: str, seen: Seen, reason_start: str) -> bool:
        """Whether ``seen`` was parked (before this run) for a reason that starts so."""
        return self.parked.get((record_type, seen.side, seen.id), "").startswith(reason_start)

    def failed(self, record_type: str) -> set[str]:
        """Ids of records not applied (yet) this run, which the cursor must not pass."""
        deferred = self.deferred.get(record_type)
        failed = self.failed_ids.get(record_type, set())
        return failed | {seen.id for seen in deferred} if deferred else failed

    def unpark_if_needed(self, batch: Batch, record_type: str, seen: Seen) -> None:
        if (record_type, seen.side, seen.id) in self.parked:
            batch.unparks.append((record_type, seen.side, seen.id))

    def held_fields(self, link: Link) -> set[str]:
        """The fields of this link that wait for a person (an open manual conflict)."""
        return self.held.get(link.id, set()) if link.id is not None else set()

    # -- the store ---------------------------------------------------------------------------
    def transaction(self) -> AbstractContextManager[Any]:
        """The store's transaction; nothing (a connection of None) in a dry run."""
        return nullcontext(None) if self.dry_run else self.store.transaction()

    def commit(self, batch: Batch, record_type: str, cursor_side: str | None = None,
               cursor: dt.datetime | None = None) -> None:
        """Commit a page's writes (nothing in a dry run), with ``cursor_side``'s cursor if given."""
        if self.dry_run:
            return
        def write() -> None:
            commit(self.store, self.flow.name, batch, record_type, cursor_side, cursor)

        if batch.rows():
            # Behind the run on PostgreSQL (``hub.state.behind``): the server writes this page
            # while the run lists and maps the next.
            self.store.write_behind(write, touches(self.flow.name, batch))
        else:
            write()  # a cursor at most: not worth a hand-over to another thread
        self.parks_changed = self.parks_changed or bool(batch.parks or batch.unparks)
        if cursor_side is not None and cursor is not None:
            self._cursors[cursor_side, record_type] = cursor
        if batch.links:
            self.references.forget(record_type)
        if self.on_commit is not None:
            self.on_commit()

    def parked_now(self) -> list[dict[str, Any]]:
        """The flow's parked records now (read again only when this run changed them)."""
        return self.store.parked_records(self.flow.name) if self.parks_changed else self.parked_rows

    def cursor(self, side: str, record_type: str) -> dt.datetime | None:
        """``side``'s stored cursor for ``record_type``."""
        return self._cursors.get((side, record_type))

    def save_cursors(self, record_type: str, values: dict[str, dt.datetime | None]) -> None:
        """Store the cursors a type's run ended at (a side given None keeps its own)."""
        if self.dry_run:
            return
        moved = {(side, record_type): value for side, value in values.items() if value is not None}
        self.store.set_cursors(None, self.flow.name, moved)
        self._cursors.update(moved)

    def twin_of(self, record_type: str, side: str, external_id: str) -> str | None:
        link = self.store.links_by_ids(self.flow.name, record_type, side, [external_id]).get(external_id)
        return link.id_on(OTHER[side]) if link else None
