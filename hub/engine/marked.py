"""Records that carry one of this flow's markers but are not in the link ledger.

The hub's copies carry a deterministic marker (``records.marker_for``: flow, record type, target
side, source id). A copy that is not linked is never treated as a new record of its side, which
would copy it back (an echo) or copy it again. It is one of:

- the twin of an unlinked record read this run (a lost state store, a reply that was lost):
  first-run matching (``match``) links the two;
- a further copy of a source that is linked already (a create that landed twice): a duplicate,
  parked with a reason that names both, never synced onward;
- the copy of a source whose create is still pending (it landed after its run gave up waiting):
  left alone, the source's next attempt finds it by marker and adopts it.

A record linked since it was read (adopted by marker earlier in the run as the copy of a record of
the other side: a listing such as Jira's comments does not show the marker) is a twin now, never
a source: it is dropped here, before anything could be created from it.

A marker that names no record of this flow (another flow's copy: chains of flows) is an ordinary
record here.
"""

from __future__ import annotations

from hub.engine.batch import Batch
from hub.engine.context import OTHER, RunContext, Seen
from hub.engine.records import marker_for

#: The start of a duplicate's parked reason (``pmhub status`` counts them by it).
DUPLICATE = "duplicate"


class MarkedRecords:
    def __init__(self, ctx: RunContext) -> None:
        self.ctx = ctx
        #: (record type, side of the copies) -> marker -> linked source id, and the last link id read.
        self._ledger: dict[tuple[str, str], dict[str, str]] = {}
        self._read_up_to: dict[tuple[str, str], int] = {}

    def unclaimed(self, side: str, record_type: str, page: list[Seen], batch: Batch) -> list[Seen]:
        """The records of ``page`` (unlinked, unmatched) that are not this flow's copies; the
        copies are reported as duplicates or left for their pending source."""
        run = self.ctx
        if any(seen.remote.marker for seen in page):
            self._catch_up(record_type, side)
        linked = self._linked_since_read(side, record_type, page, batch)
        out: list[Seen] = []
        for seen in page:
            marker = seen.remote.marker
            source = self._ledger.get((record_type, side), {}).get(marker) if marker else None
            if seen.id in linked:
                continue
            if marker is None:
                out.append(seen)
            elif source is not None and run.parked_as(record_type, seen, DUPLICATE):
                continue  # reported when first seen; `pmhub status` and `pmhub parked` still show it
            elif source is not None:
                twin = run.twin_of(record_type, OTHER[side], source)
                run.park(batch, record_type, seen,
                         f"{DUPLICATE} of {side}:{twin}: carries the marker of {OTHER[side]}:{source}, "
                         "which is linked to it; delete this copy, then `pmhub parked drop`")
            elif run.store.intent_with_marker(run.flow.name, record_type, side, marker) is not None:
                run.plan("wait", record_type, side, seen, None, (), "the copy of a create still pending")
            else:
                out.append(seen)
        return out

    def _linked_since_read(self, side: str, record_type: str, page: list[Seen], batch: Batch) -> set[str]:
        """The ids of ``page`` (read unlinked) that have a link now: in this page's batch or in the ledger."""
        store = self.ctx.store
        ids = [seen.id for seen in page]
        in_batch = {link.id_on(side) for link in batch.links if link.record_type == record_type}
        # A record read in this page had no link then; unless a link was stored since, it has none
        # now (a second lookup of the whole page cost each backfill page 500 index probes).
        unsure = [seen.id for seen in page if seen.unlinked_as_of != store.links_stored]
        stored = store.links_by_ids(self.ctx.flow.name, record_type, side, unsure) if unsure else {}
        return (in_batch & set(ids)) | set(stored)

    def _catch_up(self, record_type: str, side: str) -> None:
        """Add the links made since the last look (by this run too) to the marker -> source map:
        the ledger is read once per run, then only its new rows."""
        run, key = self.ctx, (record_type, side)
        known = self._ledger.setdefault(key, {})
        last = self._read_up_to.get(key, 0)
        for link_id, source in run.store.linked_ids(run.flow.name, record_type, OTHER[side], after=last):
            known[marker_for(run.flow.name, record_type, side, source)] = source
            last = link_id
        self._read_up_to[key] = last
