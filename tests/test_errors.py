"""The one place HTTP statuses become retriable, permanent or auth errors."""

from __future__ import annotations

import pytest

from hub.errors import AuthError, PermanentError, TransientError, error_for_status, retry_after_seconds


@pytest.mark.parametrize(("status", "headers", "kind"), [
    (429, {}, TransientError), (500, {}, TransientError), (502, {}, TransientError),
    (503, {}, TransientError), (408, {}, TransientError),
    (403, {"X-RateLimit-Remaining": "0"}, TransientError), (403, {"Retry-After": "3"}, TransientError),
    (401, {}, AuthError), (403, {}, AuthError),
    (400, {}, PermanentError), (404, {}, PermanentError), (410, {}, PermanentError),
    (422, {}, PermanentError),
])
def test_statuses_are_classified(status, headers, kind):
    assert type(error_for_status(status, "x", headers)) is kind


def test_retry_after_in_seconds_or_http_date_or_reset_when_quota_is_gone():
    assert retry_after_seconds({"Retry-After": "7"}) == 7
    assert retry_after_seconds({"Retry-After": "Wed, 21 Oct 2015 07:28:10 GMT"}, now=1445412480) == 10
    gone = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": "1445412490"}
    assert retry_after_seconds(gone, now=1445412480) == 10
    # A reset time while quota remains is no reason to wait (GitHub sends it on every reply).
    left = {"x-ratelimit-remaining": "4999", "x-ratelimit-reset": "1445412490"}
    assert retry_after_seconds(left, now=1445412480) is None
