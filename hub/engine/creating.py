"""Sending one create, and what to do when its outcome is unknown.

A create that the service refused (429, a rate limit saying how long to wait, 408) did not happen
and is sent again after the wait. Any other transient failure once the request went out (a
timeout, a dropped connection, a 5xx) is ambiguous: the service may have written the record, or
may still be writing it. Such a create is never re-sent blind. The record is looked for by its
marker, a few times over a bounded settling window (the connection's client timeout plus a
margin, counted from when the request was sent), long enough for a slow write to land. If it is
still absent the create stays pending: its intent is kept, and a later run looks for the marker
again before deciding to create.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from hub.connector import Remote
from hub.engine.context import Side
from hub.errors import DATA_ERRORS, BudgetExhausted, PmhubError, TransientError, unreadable

#: Polls for the marker start this far apart and double up to the window's end.
FIRST_POLL = 0.25


class _Ambiguous(PmhubError):
    """A create that may have happened (not a TransientError, so the retry policy leaves it alone)."""

    def __init__(self, error: TransientError) -> None:
        super().__init__(str(error))
        self.error = error


def refused(error: TransientError) -> bool:
    """Whether the service said no before doing anything (so sending again cannot duplicate)."""
    return (error.status in (408, 425, 429) or error.retry_after is not None
            or error.wait_at_least is not None)


def settle_window(side: Side) -> float:
    """Seconds after sending within which a write the client gave up on is expected to land."""
    timeout = float(getattr(side.connector.settings, "timeout", 0) or 0)
    return timeout + max(2.0, timeout / 2)


class Creator:
    def __init__(self, side: Side, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.side = side
        self.clock = clock
        #: Whether the record came from a marker search rather than the create's reply.
        self.settled = False

    def create(self, record_type: str, item: Any, marker: str, *, sent_at: float | None = None) -> Remote:
        """Create, retrying refusals; an ambiguous failure is settled by marker (``settle``).

        ``sent_at``: the create was already sent (part of a bulk create that failed) at this
        moment, with an unknown outcome: it is settled instead of being sent again.
        """
        if sent_at is not None:
            return self.settle(record_type, marker, sent_at, None)
        started = self.clock()
        try:
            return self.side.retrier.call(self._send, record_type, item, marker)
        except _Ambiguous as ambiguous:
            return self.settle(record_type, marker, started, ambiguous.error)

    def _send(self, record_type: str, item: Any, marker: str) -> Remote:
        side = self.side
        try:
            return side.connector.create(side.scope, record_type, item, marker)
        except BudgetExhausted:
            raise
        except TransientError as error:
            if refused(error):
                raise
            raise _Ambiguous(error) from error
        except DATA_ERRORS as error:
            raise unreadable(side.connector.name, error) from None

    def settle(self, record_type: str, marker: str, sent_at: float, error: TransientError | None) -> Remote:
        """The record carrying ``marker``, looked for until the settling window ends; a
        ``TransientError`` (the create stays pending) when it has not appeared by then."""
        side, retrier = self.side, self.side.retrier
        deadline = sent_at + settle_window(side)
        pause = FIRST_POLL
        while True:
            found = retrier.call(side.connector.find_by_marker, side.scope, record_type, marker)
            if found is not None:
                self.settled = True
                return found
            left = deadline - self.clock()
            if left <= 0:
                break
            wait = min(pause, left)
            if retrier.waited + wait > retrier.budget.max_wait:
                raise BudgetExhausted(f"{side.connection}: retry budget for this run spent while waiting "
                                      "for a create to land; the rest waits for the next run")
            retrier.waited += wait
            retrier.sleep(wait)
            pause *= 2
        cause = f" after {error}" if error is not None else ""
        raise TransientError(
            f"{side.connection}: a {record_type} create's outcome is unknown{cause}: no record with "
            f"marker {marker} appeared within {settle_window(side):.0f}s; a later run looks again "
            "before creating", status=error.status if error is not None else None)
