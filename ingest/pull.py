"""Pulling one period's unit spreadsheets into raw.

One Drive listing call per 1,000 files finds the spreadsheets; each registered spreadsheet to
read costs one call and is landed if its content changed. A spreadsheet that cannot be read is
recorded as failed with the reason, and every other unit goes on.

Three modes:

- ``changed``: the listing asks only for files modified after the period's watermark (the
  newest modifiedTime an earlier pull saw), so unchanged spreadsheets cost nothing;
  A file whose newest change is our own (the "Kết quả kiểm tra" tab; Drive's
  ``modifiedByMeTime``) is not read again either — except a spreadsheet whose last read
  failed: it is read again at every pull until a read succeeds, listed or not, whoever wrote
  last; and so is a spreadsheet whose modifiedTime moved during its read (Drive's time right
  after the read is not the listed one), once;
- ``full``: every registered spreadsheet is read. Some edits do not move modifiedTime, so
  ``auto`` (the default) pulls in full the first time, and on the first pull at or after the
  due date (by Google's clock: the listing's Date header); a full pull can always be asked for.
- ``units``: only the spreadsheets of the units named, changed or not (a unit asked to be read
  again). It does not move the period's watermark, and the next pull's "changed"/"full"
  decision ignores it.

The work is in three steps — :func:`plan_pull` (the listing), :func:`read_spreadsheets` (the
reads, for any group of the targets) and :func:`finish_pull` (the record) — so that Airflow can
map the reads over shards; :func:`pull_period` runs all three in one process.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import uuid
from collections import Counter
from dataclasses import asdict, dataclass, field

import psycopg2
from gspread.exceptions import APIError
from requests.exceptions import RequestException

from ingest import listing, sharing
from ingest.land import ReadEvidence, land_version, record_fetch
from ingest.registry import entries_for_period
from sheets import client as gsheets
from sheets.client import parse_drive_time
from sheets.quota import soonest_first
from tonghop import progress
from tonghop.catalogue import Catalogue
from tonghop.errors import EnvironmentNotReady, WarehouseConnectionLost, connection_lost, one_line
from tonghop.quota import interleaved, shards_of
from tonghop.settings import Settings

log = logging.getLogger(__name__)


MODES = ("auto", "full", "changed")


class UnitsNotRegistered(EnvironmentNotReady, ValueError):
    """A pull of named units (``tonghop run --unit``) when some have no registered spreadsheet
    for the period: provisioning comes first. The message names the units and the command."""


@dataclass
class PullSummary(gsheets.CountsCalls):
    pull_run_id: str
    period_code: str
    mode: str = "full"
    watermark: str | None = None
    #: when Google answered the listing (its Date header): the pull's now by Google's clock
    listed_at: str | None = None
    files_listed: int = 0
    fetched: int = 0
    new_versions: int = 0
    unchanged: int = 0
    failed: int = 0
    #: listed as changed, but only by our own "Kết quả kiểm tra" tab: not read
    skipped_own_writes: int = 0
    #: registered spreadsheets whose sharing the listing showed / shares beyond the unit and
    #: the Sở among them (ingest.sharing)
    sharing_checked: int = 0
    wide_shares: int = 0
    api_calls: Counter = field(default_factory=Counter)
    failures: dict[str, str] = field(default_factory=dict)
    #: seconds the reads waited for Google's quota, every shard added up
    quota_wait_seconds: float = 0.0


def new_run_id(prefix: str = "pull") -> str:
    return f"{prefix}-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"


def format_drive_time(when: dt.datetime) -> str:
    """RFC 3339 in UTC with milliseconds, as Drive writes and reads it."""
    when = when.astimezone(dt.UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def choose_mode(
    requested: str,
    watermark: dt.datetime | None,
    last_full_started: dt.datetime | None,
    on_time_until: dt.datetime,
    now: dt.datetime,
) -> str:
    """'full' or 'changed' for a pull asked as ``requested`` (auto / full / changed): an
    automatic pull reads every spreadsheet the first time it runs after the period's last
    on-time moment (the catalogue's ``on_time_until``), so the closing figures never depend on
    the listing."""
    if requested not in MODES:
        raise ValueError(f"mode must be one of {MODES}, not {requested!r}")
    if requested == "full" or watermark is None:
        return "full"
    if requested == "changed":
        return "changed"
    full_since_deadline = last_full_started is not None and last_full_started > on_time_until
    return "full" if now > on_time_until and not full_since_deadline else "changed"


def _previous_pulls(conn, period_code: str) -> tuple[dt.datetime | None, dt.datetime | None]:
    """(watermark of the latest finished pull, when the latest finished full pull listed Drive
    by Google's clock — its start by ours on rows from before that was kept)."""
    with conn.cursor() as cur:
        cur.execute(
            """
            select (select drive_watermark from ops.pull_runs
                    where period_code = %(p)s and finished_at is not null
                      and mode <> 'units'
                    order by started_at desc limit 1),
                   (select max(coalesce(listed_at, started_at)) from ops.pull_runs
                    where period_code = %(p)s and finished_at is not null and mode = 'full')""",
            {"p": period_code},
        )
        return cur.fetchone()


def _unresolved_failures(conn, period_code: str) -> dict[str, str | None]:
    """Registered spreadsheets of the period to read again whatever the listing says → the
    modifiedTime last known for them (None if not known): those whose latest read failed, in
    whatever pull (no read has succeeded since), and those that changed during their latest
    read (Drive's modifiedTime after the read was not the listed one): the unit's edit may have
    come after what was read, and our check tab, written just after, would hide it from the
    next listing as "our own change"."""
    with conn.cursor() as cur:
        cur.execute(
            """
            select spreadsheet_id, outcome,
                   case when outcome = 'failed' then drive_modified_time
                        else modified_after end from (
                select distinct on (f.spreadsheet_id) f.spreadsheet_id, f.outcome,
                       f.drive_modified_time, f.modified_after
                from raw.sheet_fetches f
                where f.spreadsheet_id in (select spreadsheet_id from ops.sheet_registry
                                           where period_code = %s)
                order by f.spreadsheet_id, f.fetch_id desc) latest
            where outcome = 'failed'
               or (modified_after is not null and drive_modified_time is not null
                   and modified_after <> drive_modified_time)""",
            (period_code,),
        )
        return {sid: format_drive_time(t) if t else None for sid, _, t in cur.fetchall()}


@dataclass
class PullPlan:
    """What one pull will read, decided from the registry and one Drive listing.

    JSON-able (``as_dict``/``from_dict``): Airflow passes it from the ``plan_pull`` task to the
    mapped ``pull_shard`` tasks and to ``finish_pull``.
    """

    pull_run_id: str
    period_code: str
    programme_code: str
    mode: str
    started_at: str
    #: when Google answered the listing (the Date header of its first page; RFC 3339)
    listed_at: str | None = None
    since: str | None = None
    previous_watermark: str | None = None
    #: the newest modifiedTime the listing showed (the next watermark, unless a read fails)
    newest_listed: str | None = None
    listing_calls: int = 0
    files_listed: int = 0
    registered: int = 0
    skipped_own_writes: int = 0
    #: [spreadsheet_id, modifiedTime(, service account)] of every spreadsheet to read, in order
    #: (the account when it is not the first of the pool)
    targets: list[list[str]] = field(default_factory=list)
    #: registered spreadsheets to read that Drive did not list (deleted, unshared)
    not_listed: list[str] = field(default_factory=list)
    unit_codes: list[str] = field(default_factory=list)
    #: registered spreadsheets whose permissions the listing gave, and the shares among them
    #: beyond the unit and the Sở (ingest.sharing.WideShare as dicts); acted on by finish_pull
    sharing_checked: list[str] = field(default_factory=list)
    wide_shares: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> PullPlan:
        return cls(**data)

    def shards(self, size: int) -> list[list[list[str]]]:
        """The targets in consecutive groups of at most ``size`` (at least one group, so that
        a mapped task always has something to report)."""
        return shards_of(self.targets, size)


@dataclass
class ShardResult(gsheets.CountsCalls):
    """What reading one group of spreadsheets did."""

    fetched: int = 0
    new_versions: int = 0
    unchanged: int = 0
    #: spreadsheet_id → [reason, modifiedTime]
    failures: dict[str, list] = field(default_factory=dict)
    api_calls: Counter = field(default_factory=Counter)
    #: seconds the shard's calls waited for Google's quota (sheets.quota): near the shard's
    #: whole time when the quota binds; near nothing when the calls' own time does (then more
    #: tasks at once would read faster)
    quota_wait_seconds: float = 0.0

    @classmethod
    def from_dict(cls, data: dict) -> ShardResult:
        return cls(**{**data, "api_calls": Counter(data.get("api_calls", {}))})


def plan_pull(
    settings: Settings,
    catalogue: Catalogue,
    period_code: str,
    *,
    pull_run_id: str | None = None,
    client=None,
    mode: str = "auto",
    now: dt.datetime | None = None,
    unit_codes: list[str] | None = None,
) -> PullPlan:
    """List Drive (one call per 1,000 files) and decide which registered spreadsheets to read.

    ``unit_codes`` re-reads just those units' spreadsheets, changed or not (mode ``units``);
    such a pull leaves the period's watermark where it was, so the next pull still sees every
    other unit's changes.
    """
    period = catalogue.period(period_code)
    told_now = now
    now = now or dt.datetime.now(dt.UTC)
    clients = _clients(settings, client)
    conn = psycopg2.connect(settings.dsn("loader"))
    try:
        entries = entries_for_period(conn, period_code)
        registry = {e.spreadsheet_id for e in entries}
        watermark, last_full = _previous_pulls(conn, period_code)
        failed_before = _unresolved_failures(conn, period_code)
    finally:
        conn.close()
    if unit_codes:
        unknown = sorted(set(unit_codes) - {e.unit_code for e in entries})
        if unknown:
            raise UnitsNotRegistered(
                f"Chưa có bảng tính nào được đăng ký cho kỳ {period_code} của đơn vị "
                f"{', '.join(unknown)}: hãy tạo bảng tính của kỳ trước (`tonghop provision "
                f"--period {period_code}`, hoặc `tonghop generate --period {period_code}` cho "
                "tỉnh mẫu) rồi đọc lại."
            )
        mode = "units"
    else:
        requested = mode
        mode = choose_mode(requested, watermark, last_full, period.on_time_until, now)
    plan = PullPlan(
        pull_run_id=pull_run_id or new_run_id(),
        period_code=period_code,
        programme_code=period.programme_code,
        mode=mode,
        started_at=dt.datetime.now(dt.UTC).isoformat(),
        since=format_drive_time(watermark) if mode == "changed" else None,
        previous_watermark=format_drive_time(watermark) if watermark else None,
        registered=len(registry),
        unit_codes=sorted(set(unit_codes or [])),
    )
    # each service account lists what it can see, and what it wrote itself (its check tabs,
    # Drive's modifiedByMeTime) is seen as its own: a sheet is judged by its own account's view
    accounts = listing.accounts_by_spreadsheet(settings, entries)
    listed, plan.listed_at, plan.listing_calls = listing.list_as_accounts(
        clients, accounts, since=plan.since
    )
    if plan.mode != "units" and told_now is None and plan.listed_at:
        # the deadline is judged by Google's clock (the listing's Date), not ours: when it
        # asks for another mode, list again for that mode (one more call, at the turn only)
        by_google = choose_mode(
            requested, watermark, last_full, period.on_time_until, parse_drive_time(plan.listed_at)
        )
        if by_google != plan.mode:
            plan.mode = by_google
            plan.since = format_drive_time(watermark) if by_google == "changed" else None
            calls = plan.listing_calls
            listed, plan.listed_at, plan.listing_calls = listing.list_as_accounts(
                clients, accounts, since=plan.since
            )
            plan.listing_calls += calls
    plan.files_listed = len(listed)
    times = [parse_drive_time(f.modified_time) for f in listed.values() if f.modified_time]
    newest = max([t for t in times if t], default=None)
    plan.newest_listed = format_drive_time(newest) if newest else None
    # who each listed unit sheet is shared with: the listing said it, no call of its own
    owners: dict[str, list[str]] = {}
    for e in entries:
        owners.setdefault(e.spreadsheet_id, []).append(e.unit_code)
    checked, found = sharing.judge(
        catalogue,
        period.programme_code,
        {sid: u for sid, u in owners.items() if sid in listed},
        {sid: f.permissions for sid, f in listed.items()},
        listing.own_accounts(settings, clients, listing.listers(accounts)),
    )
    plan.sharing_checked, plan.wide_shares = checked, [s.as_dict() for s in found]
    if plan.unit_codes:
        targets = {e.spreadsheet_id for e in entries if e.unit_code in set(plan.unit_codes)}
    elif plan.mode == "full":
        targets = set(registry)
    else:
        # a read that failed is read again until it succeeds, and a file that changed during
        # its read is read again: listed or not, and whoever changed the file last (our own
        # check tab written since must not hide it)
        retry = registry & set(failed_before)
        # a file whose newest change is our own check tab is not read again
        ours = {sid for sid, f in listed.items() if f.last_change_was_ours} - retry
        plan.skipped_own_writes = len(registry & ours)
        targets = (registry & (set(listed) - ours)) | retry
        for spreadsheet_id in retry - set(listed):
            # not listed as changed since the watermark: read it at the time last known
            listed[spreadsheet_id] = gsheets.DriveFile(
                spreadsheet_id, "", failed_before[spreadsheet_id] or ""
            )
    # [spreadsheet, modifiedTime] — and the account to read it as, unless it is the first of
    # the pool —; the accounts taken in turn, so that every shard spreads its reads over every
    # account's quota
    plan.targets = interleaved(
        [
            [sid, listed[sid].modified_time] + ([accounts[sid]] if accounts.get(sid) else [])
            for sid in sorted(targets)
            if sid in listed
        ],
        key=_account_of,
    )
    plan.not_listed = sorted(targets - set(listed))
    log.info(
        "pull %s (%s%s%s): %d spreadsheets listed in %d call(s); %d of %d registered "
        "for %s to read",
        plan.pull_run_id,
        plan.mode,
        f" since {plan.since}" if plan.since else "",
        f" of {', '.join(plan.unit_codes)}" if plan.unit_codes else "",
        plan.files_listed,
        plan.listing_calls,
        len(plan.targets) + len(plan.not_listed),
        plan.registered,
        period_code,
    )
    return plan


def _account_of(target: list) -> str | None:
    """The account a target is read as (None: the first of the pool)."""
    return target[2] if len(target) > 2 else None


def _clients(settings: Settings, client=None):
    """The client of each service account (a function of the account, None: the first): a
    :class:`sheets.client.ClientPool`, or ``client`` for every account when one is given."""
    if isinstance(client, gsheets.ClientPool):
        return client
    if client is not None:
        return lambda account=None: client
    return gsheets.ClientPool(settings)


def _shared_files(conn, spreadsheet_ids: list[str]) -> set[str]:
    """Those of the spreadsheets that several units share (the per_period layout): their
    revisions say which unit changed what when."""
    with conn.cursor() as cur:
        cur.execute(
            """
            select distinct spreadsheet_id from ops.sheet_registry
            where layout = 'per_period' and spreadsheet_id = any(%s)""",
            (spreadsheet_ids,),
        )
        return {row[0] for row in cur.fetchall()}


def _evidence(
    client, spreadsheet_id: str, read_at: str | None, shared: bool, calls: Counter
) -> ReadEvidence:
    """What Drive says right after a read (files.get; revisions.list for a shared file). A
    call that fails leaves its part unknown — the rule then takes the later bound — and does
    not fail the read."""
    modified_after, revisions = None, None
    try:
        calls["drive.files.get"] += 1
        modified_after = gsheets.modified_time(client, spreadsheet_id)
        if shared:
            revisions, pages = gsheets.list_revisions(client, spreadsheet_id)
            calls["drive.revisions.list"] += pages
    except (APIError, RequestException) as exc:
        log.warning(
            "spreadsheet %s: what Drive says after the read is not known: %s",
            spreadsheet_id,
            gsheets.describe_error(exc),
        )
    return ReadEvidence(read_at=read_at, modified_after=modified_after, revisions=revisions)


def read_spreadsheets(
    settings: Settings, pull_run_id: str, targets: list[list[str]], *, client=None
) -> ShardResult:
    """Read each [spreadsheet_id, modifiedTime, account] (one call each, as that service
    account; None or no account: the first of the pool) and land what changed, with the
    read's evidence (:class:`ReadEvidence`: one files.get call each, and revisions.list for a
    file several units share).

    A spreadsheet that cannot be read is recorded as failed with the reason; the others go on.
    Safe to repeat (an Airflow retry): content already landed is recorded as unchanged.
    """
    result = ShardResult()
    if not targets:
        return result
    clients = _clients(settings, client)
    conn = psycopg2.connect(settings.dsn("loader"))
    position, spreadsheet_id = 0, None
    try:
        shared = _shared_files(conn, [t[0] for t in targets])
        conn.commit()
        # the account whose quota frees up soonest next (sheets.quota.soonest_first)
        ordered = soonest_first(
            targets,
            _account_of,
            lambda account: getattr(clients(account).http_client, "limiter", None),
            "sheets_read",
        )
        for position, (spreadsheet_id, modified, *rest) in enumerate(ordered, 1):  # noqa: B007 (read after the loop)
            client = clients(rest[0] if rest else None)
            attempted = dt.datetime.now(dt.UTC)
            try:
                result.api_calls["sheets.spreadsheets.get"] += 1
                read, read_at = gsheets.read_spreadsheet_dated(client, spreadsheet_id)
                resource = gsheets.without_check_tabs(read)
            except (APIError, RequestException) as exc:
                _fail(
                    conn,
                    pull_run_id,
                    result,
                    spreadsheet_id,
                    modified,
                    attempted,
                    gsheets.describe_error(exc),
                )
                progress.advanced("pull")
                continue
            result.fetched += 1
            evidence = _evidence(
                client, spreadsheet_id, read_at, spreadsheet_id in shared, result.api_calls
            )
            outcome, _ = land_version(
                conn,
                pull_run_id=pull_run_id,
                spreadsheet_id=spreadsheet_id,
                drive_modified_time=modified,
                fetched_at=dt.datetime.now(dt.UTC),
                resource=resource,
                evidence=evidence,
            )
            if outcome == "new_version":
                result.new_versions += 1
            else:
                result.unchanged += 1
            progress.advanced("pull")
    except (psycopg2.OperationalError, psycopg2.InterfaceError) as exc:
        if not connection_lost(conn, exc):
            raise
        raise WarehouseConnectionLost(
            f"pull {pull_run_id}: the connection to the warehouse database was lost at "
            f"spreadsheet {spreadsheet_id} ({position} of {len(targets)} to read): "
            f"{one_line(exc)}. Each spreadsheet is landed in a transaction of its own: the "
            f"{result.new_versions + result.unchanged} landed before it are kept "
            f"({result.new_versions} new, {result.unchanged} unchanged) and its own was rolled "
            f"back, unless the break came at its very commit. When the database is back, the "
            f"task's retry reads the same spreadsheets again and lands only what is missing "
            f"(content already stored is recorded as unchanged)."
        ) from exc
    finally:
        conn.close()
        progress.flush("pull")
    used = list(clients.clients.values()) if isinstance(clients, gsheets.ClientPool) else [client]
    retries = sum(getattr(c.http_client, "retries", 0) for c in used)
    if retries:
        result.api_calls["retries"] = retries
    result.quota_wait_seconds = round(
        sum(getattr(getattr(c.http_client, "limiter", None), "waited", 0.0) for c in used), 1
    )
    return result


def finish_pull(settings: Settings, plan: PullPlan, results: list[ShardResult]) -> PullSummary:
    """Add up the shards, record the spreadsheets Drive did not list, move the watermark and
    record the pull in ops.pull_runs (what the next pull starts from)."""
    summary = PullSummary(
        pull_run_id=plan.pull_run_id,
        period_code=plan.period_code,
        mode=plan.mode,
        listed_at=plan.listed_at,
        files_listed=plan.files_listed,
        skipped_own_writes=plan.skipped_own_writes,
    )
    summary.api_calls["drive.files.list"] += plan.listing_calls
    failed_times: list[dt.datetime] = []
    for result in results:
        summary.quota_wait_seconds = round(
            summary.quota_wait_seconds + result.quota_wait_seconds, 1
        )
        summary.fetched += result.fetched
        summary.new_versions += result.new_versions
        summary.unchanged += result.unchanged
        summary.api_calls.update(result.api_calls)
        for spreadsheet_id, (reason, modified) in result.failures.items():
            summary.failures[spreadsheet_id] = reason
            if parse_drive_time(modified):
                failed_times.append(parse_drive_time(modified))
    conn = psycopg2.connect(settings.dsn("loader"))
    try:
        attempted = dt.datetime.now(dt.UTC)
        for spreadsheet_id in plan.not_listed:
            _fail(
                conn,
                plan.pull_run_id,
                None,
                spreadsheet_id,
                None,
                attempted,
                "not listed in Drive: deleted, trashed or no longer shared",
            )
            summary.failures[spreadsheet_id] = (
                "not listed in Drive: deleted, trashed or no longer shared"
            )
        summary.failed = len(summary.failures)
        previous = parse_drive_time(plan.previous_watermark)
        if plan.mode == "units":
            new_watermark = previous
        else:
            new_watermark = _next_watermark(
                previous, parse_drive_time(plan.newest_listed), failed_times
            )
        summary.watermark = format_drive_time(new_watermark) if new_watermark else None
        shares = [sharing.WideShare(**d) for d in plan.wide_shares]
        sharing.act(
            settings,
            plan.period_code,
            "pull",
            plan.pull_run_id,
            plan.sharing_checked,
            shares,
            calls=summary.api_calls,
        )
        summary.sharing_checked, summary.wide_shares = len(plan.sharing_checked), len(shares)
        _record_run(conn, summary, plan, new_watermark)
    finally:
        conn.close()
    log.info(
        "pull %s done: %d fetched, %d new, %d unchanged, %d failed",
        summary.pull_run_id,
        summary.fetched,
        summary.new_versions,
        summary.unchanged,
        summary.failed,
    )
    return summary


def pull_period(
    settings: Settings,
    catalogue: Catalogue,
    period_code: str,
    *,
    pull_run_id: str | None = None,
    client=None,
    mode: str = "auto",
    now: dt.datetime | None = None,
    unit_codes: list[str] | None = None,
) -> PullSummary:
    """Read the period's registered spreadsheets (all, changed or of some units) and land new
    versions: :func:`plan_pull`, :func:`read_spreadsheets` on every target, :func:`finish_pull`
    in one process (the DAG maps the reads over shards instead)."""
    client = client or gsheets.ClientPool(settings)
    plan = plan_pull(
        settings,
        catalogue,
        period_code,
        pull_run_id=pull_run_id,
        client=client,
        mode=mode,
        now=now,
        unit_codes=unit_codes,
    )
    progress.started("pull", total=len(plan.targets))
    result = read_spreadsheets(settings, plan.pull_run_id, plan.targets, client=client)
    return finish_pull(settings, plan, [result])


def _next_watermark(
    previous: dt.datetime | None, newest_listed: dt.datetime | None, failed: list[dt.datetime]
) -> dt.datetime | None:
    """The newest modifiedTime listed — but never past a spreadsheet that failed, so that the
    next pull asks for it again."""
    newest = max([t for t in (previous, newest_listed) if t], default=None)
    if failed and newest:
        newest = min(newest, min(failed) - dt.timedelta(milliseconds=1))
        if previous:
            newest = max(newest, previous)
    return newest


def _fail(
    conn,
    pull_run_id: str,
    result: ShardResult | None,
    spreadsheet_id: str,
    modified: str | None,
    attempted: dt.datetime,
    reason: str,
) -> None:
    log.warning("pull %s: spreadsheet %s not fetched: %s", pull_run_id, spreadsheet_id, reason)
    if result is not None:
        result.failures[spreadsheet_id] = [reason, modified]
    with conn.cursor() as cur:
        record_fetch(
            cur,
            pull_run_id=pull_run_id,
            spreadsheet_id=spreadsheet_id,
            drive_modified_time=modified,
            attempted_at=attempted,
            outcome="failed",
            error_message=reason,
        )
    conn.commit()


def _record_run(conn, summary: PullSummary, plan: PullPlan, watermark: dt.datetime | None) -> None:
    """Record the pull once. A pull run id is its Airflow run's, so a cleared run (or a retry
    of ``finish_pull`` after its commit) finishes the same pull again: its first record, and
    the watermark in it, stay — what the pull read again was landed as unchanged and the
    watermark can only be earlier than this one would be, so nothing is skipped later."""
    with conn.cursor() as cur:
        cur.execute(
            """
            insert into ops.pull_runs (pull_run_id, programme_code, period_code, mode, started_at,
                finished_at, files_listed, fetched, new_versions, unchanged, failed, api_calls,
                drive_watermark, unit_codes, listed_at)
            values (%s, %s, %s, %s, %s, now(), %s, %s, %s, %s, %s, %s, %s, %s, %s)
            on conflict (pull_run_id) do nothing""",
            (
                summary.pull_run_id,
                plan.programme_code,
                summary.period_code,
                summary.mode,
                plan.started_at,
                summary.files_listed,
                summary.fetched,
                summary.new_versions,
                summary.unchanged,
                summary.failed,
                json.dumps(dict(summary.api_calls)),
                watermark,
                plan.unit_codes or None,
                plan.listed_at,
            ),
        )
        if cur.rowcount == 0:
            log.info(
                "pull %s was already recorded (a cleared or retried run): its first "
                "record and watermark stay",
                summary.pull_run_id,
            )
    conn.commit()
