"""Pulling one period's unit spreadsheets into raw.

One Drive listing call per 1,000 files finds the spreadsheets; each registered spreadsheet to
read costs one call and is landed if its content changed. A spreadsheet that cannot be read is
recorded as failed with the reason, and every other unit goes on.

Two modes:

- ``changed``: the listing asks only for files modified after the period's watermark (the
  newest modifiedTime an earlier pull saw), so unchanged spreadsheets cost nothing;
  A file whose newest change is our own (the "Kết quả kiểm tra" tab; Drive's
  ``modifiedByMeTime``) is not read again either;
- ``full``: every registered spreadsheet is read. Some edits do not move modifiedTime, so
  ``auto`` (the default) pulls in full the first time, and on the first pull at or after the
  due date; a full pull can always be asked for.
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

from ingest import sheets
from ingest.sheets import parse_drive_time
from ingest.land import land_version, record_fetch
from ingest.registry import entries_for_period
from tonghop.catalogue import Catalogue
from tonghop.settings import Settings
from tonghop.vn import VN_TZ

log = logging.getLogger(__name__)


MODES = ("auto", "full", "changed")


@dataclass
class PullSummary:
    pull_run_id: str
    period_code: str
    mode: str = "full"
    watermark: str | None = None
    files_listed: int = 0
    fetched: int = 0
    new_versions: int = 0
    unchanged: int = 0
    failed: int = 0
    #: listed as changed, but only by our own "Kết quả kiểm tra" tab: not read
    skipped_own_writes: int = 0
    api_calls: Counter = field(default_factory=Counter)
    failures: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict:
        data = asdict(self)
        data["api_calls"] = dict(self.api_calls)
        return data


def new_run_id(prefix: str = "pull") -> str:
    return f"{prefix}-{dt.datetime.now(dt.timezone.utc):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"


def format_drive_time(when: dt.datetime) -> str:
    """RFC 3339 in UTC with milliseconds, as Drive writes and reads it."""
    when = when.astimezone(dt.timezone.utc)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def choose_mode(requested: str, watermark: dt.datetime | None,
                last_full_started: dt.datetime | None, due_date: dt.date,
                now: dt.datetime) -> str:
    """'full' or 'changed' for a pull asked as ``requested`` (auto / full / changed)."""
    if requested not in MODES:
        raise ValueError(f"mode must be one of {MODES}, not {requested!r}")
    if requested == "full" or watermark is None:
        return "full"
    if requested == "changed":
        return "changed"
    today = now.astimezone(VN_TZ).date()
    full_since_due = last_full_started is not None and \
        last_full_started.astimezone(VN_TZ).date() >= due_date
    return "full" if today >= due_date and not full_since_due else "changed"


def _previous_pulls(conn, period_code: str) -> tuple[dt.datetime | None, dt.datetime | None]:
    """(watermark of the latest finished pull, start of the latest finished full pull)."""
    with conn.cursor() as cur:
        cur.execute("""
            select (select drive_watermark from ops.pull_runs
                    where period_code = %(p)s and finished_at is not null
                    order by started_at desc limit 1),
                   (select max(started_at) from ops.pull_runs
                    where period_code = %(p)s and finished_at is not null and mode = 'full')""",
                    {"p": period_code})
        return cur.fetchone()


def _last_failures(conn, period_code: str) -> dict[str, str | None]:
    """Spreadsheets the latest pull of the period failed to read → their last modifiedTime."""
    with conn.cursor() as cur:
        cur.execute("""
            select f.spreadsheet_id, f.drive_modified_time
            from raw.sheet_fetches f
            where f.outcome = 'failed' and f.pull_run_id = (
                select pull_run_id from ops.pull_runs where period_code = %s
                  and finished_at is not null order by started_at desc limit 1)""",
                    (period_code,))
        return {sid: format_drive_time(t) if t else None for sid, t in cur.fetchall()}


def pull_period(settings: Settings, catalogue: Catalogue, period_code: str, *,
                pull_run_id: str | None = None, client=None, mode: str = "auto",
                now: dt.datetime | None = None) -> PullSummary:
    """Read the period's registered spreadsheets (all, or those changed) and land new versions."""
    period = catalogue.period(period_code)
    now = now or dt.datetime.now(dt.timezone.utc)
    summary = PullSummary(pull_run_id=pull_run_id or new_run_id(), period_code=period_code)
    client = client or sheets.make_client(settings)
    started = dt.datetime.now(dt.timezone.utc)
    conn = psycopg2.connect(settings.dsn("loader"))
    try:
        registry = {e.spreadsheet_id for e in entries_for_period(conn, period_code)}
        watermark, last_full = _previous_pulls(conn, period_code)
        summary.mode = choose_mode(mode, watermark, last_full, period.due_date, now)
        since = format_drive_time(watermark) if summary.mode == "changed" else None
        listed: dict[str, sheets.DriveFile] = {}
        pages = 0
        for drive_file, page in sheets.list_spreadsheets(client, modified_after=since):
            pages = page
            listed[drive_file.spreadsheet_id] = drive_file
        summary.api_calls["drive.files.list"] += pages
        summary.files_listed = len(listed)
        # in "changed" mode, a file whose newest change is our own check tab is not read again
        ours = {sid for sid, f in listed.items() if f.last_change_was_ours}
        summary.skipped_own_writes = len(registry & ours) if summary.mode == "changed" else 0
        targets = registry if summary.mode == "full" else registry & (set(listed) - ours)
        # what failed last time is read again, changed or not
        for spreadsheet_id, modified in _last_failures(conn, period_code).items():
            if spreadsheet_id in registry and spreadsheet_id not in listed and modified:
                listed[spreadsheet_id] = sheets.DriveFile(spreadsheet_id, "", modified)
                targets = targets | {spreadsheet_id}
        log.info("pull %s (%s%s): %d spreadsheets listed in %d call(s); %d of %d registered "
                 "for %s to read", summary.pull_run_id, summary.mode,
                 f" since {since}" if since else "", len(listed), pages, len(targets),
                 len(registry), period_code)
        for spreadsheet_id in sorted(targets):
            attempted = dt.datetime.now(dt.timezone.utc)
            drive_file = listed.get(spreadsheet_id)
            if drive_file is None:
                _fail(conn, summary, spreadsheet_id, None, attempted,
                      "not listed in Drive: deleted, trashed or no longer shared")
                continue
            try:
                summary.api_calls["sheets.spreadsheets.get"] += 1
                resource = sheets.without_check_tabs(
                    sheets.read_spreadsheet(client, spreadsheet_id))
            except (APIError, RequestException) as exc:
                _fail(conn, summary, spreadsheet_id, drive_file.modified_time, attempted,
                      sheets.describe_error(exc))
                continue
            summary.fetched += 1
            outcome, _ = land_version(
                conn, pull_run_id=summary.pull_run_id, spreadsheet_id=spreadsheet_id,
                drive_modified_time=drive_file.modified_time,
                fetched_at=dt.datetime.now(dt.timezone.utc), resource=resource)
            if outcome == "new_version":
                summary.new_versions += 1
            else:
                summary.unchanged += 1
        retries = getattr(client.http_client, "retries", 0)
        if retries:
            summary.api_calls["retries"] = retries
        new_watermark = _next_watermark(watermark, listed, summary.failures)
        summary.watermark = format_drive_time(new_watermark) if new_watermark else None
        _record_run(conn, summary, period.programme_code, started, new_watermark)
    finally:
        conn.close()
    log.info("pull %s done: %d fetched, %d new, %d unchanged, %d failed", summary.pull_run_id,
             summary.fetched, summary.new_versions, summary.unchanged, summary.failed)
    return summary


