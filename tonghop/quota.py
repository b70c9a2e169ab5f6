"""Google's quotas as numbers: what they allow, how long a task's calls take under them, and how
many items one task may take on so that it finishes well inside its ``execution_timeout``.

Google counts the Sheets API's **reads** and **writes** apart, each per minute **per user** (a
service account: 60) and **per project** (300), and the Drive API apart from both (its own
per-minute queries, per user and per project). A *bucket* is one of those counters:
``sheets_read``, ``sheets_write``, ``drive``. The client's limiter (``sheets/quota.py``) holds
every bucket for each identity and for the project; this module is the arithmetic the pipeline
plans with — one definition, read by the pull, the units' feedback and provisioning alike:

- :func:`shard_size` — items (spreadsheets, units) per mapped task, from the quota, the
  identities, how many such tasks run at once (the Airflow pool's slots) and the task's
  ``execution_timeout``: the slowest a shard can be, at its worst share of the quota, is at most
  :data:`SHARE_OF_TIMEOUT` of the timeout;
- :func:`seconds_for` — how long that many items need at the quota (the bound no code beats),
  which the deadline alert projects from (``pipeline/deadline.py``).

Pure functions, no I/O.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields

BUCKETS = ("sheets_read", "sheets_write", "drive")

#: the most of its ``execution_timeout`` a shard may need when it gets its smallest share of
#: the quota (every task at once on the same identities): "well inside" its timeout
SHARE_OF_TIMEOUT = 0.5
#: what one call may take at worst, its answer included (a report's spreadsheets.get is
#: 0.2-1 s from Google; the emulator's quota model is 0.15 s): a shard is never planned faster
CALL_SECONDS = 0.5


@dataclass(frozen=True)
class Quota:
    """The limits of one Google Cloud project: calls per ``window_seconds`` (Google's minute).

    Defaults are Google's published limits: Sheets API 60 reads and 60 writes a minute per user,
    300 each per project; Drive API 12,000 queries a minute per user and per project (Drive
    counts reads and writes together). A project whose quota was raised sets its own
    (``TONGHOP_SHEETS_QUOTA``). ``margin_seconds``: how much later than allowed a call may reach
    Google's counter (network, a busy machine); the limiter spaces calls so that no window holds
    more than the limit even then.
    """

    sheets_read_per_user: int = 60
    sheets_read_per_project: int = 300
    sheets_write_per_user: int = 60
    sheets_write_per_project: int = 300
    drive_per_user: int = 12_000
    drive_per_project: int = 12_000
    window_seconds: float = 60.0
    margin_seconds: float = 1.0

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or value <= 0:
                if f.name == "margin_seconds" and value == 0:
                    continue
                raise ValueError(f"quota {f.name} must be a positive number, not {value!r}")

    @classmethod
    def from_dict(cls, data: dict) -> Quota:
        unknown = set(data) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(
                f"unknown quota keys {sorted(unknown)}; known: {[f.name for f in fields(cls)]}"
            )
        return cls(**data)

    def as_dict(self) -> dict:
        return asdict(self)

    def limits(self, bucket: str) -> tuple[int, int]:
        """(per user, per project) of ``bucket``."""
        if bucket not in BUCKETS:
            raise ValueError(f"unknown quota bucket {bucket!r}")
        return getattr(self, f"{bucket}_per_user"), getattr(self, f"{bucket}_per_project")

    def interval(self, limit: int) -> float:
        """Seconds between two calls counted against ``limit``: at this spacing no window of
        ``window_seconds`` holds more than ``limit`` calls even when each reaches Google up to
        ``margin_seconds`` late (``limit`` calls span ``limit - 1`` intervals)."""
        span = self.window_seconds + self.margin_seconds
        return span / (limit - 1) if limit > 1 else span

    def calls_per_second(self, bucket: str, identities: int = 1) -> float:
        """What the limiter lets through in ``bucket`` with ``identities`` service accounts:
        each its own per-user limit, all of them under the project's."""
        per_user, per_project = self.limits(bucket)
        return min(max(1, identities) / self.interval(per_user), 1 / self.interval(per_project))


#: calls per item, by bucket, of each API-heavy task (what its code makes; the tests check them
#: against the emulator's counts)
#: a spreadsheet pulled: one spreadsheets.get, then one Drive files.get (the received time's
#: evidence; a shared per-period file also a revisions.list, rare)
PULL_COST = {"sheets_read": 1, "drive": 1}
#: a unit's "Kết quả kiểm tra" tab: one spreadsheets.batchUpdate per spreadsheet
FEEDBACK_COST = {"sheets_write": 1}
#: a unit's new sheet: Drive files.create, one spreadsheets.batchUpdate, one permissions.create
PROVISION_COST = {"sheets_write": 1, "drive": 2}
#: a unit's sheet brought up to a catalogue change: one spreadsheets.get, one batchUpdate
UPDATE_COST = {"sheets_read": 1, "sheets_write": 1}


def items_per_second(cost: dict[str, float], quota: Quota | None, identities: int = 1) -> float:
    """Items a second the quota allows for ``cost`` (calls per item by bucket): the slowest
    bucket decides, since Google counts each apart (``inf`` without a quota)."""
    if quota is None:
        return math.inf
    rates = [
        quota.calls_per_second(bucket, identities) / calls
        for bucket, calls in cost.items()
        if calls > 0
    ]
    return min(rates, default=math.inf)


def seconds_for(
    items: int, cost: dict[str, float], quota: Quota | None, identities: int = 1
) -> float:
    """The least time ``items`` items take under the quota (0 without one): the bound."""
    rate = items_per_second(cost, quota, identities)
    return 0.0 if not items or math.isinf(rate) else items / rate


def shard_size(
    cost: dict[str, float],
    *,
    quota: Quota | None,
    identities: int,
    tasks_at_once: int,
    timeout_seconds: float,
    cap: int,
    call_seconds: float = CALL_SECONDS,
    share: float = SHARE_OF_TIMEOUT,
) -> int:
    """Items per mapped task, so that a task's worst case stays within ``share`` of its
    ``timeout_seconds``, and never more than ``cap`` (the granularity chosen for retries and
    progress, docs/benchmarks.md).

    A task's worst case: ``tasks_at_once`` such tasks (the pool's slots) share the quota of the
    ``identities`` evenly — each item then takes ``tasks_at_once`` times the quota's time per
    item — and never less than its calls one after the other at ``call_seconds`` each."""
    per_item = max(
        max(1, tasks_at_once) / items_per_second(cost, quota, identities),
        sum(cost.values()) * call_seconds,
    )
    fitting = math.floor(share * timeout_seconds / per_item) if per_item > 0 else cap
    return max(1, min(cap, fitting))


def shards_of(items: list, size: int) -> list[list]:
    """``items`` in consecutive groups of at most ``size`` (at least one group, maybe empty, so
    that a mapped task always has something to report)."""
    if size < 1:
        raise ValueError("shard size must be at least 1")
    groups = [items[i : i + size] for i in range(0, len(items), size)]
    return groups or [[]]


def interleaved(items: list, key) -> list:
    """``items`` reordered so that consecutive ones belong to different ``key`` (identities) in
    turn: a shard then spreads its calls over every identity's quota instead of queueing on
    one (the order within each identity is kept)."""
    groups: dict = {}
    for item in items:
        groups.setdefault(key(item), []).append(item)
    queues = [groups[k] for k in sorted(groups, key=lambda k: (k is None, str(k)))]
    out: list = []
    for i in range(max((len(q) for q in queues), default=0)):
        out += [q[i] for q in queues if i < len(q)]
    return out
