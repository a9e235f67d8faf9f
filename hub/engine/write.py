"""Writing to a side: updates of a twin and what it looks like afterwards (read-back), creates
preceded by committed intents and recovered by marker, canonical values made the target's record."""

from __future__ import annotations

import time
from typing import Any

from hub.connector import Capability, Remote
from hub.engine.batch import Batch
from hub.engine.context import OTHER, RunContext, Seen
from hub.engine.creating import Creator, refused
from hub.engine.merge import changed_fields
from hub.engine.parents import Parents
from hub.engine.read import inbound
from hub.engine.records import fingerprint, marker_for, snapshot_json
from hub.errors import AuthError, BudgetExhausted, PermanentError, TransientError
from hub.model import RECORD_MODELS
from hub.state.store import Link

#: What a write leaves on its target: (version, snapshot, fingerprint).
Written = tuple[str | None, str, str]


class Writer:
    def __init__(self, ctx: RunContext) -> None:
        self.ctx = ctx
        self.parents = Parents(ctx)
        #: Ids of twins a create found by marker after an ambiguous failure (maybe half made).
        self._found: set[str] = set()

    # -- updates ---------------------------------------------------------------------------
    def push(self, seen: Seen, record_type: str, batch: Batch) -> None:
        """One side changed since the last sync: send the changed fields to its twin."""
        assert seen.link is not None
        side, other = seen.side, OTHER[seen.side]
        base = seen.link.snapshot_on(side)
        changed = changed_fields(seen.synced, base, self.ctx.fields[record_type]) - self.ctx.held_fields(
            seen.link)
        if not changed:
            batch.versions.append(seen.link.with_side(side, version=seen.remote.version, fp=seen.fp,
                                                      snapshot=seen.snapshot))
            self.ctx.stats(side).unchanged += 1
            return
        updates = {name: seen.synced[name] for name in changed}
        written = self.update(other, record_type, seen.link, updates, source=seen)
        if written is None:
            return
        twin_version, twin_snapshot, twin_fp = written
        batch.links.append(
            seen.link.with_side(side, version=seen.remote.version, fp=seen.fp, snapshot=seen.snapshot)
            .with_side(other, version=twin_version, fp=twin_fp, snapshot=twin_snapshot))
        self.ctx.unpark_if_needed(batch, record_type, seen)

    def update(self, target: str, record_type: str, link: Link, updates: dict[str, Any], source: Seen,
               current: dict[str, Any] | None = None) -> Written | None:
        """Write ``updates`` to the twin on ``target``; return what it looks like now (None in a dry run).

        ``current``: the target's values as just read, when known (a merge); otherwise its last
        synced snapshot stands in for them.
        """
        ctx = self.ctx.sides[target]
        base = current if current is not None else (link.snapshot_on(target) or {})
        values = {**base, **updates}
        twin_id = link.id_on(target)
        self.ctx.plan("update", record_type, target, source, f"{target}:{twin_id}", tuple(sorted(updates)))
        if self.ctx.dry_run:
            return None
        item = self.outbound(target, record_type, values, source, written=frozenset(updates))
        touched = set(updates) | self._moved_by_mapping(target, record_type, base, item, source)
        remote = ctx.retrier.call(ctx.connector.update, ctx.scope, record_type, twin_id, item,
                                  frozenset(touched))
        self.ctx.stats(target).updated += 1
        if parent := self.ctx.policies[record_type].parent_field:  # as the target names it
            values[parent] = getattr(item, parent, None)
        return self._read_back(target, record_type, remote, values, touched)

    def _moved_by_mapping(self, target: str, record_type: str, base: dict[str, Any], item: Any,
                          source: Seen) -> set[str]:
        """Fields of the tool's record that change although the canonical field that changed is
        another one: a transform may carry a value in a different field (a customer as a label)."""
        try:
            before = self.outbound(target, record_type, dict(base), source, written=frozenset())
        except PermanentError:
            return set()
        old, new = before.model_dump(mode="json"), item.model_dump(mode="json")
        return {name for name in self.ctx.fields[record_type] if old.get(name) != new.get(name)}

    def _read_back(self, target: str, record_type: str, remote: Remote, expected: dict[str, Any],
                   written: set[str]) -> Written:
        """The twin's snapshot after our write. Fields we did not write keep their old base, so a
        concurrent edit on the target is still seen as a change next run (not lost)."""
        fields = self.ctx.fields[record_type]
        if remote.item is None:
            snap = snapshot_json({name: expected.get(name) for name in fields})
            return None, snap, fingerprint(snap)
        seen = inbound(self.ctx, target, record_type, remote, None)
        merged = {name: (seen.synced.get(name) if name in written else expected.get(name))
                  for name in fields}
        snap = snapshot_json(merged)
        version = remote.version if merged == seen.synced else None
        return version, snap, fingerprint(snap)

    def outbound(self, target: str, record_type: str, values: dict[str, Any], source: Seen,
                 written: frozenset[str] | None = None) -> Any:
        """Canonical values -> a model for the target connector (raw words, parent ids, attribution);
        ``written``: the fields that will be written (None: all, a create)."""
        run = self.ctx
        policy = run.policies[record_type]
        carry = {name: values.get(name) for name in run.fields[record_type]}
        for name in policy.structural:
            if name in source.values:
                carry[name] = source.values[name]
        carry = policy.place(carry, self.parents.placed_from(record_type, source, written),
                             flow=run.flow.name, via=run.sides[source.side].connection,
                             twin_of=lambda rt, external_id: run.twin_of(rt, source.side, external_id),
                             twin_name=lambda rt, name: run.references.twin_name(rt, source.side, name),
                             parents=run.parent_types.get((record_type, source.side), ()), written=written)
        carry = run.mapping.outbound(record_type, target, carry)
        try:
            names = run.model_fields[record_type]
            return RECORD_MODELS[record_type].model_validate({k: v for k, v in carry.items() if k in names})
        except ValueError as error:
            raise PermanentError(f"mapping produced an invalid {record_type}: {error}") from None

    # -- creates ---------------------------------------------------------------------------
    def create(self, side: str, record_type: str, todo: list[Seen], batch: Batch) -> None:
        """Create the twins of ``todo`` (records of ``side`` without one) on the other side.

        Each create is preceded by a committed intent and carries a deterministic marker: a record
        with an intent left by an earlier run is looked for by marker first and adopted if found.
        """
        if not todo:
            return
        run = self.ctx
        other = OTHER[side]
        ctx = run.sides[other]
        markers = {seen.id: marker_for(run.flow.name, record_type, other, seen.id) for seen in todo}
        earlier = run.store.intents_for(run.flow.name, record_type, other, list(markers))
        fresh: list[Seen] = []
        for seen in todo:
            if seen.id in earlier and not run.dry_run:
                # An earlier run may have created it and lost the reply (or crashed): look first.
                try:
                    found = ctx.retrier.call(ctx.connector.find_by_marker, ctx.scope, record_type,
                                             markers[seen.id])
                except PermanentError:
                    found = None
                if found is not None:
                    self.link_created(seen, found, record_type, batch, action="adopt")
                    continue
            fresh.append(seen)
        items: list[tuple[Seen, Any]] = []
        for seen in fresh:
            if self.parents.left_out(record_type, seen):
                run.skip(batch, record_type, seen, "its parent is left out by the flow's filter")
                continue
            run.plan("create", record_type, other, seen, None, ())
            if run.dry_run:
                continue
            try:
                items.append((seen, self.outbound(other, record_type, dict(seen.values), seen)))
            except PermanentError as error:
                run.park(batch, record_type, seen, str(error))
        if not items:
            return
        run.store.add_intents(run.flow.name, record_type, other,  # those in `earlier` are pending still
                              [(seen.id, markers[seen.id]) for seen, _ in items if seen.id not in earlier])
        if Capability.BULK in ctx.connector.capabilities(record_type) and len(items) > 1:
            # A bulk create is sent once. After a failure that may have written part of it, each
            # item is settled by marker (``creating``); an item the service refused is sent again.
            sent_at = time.monotonic()
            try:
                results: list[Remote | Exception] = ctx.connector.create_many(
                    ctx.scope, record_type, [(item, markers[seen.id]) for seen, item in items])
            except BudgetExhausted:
                raise
            except TransientError as error:
                results = [error] * len(items)
            for (seen, item), result in zip(items, results, strict=True):
                if isinstance(result, TransientError):
                    result = self._create_one(other, record_type, item, markers[seen.id],
                                              sent_at=None if refused(result) else sent_at)
                self._created(seen, record_type, result, batch)
        else:
            for seen, item in items:
                self._created(seen, record_type, self._create_one(other, record_type, item, markers[seen.id]),
                              batch)

    def _create_one(self, target: str, record_type: str, item: Any, marker: str, *,
                    sent_at: float | None = None) -> Remote | Exception:
        creator = Creator(self.ctx.sides[target])
        try:
            created = creator.create(record_type, item, marker, sent_at=sent_at)
            if creator.settled:
                self._found.add(created.id)
            return created
        except BudgetExhausted:
            raise
        except (TransientError, PermanentError) as error:
            return error

    def _created(self, seen: Seen, record_type: str, result: Remote | Exception, batch: Batch) -> None:
        if isinstance(result, AuthError):
            raise result
        if isinstance(result, PermanentError):
            self.ctx.park(batch, record_type, seen, str(result))
        elif isinstance(result, Exception):
            self.ctx.note_failure(record_type, seen, str(result))
        else:
            self.link_created(seen, result, record_type, batch, action=None)

    def link_created(self, seen: Seen, twin: Remote, record_type: str, batch: Batch,
                     action: str | None) -> None:
        """Link a record and its twin just created (``action`` None) or found by marker ("adopt")."""
        other = OTHER[seen.side]
        if action is not None:
            self.ctx.plan(action, record_type, other, seen, f"{other}:{twin.id}", ())
        else:
            self.ctx.stats(other).created += 1
        if self.ctx.dry_run:
            return
        if twin.item is not None:
            mirror = inbound(self.ctx, other, record_type, twin, None)
            version, snap, fp = twin.version, mirror.snapshot, mirror.fp
        else:
            version, snap, fp = None, seen.snapshot, seen.fp
        link = new_link(self.ctx.flow.name, record_type, seen, twin.id, version, fp, snap)
        if twin.item is not None and (action == "adopt" or twin.id in self._found):
            # Found by marker, not from the create's reply: a create of several requests (GitHub
            # closes a new issue with a second one) may have stopped half way. Write what it lacks.
            lacking = {k: v for k, v in seen.synced.items() if mirror.synced.get(k) != v}
            written = self.update(other, record_type, link, lacking, seen, mirror.synced) if lacking else None
            if written is not None:
                link = link.with_side(other, version=written[0], fp=written[2], snapshot=written[1])
        batch.links.append(link)
        batch.done_intents.append((record_type, other, seen.id))
        self.ctx.unpark_if_needed(batch, record_type, seen)


def new_link(flow: str, record_type: str, seen: Seen, twin_id: str, twin_version: str | None,
             twin_fp: str | None, twin_snapshot: str) -> Link:
    """The link between a record just read and its twin just created, adopted or matched."""
    mine = (seen.id, seen.remote.version, seen.fp, seen.snapshot)
    theirs = (twin_id, twin_version, twin_fp, twin_snapshot)
    a, b = (mine, theirs) if seen.side == "a" else (theirs, mine)
    return Link(flow, record_type, a[0], b[0], a[1], b[1], a[2], b[2], a[3], b[3])
