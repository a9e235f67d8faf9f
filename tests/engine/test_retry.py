"""The retry policy: tenacity's backoff, the service's own Retry-After or reset time, the run's budget."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator

import pytest

from hub.connector import Capability, ConnectionSettings, Connector, Remote
from hub.engine.retry import Retrier, RetryBudget
from hub.errors import BudgetExhausted, TransientError, error_for_status
from hub.model import CanonicalRecord


class Tool(Connector):
    """A tool whose creates fail with the errors queued in ``failures``; a lost reply still writes."""

    plugin = "retry-test"
    record_types = {"issue": frozenset({Capability.READ, Capability.WRITE})}

    def __init__(self) -> None:
        super().__init__("tool", ConnectionSettings(plugin="retry-test"))
        self.failures: list[TransientError] = []
        self.stored: dict[str, Remote] = {}
        self.creates = 0

    def create(self, scope: str, record_type: str, item: CanonicalRecord, marker: str) -> Remote:
        self.creates += 1
        remote = Remote(id=str(len(self.stored) + 1), updated=None, item=item, marker=marker)
        self.stored[marker] = remote
        if self.failures:
            raise self.failures.pop(0)  # written, but the reply never arrived
        return remote

    def find_by_marker(self, scope: str, record_type: str, marker: str) -> Remote | None:
        return self.stored.get(marker)

    def list_changed(self, scope: str, record_type: str, since: dt.datetime | None) -> Iterator[Remote]:
        return iter(self.stored.values())

    def get(self, scope: str, record_type: str, external_id: str) -> Remote | None:
        return None

    def update(self, scope: str, record_type: str, external_id: str, item: CanonicalRecord,
               changed: frozenset[str]) -> Remote:
        raise NotImplementedError


def retrier(budget: RetryBudget | None = None) -> tuple[Retrier, list[float]]:
    slept: list[float] = []
    return Retrier(Tool(), budget or RetryBudget(), sleep=slept.append), slept


def failing(errors: list[Exception], result: str = "ok") -> Callable[[], str]:
    def call() -> str:
        if errors:
            raise errors.pop(0)
        return result
    return call


def test_the_wait_a_service_asks_for_is_what_is_waited() -> None:
    retry, slept = retrier()

    result = retry.call(failing([TransientError("429", status=429, retry_after=3),
                                 TransientError("503", status=503, retry_after=0.25)]))

    assert result == "ok" and slept == [3.0, 0.25]
    assert (retry.retries, retry.waited) == (2, 3.25)


def test_a_spent_rate_limit_is_waited_out_until_its_reset_header() -> None:
    retry, slept = retrier()
    reset = time.time() + 20
    error = error_for_status(403, "rate limited", {"X-RateLimit-Remaining": "0",
                                                   "X-RateLimit-Reset": str(int(reset))})

    retry.call(failing([error]))

    assert isinstance(error, TransientError) and len(slept) == 1
    assert 18 <= slept[0] <= 20


def test_without_a_hint_the_backoff_doubles_with_jitter_up_to_the_cap() -> None:
    retry, slept = retrier(RetryBudget(attempts=6, initial=1.0, cap=4.0))

    retry.call(failing([TransientError("flaky") for _ in range(5)]))

    floors = [1.0, 2.0, 4.0, 4.0, 4.0]
    assert len(slept) == 5
    assert all(floor <= wait <= floor + 1.0 for floor, wait in zip(floors, slept, strict=True)), slept


def test_attempts_are_limited_and_the_last_error_comes_back_as_it_was() -> None:
    retry, slept = retrier(RetryBudget(attempts=3, initial=0.01))
    last = TransientError("still down", status=503)

    with pytest.raises(TransientError) as caught:
        retry.call(failing([TransientError("down"), TransientError("down"), last]))

    assert caught.value is last and len(slept) == 2


def test_a_wait_longer_than_a_run_affords_stops_the_connection_without_sleeping() -> None:
    retry, slept = retrier(RetryBudget(max_single_wait=60))

    with pytest.raises(BudgetExhausted) as caught:
        retry.call(failing([TransientError("come back in an hour", status=429, retry_after=3600)]))

    assert slept == [] and caught.value.retry_after == 3600
    assert "tool" in str(caught.value) and "3600s" in str(caught.value)


def test_the_budget_is_shared_by_every_call_of_the_run() -> None:
    retry, slept = retrier(RetryBudget(max_retries=3, initial=0.01))

    retry.call(failing([TransientError("a"), TransientError("b")]))
    with pytest.raises(BudgetExhausted, match="retry budget for this run spent"):
        retry.call(failing([TransientError("c"), TransientError("d")]))

    assert len(slept) == 3
    retry, _ = retrier(RetryBudget(max_wait=5))
    with pytest.raises(BudgetExhausted):
        retry.call(failing([TransientError("x", retry_after=3) for _ in range(2)]))


def test_a_spent_budget_is_never_retried() -> None:
    retry, slept = retrier()
    calls: list[int] = []

    def spent() -> str:
        calls.append(1)
        raise BudgetExhausted("spent elsewhere")

    with pytest.raises(BudgetExhausted):
        retry.call(spent)
    assert calls == [1] and slept == []


def test_a_restarted_listing_pauses_by_the_same_rules() -> None:
    retry, slept = retrier(RetryBudget(attempts=3, initial=1.0, cap=30.0))

    retry.pause(TransientError("page 3 failed", retry_after=2), 1)
    retry.pause(TransientError("page 3 failed again"), 2)

    assert slept[0] == 2.0 and 2.0 <= slept[1] <= 3.0
    with pytest.raises(TransientError):
        retry.pause(TransientError("and again"), 3)  # attempts spent
    with pytest.raises(BudgetExhausted):
        retry.pause(TransientError("in an hour", retry_after=3600), 1)


def test_a_quota_reported_gone_is_waited_for_before_the_next_call() -> None:
    retry, slept = retrier()
    limit = retry.connector.rate_limit
    limit.remaining, limit.reset_at = 0, dt.datetime.now(dt.UTC) + dt.timedelta(seconds=10)

    retry.call(failing([]))

    assert len(slept) == 1 and 8 <= slept[0] <= 10 and limit.remaining is None
    limit.remaining, limit.reset_at = 0, dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    with pytest.raises(BudgetExhausted, match="rate limit resets"):
        retry.call(failing([]))
