"""Where a side's cursor may move after a run (or a page) of its listing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from hub.connector import Remote
from hub.engine.context import Seen

#: A side that had nothing to list gets a cursor this long before the run began: with no record
#: to take a timestamp from, the local clock stands in, with room for clock skew and search lag.
EMPTY_LISTING_MARGIN = dt.timedelta(minutes=10)


class CursorTracker:
    """The newest ``updated`` seen on a side, held back before any record that was not applied."""

    def __init__(self, current: dt.datetime | None, empty_floor: dt.datetime) -> None:
        self.current = current
        self.empty_floor = empty_floor
        self.newest: dt.datetime | None = None
        #: id -> ``updated`` of each record seen but not applied, which the cursor must not pass.
        self.held: dict[str, dt.datetime] = {}

    def saw(self, page: Iterable[Remote]) -> None:
        for remote in page:
            if remote.updated is not None and (self.newest is None or remote.updated > self.newest):
                self.newest = remote.updated

    def failed(self, seen: Iterable[Seen], failed_ids: set[str]) -> None:
        for item in seen:
            if item.id in failed_ids and item.remote.updated is not None:
                self.held[item.id] = item.remote.updated

    def release(self, still_failed: set[str]) -> None:
        """Records applied later in the run (children that waited for their parent) hold nothing
        back any more: only ``still_failed`` do."""
        self.held = {external_id: at for external_id, at in self.held.items() if external_id in still_failed}

    @property
    def oldest_failed(self) -> dt.datetime | None:
        return min(self.held.values()) if self.held else None

    def value(self, *, complete: bool) -> dt.datetime | None:
        """The cursor to store, or None to keep the current one.

        ``complete``: the listing reached its end with nothing left unapplied, so nothing older than
        the run's start (less a margin for clock skew and search lag) can still be unseen; the cursor
        moves there even when the listing was empty. Mid-listing, only what was seen counts.
        """
        candidate, oldest_failed = self.newest, self.oldest_failed
        if oldest_failed is not None:
            candidate = oldest_failed if candidate is None else min(candidate, oldest_failed)
        elif complete:
            candidate = self.empty_floor if candidate is None else max(candidate, self.empty_floor)
        if candidate is None or (self.current is not None and candidate <= self.current):
            return None
        return candidate
