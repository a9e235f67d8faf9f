"""A refusal that gives no wait but whose service documents a floor (GitHub's secondary rate
limits: at least a minute, then exponentially longer): the retry policy and the classification."""

from __future__ import annotations

import pytest

from hub.engine.retry import Retrier, RetryBudget
from hub.errors import AuthError, BudgetExhausted, TransientError, error_for_status
from tests.engine.test_retry import Tool, failing


def retrier(budget: RetryBudget | None = None) -> tuple[Retrier, list[float]]:
    slept: list[float] = []
    return Retrier(Tool(), budget or RetryBudget(initial=0.01, cap=0.1), sleep=slept.append), slept


def refusal(floor: float, **headers: str) -> TransientError:
    error = error_for_status(403, "You have exceeded a secondary rate limit", headers,
                             rate_limited=True, wait_at_least=floor)
    assert isinstance(error, TransientError)
    return error


def test_the_floor_is_waited_first_then_doubled_on_each_further_refusal() -> None:
    retry, slept = retrier()

    assert retry.call(failing([refusal(2), refusal(2), refusal(2)])) == "ok"

    assert slept == [2.0, 4.0, 8.0]


def test_retry_after_wins_over_the_floor() -> None:
    error = refusal(60, **{"Retry-After": "3"})
    retry, slept = retrier()

    retry.call(failing([error]))

    assert (error.retry_after, error.wait_at_least) == (3.0, None)
    assert slept == [3.0]


def test_a_spent_quota_waits_for_its_reset_not_the_floor() -> None:
    import time

    error = refusal(60, **{"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(time.time()) + 5)})

    assert error.wait_at_least is None and error.retry_after is not None and error.retry_after <= 5


def test_the_floor_never_undercuts_the_ordinary_backoff() -> None:
    retry, slept = retrier(RetryBudget(initial=5, cap=30))

    retry.call(failing([refusal(0.1)]))

    assert 5.0 <= slept[0] <= 10.0


def test_a_doubled_wait_past_the_longest_single_wait_stops_the_connection_for_the_run() -> None:
    retry, slept = retrier(RetryBudget(initial=0.01, cap=0.1, max_single_wait=100))

    with pytest.raises(BudgetExhausted, match="asked to wait 120s"):
        retry.call(failing([refusal(60), refusal(60)]))

    assert slept == [60.0]


def test_the_run_budget_bounds_the_waits() -> None:
    retry, slept = retrier(RetryBudget(initial=0.01, cap=0.1, max_wait=5, attempts=10))

    with pytest.raises(BudgetExhausted, match="retry budget"):
        retry.call(failing([refusal(1)] * 9))

    assert slept == [1.0, 2.0]


def test_a_403_the_connector_recognised_as_a_rate_limit_is_transient_not_auth() -> None:
    assert isinstance(error_for_status(403, "secondary", {"x-ratelimit-remaining": "4999"},
                                       rate_limited=True), TransientError)
    assert isinstance(error_for_status(403, "Resource not accessible by integration",
                                       {"x-ratelimit-remaining": "4999"}), AuthError)