def _next_watermark(previous: dt.datetime | None, listed: dict[str, sheets.DriveFile],
                    failures: dict[str, str]) -> dt.datetime | None:
    """The newest modifiedTime listed — but never past a spreadsheet that failed, so that the
    next pull asks for it again."""
    times = [parse_drive_time(f.modified_time) for f in listed.values() if f.modified_time]
    newest = max([t for t in times if t] + ([previous] if previous else []), default=None)
    failed = [parse_drive_time(listed[s].modified_time) for s in failures
              if s in listed and listed[s].modified_time]
    if failed and newest:
        newest = min(newest, min(failed) - dt.timedelta(milliseconds=1))
        if previous:
            newest = max(newest, previous)
    return newest


def _fail(conn, summary: PullSummary, spreadsheet_id: str, modified: str | None,
          attempted: dt.datetime, reason: str) -> None:
    log.warning("pull %s: spreadsheet %s not fetched: %s", summary.pull_run_id, spreadsheet_id,
                reason)
    summary.failed += 1
    summary.failures[spreadsheet_id] = reason
    with conn.cursor() as cur:
        record_fetch(cur, pull_run_id=summary.pull_run_id, spreadsheet_id=spreadsheet_id,
                     drive_modified_time=modified, attempted_at=attempted, outcome="failed",
                     error_message=reason)
    conn.commit()


def _record_run(conn, summary: PullSummary, programme_code: str, started: dt.datetime,
                watermark: dt.datetime | None) -> None:
    with conn.cursor() as cur:
        cur.execute("""
            insert into ops.pull_runs (pull_run_id, programme_code, period_code, mode, started_at,
                finished_at, files_listed, fetched, new_versions, unchanged, failed, api_calls,
                drive_watermark)
            values (%s, %s, %s, %s, %s, now(), %s, %s, %s, %s, %s, %s, %s)""",
                    (summary.pull_run_id, programme_code, summary.period_code, summary.mode,
                     started, summary.files_listed, summary.fetched, summary.new_versions,
                     summary.unchanged, summary.failed, json.dumps(dict(summary.api_calls)),
                     watermark))
    conn.commit()
