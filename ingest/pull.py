"""Pulling one period's unit spreadsheets into raw.

One Drive listing call per 1,000 files finds the spreadsheets; each registered spreadsheet of
the period is read with one call and landed if its content changed. A spreadsheet that cannot
be read is recorded as failed with the reason, and every other unit goes on.
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
from ingest.land import land_version, record_fetch
from ingest.registry import entries_for_period
from tonghop.catalogue import Catalogue
from tonghop.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class PullSummary:
    pull_run_id: str
    period_code: str
    files_listed: int = 0
    fetched: int = 0
    new_versions: int = 0
    unchanged: int = 0
    failed: int = 0
    api_calls: Counter = field(default_factory=Counter)
    failures: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict:
        data = asdict(self)
        data["api_calls"] = dict(self.api_calls)
        return data


def new_run_id(prefix: str = "pull") -> str:
    return f"{prefix}-{dt.datetime.now(dt.timezone.utc):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"


def _describe(exc: Exception) -> str:
    if isinstance(exc, APIError):
        return f"Sheets API error {exc.code}: {exc.error.get('message', '')}"
    return f"{type(exc).__name__}: {exc}"


def pull_period(settings: Settings, catalogue: Catalogue, period_code: str, *,
                pull_run_id: str | None = None, client=None) -> PullSummary:
    """Read every registered spreadsheet of the period and land new versions."""
    period = catalogue.period(period_code)
    summary = PullSummary(pull_run_id=pull_run_id or new_run_id(), period_code=period_code)
    client = client or sheets.make_client(settings)
    started = dt.datetime.now(dt.timezone.utc)
    conn = psycopg2.connect(settings.dsn("loader"))
    try:
        registry = {e.spreadsheet_id for e in entries_for_period(conn, period_code)}
        listed: dict[str, sheets.DriveFile] = {}
        pages = 0
        for drive_file, page in sheets.list_spreadsheets(client):
            pages = page
            listed[drive_file.spreadsheet_id] = drive_file
        summary.api_calls["drive.files.list"] += pages
        summary.files_listed = len(listed)
        log.info("pull %s: %d spreadsheets listed in %d call(s); %d registered for %s",
                 summary.pull_run_id, len(listed), pages, len(registry), period_code)
        for spreadsheet_id in sorted(registry):
            attempted = dt.datetime.now(dt.timezone.utc)
            drive_file = listed.get(spreadsheet_id)
            if drive_file is None:
                _fail(conn, summary, spreadsheet_id, None, attempted,
                      "not listed in Drive: deleted, trashed or no longer shared")
                continue
            try:
                summary.api_calls["sheets.spreadsheets.get"] += 1
                resource = sheets.read_spreadsheet(client, spreadsheet_id)
            except (APIError, RequestException) as exc:
                _fail(conn, summary, spreadsheet_id, drive_file.modified_time, attempted,
                      _describe(exc))
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
        _record_run(conn, summary, period.programme_code, started)
    finally:
        conn.close()
    log.info("pull %s done: %d fetched, %d new, %d unchanged, %d failed", summary.pull_run_id,
             summary.fetched, summary.new_versions, summary.unchanged, summary.failed)
    return summary


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


def _record_run(conn, summary: PullSummary, programme_code: str, started: dt.datetime) -> None:
    with conn.cursor() as cur:
        cur.execute("""
            insert into ops.pull_runs (pull_run_id, programme_code, period_code, mode, started_at,
                finished_at, files_listed, fetched, new_versions, unchanged, failed, api_calls)
            values (%s, %s, %s, 'full', %s, now(), %s, %s, %s, %s, %s, %s)""",
                    (summary.pull_run_id, programme_code, summary.period_code, started,
                     summary.files_listed, summary.fetched, summary.new_versions,
                     summary.unchanged, summary.failed, json.dumps(dict(summary.api_calls))))
    conn.commit()
