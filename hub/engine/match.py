"""First-run matching: records that already exist on both sides are linked, not created again
(DESIGN point 8).

Markers always count, both ways: a candidate that is this record's copy, or this record that is a
candidate's copy (they are the hub's own, so a lost state store is rebuilt from them). Then the
flow's ``match`` rules, for records the flow's filter lets in: a link in the description, then the
title. A title links only when it is unique: exactly one unlinked record with it on each side. A
title shared by several is ambiguous: the record is parked with the candidates named, neither
linked nor copied (a guess either way could be a duplicate or a wrong merge).

When the other side is read for the first time and none of its unlinked records came with a marker
(a listing that may not show them, e.g. Jira's comment properties), a record that would be created
is first looked for by marker there, so a copy made before a lost state store is adopted.
"""

from __future__ import annotations

from collections import Counter

from hub.connector import Remote
from hub.engine.batch import Batch
from hub.engine.conflicts import Merger
from hub.engine.context import OTHER, RunContext, Seen
from hub.engine.pending import PendingChanges
from hub.engine.records import marker_for, urls_in
from hub.errors import PermanentError
from hub.state.store import Link

#: The start of an ambiguous match's parked reason.
AMBIGUOUS = "ambiguous title"


def title_of(seen: Seen) -> str:
    return str(seen.values.get("title") or seen.values.get("name") or "")


class Matcher:
    def __init__(self, ctx: RunContext, merger: Merger) -> None:
        self.ctx = ctx
        self.merger = merger

    def match(self, side: str, record_type: str, page: list[Seen], pending_other: PendingChanges,
              batch: Batch) -> set[str]:
        """Link each record of ``page`` (unlinked, on ``side``) to its twin among the other side's
        unlinked waiting changes, and merge the two; return the ids of ``page`` that were matched
        (or parked as ambiguous: either way, not to be created)."""
        run = self.ctx
        other = OTHER[side]
        candidates = pending_other.unlinked()
        if not candidates:
            return set()
        rules = run.flow.match
        by_marker = {v.remote.marker: v for v in candidates if v.remote.marker}
        copied_from = pending_other.sources_by_marker(run.flow.name, record_type, side) if any(
            seen.remote.marker for seen in page) else {}
        by_id = {v.id: v for v in candidates} if copied_from else {}
        by_url = {v.remote.url or v.values.get("url"): v for v in candidates
                  if v.remote.url or v.values.get("url")}
        by_title: dict[str, list[Seen]] = {}
        if "title" in rules:
            for v in candidates:
                if title_of(v):
                    by_title.setdefault(title_of(v), []).append(v)
        here = Counter(title_of(seen) for seen in page if seen.eligible and not seen.remote.marker)
        matched: set[str] = set()
        for seen in page:
            twin = by_marker.get(marker_for(run.flow.name, record_type, other, seen.id))
            if twin is None and seen.remote.marker in copied_from:
                twin = by_id.get(copied_from[seen.remote.marker])
            if twin is None and "link" in rules and seen.eligible:
                twin = next((by_url[u] for u in urls_in(seen.values.get("description")) if u in by_url), None)
            if twin is None and "title" in rules and seen.eligible and title_of(seen):
                same = by_title.get(title_of(seen), [])
                if len(same) > 1 or (same and here[title_of(seen)] > 1):
                    self._ambiguous(batch, record_type, seen, same, pending_other)
                    matched.add(seen.id)
                    continue
                twin = same[0] if same else None
            if twin is None or pending_other.pop(twin.id) is None:
                continue
            matched.add(seen.id)
            self._link(seen, twin, record_type, batch)
        return matched | self._recover(side, record_type, page, matched, candidates, pending_other, batch)

    def held(self, record_type: str, page: list[Seen]) -> list[Seen]:
        """The records of ``page`` parked as ambiguous that stay so (their title unchanged): they are
        created only when a person replays them (``pmhub retry``), not when a run reads them again."""
        run = self.ctx
        if run.replaying:
            return []
        return [seen for seen in page if run.parked_as(record_type, seen, f"{AMBIGUOUS} {title_of(seen)!r},")]

    def _link(self, seen: Seen, twin: Seen, record_type: str, batch: Batch) -> None:
        run, side, other = self.ctx, seen.side, OTHER[seen.side]
        run.plan("link", record_type, other, seen, f"{other}:{twin.id}", ())
        if run.dry_run:
            return
        # Two records already existed: neither is the other's copy, so there is no common base.
        # Merging from none makes every differing field a conflict that the flow's policy decides.
        ids = {side: seen.id, other: twin.id}
        link = run.store.insert_link(Link(run.flow.name, record_type, ids["a"], ids["b"]))
        seen.link = twin.link = link
        self.merger.merge(seen, twin, record_type, batch)
        run.unpark_if_needed(batch, record_type, seen)
        run.unpark_if_needed(batch, record_type, twin)

    def _ambiguous(self, batch: Batch, record_type: str, seen: Seen, same: list[Seen],
                   pending_other: PendingChanges) -> None:
        """Park ``seen`` and the candidates sharing its title: neither side copies any of them."""
        other = OTHER[seen.side]
        names = ", ".join([f"{seen.side}:{seen.id}", *(f"{other}:{v.id}" for v in same[:5])])
        reason = (f"{AMBIGUOUS} {title_of(seen)!r}, shared by unlinked records {names}: neither "
                  "linked nor copied. Make the titles unique, or leave one record out with "
                  "`pmhub parked drop ID`, then `pmhub retry` links or copies the rest")
        self.ctx.park(batch, record_type, seen, reason)
        for candidate in same:
            if pending_other.pop(candidate.id) is not None:
                self.ctx.park(batch, record_type, candidate, reason)

    def _recover(self, side: str, record_type: str, page: list[Seen], matched: set[str],
                 candidates: list[Seen], pending_other: PendingChanges, batch: Batch) -> set[str]:
        """Records the other side may hold copies of without having shown their markers: looked for
        by marker there (first read of that side only, one lookup per record that is left)."""
        run = self.ctx
        other = OTHER[side]
        # A marker on any candidate shows that the listing shows markers: nothing is hidden.
        if (run.store.cursor(run.flow.name, other, record_type) is not None
                or any(v.remote.marker for v in candidates)):
            return set()
        target = run.sides[other]
        found_ids: set[str] = set()
        for seen in page:
            if seen.id in matched or seen.remote.marker:
                continue
            marker = marker_for(run.flow.name, record_type, other, seen.id)
            try:
                found: Remote | None = target.retrier.call(target.connector.find_by_marker, target.scope,
                                                           record_type, marker)
            except PermanentError:
                found = None
            if found is None or run.store.links_by_ids(run.flow.name, record_type, other, [found.id]):
                continue
            pending_other.pop(found.id)
            found_ids.add(seen.id)
            self.merger.writer.link_created(seen, found, record_type, batch, action="adopt")
        return found_ids
