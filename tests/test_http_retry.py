"""The retry policy: exponential, jittered, capped, bounded; only transient errors retried."""

import random

import requests

from sheets.http import RetryPolicy, is_retryable


def test_backoff_grows_exponentially_with_bounded_jitter_and_a_cap():
    policy = RetryPolicy(base_seconds=1, cap_seconds=32, jitter_seconds=1)
    rng = random.Random(1)
    for retry in range(1, 9):
        waits = [policy.wait(retry, rng) for _ in range(50)]
        low = min(2 ** (retry - 1), 32)
        assert all(low <= w <= min(low + 1, 32) for w in waits), retry
    assert len({round(policy.wait(1, rng), 6) for _ in range(20)}) > 1  # jitter varies


def test_only_transient_errors_are_retried():
    from gspread.exceptions import APIError

    def api_error(code):
        response = requests.Response()
        response.status_code = code
        response._content = b'{"error": {"code": %d, "message": "x", "status": "X"}}' % code
        return APIError(response)

    assert all(is_retryable(api_error(c)) for c in (408, 429, 500, 502, 503, 504))
    assert not any(is_retryable(api_error(c)) for c in (400, 403, 404))
    assert is_retryable(requests.exceptions.ReadTimeout())
    assert is_retryable(requests.exceptions.ConnectionError())
    assert not is_retryable(ValueError())


def test_rate_limiter_holds_the_rate_after_the_burst():
    from sheets.http import RateLimiter

    now = [0.0]
    waits = []

    def sleep(seconds):
        waits.append(seconds)
        now[0] += seconds

    limiter = RateLimiter(per_minute=60, burst=5, clock=lambda: now[0], sleep=sleep)
    for _ in range(5):
        limiter.acquire()
    assert waits == []  # the burst goes at once
    for _ in range(10):
        limiter.acquire()
    assert abs(now[0] - 10.0) < 1e-6  # then one request a second: 60 a minute
