"""The one retry policy: tenacity, exponential backoff with jitter, Retry-After and rate-limit
reset honoured, within a per-connection budget for the run.

Reads and updates are retried as they are. A create is never blindly re-sent: after a transient
failure the next attempt first looks for the record by its marker (the write may have happened
and only the reply been lost).

The waits are tenacity's: ``wait_exponential`` plus ``wait_random`` jitter, wrapped in
``RetryAfterWait``, which uses the wait the service asked for instead when the error carries one,
and a documented floor doubled on each refusal when the error carries only that (GitHub's
secondary rate limits).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception_type,
    retry_if_not_exception_type,
    stop_after_attempt,
    wait_exponential,
    wait_random,
)
from tenacity.wait import wait_base

from hub.connector import Connector
from hub.engine.request_budget import RequestBudget, SharedBudget
from hub.errors import DATA_ERRORS, BudgetExhausted, TransientError, unreadable

T = TypeVar("T")


@dataclass
class RetryBudget:
    """Limits for one connection in one run; when spent, the connection waits for the next run."""

    attempts: int = 5
    max_retries: int = 50
    max_wait: float = 300.0
    #: Longest single wait honoured (a reset hours away ends the run for this connection instead).
    max_single_wait: float = 120.0
    initial: float = 0.5
    cap: float = 30.0

    def backoff(self) -> wait_base:
        """``initial * 2**(attempt - 1)`` capped at ``cap``, plus up to ``initial`` of jitter."""
        return wait_exponential(multiplier=self.initial, max=self.cap) + wait_random(0, self.initial)


class RetryAfterWait(wait_base):
    """The wait the service asked for, else ``otherwise``; never longer than ``longest``.

    A ``TransientError`` carries ``retry_after`` when the reply said how long to wait: its
    ``Retry-After`` header, or the time until a spent rate limit resets (``hub.errors``
    reads both). Waiting less would only earn another refusal. Without one, an error may carry
    ``wait_at_least``, a documented floor: the first refusal waits that long, each further refusal
    of the same call twice the previous wait (``at_least * 2**(attempt - 1)``, or ``otherwise``
    when that is longer). A wait longer than ``longest`` raises ``BudgetExhausted``: the
    connection stops for this run instead of sleeping for it.
    """

    def __init__(self, otherwise: wait_base, *, longest: float, connection: str) -> None:
        self.otherwise = otherwise
        self.longest = longest
        self.connection = connection

    def __call__(self, retry_state: RetryCallState) -> float:
        error = retry_state.outcome.exception() if retry_state.outcome is not None else None
        hinted = error.retry_after if isinstance(error, TransientError) else None
        floor = error.wait_at_least if isinstance(error, TransientError) else None
        if hinted is not None:
            wait = float(hinted)
        elif floor is not None:
            doubled = float(floor) * 2 ** (max(1, retry_state.attempt_number) - 1)
            wait = max(doubled, float(self.otherwise(retry_state)))
        else:
            wait = float(self.otherwise(retry_state))
        if wait > self.longest:
            raise BudgetExhausted(
                f"{self.connection}: asked to wait {wait:.0f}s, more than the "
                f"{self.longest:.0f}s a run waits", retry_after=wait)
        return wait


class Retrier:
    """Retries one connection's calls, counting what the run spent against its ``RetryBudget``."""

    def __init__(self, connector: Connector, budget: RetryBudget | None = None,
                 sleep: Callable[[float], None] = time.sleep, *, shared: SharedBudget | None = None) -> None:
        self.connector = connector
        self.budget = budget or RetryBudget()
        self.sleep = sleep
        #: The tool's quota and the connection's ceiling (cluster-wide when ``shared`` is given).
        self.quota = RequestBudget(connector, shared, longest_wait=self.budget.max_single_wait, sleep=sleep)
        self.retries = 0
        self.waited = 0.0
        self.wait = RetryAfterWait(self.budget.backoff(), longest=self.budget.max_single_wait,
                                     connection=connector.name)

    def call(self, fn: Callable[..., T], *args: object) -> T:
        """Call an idempotent operation, retrying transient failures."""
        for attempt in self._retrying():
            with attempt:
                self._respect_rate_limit()
                try:
                    return fn(*args)
                except DATA_ERRORS as error:
                    raise unreadable(self.connector.name, error) from None
                finally:
                    self.quota.noticed()
        raise AssertionError("unreachable")  # pragma: no cover

    def _retrying(self) -> Retrying:
        return Retrying(
            # A spent budget is final for this run: re-raised as it is, never retried.
            retry=retry_if_exception_type(TransientError) & retry_if_not_exception_type(BudgetExhausted),
            stop=stop_after_attempt(self.budget.attempts),
            wait=self.wait,
            sleep=self._sleep,
            reraise=True,
        )

    def pause(self, error: TransientError, attempt: int) -> None:
        """Wait before attempt ``attempt + 1`` of something not retried through ``call`` (a listing
        restarted after a failed page); re-raise when attempts or the budget are spent."""
        self.quota.noticed()
        if isinstance(error, BudgetExhausted) or attempt >= self.budget.attempts:
            raise error
        state = RetryCallState(self._retrying(), None, (), {})
        state.attempt_number = attempt
        state.set_exception((type(error), error, error.__traceback__))
        self._sleep(self.wait(state))

    def _sleep(self, seconds: float) -> None:
        self.retries += 1
        self.waited += seconds
        if self.retries > self.budget.max_retries or self.waited > self.budget.max_wait:
            raise BudgetExhausted(
                f"{self.connector.name}: retry budget for this run spent ({self.retries - 1} retries, "
                f"{self.waited - seconds:.0f}s waited); the rest waits for the next run")
        self.sleep(seconds)

    def _respect_rate_limit(self) -> None:
        """Pause before a call when the tool said the quota is gone until a reset time (in queue
        mode: said so to any worker)."""
        wait = self.quota.wait_before_call()
        if wait <= 0:
            return
        if wait > self.budget.max_single_wait or self.waited + wait > self.budget.max_wait:
            raise BudgetExhausted(f"{self.connector.name}: rate limit resets in {wait:.0f}s; "
                                  "the rest waits for the next run", retry_after=wait)
        self.waited += wait
        self.sleep(wait)
        self.quota.waited()
