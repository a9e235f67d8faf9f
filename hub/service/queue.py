"""The coalescing queue of targeted syncs: webhook deliveries in, batches of record ids out.

A record is one key, (flow, record type, side, id); however many deliveries name it, it waits
once. It is due when its deliveries have paused for ``quiet`` seconds (a burst of twenty edits to
one issue becomes one sync), or ``max_delay`` seconds after the first (a record edited without
pause still syncs). While its sync runs, a new delivery queues it again: at most one more sync.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Target:
    """One record of one flow side that a delivery named."""

    flow: str
    record_type: str
    side: str
    external_id: str


@dataclass(slots=True)
class Waiting:
    """A queued record: when its deliveries came, the earliest edit they named, tries so far."""

    first: float
    last: float
    edited: dt.datetime | None
    #: Not due before this (monotonic seconds): a retry waits for another process's run.
    not_before: float = 0.0
    attempts: int = 0


class CoalescingQueue:
    def __init__(self, *, quiet: float, max_delay: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.quiet, self.max_delay, self.clock = quiet, max_delay, clock
        self._waiting: dict[Target, Waiting] = {}
        self._changed = threading.Condition()

    def add(self, target: Target, edited: dt.datetime | None = None) -> None:
        now = self.clock()
        with self._changed:
            entry = self._waiting.get(target)
            if entry is None:
                self._waiting[target] = Waiting(now, now, edited)
            else:
                entry.last = now
                if edited is not None and (entry.edited is None or edited < entry.edited):
                    entry.edited = edited
            self._changed.notify_all()

    def retry_later(self, target: Target, entry: Waiting, delay: float) -> None:
        """Queue a record again after ``delay`` seconds, keeping its edit time and counting the try."""
        now = self.clock()
        with self._changed:
            current = self._waiting.get(target)
            if current is None:
                self._waiting[target] = Waiting(entry.first, now, entry.edited, now + delay,
                                                entry.attempts + 1)
            else:
                current.attempts = max(current.attempts, entry.attempts + 1)
            self._changed.notify_all()

    def take_due(self) -> dict[Target, Waiting]:
        """Remove and return every record whose wait is over."""
        now = self.clock()
        with self._changed:
            due = {t: e for t, e in self._waiting.items() if self._due_at(e) <= now}
            for target in due:
                del self._waiting[target]
            return due

    def seconds_to_next(self) -> float | None:
        """Seconds until the next record is due (0 when one is), None when nothing waits."""
        with self._changed:
            if not self._waiting:
                return None
            return max(0.0, min(self._due_at(e) for e in self._waiting.values()) - self.clock())

    def wait(self, timeout: float) -> None:
        """Sleep up to ``timeout`` seconds; wake early when a record is added or ``wake`` is called."""
        with self._changed:
            self._changed.wait(timeout)

    def wake(self) -> None:
        with self._changed:
            self._changed.notify_all()

    def __len__(self) -> int:
        with self._changed:
            return len(self._waiting)

    def _due_at(self, entry: Waiting) -> float:
        return max(min(entry.last + self.quiet, entry.first + self.max_delay), entry.not_before)
