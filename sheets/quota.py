"""The client's limiter: Google's quotas held as Google counts them, across processes and machines.

Every call goes out only when it fits two counters of its *bucket* (``tonghop.quota``): Sheets
reads, Sheets writes or Drive — per user (the service account the client acts as) and per
project (every service account of the deployment). Google counts them apart, so a pull's reads
never wait for the feedback's writes, nor a read for the Drive call that follows it.

**The rule** (GCRA, the generic cell rate algorithm, with no burst): a bucket keeps the earliest
moment its next call may go, ``next_at``. A call may go now when ``now >= next_at`` in both its
counters; going moves each ``next_at`` to ``now`` + the counter's interval
(:meth:`tonghop.quota.Quota.interval`: a minute and a margin over the limit less one), so no
minute ever holds more calls than the limit, even those arriving up to the margin late. A call
that may not go waits until the later ``next_at`` and asks again: nothing is reserved ahead, so a
call queueing for one busy account never holds back another account's call.

**Where the counters live.** Airflow runs the API tasks in several processes, on several Celery
workers, on several machines; a limiter in each process's memory would let each of them use the
whole quota. The counters are rows of ``ops.api_quota`` in the warehouse database every task
already reaches (:class:`PostgresCounters`): one short transaction a call (the rows of its two
counters locked, checked against the server's clock — one clock for every machine —, moved,
committed; about a millisecond), no lock held while a call waits. Without a warehouse (a client
made for a test of the emulator) the counters live in the process (:class:`MemoryCounters`),
with the same rule. Airflow's pool bounds how many such tasks run at once; it does not hold the
quota (a pool counts tasks, not calls).
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator

from tonghop.quota import Quota

log = logging.getLogger(__name__)

READ_METHODS = ("GET", "HEAD")


def bucket_of(method: str, url: str) -> str:
    """The quota a call counts against, as Google counts it: ``sheets_read`` (a Sheets API
    GET), ``sheets_write`` (any other Sheets API call) or ``drive`` (any Drive API call)."""
    if "sheets.googleapis.com" in url:
        return "sheets_read" if method.upper() in READ_METHODS else "sheets_write"
    return "drive"


def counter_keys(bucket: str, account: str) -> tuple[str, str]:
    """(the account's counter, the project's counter) of ``bucket``."""
    return f"{bucket}:user:{account}", f"{bucket}:project"


class MemoryCounters:
    """The counters in this process (threads share them), by :func:`time.monotonic`."""

    def __init__(self, clock: Callable[[], float] = time.monotonic):
        self.clock = clock
        self.next_at: dict[str, float] = {}
        self.lock = threading.Lock()

    def take(self, intervals: dict[str, float]) -> float:
        """Take one call from each counter of ``intervals`` (key → seconds) if every one
        allows it now: 0. Otherwise take nothing and return the seconds until they may."""
        with self.lock:
            now = self.clock()
            wait = max(self.next_at.get(key, now) - now for key in intervals)
            if wait > 0:
                return wait
            for key, interval in intervals.items():
                self.next_at[key] = now + interval
            return 0.0

    def peek(self, keys: list[str]) -> float:
        """Seconds until every counter of ``keys`` allows a call (0: now); nothing taken."""
        with self.lock:
            now = self.clock()
            return max(0.0, *(self.next_at.get(key, now) - now for key in keys))


class PostgresCounters:
    """The counters in ``ops.api_quota`` of the warehouse (every process and machine shares
    them), by the database server's clock. One connection per process, used under a lock."""

    def __init__(self, dsn: str):
        self.dsn = dsn
        self.conn = None
        self.known: set[str] = set()
        self.lock = threading.Lock()

    def _connect(self):
        import psycopg2

        if self.conn is None or self.conn.closed:
            self.conn = psycopg2.connect(self.dsn, application_name="tonghop-quota")
            self.known = set()
        return self.conn

    def take(self, intervals: dict[str, float]) -> float:
        import psycopg2

        with self.lock:
            for attempt in (1, 2):
                try:
                    return self._take(self._connect(), intervals)
                except (psycopg2.OperationalError, psycopg2.InterfaceError):
                    # a connection the server closed (a restart, an idle timeout): once more on
                    # a new one; a database that stays away fails the call, as it fails the task
                    self.close()
                    if attempt == 2:
                        raise
        raise AssertionError("unreachable")

    def _take(self, conn, intervals: dict[str, float]) -> float:
        keys = sorted(intervals)  # locked in one order: two processes never deadlock
        with conn.cursor() as cur:
            if not set(keys) <= self.known:
                cur.execute(
                    "insert into ops.api_quota (bucket, next_at) "
                    "select unnest(%s::text[]), '-infinity' on conflict do nothing",
                    (keys,),
                )
                conn.commit()
                self.known |= set(keys)
            cur.execute(
                "select bucket, extract(epoch from next_at)::float8, "
                "extract(epoch from clock_timestamp())::float8 "
                "from ops.api_quota where bucket = any(%s) order by bucket for update",
                (keys,),
            )
            rows = cur.fetchall()
            now = rows[0][2]
            wait = max(next_at - now for _, next_at, _ in rows)
            if wait > 0:
                conn.rollback()
                return wait
            cur.execute(
                "update ops.api_quota q set next_at = to_timestamp(v.next_at) "
                "from unnest(%s::text[], %s::float8[]) as v(bucket, next_at) "
                "where q.bucket = v.bucket",
                (keys, [now + intervals[key] for key in keys]),
            )
        conn.commit()
        return 0.0

    def peek(self, keys: list[str]) -> float:
        """Seconds until every counter of ``keys`` allows a call (0: now); nothing taken, no
        lock: a hint, which :meth:`take` settles."""
        import psycopg2

        with self.lock:
            try:
                conn = self._connect()
                with conn.cursor() as cur:
                    cur.execute(
                        "select coalesce(max(extract(epoch from next_at)::float8), '-infinity') "
                        "- extract(epoch from clock_timestamp())::float8 "
                        "from ops.api_quota where bucket = any(%s)",
                        (list(keys),),
                    )
                    wait = cur.fetchone()[0]
                conn.rollback()
            except (psycopg2.OperationalError, psycopg2.InterfaceError):
                self.close()
                return 0.0  # no hint: take() finds out
        return max(0.0, wait)

    def close(self) -> None:
        if self.conn is not None:
            try:
                self.conn.close()
            except Exception:
                pass
        self.conn = None


