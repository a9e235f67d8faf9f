"""First-run matching: records that already exist on both sides are linked, not created again
(DESIGN point 8).

Markers always count, both ways: a candidate that is this record's copy, or this record that is a
candidate's copy (they are the hub's own, so a lost state store is rebuilt from them). Then the
flow's ``match`` rules, for records the flow's filter lets in: a link in the description, then the
title. A title links only when it is unique: exactly one unlinked record with it on each side. A
title shared by several is ambiguous: the record is parked with the candidates named, neither
linked nor copied (a guess either way could be a duplicate or a wrong merge).

When the other side is read for the first time and none of its unlinked records came with a marker
(a listing that may not show them, e.g. Jira's comment properties), those that could be copies are
fetched by id to learn their markers, so a copy made before a lost state store is adopted.
"""

from __future__ import annotations

from collections import Counter

from sqlalchemy.exc import IntegrityError

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
            # A copy carrying the marker of a record of this page is that record's twin (linked by
            # marker below), never a title candidate of another: after a crash mid-backfill, copies
            # of issues sharing a title would otherwise make every later one ambiguous.
            own = {marker_for(run.flow.name, record_type, other, seen.id) for seen in page}
            for v in candidates:
                if title_of(v) and v.remote.marker not in own:
                    by_title.setdefault(title_of(v), []).append(v)
        here = Counter(title_of(seen) for seen in page if seen.eligible and not seen.remote.marker)
        matched: set[str] = set()
        pairs: list[tuple[Seen, Seen]] = []
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
            pairs.append((seen, twin))
        for seen, twin in self._unlinked_pairs(record_type, pairs, pending_other):
            matched.add(seen.id)
            self._link(seen, twin, record_type, batch)
        return matched | self._recover(side, record_type, page, matched, candidates, pending_other, batch)

    def held(self, record_type: str, page: list[Seen]) -> list[Seen]:
        """The records of ``page`` parked as ambiguous that stay so (their title unchanged): they are
        created only when a person replays them (``pmhub retry``), not when a run reads them again."""
        run = self.ctx
        if run.replaying or not run.parked:
            return []
        return [seen for seen in page if (record_type, seen.side, seen.id) in run.parked
                and run.parked_as(record_type, seen, f"{AMBIGUOUS} {title_of(seen)!r},")]

    def _unlinked_pairs(self, record_type: str, pairs: list[tuple[Seen, Seen]],
                        pending_other: PendingChanges) -> list[tuple[Seen, Seen]]:
        """The pairs whose two records are both still unlinked. Both were unlinked when read, but a
        record may have been linked since (adopted by marker by a create earlier in the run):
        linked now, it is nobody's match. A twin left unlinked goes back to wait for its turn."""
        if not pairs:
            return []
        run = self.ctx
        side, other = pairs[0][0].side, pairs[0][1].side
        taken = run.store.links_by_ids(run.flow.name, record_type, side, [seen.id for seen, _ in pairs])
        taken_other = run.store.links_by_ids(run.flow.name, record_type, other,
                                             [twin.id for _, twin in pairs])
        out: list[tuple[Seen, Seen]] = []
        for seen, twin in pairs:
            if seen.id not in taken and twin.id not in taken_other:
                out.append((seen, twin))
            elif twin.id not in taken_other:
                pending_other.add(twin)
        return out

    def _link(self, seen: Seen, twin: Seen, record_type: str, batch: Batch) -> None:
        run, side, other = self.ctx, seen.side, OTHER[seen.side]
        run.plan("link", record_type, other, seen, f"{other}:{twin.id}", ())
        if run.dry_run:
            return
        # Two records already existed: neither is the other's copy, so there is no common base.
        # Merging from none makes every differing field a conflict that the flow's policy decides.
        ids = {side: seen.id, other: twin.id}
        try:
            link = run.store.insert_link(Link(run.flow.name, record_type, ids["a"], ids["b"]))
        except IntegrityError:
            return  # linked since the check (a race with another process): already linked, not a crash
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
        """Copies the other side holds without its listing having shown their markers (Jira lists
        comments without their properties): on the first read of that side, when no candidate
        shows a marker, the candidates that could be copies are fetched one by one (a record
        fetched by id shows its marker), and each record of ``page`` whose copy is among them is
        linked to it. Could be: one whose parent record has a twin (a copy is placed under the
        twin of its source's parent), or any, for a type without parents."""
        run = self.ctx
        other = OTHER[side]
        if (run.cursor(other, record_type) is not None
                or any(v.remote.marker for v in candidates)):
            return set()
        wanted = {marker_for(run.flow.name, record_type, other, seen.id): seen for seen in page
                  if seen.id not in matched and not seen.remote.marker}
        if not wanted:
            return set()
        if pending_other.revealed is None:  # fetched once per pass, then looked up page by page
            pending_other.revealed = self._reveal(other, record_type, candidates)
        revealed = pending_other.revealed
        found_ids: set[str] = set()
        for marker, seen in wanted.items():
            copy = revealed.pop(marker, None)
            if copy is None or pending_other.pop(copy.id) is None:
                continue
            found_ids.add(seen.id)
            self.merger.writer.link_created(seen, copy, record_type, batch, action="adopt")
        return found_ids

    def _reveal(self, side: str, record_type: str, candidates: list[Seen]) -> dict[str, Remote]:
        """Marker -> the record as fetched, for the candidates of ``side`` that could be copies."""
        run, target = self.ctx, self.ctx.sides[side]
        policy = run.policies[record_type]
        out: dict[str, Remote] = {}
        for candidate in candidates:
            parent = policy.parent(candidate.values)
            if parent is not None and run.twin_of(parent[0], side, parent[1]) is None:
                continue
            try:
                fetched = target.retrier.call(target.connector.get, target.scope, record_type, candidate.id)
            except PermanentError:
                continue
            if fetched is not None and fetched.marker and fetched.item is not None:
                out[fetched.marker] = fetched
        return out
