"""A connection's request budget: the quota the tool reports, and the ceiling the config may set.

The quota: a tool that says its quota is spent (``Connector.rate_limit``: nothing remaining until
``reset_at``) gets no call before the reset. The ceiling: a connection's ``requests_per_minute``
spaces its requests evenly, ``60 / requests_per_minute`` seconds apart, so that no minute holds
more (a burst allowance would let a minute hold more, and tools count in windows shorter than a
minute, e.g. Trello's ten seconds).

In one process both live in memory and cost no round trip. In queue mode a ``SharedBudget`` (in the
state store, ``hub.queue.pacing``) makes them hold for every worker: a worker that learns the quota
is spent writes when it resets, the others read that at most once a second before their calls, and
the ceiling's turns come from one row per connection.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol

from hub.connector import Connector

#: How often a worker reads what the others learnt about the quota (seconds).
CONSULT_EVERY = 1.0


class SharedBudget(Protocol):
    """One connection's budget as every worker of a cluster sees it."""

    def spent_until(self) -> float:
        """When a spent quota resets (epoch seconds); 0.0 when no worker knows of one."""

    def note_spent(self, until: float) -> None:
        """A reply said the quota is spent until ``until`` (epoch seconds): tell every worker."""

    def take_turn(self, spacing: float) -> float:
        """Reserve the connection's next request slot ``spacing`` after the one before; return
        when it is (epoch seconds)."""


class LocalTurns:
    """The ceiling's turns in one process: the next free slot, in memory."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.next_at = 0.0

    def take_turn(self, spacing: float) -> float:
        slot = max(self.clock(), self.next_at)
        self.next_at = slot + spacing
        return slot


class RequestBudget:
    """What one connection may spend now, consulted by its ``Retrier``.

    ``wait_before_call()`` is how long the next call must wait for a spent quota; ``noticed()``
    after each reply passes a spent quota on to the other workers. In queue mode, and whenever a
    ceiling is configured, ``before_request`` also runs before every request the connector counts
    (``CallCounter.before_each``: each connector counts a request as it makes it, a listing's pages
    too), so a worker in the middle of a listing stops for a quota another worker saw spent.
    """

    def __init__(self, connector: Connector, shared: SharedBudget | None = None, *,
                 longest_wait: float = 120.0, clock: Callable[[], float] = time.time,
                 monotonic: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep,
                 consult_every: float = CONSULT_EVERY) -> None:
        self.connector, self.shared, self.longest_wait = connector, shared, longest_wait
        self.clock, self.monotonic, self.sleep, self.consult_every = clock, monotonic, sleep, consult_every
        self._cluster_until = 0.0
        self._consulted_at: float | None = None
        self._told = 0.0
        per_minute = getattr(connector.settings, "requests_per_minute", None)
        self.spacing = 60.0 / per_minute if per_minute else 0.0
        self._turns = shared if shared is not None else LocalTurns(clock)
        if self.spacing or shared is not None:
            connector.calls.before_each = self.before_request

    def wait_before_call(self) -> float:
        """Seconds until the quota resets, as this connection last heard or, in queue mode, as any
        worker did (read again at most once every ``consult_every`` seconds); 0 when not spent."""
        until = self._own_spent_until()
        if self.shared is not None:
            now = self.monotonic()
            if self._consulted_at is None or now - self._consulted_at >= self.consult_every:
                self._consulted_at = now
                self._cluster_until = self.shared.spent_until()
            until = max(until, self._cluster_until)
        return max(0.0, until - self.clock())

    def waited(self) -> None:
        """The wait is over: the quota is new, whatever the last reply said."""
        self.connector.rate_limit.remaining = None

    def noticed(self) -> None:
        """After a reply: a quota it said is spent is written for every worker (once per reset)."""
        if self.shared is None:
            return
        until = self._own_spent_until()
        if until > self._told and until > self.clock():
            self.shared.note_spent(until)
            self._told = until
            self._cluster_until = max(self._cluster_until, until)

    def before_request(self, requests: int = 1) -> None:
        """Wait out a spent quota (in queue mode: one any worker saw), then the ceiling's turn.

        A quota that resets later than ``longest_wait`` is not slept for here: the request goes,
        the tool refuses it, and the retry policy ends the run for this connection.
        """
        if self.shared is not None:
            wait = self.wait_before_call()
            if 0 < wait <= self.longest_wait:
                self.sleep(wait)
                self.waited()
        if self.spacing:
            turn = self._turns.take_turn(self.spacing * requests) - self.clock()
            if turn > 0:
                self.sleep(turn)

    def _own_spent_until(self) -> float:
        limit = self.connector.rate_limit
        if limit.remaining is None or limit.remaining > 0 or limit.reset_at is None:
            return 0.0
        return limit.reset_at.timestamp()
