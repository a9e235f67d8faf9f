"""First-run matching: records that already exist on both sides are linked, not created again
(DESIGN point 8), by the flow's ``match`` rules: marker, a link in the description, a unique title."""

from __future__ import annotations

from hub.engine.batch import Batch
from hub.engine.conflicts import Merger
from hub.engine.context import OTHER, RunContext, Seen
from hub.engine.pending import PendingChanges
from hub.engine.records import marker_for, urls_in
from hub.state.store import Link


class Matcher:
    def __init__(self, ctx: RunContext, merger: Merger) -> None:
        self.ctx = ctx
        self.merger = merger

    def match(self, side: str, record_type: str, page: list[Seen], pending_other: PendingChanges,
              batch: Batch) -> set[str]:
        """Link each record of ``page`` (unlinked, on ``side``) to its twin among the other side's
        unlinked waiting changes, and merge the two; return the ids of ``page`` that were matched."""
        run = self.ctx
        other = OTHER[side]
        candidates = pending_other.unlinked()
        if not candidates:
            return set()
        rules = run.flow.match
        by_marker = {v.remote.marker: v for v in candidates if v.remote.marker}
        by_url = {v.remote.url or v.values.get("url"): v for v in candidates
                  if v.remote.url or v.values.get("url")}
        by_title: dict[str, list[Seen]] = {}
        if "title" in rules:
            for v in candidates:
                title = v.values.get("title") or v.values.get("name")
                if title:
                    by_title.setdefault(title, []).append(v)
        matched: set[str] = set()
        for seen in page:
            twin: Seen | None = None
            if "marker" in rules:
                twin = by_marker.get(marker_for(run.flow.name, record_type, other, seen.id))
            if twin is None and "link" in rules:
                twin = next((by_url[u] for u in urls_in(seen.values.get("description")) if u in by_url), None)
            if twin is None and "title" in rules:
                same = by_title.get(seen.values.get("title") or seen.values.get("name") or "", [])
                twin = same[0] if len(same) == 1 else None
            if twin is None or pending_other.pop(twin.id) is None:
                continue
            matched.add(seen.id)
            run.plan("link", record_type, other, seen, f"{other}:{twin.id}", ())
            if run.dry_run:
                continue
            # Two records already existed: neither is the other's copy, so there is no common base.
            # Merging from none makes every differing field a conflict that the flow's policy decides.
            ids = {side: seen.id, other: twin.id}
            link = run.store.insert_link(Link(run.flow.name, record_type, ids["a"], ids["b"]))
            seen.link = twin.link = link
            self.merger.merge(seen, twin, record_type, batch)
        return matched