class QuotaLimiter:
    """The quota of one account (service account e-mail) over shared counters.

    ``acquire(bucket)`` returns when a call of that bucket may go; ``waited`` (seconds) and
    ``calls`` (by bucket) say what it did, for logs and benchmarks.
    """

    def __init__(
        self,
        quota: Quota,
        account: str,
        counters: MemoryCounters | PostgresCounters,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.quota, self.account, self.counters, self.sleep = quota, account, counters, sleep
        self.waited = 0.0
        self.calls: Counter[str] = Counter()
        self._rng = random.Random()
        self._intervals = {
            bucket: {
                key: quota.interval(limit)
                for key, limit in zip(counter_keys(bucket, account), quota.limits(bucket))
            }
            for bucket in ("sheets_read", "sheets_write", "drive")
        }

    def ready_in(self, bucket: str) -> float:
        """Seconds until a call of ``bucket`` may go as this account (0: now), as far as the
        counters say now (another process may take the moment first)."""
        return self.counters.peek(list(self._intervals[bucket]))

    def acquire(self, bucket: str) -> None:
        intervals = self._intervals[bucket]
        while True:
            wait = self.counters.take(intervals)
            if wait <= 0:
                self.calls[bucket] += 1
                return
            # a little past the moment, so that of several waiters not all ask at once
            wait += self._rng.uniform(0.0, 0.01)
            self.waited += wait
            self.sleep(wait)


_memory = MemoryCounters()
_postgres: dict[str, PostgresCounters] = {}
_lock = threading.Lock()


def shared_counters(dsn: str | None) -> MemoryCounters | PostgresCounters:
    """The process's counters: those of the warehouse at ``dsn`` (one connection per process
    and database), or the process's own without one."""
    if not dsn:
        return _memory
    with _lock:
        if dsn not in _postgres:
            _postgres[dsn] = PostgresCounters(dsn)
        return _postgres[dsn]


def soonest_first(items: list, account_of, limiter_of, bucket: str) -> Iterator:
    """``items`` one after another, next the one whose account may call soonest (each
    account's items in their order): a task then never queues for a busy account while another
    account's quota is free — with several tasks taking the accounts in the same order, they
    would otherwise move as a convoy, all waiting on one account while the others idle.
    ``limiter_of(account)``: that account's :class:`QuotaLimiter` (None: no quota; then, or
    with one account, the order is kept)."""
    queues: dict = {}
    for item in items:
        queues.setdefault(account_of(item), deque()).append(item)
    limiters = {account: limiter_of(account) for account in queues}
    if len(queues) < 2 or not all(limiters.values()):
        yield from items
        return
    turn = list(queues)
    while queues:
        account = min(queues, key=lambda a: (round(limiters[a].ready_in(bucket), 3), turn.index(a)))
        yield queues[account].popleft()
        if not queues[account]:
            del queues[account]
        turn.append(turn.pop(turn.index(account)))  # on a tie, the others first
