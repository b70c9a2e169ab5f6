"""Retries for Google's bad minutes and the quota limiter, in the HTTP client layer.

``RetryingHTTPClient`` is a gspread ``HTTPClient`` that retries a request answered 429 (quota),
408 or 5xx, or lost to a timeout or a dropped connection, with truncated exponential backoff and
random jitter as Google recommends: wait ``min(base * 2**n + jitter, cap)`` before try n+1, for
a bounded number of tries. Any other error (400, 403, 404) is raised at once.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gspread.exceptions import APIError
from gspread.http_client import HTTPClient
from requests import Response
from requests.exceptions import ConnectionError as RequestsConnectionError
from requests.exceptions import Timeout

from sheets.quota import QuotaLimiter, bucket_of

log = logging.getLogger(__name__)

RETRY_STATUS = {408, 429, 500, 502, 503, 504}


@dataclass(frozen=True)
class RetryPolicy:
    max_tries: int = 6  # first try included
    base_seconds: float = 1.0
    cap_seconds: float = 32.0
    jitter_seconds: float = 1.0
    timeout_seconds: float = 60.0

    def wait(self, retry_number: int, rng: random.Random) -> float:
        """Seconds to wait before retry ``retry_number`` (1, 2, …)."""
        backoff = self.base_seconds * 2 ** (retry_number - 1)
        return min(backoff + rng.uniform(0, self.jitter_seconds), self.cap_seconds)


def is_retryable(exc: Exception) -> bool:
    if isinstance(exc, APIError):
        return exc.code in RETRY_STATUS
    return isinstance(exc, (Timeout, RequestsConnectionError))


class RetryingHTTPClient(HTTPClient):
    """gspread's HTTP client with bounded, jittered retries, a request timeout and, when
    given, the quota limiter of the account it acts as (``sheets.quota``): every try of every
    call waits for its bucket (Sheets read, Sheets write, Drive)."""

    policy: RetryPolicy = RetryPolicy()
    limiter: QuotaLimiter | None = None
    sleep: Callable[[float], None] = staticmethod(time.sleep)

    def __init__(self, auth: Any, session: Any = None) -> None:
        super().__init__(auth, session)
        self._rng = random.Random()
        self.retries = 0  # retries made by this client, for logs and benchmarks
        self.set_timeout(self.policy.timeout_seconds)

    def request(self, *args: Any, **kwargs: Any) -> Response:
        method = args[0] if args else kwargs.get("method", "get")
        endpoint = args[1] if len(args) > 1 else kwargs.get("endpoint", "")
        for attempt in range(1, self.policy.max_tries + 1):
            if self.limiter:
                self.limiter.acquire(bucket_of(method, str(endpoint)))
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


def with_policy(
    policy: RetryPolicy, limiter: QuotaLimiter | None = None
) -> type[RetryingHTTPClient]:
    """A RetryingHTTPClient class bound to a policy and a limiter (gspread takes a class, not
    an instance)."""
    return type("RetryingHTTPClient", (RetryingHTTPClient,), {"policy": policy, "limiter": limiter})
