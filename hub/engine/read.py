"""Reading a side: its listing (restarted when it fails part-way), what changed for real (echoes
and unchanged records dropped on the way in), the flow's filter, and single records by id."""

from __future__ import annotations

import datetime as dt
from collections import deque
from collections.abc import Iterable, Iterator

from hub.connector import Remote, chunks
from hub.engine.context import Progress, RunContext, Seen
from hub.engine.records import fingerprint, snapshot_json
from hub.errors import DATA_ERRORS, PermanentError, TransientError, unreadable
from hub.state.store import Link

#: The progress display hears about a listing every this many records.
PROGRESS_EVERY = 100
#: Records per page: read, looked up, applied and committed together.
PAGE = 500


class Yielded:
    """Which records a listing has handed on, so that it does not hand them on twice.

    A listing in no particular order keeps every id. A listing sorted by ``updated`` keeps little:
    the ids of the last ``RECENT`` records (a page boundary that shifts repeats one of those), the
    newest ``updated`` and the ids at exactly that moment. After a restart, which lists from the
    start again, everything older than that position was handed on already. A record edited while
    it is listed comes again later, newer, and is handed on again as the change it is.
    """

    RECENT = 1000

    def __init__(self, *, ordered: bool) -> None:
        self.ordered = ordered
        self.restarted = False
        self.count = 0
        self.newest: dt.datetime | None = None
        self._at_newest: set[str] = set()
        #: Every id of an unordered listing; of a sorted one, those that came without a time.
        self._ids: set[str] = set()
        self._recent: set[str] = set()
        self._window: deque[str] = deque()

    def __contains__(self, remote: Remote) -> bool:
        if remote.id in self._ids or remote.id in self._recent or remote.id in self._at_newest:
            return True
        updated = remote.updated
        return self.restarted and updated is not None and self.newest is not None and updated < self.newest

    def add(self, remote: Remote) -> None:
        self.count += 1
        updated = remote.updated
        if not self.ordered or updated is None:
            self._ids.add(remote.id)
            return
        self._recent.add(remote.id)
        self._window.append(remote.id)
        if len(self._window) > self.RECENT:
            self._recent.discard(self._window.popleft())
        if self.newest is None or updated > self.newest:
            self.newest, self._at_newest = updated, set()
        if updated == self.newest:
            self._at_newest.add(remote.id)


class Reader:
    def __init__(self, ctx: RunContext, *, full: bool = False, progress: Progress | None = None) -> None:
        self.ctx = ctx
        self.full = full
        self.progress = progress

    def listing(self, side: str, record_type: str) -> Iterator[Remote]:
        """The side's changes since its cursor. A listing that fails part-way is restarted (a
        generator cannot be resumed), skipping the records it already yielded."""
        ctx = self.ctx.sides[side]
        since = None if self.full else self.ctx.cursor(side, record_type)
        if since is not None:
            since -= ctx.connector.cursor_overlap
        yielded = Yielded(ordered=ctx.connector.sorted_by_updated)
        attempt = 1
        while True:
            try:
                for remote in ctx.connector.list_changed(ctx.scope, record_type, since):
                    if remote in yielded:
                        continue
                    yielded.add(remote)
                    if self.progress and yielded.count % PROGRESS_EVERY == 0:
                        self.progress(self.ctx.flow.name, side, record_type, PROGRESS_EVERY)
                    yield remote
                break
            except TransientError as error:
                ctx.retrier.pause(error, attempt)
                attempt += 1
                yielded.restarted = True
            except DATA_ERRORS as error:
                # The listing cannot go past a record it cannot read; the cursor stays before it.
                raise unreadable(f"{ctx.connection} ({record_type}s)", error) from None
        if self.progress and yielded.count % PROGRESS_EVERY:
            self.progress(self.ctx.flow.name, side, record_type, yielded.count % PROGRESS_EVERY)

    def fetch(self, side: str, record_type: str, external_id: str) -> Remote | None:
        """One record by id; None when the tool no longer has it."""
        ctx = self.ctx.sides[side]
        try:
            return ctx.retrier.call(ctx.connector.get, ctx.scope, record_type, external_id)
        except PermanentError:
            return None

    def fetch_all(self, side: str, record_type: str, ids: Iterable[str]) -> Iterator[Remote]:
        """Each record by id; one that is gone comes as a deletion."""
        for external_id in ids:
            yield self.fetch(side, record_type, external_id) or Remote(
                id=external_id, updated=None, item=None, deleted=True)

    # -- classification: what changed for real --------------------------------------------
    def classified(self, side: str, record_type: str) -> Iterator[tuple[list[Remote], list[Seen]]]:
        """The side's listing a page at a time, each with its records classified. A page's ledger
        lookup starts once it is listed and runs (on PostgreSQL) while the next page is listed:
        only for a listing with nothing applied in between, as a side read before any is."""
        run, waiting = self.ctx, None
        for page in chunks(self.listing(side, record_type), PAGE):
            page = _latest(page)
            found = run.store.links_by_ids_ahead(run.flow.name, record_type, side, [r.id for r in page])
            if waiting is not None:
                yield waiting[0], self.classify(side, record_type, waiting[0], links=waiting[1]())
            waiting = (page, found)
        if waiting is not None:
            yield waiting[0], self.classify(side, record_type, waiting[0], links=waiting[1]())

    def classify(self, side: str, record_type: str, page: list[Remote],
                 links: dict[str, Link] | None = None) -> list[Seen]:
        """The records of ``page`` that changed for real; ``links``: the page's, looked up already."""
        run = self.ctx
        page = _latest(page)
        if links is None:
            links = run.store.links_by_ids(run.flow.name, record_type, side, [r.id for r in page])
        stats = run.stats(side)
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
            seen = inbound(run, side, record_type, remote, link)
            if link is not None and seen.fp == link.fp_on(side):
                stats.unchanged += 1  # an echo of our own write, or a change to unsynced fields
                versions.append(link.with_side(side, version=remote.version))
                continue
            if link is None:
                seen.unlinked_as_of = run.store.links_stored
                seen.eligible = passes_filter(run, record_type, seen)
                if not seen.eligible:
                    run.excluded.add((side, record_type, remote.id))
            out.append(seen)
        if versions and not run.dry_run:
            with run.store.transaction() as conn:
                run.store.write_links(conn, versions)
        return out


def _latest(page: list[Remote]) -> list[Remote]:
    if len({remote.id for remote in page}) < len(page):
        # The same record twice (edited while listed): its latest state stands for both.
        return list({remote.id: remote for remote in page}.values())
    return page


def inbound(run: RunContext, side: str, record_type: str, remote: Remote, link: Link | None) -> Seen:
    """A record as its tool gave it -> the flow's canonical values, snapshot and fingerprint."""
    assert remote.item is not None
    values = run.policies[record_type].inbound(remote.item.model_dump(mode="json"))
    values = run.mapping.inbound(record_type, side, values)
    synced = {name: values.get(name) for name in run.fields[record_type]}
    snapshot = snapshot_json(synced)
    return Seen(side, remote, link, values, synced, snapshot, fingerprint(snapshot))


def passes_filter(run: RunContext, record_type: str, seen: Seen) -> bool:
    rules = run.flow.filter
    if rules is None:
        return True
    labels = set(seen.values.get("labels") or [])
    if rules.labels and run.policies[record_type].filtered_by_labels and not set(rules.labels) & labels:
        return False
    known = run.model_fields[record_type]
    return all(seen.values.get(name) not in (None, "", []) for name in rules.present if name in known)
