"""Rate limiting and retries for Google's quotas and bad minutes, in the HTTP client layer.

``RetryingHTTPClient`` is a gspread ``HTTPClient`` that retries a request answered 429 (quota),
408 or 5xx, or lost to a timeout or a dropped connection, with truncated exponential backoff and
random jitter as Google recommends: wait ``min(base * 2**n + jitter, cap)`` before try n+1, for
a bounded number of tries. Any other error (400, 403, 404) is raised at once.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gspread.exceptions import APIError
from gspread.http_client import HTTPClient
from requests import Response
from requests.exceptions import ConnectionError as RequestsConnectionError
from requests.exceptions import Timeout

log = logging.getLogger(__name__)

RETRY_STATUS = {408, 429, 500, 502, 503, 504}


class RateLimiter:
    """At most ``per_minute`` requests in any minute, spread out by a token bucket.

    The token bucket (bursts of ``burst``, then ``per_minute / 60`` a second) keeps the calls
    evenly spread; on its own it would let ``burst + per_minute`` through in the minute after
    an idle spell. A log of the last calls' times caps that: no request goes out while
    ``per_minute`` went out in the last ``window`` seconds (61, a second more than Google's
    minute, for the requests' travel time). So a limiter set to Google's 60 reads a minute per
    user is never answered 429 by a quota it alone uses.

    One limiter is shared by every client of the process that uses the same account, so that
    several threads together stay under Google's per-user quota.
    """

    def __init__(
        self,
        per_minute: float,
        burst: int | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        window: float = 61.0,
    ):
        self.rate = per_minute / 60.0
        self.limit = max(1, int(per_minute))
        self.window = window
        self.capacity = float(burst if burst is not None else max(1, int(per_minute // 6)))
        self.tokens = self.capacity
        self.clock, self.sleep = clock, sleep
        self.updated = clock()
        self.sent: deque[float] = deque()  # times of the requests of the last window
        self.lock = threading.Lock()
        self.waited = 0.0  # seconds spent waiting, for logs and benchmarks

    def acquire(self) -> None:
        while True:
            with self.lock:
                now = self.clock()
                while self.sent and self.sent[0] + self.window <= now:
                    self.sent.popleft()
                self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
                self.updated = now
                if len(self.sent) >= self.limit:
                    wait = self.sent[0] + self.window - now
                elif self.tokens >= 1:
                    self.tokens -= 1
                    self.sent.append(now)
                    return
                else:
                    wait = (1 - self.tokens) / self.rate
                # at least a millisecond: a wait too small to move the clock would spin
                wait = max(wait, 0.001)
            self.waited += wait
            self.sleep(wait)


_limiters: dict[tuple[str, float], RateLimiter] = {}
_limiters_lock = threading.Lock()


def shared_limiter(account: str, per_minute: float) -> RateLimiter:
    """The process-wide limiter of one account."""
    with _limiters_lock:
        key = (account, per_minute)
        if key not in _limiters:
            _limiters[key] = RateLimiter(per_minute)
        return _limiters[key]


@dataclass(frozen=True)
class RetryPolicy:
    max_tries: int = 6  # first try included
    base_seconds: float = 1.0
    cap_seconds: float = 32.0
    jitter_seconds: float = 1.0
    timeout_seconds: float = 60.0
    #: client-side limit on requests a minute (None: no limit); Google allows 60 per user
    requests_per_minute: float | None = None
    #: who the limit is counted for (the service account's e-mail, or the emulator URL)
    account: str = "default"

    def wait(self, retry_number: int, rng: random.Random) -> float:
        """Seconds to wait before retry ``retry_number`` (1, 2, …)."""
        backoff = self.base_seconds * 2 ** (retry_number - 1)
        return min(backoff + rng.uniform(0, self.jitter_seconds), self.cap_seconds)


def is_retryable(exc: Exception) -> bool:
    if isinstance(exc, APIError):
        return exc.code in RETRY_STATUS
    return isinstance(exc, (Timeout, RequestsConnectionError))


class RetryingHTTPClient(HTTPClient):
    """gspread's HTTP client with bounded, jittered retries and a request timeout."""

    policy: RetryPolicy = RetryPolicy()
    sleep: Callable[[float], None] = staticmethod(time.sleep)

    def __init__(self, auth: Any, session: Any = None) -> None:
        super().__init__(auth, session)
        self._rng = random.Random()
        self.retries = 0  # retries made by this client, for logs and benchmarks
        self.set_timeout(self.policy.timeout_seconds)
        self.limiter = (
            shared_limiter(self.policy.account, self.policy.requests_per_minute)
            if self.policy.requests_per_minute
            else None
        )

    def request(self, *args: Any, **kwargs: Any) -> Response:
        for attempt in range(1, self.policy.max_tries + 1):
            if self.limiter:
                self.limiter.acquire()
            try:
                return super().request(*args, **kwargs)
            except (APIError, Timeout, RequestsConnectionError) as exc:
                if not is_retryable(exc) or attempt == self.policy.max_tries:
                    raise
                wait = self.policy.wait(attempt, self._rng)
                self.retries += 1
                log.warning(
                    "%s %s failed (%s); retry %d/%d in %.1f s",
                    args[0] if args else kwargs.get("method"),
                    _short(args[1] if len(args) > 1 else kwargs.get("endpoint", "")),
                    _reason(exc),
                    attempt,
                    self.policy.max_tries - 1,
                    wait,
                )
                self.sleep(wait)
        raise AssertionError("unreachable")


def _reason(exc: Exception) -> str:
    if isinstance(exc, APIError):
        return f"HTTP {exc.code}"
    return type(exc).__name__


def _short(url: str) -> str:
    return url.split("googleapis.com", 1)[-1][:80]


def with_policy(policy: RetryPolicy) -> type[RetryingHTTPClient]:
    """A RetryingHTTPClient class bound to a policy (gspread takes a class, not an instance)."""
    return type("RetryingHTTPClient", (RetryingHTTPClient,), {"policy": policy})
