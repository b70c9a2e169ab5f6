"""The retry policy: exponential, jittered, capped, bounded; only transient errors retried."""

import random

import pytest
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


def test_the_limiter_counts_reads_writes_and_drive_apart_per_user_and_per_project():
    """Google's buckets: a Sheets GET is a read, any other Sheets call a write, any Drive call
    Drive's; each waits only for its own bucket, for its own account and for the project."""
    from sheets.quota import MemoryCounters, QuotaLimiter, bucket_of
    from tonghop.quota import Quota

    assert bucket_of("get", "https://sheets.googleapis.com/v4/spreadsheets/x") == "sheets_read"
    assert bucket_of("post", "https://sheets.googleapis.com/v4/spreadsheets/x:batchUpdate") == (
        "sheets_write"
    )
    assert bucket_of("get", "https://www.googleapis.com/drive/v3/files") == "drive"
    assert bucket_of("post", "https://www.googleapis.com/drive/v3/files/x/permissions") == "drive"

    now = [0.0]

    def sleep(seconds):
        now[0] += seconds

    quota = Quota(
        sheets_read_per_user=11,
        sheets_read_per_project=21,
        sheets_write_per_user=11,
        window_seconds=10,
        margin_seconds=0,
    )
    counters = MemoryCounters(clock=lambda: now[0])
    alice = QuotaLimiter(quota, "alice", counters, sleep)
    bob = QuotaLimiter(quota, "bob", counters, sleep)
    alice.acquire("sheets_read")
    alice.acquire("sheets_write")  # another bucket: no wait
    alice.acquire("drive")
    bob.acquire("sheets_read")  # another account: no wait for alice's read, but the project's
    assert now[0] == pytest.approx(0.5, abs=0.02)  # the project's interval: 10 s / (21 - 1)
    alice.acquire("sheets_read")  # alice's own interval: 10 s / (11 - 1) after her first
    assert now[0] == pytest.approx(1.0, abs=0.02)
    assert alice.calls == {"sheets_read": 2, "sheets_write": 1, "drive": 1}


def test_a_task_takes_next_the_account_whose_quota_frees_up_first():
    """Several tasks taking the accounts in the same order would queue together on one account
    while the others idle; each task instead takes next an item of the account that may call
    soonest, each account's items in their order."""
    from sheets.quota import MemoryCounters, QuotaLimiter, soonest_first
    from tonghop.quota import Quota

    now = [0.0]
    quota = Quota(sheets_read_per_user=11, window_seconds=10, margin_seconds=0)
    counters = MemoryCounters(clock=lambda: now[0])
    limiters = {a: QuotaLimiter(quota, a, counters, lambda s: None) for a in ("a", "b")}
    limiters["a"].acquire("sheets_read")  # another task just used account a: a waits 1 s
    items = [("a", 1), ("b", 1), ("a", 2), ("b", 2)]
    order = []
    for item in soonest_first(items, lambda i: i[0], limiters.get, "sheets_read"):
        order.append(item)
        limiters[item[0]].counters.take(limiters[item[0]]._intervals["sheets_read"])
    assert order[0] == ("b", 1)
    assert [i for i in order if i[0] == "a"] == [("a", 1), ("a", 2)]  # each account's order kept
    # without a quota (no limiter), or with one account, the order is the given one
    assert list(soonest_first(items, lambda i: i[0], lambda a: None, "sheets_read")) == items
