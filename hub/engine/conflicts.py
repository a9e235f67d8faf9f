"""Both twins changed: the field-level three-way merge applied to both sides, conflicts recorded
for a person, and the values a person chose (``pmhub resolve``) written where they belong."""

from __future__ import annotations

import json

from hub.connector import Remote
from hub.engine.batch import Batch
from hub.engine.context import OTHER, RunContext, Seen
from hub.engine.merge import three_way
from hub.engine.records import fingerprint, snapshot_json
from hub.engine.write import Writer
from hub.state.store import Link


class Merger:
    def __init__(self, ctx: RunContext, writer: Writer) -> None:
        self.ctx = ctx
        self.writer = writer

    def merge(self, seen: Seen, twin: Seen, record_type: str, batch: Batch) -> None:
        """Both twins changed since the last sync: field-level three-way merge."""
        assert seen.link is not None
        run, link = self.ctx, seen.link
        a, b = (seen, twin) if seen.side == "a" else (twin, seen)
        merge = three_way(
            run.fields[record_type], a_now=a.synced, a_base=link.snapshot_on("a"), a_updated=a.remote.updated,
            b_now=b.synced, b_base=link.snapshot_on("b"), b_updated=b.remote.updated,
            policy=run.flow.conflict, blanks_yield=link.a_snapshot is None and link.b_snapshot is None)
        held = run.held_fields(link)
        merge.to_a = {k: v for k, v in merge.to_a.items() if k not in held}
        merge.to_b = {k: v for k, v in merge.to_b.items() if k not in held}
        row = (link.with_side("a", version=a.remote.version, fp=a.fp, snapshot=a.snapshot)
               .with_side("b", version=b.remote.version, fp=b.fp, snapshot=b.snapshot))
        for name in merge.conflicts:
            assert link.id is not None
            batch.conflicts.append((link.id, name, (link.snapshot_on("a") or {}).get(name),
                                    a.synced.get(name), b.synced.get(name)))
            run.stats("a").conflicts += 1
            run.plan("conflict", record_type, "a", a, f"b:{b.id}", (name,))
            # Keep the conflicting field at its old base on both sides, so it stays "changed".
            row = keep_base(row, link, name)
        for target, updates in (("a", merge.to_a), ("b", merge.to_b)):
            if not updates or not run.flow.writes(target):
                continue
            source, current = (b, a) if target == "a" else (a, b)
            written = self.writer.update(target, record_type, link, updates, source=source,
                                         current=current.synced)
            if written is not None:
                row = row.with_side(target, version=written[0], fp=written[2], snapshot=written[1])
        batch.links.append(row)

    def apply_resolved(self) -> None:
        """Write each value a person chose for a conflict to the side that lost it."""
        run = self.ctx
        for record_type in run.flow.records:
            for conflict in [c for c in run.resolved if c["record_type"] == record_type]:
                link = run.store.link_by_id(conflict["link_id"])
                if link is None:
                    continue
                winner = conflict["resolution"]
                loser = OTHER[winner]
                value = json.loads(conflict[f"{winner}_value"])
                name = conflict["field"]
                run.plan("resolve", record_type, loser, None, f"{loser}:{link.id_on(loser)}", (name,))
                if run.dry_run or not run.flow.writes(loser):
                    continue
                source = Seen(winner, Remote(link.id_on(winner), None, None), link,
                              values={**(link.snapshot_on(winner) or {}), name: value})
                written = self.writer.update(loser, record_type, link, {name: value}, source=source)
                snap = snapshot_json({**(link.snapshot_on(winner) or {}), name: value})
                row = link.with_side(winner, version=link.version_on(winner), fp=fingerprint(snap),
                                     snapshot=snap)
                if written is not None:
                    row = row.with_side(loser, version=written[0], fp=written[2], snapshot=written[1])
                with run.store.transaction() as conn:
                    run.store.write_links(conn, [row])
                    run.store.close_conflict(conn, conflict["id"])


def keep_base(row: Link, link: Link, name: str) -> Link:
    """``row`` with ``name`` at its value in ``link``'s snapshots (the last synced one), both sides."""
    for side in ("a", "b"):
        old = link.snapshot_on(side) or {}
        snap = json.loads(getattr(row, f"{side}_snapshot") or "{}")
        snap[name] = old.get(name)
        text = snapshot_json(snap)
        setattr(row, f"{side}_snapshot", text)
        setattr(row, f"{side}_fp", fingerprint(text))
    return row
