"""One run of one flow: read both sides' changes, pair them through the link ledger, merge,
write, and record links, snapshots, cursors, parked records and conflicts in batches.

The order of work, and why:
1. Side b's changes are read first and kept (echoes and unchanged records are dropped on the
   way in, so only real changes stay in memory).
2. Side a's changes are streamed page by page; a change whose twin also changed on b is merged
   three-way; the rest go one way. Every page ends in one commit (links, snapshots, cursor).
3. What is left of b's changes goes b -> a, again page by page.
Creates are preceded by committed intents and carry a deterministic marker, so a crash, a timeout
or a lost reply is recovered by finding the marker rather than by creating again.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from hub.config import FlowConfig
from hub.connector import Capability, Connector, Remote, chunks
from hub.engine.merge import changed_fields, three_way
from hub.engine.records import attribute, fingerprint, marker_for, snapshot_json, strip_attribution, urls_in
from hub.engine.retry import Retrier
from hub.errors import DATA_ERRORS, AuthError, BudgetExhausted, PermanentError, TransientError, unreadable
from hub.mapping import Mapping_
from hub.model import RECORD_MODELS, Person
from hub.state.store import Link, StateStore

OTHER = {"a": "b", "b": "a"}
PAGE = 500
#: A side that had nothing to list gets a cursor this long before the run began: with no record
#: to take a timestamp from, the local clock stands in, with room for clock skew and search lag.
EMPTY_LISTING_MARGIN = dt.timedelta(minutes=10)
#: Fields that are not synced but that a target needs to place the record (translated per side).
STRUCTURAL: dict[str, tuple[str, ...]] = {"comment": ("issue", "author")}

Progress = Callable[[str, str, str, int], None]


@dataclass
class Side:
    name: str
    connection: str
    connector: Connector
    scope: str
    retrier: Retrier


@dataclass
class SideStats:
    connection: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    conflicts: int = 0
    parked: int = 0
    failed: int = 0
    notes: int = 0
    api_calls: int = 0


@dataclass
class PlanEntry:
    action: str
    record_type: str
    side: str
    source: str
    target: str | None = None
    fields: tuple[str, ...] = ()
    detail: str = ""

    def describe(self) -> str:
        what = f"{self.action:8} {self.record_type:8} {self.source}"
        if self.target:
            what += f" -> {self.target}"
        if self.fields:
            what += f" [{', '.join(self.fields)}]"
        return what + (f"  ({self.detail})" if self.detail else "")


@dataclass
class FlowResult:
    flow: str
    status: str = "ok"
    error: str | None = None
    stats: dict[str, SideStats] = field(default_factory=dict)
    plan: list[PlanEntry] = field(default_factory=list)

    @property
    def needs_attention(self) -> bool:
        return self.status != "ok"


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

    @property
    def id(self) -> str:
        return self.remote.id


class _Batch:
    """Store writes collected while a page is processed, committed together."""

    def __init__(self) -> None:
        self.links: list[Link] = []
        self.versions: list[Link] = []
        self.parks: list[tuple[str, str, str, str]] = []
        self.unparks: list[tuple[str, str, str]] = []
        self.done_intents: list[tuple[str, str, str]] = []
        self.link_states: list[tuple[int, str]] = []
        self.conflicts: list[tuple[int, str, Any, Any, Any]] = []


class FlowRun:
    def __init__(self, flow: FlowConfig, sides: dict[str, Side], store: StateStore, mapping: Mapping_,
                 *, dry_run: bool = False, full: bool = False, progress: Progress | None = None,
                 reported_calls: dict[str, int] | None = None) -> None:
        self.flow = flow
        self.sides = sides
        self.store = store
        self.mapping = mapping
        self.dry_run = dry_run
        self.full = full
        self.progress = progress
        self.result = FlowResult(flow.name, stats={
            s: SideStats(side.connection) for s, side in sides.items()})
        self._parked = {(r["record_type"], r["side"], r["source_id"])
                        for r in store.parked_records(flow.name)}
        self._failed_ids: dict[str, set[str]] = {}
        #: Fields waiting for a person (manual conflicts) are not pushed either way meanwhile.
        self._held: dict[int, set[str]] = {}
        for conflict in store.open_conflicts(flow.name):
            self._held.setdefault(conflict["link_id"], set()).add(conflict["field"])
        #: Calls per connection already counted in earlier runs of this process; everything since
        #: (opening the connection included) is this run's. Updated when the run finishes.
        self.reported_calls = {} if reported_calls is None else reported_calls
        self._calls_at_start = {s: self.reported_calls.get(side.connection, 0) for s, side in sides.items()}
        # Looked up once: pydantic class attributes are slow to reach per record.
        self._fields = {rt: mapping.fields(rt) for rt in RECORD_MODELS}
        self._model_fields = {rt: frozenset(model.model_fields) for rt, model in RECORD_MODELS.items()}
        #: Called after each committed batch (the runner renews its lease there).
        self.on_commit: Callable[[], None] | None = None

    # -- entry points ----------------------------------------------------------------------
    def run(self) -> FlowResult:
        try:
            self.apply_resolved_conflicts()
            for record_type in self.flow.records:
                self._sync_type(record_type)
            if self.flow.progress_notes is not None:
                from hub.engine.progress import write_progress_notes

                write_progress_notes(self)
        except AuthError as error:
            self._fail(f"authentication failed: {error}")
        except TransientError as error:
            self._fail(f"stopped, will resume next run: {error}")
        except PermanentError as error:
            self._fail(f"stopped: {error}")
        return self._finish()

    def retry_parked(self) -> FlowResult:
        """Replay parked records: fetch each again and process it as a fresh change."""
        rows = self.store.parked_records(self.flow.name)
        try:
            for record_type in self.flow.records:
                for side in ("a", "b"):
                    ids = [r["source_id"] for r in rows if r["record_type"] == record_type
                           and r["side"] == side]
                    remotes = []
                    for source_id in ids:
                        remote = self._read(side, record_type, source_id)
                        remotes.append(remote or Remote(id=source_id, updated=None, item=None,
                                                        deleted=True))
                    for page in chunks(remotes, PAGE):
                        seen = self._classify(side, record_type, page)
                        self._commit(self._apply(side, record_type, seen, {}), record_type, None, None)
        except AuthError as error:
            self._fail(f"authentication failed: {error}")
        except TransientError as error:
            self._fail(f"stopped: {error}")
        return self._finish()

    # -- one record type -------------------------------------------------------------------
    def _sync_type(self, record_type: str) -> None:
        read_b = self.flow.reads("b") or self._first_run("b", record_type)
        pending_b: dict[str, Seen] = {}
        floor = dt.datetime.now(dt.UTC) - EMPTY_LISTING_MARGIN
        b_cursor = _CursorTracker(self.store.cursor(self.flow.name, "b", record_type), floor)
        if read_b:
            for page in chunks(self._list("b", record_type), PAGE):
                b_cursor.saw(page)
                for seen in self._classify("b", record_type, page):
                    pending_b[seen.id] = seen

        a_cursor = _CursorTracker(self.store.cursor(self.flow.name, "a", record_type), floor)
        unlinked_a: dict[str, Seen] = {}
        if self.flow.reads("a"):
            sorted_a = self.sides["a"].connector.sorted_by_updated
            for page in chunks(self._list("a", record_type), PAGE):
                a_cursor.saw(page)
                seen = self._classify("a", record_type, page)
                batch = self._apply("a", record_type, seen, pending_b)
                a_cursor.failed(seen, self._failed_ids.get(record_type, set()))
                self._commit(batch, record_type, "a", a_cursor.value(complete=False) if sorted_a else None)
        elif self._first_run("a", record_type):
            # A b->a flow's first run looks at a too, only so that records already there are
            # recognised as twins of b's instead of being created again.
            for page in chunks(self._list("a", record_type), PAGE):
                unlinked_a.update((s.id, s) for s in self._classify("a", record_type, page) if s.link is None)
        if self.flow.reads("b"):
            for page in chunks(list(pending_b.values()), PAGE):
                batch = self._apply("b", record_type, page, unlinked_a)
                b_cursor.failed(page, self._failed_ids.get(record_type, set()))
                self._commit(batch, record_type, None, None)
        with self._transaction() as conn:
            if conn is not None:
                for side, tracker in (("a", a_cursor), ("b", b_cursor)):
                    value = tracker.value(complete=True)
                    if value is not None and (side == "a" or read_b):
                        self.store.set_cursor(conn, self.flow.name, side, record_type, value)

    def _first_run(self, side: str, record_type: str) -> bool:
        return self.store.cursor(self.flow.name, side, record_type) is None

    def _list(self, side: str, record_type: str) -> Iterator[Remote]:
        """The side's changes since its cursor. A listing that fails part-way is restarted (a
        generator cannot be resumed), skipping the records it already yielded."""
        ctx = self.sides[side]
        since = None if self.full else self.store.cursor(self.flow.name, side, record_type)
        if since is not None:
            since -= ctx.connector.cursor_overlap
        yielded: set[str] = set()
        attempt = 1
        while True:
            try:
                for remote in ctx.connector.list_changed(ctx.scope, record_type, since):
                    if remote.id in yielded:
                        continue
                    yielded.add(remote.id)
                    if self.progress and len(yielded) % 100 == 0:
                        self.progress(self.flow.name, side, record_type, 100)
                    yield remote
                break
            except TransientError as error:
                ctx.retrier.pause(error, attempt)
                attempt += 1
            except DATA_ERRORS as error:
                # The listing cannot go past a record it cannot read; the cursor stays before it.
                raise unreadable(f"{ctx.connection} ({record_type}s)", error) from None
        if self.progress and len(yielded) % 100:
            self.progress(self.flow.name, side, record_type, len(yielded) % 100)

    # -- classification: what changed for real --------------------------------------------
    def _classify(self, side: str, record_type: str, page: list[Remote]) -> list[Seen]:
        links = self.store.links_by_ids(self.flow.name, record_type, side, [r.id for r in page])
        fields = self._fields[record_type]
        stats = self.result.stats[side]
        out: list[Seen] = []
        versions: list[Link] = []
        for remote in page:
            link = links.get(remote.id)
            if link is not None and link.state != "active":
                continue
            if remote.deleted:
                if link is not None:
                    out.append(Seen(side, remote, link))
                continue
            if link is not None and remote.version is not None and remote.version == link.version_on(side):
                stats.unchanged += 1  # the overlap re-read it, or it is our own write coming back
                continue
            if remote.item is None:
                continue
            seen = self._inbound(side, record_type, remote, link, fields)
            if link is not None and seen.fp == link.fp_on(side):
                stats.unchanged += 1  # an echo of our own write, or a change to unsynced fields
                versions.append(link.with_side(side, version=remote.version))
                continue
            if link is None:
                seen.eligible = self._passes_filter(record_type, seen)
            out.append(seen)
        if versions and not self.dry_run:
            with self.store.transaction() as conn:
                self.store.write_links(conn, versions)
        return out

    def _inbound(self, side: str, record_type: str, remote: Remote, link: Link | None,
                 fields: tuple[str, ...]) -> Seen:
        assert remote.item is not None
        values = remote.item.model_dump(mode="json")
        if record_type == "comment":
            values["body"], who = strip_attribution(values.get("body") or "")
            if who:
                values["author"] = Person(display_name=who).model_dump(mode="json")
        values = self.mapping.inbound(record_type, side, values)
        synced = {name: values.get(name) for name in fields}
        snapshot = snapshot_json(synced)
        return Seen(side, remote, link, values, synced, snapshot, fingerprint(snapshot))

    def _passes_filter(self, record_type: str, seen: Seen) -> bool:
        rules = self.flow.filter
        if rules is None:
            return True
        labels = set(seen.values.get("labels") or [])
        if rules.labels and record_type == "issue" and not set(rules.labels) & labels:
            return False
        known = self._model_fields[record_type]
        return all(seen.values.get(name) not in (None, "", []) for name in rules.present if name in known)

    # -- applying a page -------------------------------------------------------------------
    def _apply(self, side: str, record_type: str, page: list[Seen], pending_other: dict[str, Seen]) -> _Batch:
        batch = _Batch()
        other = OTHER[side]
        creates: list[Seen] = []
        for seen in page:
            try:
                if seen.remote.deleted:
                    self._delete_twin(seen, record_type, batch)
                elif seen.link is not None:
                    twin = pending_other.pop(seen.link.id_on(other), None)
                    if twin is not None:
                        self._merge(seen, twin, record_type, batch)
                    elif self.flow.writes(other):
                        self._push(seen, record_type, batch)
                elif self.flow.writes(other) and seen.eligible:
                    creates.append(seen)
            except PermanentError as error:
                self._park(batch, record_type, seen, str(error))
            except BudgetExhausted:
                raise
            except TransientError as error:
                self._note_failure(record_type, seen, str(error))
        if creates:
            self._create(side, record_type, creates, pending_other, batch)
        return batch

    def _push(self, seen: Seen, record_type: str, batch: _Batch) -> None:
        """One side changed since the last sync: send the changed fields to its twin."""
        assert seen.link is not None
        side, other = seen.side, OTHER[seen.side]
        fields = self._fields[record_type]
        base = seen.link.snapshot_on(side)
        changed = changed_fields(seen.synced, base, fields) - self._held.get(seen.link.id, set())
        if not changed:
            batch.versions.append(seen.link.with_side(side, version=seen.remote.version, fp=seen.fp,
                                             snapshot=seen.snapshot))
            self.result.stats[side].unchanged += 1
            return
        updates = {name: seen.synced[name] for name in changed}
        written = self._write_update(other, record_type, seen.link, updates, source=seen)
        if written is None:
            return
        twin_version, twin_snapshot, twin_fp = written
        batch.links.append(
            seen.link.with_side(side, version=seen.remote.version, fp=seen.fp, snapshot=seen.snapshot)
            .with_side(other, version=twin_version, fp=twin_fp, snapshot=twin_snapshot))
        self._unpark_if_needed(batch, record_type, seen)

    def _merge(self, seen: Seen, twin: Seen, record_type: str, batch: _Batch) -> None:
        """Both twins changed since the last sync: field-level three-way merge."""
        assert seen.link is not None
        link = seen.link
        a, b = (seen, twin) if seen.side == "a" else (twin, seen)
        fields = self._fields[record_type]
        merge = three_way(
            fields, a_now=a.synced, a_base=link.snapshot_on("a"), a_updated=a.remote.updated,
            b_now=b.synced, b_base=link.snapshot_on("b"), b_updated=b.remote.updated,
            policy=self.flow.conflict, blanks_yield=link.a_snapshot is None and link.b_snapshot is None)
        held = self._held.get(link.id, set())
        merge.to_a = {k: v for k, v in merge.to_a.items() if k not in held}
        merge.to_b = {k: v for k, v in merge.to_b.items() if k not in held}
        row = (link.with_side("a", version=a.remote.version, fp=a.fp, snapshot=a.snapshot)
               .with_side("b", version=b.remote.version, fp=b.fp, snapshot=b.snapshot))
        for name in merge.conflicts:
            batch.conflicts.append((link.id, name, (link.snapshot_on("a") or {}).get(name),
                                    a.synced.get(name), b.synced.get(name)))
            self.result.stats["a"].conflicts += 1
            self._plan("conflict", record_type, "a", a, f"b:{b.id}", (name,))
            # Keep the conflicting field at its old base on both sides, so it stays "changed".
            row = _keep_base(row, link, name)
        for target, updates in (("a", merge.to_a), ("b", merge.to_b)):
            if not updates or not self.flow.writes(target):
                continue
            source, current = (b, a) if target == "a" else (a, b)
            written = self._write_update(target, record_type, link, updates, source=source,
                                         current=current.synced)
            if written is not None:
                row = row.with_side(target, version=written[0], fp=written[2], snapshot=written[1])
        batch.links.append(row)

    def _write_update(self, target: str, record_type: str, link: Link, updates: dict[str, Any],
                      source: Seen, current: dict[str, Any] | None = None,
                      ) -> tuple[str | None, str, str] | None:
        """Write ``updates`` to the twin on ``target``; return its new (version, snapshot, fp).

        ``current``: the target's values as just read, when known (a merge); otherwise its last
        synced snapshot stands in for them.
        """
        ctx = self.sides[target]
        base = current if current is not None else (link.snapshot_on(target) or {})
        values = {**base, **updates}
        twin_id = link.id_on(target)
        self._plan("update", record_type, target, source, f"{target}:{twin_id}", tuple(sorted(updates)))
        if self.dry_run:
            return None
        item = self._outbound(target, record_type, values, source)
        touched = set(updates) | self._moved_by_mapping(target, record_type, base, item, source)
        remote = ctx.retrier.call(ctx.connector.update, ctx.scope, record_type, twin_id, item,
                                  frozenset(touched))
        self.result.stats[target].updated += 1
        return self._read_back(target, record_type, remote, values, touched)

    def _moved_by_mapping(self, target: str, record_type: str, base: dict[str, Any], item: Any,
                          source: Seen) -> set[str]:
        """Fields of the tool's record that change although the canonical field that changed is
        another one: a transform may carry a value in a different field (a customer as a label)."""
        try:
            before = self._outbound(target, record_type, dict(base), source)
        except PermanentError:
            return set()
        old, new = before.model_dump(mode="json"), item.model_dump(mode="json")
        return {name for name in self._fields[record_type] if old.get(name) != new.get(name)}

    def _read_back(self, target: str, record_type: str, remote: Remote, expected: dict[str, Any],
                   written: set[str]) -> tuple[str | None, str, str]:
        """The twin's snapshot after our write. Fields we did not write keep their old base, so a
        concurrent edit on the target is still seen as a change next run (not lost)."""
        fields = self._fields[record_type]
        if remote.item is None:
            snap = snapshot_json({name: expected.get(name) for name in fields})
            return None, snap, fingerprint(snap)
        seen = self._inbound(target, record_type, remote, None, fields)
        merged = {name: (seen.synced.get(name) if name in written else expected.get(name))
                  for name in fields}
        snap = snapshot_json(merged)
        version = remote.version if merged == seen.synced else None
        return version, snap, fingerprint(snap)

    def _outbound(self, target: str, record_type: str, values: dict[str, Any], source: Seen) -> Any:
        """Canonical values -> a model for the target connector (raw words, parent ids, attribution)."""
        carry = {name: values.get(name) for name in self._fields[record_type]}
        for name in STRUCTURAL.get(record_type, ()):
            if name in source.values:
                carry[name] = source.values[name]
        if record_type == "comment":
            parent = self._twin_id("issue", source.side, str(source.values.get("issue")))
            if parent is None:
                raise PermanentError(f"comment's issue {source.values.get('issue')} is not linked in "
                                     f"flow {self.flow.name}")
            carry["issue"] = parent
            author = source.values.get("author") or {}
            name = author.get("display_name") or author.get("email") or next(
                iter((author.get("handles") or {}).values()), None)
            carry["body"] = attribute(carry.get("body") or "", name, self.sides[source.side].connection)
        carry = self.mapping.outbound(record_type, target, carry)
        model = RECORD_MODELS[record_type]
        try:
            names = self._model_fields[record_type]
            return model.model_validate({k: v for k, v in carry.items() if k in names})
        except ValueError as error:
            raise PermanentError(f"mapping produced an invalid {record_type}: {error}") from None

    def _twin_id(self, record_type: str, side: str, external_id: str) -> str | None:
        links = self.store.links_by_ids(self.flow.name, record_type, side, [external_id])
        link = links.get(external_id)
        return link.id_on(OTHER[side]) if link else None

    # -- creates ---------------------------------------------------------------------------
    def _create(self, side: str, record_type: str, page: list[Seen], pending_other: dict[str, Seen],
                batch: _Batch) -> None:
        other = OTHER[side]
        ctx = self.sides[other]
        matched = self._match_existing(side, record_type, page, pending_other, batch)
        todo = [seen for seen in page if seen.id not in matched]
        if not todo:
            return
        markers = {seen.id: marker_for(self.flow.name, record_type, other, seen.id) for seen in todo}
        earlier = self.store.intents_for(self.flow.name, record_type, other, list(markers))
        fresh: list[Seen] = []
        for seen in todo:
            if seen.id in earlier and not self.dry_run:
                # An earlier run may have created it and lost the reply (or crashed): look first.
                try:
                    found = ctx.retrier.call(ctx.connector.find_by_marker, ctx.scope, record_type,
                                             markers[seen.id])
                except PermanentError:
                    found = None
                if found is not None:
                    self._link_created(seen, found, record_type, batch, action="adopt")
                    continue
            fresh.append(seen)
        items: list[tuple[Seen, Any]] = []
        for seen in fresh:
            self._plan("create", record_type, other, seen, None, ())
            if self.dry_run:
                continue
            try:
                items.append((seen, self._outbound(other, record_type, dict(seen.values), seen)))
            except PermanentError as error:
                self._park(batch, record_type, seen, str(error))
        if not items:
            return
        self.store.add_intents(self.flow.name, record_type, other,
                               [(seen.id, markers[seen.id]) for seen, _ in items])
        bulk = Capability.BULK in ctx.connector.capabilities(record_type)
        if bulk and len(items) > 1:
            # A bulk create is sent once: after a transient failure, part of it may have happened,
            # so each item is then recovered by marker (and only created if not found).
            try:
                results: list[Remote | Exception] = ctx.connector.create_many(
                    ctx.scope, record_type, [(item, markers[seen.id]) for seen, item in items])
            except TransientError as error:
                results = [error] * len(items)
            for (seen, item), result in zip(items, results, strict=True):
                if isinstance(result, TransientError):
                    try:
                        result = ctx.retrier.create(ctx.scope, record_type, item, markers[seen.id],
                                                    recover_first=True)
                    except BudgetExhausted:
                        raise
                    except (TransientError, PermanentError) as error:
                        result = error
                self._created(seen, record_type, result, batch)
        else:
            for seen, item in items:
                try:
                    result: Remote | Exception = ctx.retrier.create(ctx.scope, record_type, item,
                                                                    markers[seen.id])
                except BudgetExhausted:
                    raise
                except (TransientError, PermanentError) as error:
                    result = error
                self._created(seen, record_type, result, batch)

    def _created(self, seen: Seen, record_type: str, result: Remote | Exception, batch: _Batch) -> None:
        if isinstance(result, AuthError):
            raise result
        if isinstance(result, PermanentError):
            self._park(batch, record_type, seen, str(result))
        elif isinstance(result, Exception):
            self._note_failure(record_type, seen, str(result))
        else:
            self._link_created(seen, result, record_type, batch, action=None)

    def _link_created(self, seen: Seen, twin: Remote, record_type: str, batch: _Batch,
                      action: str | None) -> None:
        other = OTHER[seen.side]
        fields = self._fields[record_type]
        if action is not None:
            self._plan(action, record_type, other, seen, f"{other}:{twin.id}", ())
        else:
            self.result.stats[other].created += 1
        if self.dry_run:
            return
        if twin.item is not None:
            mirror = self._inbound(other, record_type, twin, None, fields)
            version, snap, fp = twin.version, mirror.snapshot, mirror.fp
        else:
            version, snap, fp = None, seen.snapshot, seen.fp
        batch.links.append(_new_link(self.flow.name, record_type, seen, twin.id, version, fp, snap))
        batch.done_intents.append((record_type, other, seen.id))
        self._unpark_if_needed(batch, record_type, seen)

    def _match_existing(self, side: str, record_type: str, page: list[Seen],
                        pending_other: dict[str, Seen], batch: _Batch) -> set[str]:
        """First-run matching of records that already exist on both sides (DESIGN point 8)."""
        other = OTHER[side]
        candidates = {k: v for k, v in pending_other.items() if v.link is None and not v.remote.deleted}
        if not candidates:
            return set()
        rules = self.flow.match
        by_marker = {v.remote.marker: v for v in candidates.values() if v.remote.marker}
        by_url = {v.remote.url or v.values.get("url"): v for v in candidates.values()
                  if v.remote.url or v.values.get("url")}
        by_title: dict[str, list[Seen]] = {}
        if "title" in rules:
            for v in candidates.values():
                title = v.values.get("title") or v.values.get("name")
                if title:
                    by_title.setdefault(title, []).append(v)
        matched: set[str] = set()
        for seen in page:
            twin: Seen | None = None
            if "marker" in rules:
                expected = marker_for(self.flow.name, record_type, other, seen.id)
                twin = by_marker.get(expected)
            if twin is None and "link" in rules:
                twin = next((by_url[u] for u in urls_in(seen.values.get("description")) if u in by_url), None)
            if twin is None and "title" in rules:
                same = by_title.get(seen.values.get("title") or seen.values.get("name") or "", [])
                twin = same[0] if len(same) == 1 else None
            if twin is None or twin.id not in pending_other:
                continue
            pending_other.pop(twin.id)
            matched.add(seen.id)
            self._plan("link", record_type, other, seen, f"{other}:{twin.id}", ())
            if self.dry_run:
                continue
            # Two records already existed: neither is the other's copy, so there is no common base.
            # Merging from none makes every differing field a conflict that the flow's policy decides.
            ids = {side: seen.id, other: twin.id}
            link = self.store.insert_link(Link(self.flow.name, record_type, ids["a"], ids["b"]))
            seen.link = twin.link = link
            self._merge(seen, twin, record_type, batch)
        return matched

    # -- deletions -------------------------------------------------------------------------
    def _delete_twin(self, seen: Seen, record_type: str, batch: _Batch) -> None:
        assert seen.link is not None
        side, other = seen.side, OTHER[seen.side]
        batch.link_states.append((seen.link.id, f"deleted-{side}"))
        policy = self.flow.on_delete
        if policy == "ignore" or not self.flow.writes(other):
            self._plan("unlink", record_type, other, seen, None, (), "deleted; on_delete = ignore")
            return
        ctx = self.sides[other]
        twin_id = seen.link.id_on(other)
        can_delete = Capability.DELETE in ctx.connector.capabilities(record_type)
        if policy == "delete" or (record_type != "issue" and can_delete):
            self._plan("delete", record_type, other, seen, f"{other}:{twin_id}")
            if not self.dry_run:
                ctx.retrier.call(ctx.connector.delete, ctx.scope, record_type, twin_id)
        else:
            self._plan("close", record_type, other, seen, f"{other}:{twin_id}")
            if not self.dry_run and record_type == "issue":
                self._write_update(other, record_type, seen.link, {"status": "cancelled"}, source=seen)
        self.result.stats[other].deleted += 1

    # -- resolved conflicts ----------------------------------------------------------------
    def apply_resolved_conflicts(self) -> None:
        for record_type in self.flow.records:
            for conflict in self.store.resolved_unapplied(self.flow.name, record_type):
                link = self.store.link_by_id(conflict["link_id"])
                if link is None:
                    continue
                winner = conflict["resolution"]
                loser = OTHER[winner]
                value = json.loads(conflict[f"{winner}_value"])
                name = conflict["field"]
                self._plan("resolve", record_type, loser, None, f"{loser}:{link.id_on(loser)}", (name,))
                if self.dry_run or not self.flow.writes(loser):
                    continue
                source = Seen(winner, Remote(link.id_on(winner), None, None), link,
                              values={**(link.snapshot_on(winner) or {}), name: value})
                written = self._write_update(loser, record_type, link, {name: value}, source=source)
                winner_snap = {**(link.snapshot_on(winner) or {}), name: value}
                snap = snapshot_json(winner_snap)
                row = link.with_side(winner, version=link.version_on(winner), fp=fingerprint(snap),
                                 snapshot=snap)
                if written is not None:
                    row = row.with_side(loser, version=written[0], fp=written[2], snapshot=written[1])
                with self.store.transaction() as conn:
                    self.store.write_links(conn, [row])
                    self.store.close_conflict(conn, conflict["id"])

    # -- bookkeeping -----------------------------------------------------------------------
    def _park(self, batch: _Batch, record_type: str, seen: Seen, reason: str) -> None:
        self.result.stats[seen.side].parked += 1
        self._plan("park", record_type, seen.side, seen, None, (), reason)
        batch.parks.append((record_type, seen.side, seen.id, reason))

    def _note_failure(self, record_type: str, seen: Seen, reason: str) -> None:
        self.result.stats[seen.side].failed += 1
        self._failed_ids.setdefault(record_type, set()).add(seen.id)
        self._plan("retry", record_type, seen.side, seen, None, (), f"not applied, next run: {reason}")

    def _unpark_if_needed(self, batch: _Batch, record_type: str, seen: Seen) -> None:
        if (record_type, seen.side, seen.id) in self._parked:
            batch.unparks.append((record_type, seen.side, seen.id))

    def _plan(self, action: str, record_type: str, side: str, source: Seen | None, target: str | None,
              fields: tuple[str, ...] = (), detail: str = "") -> None:
        origin = f"{source.side}:{source.id}" if source is not None else "-"
        self.result.plan.append(PlanEntry(action, record_type, side, origin, target, fields, detail))

    def _commit(self, batch: _Batch, record_type: str, cursor_side: str | None,
                cursor: dt.datetime | None) -> None:
        if self.dry_run:
            return
        with self.store.transaction() as conn:
            self.store.write_links(conn, batch.links + batch.versions)
            for link_id, state in batch.link_states:
                self.store.set_link_state(conn, link_id, state)
            for rt, side, source_id, reason in batch.parks:
                self.store.park(conn, self.flow.name, rt, side, source_id, reason)
            for rt, side, source_id in batch.unparks:
                self.store.unpark(conn, self.flow.name, rt, side, [source_id])
            by_target: dict[tuple[str, str], list[str]] = {}
            for rt, target, source_id in batch.done_intents:
                by_target.setdefault((rt, target), []).append(source_id)
            for (rt, target), ids in by_target.items():
                self.store.drop_intents(conn, self.flow.name, rt, target, ids)
            for link_id, name, base, a_value, b_value in batch.conflicts:
                self.store.add_conflict(conn, link_id, self.flow.name, record_type, name, base, a_value,
                                        b_value)
            if cursor_side is not None and cursor is not None:
                self.store.set_cursor(conn, self.flow.name, cursor_side, record_type, cursor)
        if self.on_commit is not None:
            self.on_commit()

    def _transaction(self) -> Any:
        from contextlib import nullcontext

        return nullcontext(None) if self.dry_run else self.store.transaction()

    def _read(self, side: str, record_type: str, external_id: str) -> Remote | None:
        ctx = self.sides[side]
        try:
            return ctx.retrier.call(ctx.connector.get, ctx.scope, record_type, external_id)
        except PermanentError:
            return None

    def _fail(self, message: str) -> None:
        self.result.status = "failed"
        self.result.error = message

    def _finish(self) -> FlowResult:
        for side, ctx in self.sides.items():
            stats = self.result.stats[side]
            stats.api_calls = ctx.connector.calls.total - self._calls_at_start[side]
            self.reported_calls[ctx.connection] = ctx.connector.calls.total
        if self.result.status == "ok":
            totals = self.result.stats.values()
            if any(s.parked or s.conflicts for s in totals) or self.store.open_conflicts(self.flow.name):
                self.result.status = "attention"
            if any(s.failed for s in totals):
                self.result.status = "incomplete"
        return self.result


class _CursorTracker:
    """The newest ``updated`` seen on a side, held back before any record that was not applied."""

    def __init__(self, current: dt.datetime | None, empty_floor: dt.datetime) -> None:
        self.current = current
        self.empty_floor = empty_floor
        self.newest: dt.datetime | None = None
        self.oldest_failed: dt.datetime | None = None

    def saw(self, page: Iterable[Remote]) -> None:
        for remote in page:
            if remote.updated is not None and (self.newest is None or remote.updated > self.newest):
                self.newest = remote.updated

    def failed(self, seen: Iterable[Seen], failed_ids: set[str]) -> None:
        for item in seen:
            updated = item.remote.updated
            if item.id in failed_ids and updated is not None and (
                    self.oldest_failed is None or updated < self.oldest_failed):
                self.oldest_failed = updated

    def value(self, *, complete: bool) -> dt.datetime | None:
        """The cursor to store, or None to keep the current one.

        ``complete``: the listing reached its end with nothing left unapplied, so nothing older than
        the run's start (less a margin for clock skew and search lag) can still be unseen; the cursor
        moves there even when the listing was empty. Mid-listing, only what was seen counts.
        """
        candidate = self.newest
        if self.oldest_failed is not None:
            candidate = self.oldest_failed if candidate is None else min(candidate, self.oldest_failed)
        elif complete:
            candidate = self.empty_floor if candidate is None else max(candidate, self.empty_floor)
        if candidate is None or (self.current is not None and candidate <= self.current):
            return None
        return candidate


def _new_link(flow: str, record_type: str, seen: Seen, twin_id: str, twin_version: str | None,
              twin_fp: str | None, twin_snapshot: str) -> Link:
    """The link between a record just read and its twin just created, adopted or matched."""
    mine = (seen.id, seen.remote.version, seen.fp, seen.snapshot)
    theirs = (twin_id, twin_version, twin_fp, twin_snapshot)
    a, b = (mine, theirs) if seen.side == "a" else (theirs, mine)
    return Link(flow, record_type, a[0], b[0], a[1], b[1], a[2], b[2], a[3], b[3])


def _keep_base(row: Link, link: Link, name: str) -> Link:
    for side in ("a", "b"):
        old = link.snapshot_on(side) or {}
        snap = json.loads(getattr(row, f"{side}_snapshot") or "{}")
        snap[name] = old.get(name)
        text = snapshot_json(snap)
        setattr(row, f"{side}_snapshot", text)
        setattr(row, f"{side}_fp", fingerprint(text))
    return row
