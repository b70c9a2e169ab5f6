"""Writing each unit's check result back into its spreadsheet: the "Kết quả kiểm tra" tab.

After each build of the warehouse (the ``tell_units`` task of the publish DAG, mapped per
period), every report whose tab has something new to say gets it rewritten: a newer checked
version, a new check of it, or a new state in ``marts.fct_submission`` (counted on time or late,
still missing something, past the deadline). The tab says first, in one sentence, whether the
report counts and what is still missing, with the deadline (``publish.unit_state``: the marts'
state, the one rule), then the time of the check, which version of the sheet was checked, and
one row per problem — tab, cell, the value found, what is expected, how to fix
(``publish.check_tab``, the same as ``tonghop check`` offline). A version checked after the
build the marts come from waits for the next build, so the tab never contradicts the marts.

Cost: one ``spreadsheets.batchUpdate`` per spreadsheet with something new to say (the tab is
deleted and drawn again in the same call, so nothing of an older result survives), nothing for
units whose sheet did not change. The tab has a sheet id in the range the puller ignores
(``layout.is_check_sheet_id``), and is protected, so what we write is never read back as the
unit's data; and since Drive records our write as ``modifiedByMeTime``, the next pull does not
even read the spreadsheet again for it.

A unit whose spreadsheet cannot be written is recorded as failed (``ops.feedback_writes``) and
tried again at the next publication; the other units go on. The tabs are written in shards
(:func:`plan_feedback`, then :func:`write_feedback` on each shard's spreadsheets, each as the
service account it is shared with); one writer per spreadsheet at a time (a PostgreSQL advisory
lock), which reads again what the spreadsheet's tabs last said before writing, so neither a
retried shard nor two cycles at once write a tab twice.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import psycopg2
from gspread.exceptions import APIError
from requests.exceptions import RequestException

from expectations.runner import Issue
from publish.check_tab import check_tab
from publish.unit_state import UnitState, read_states, sentence
from sheets import layout
from sheets.client import ClientPool, describe_error
from sheets.quota import soonest_first
from sheets.writer import SheetsApi, client_account_email, tab_requests
from tonghop import progress
from tonghop.catalogue import Catalogue
from tonghop.errors import WarehouseConnectionLost, connection_lost, one_line
from tonghop.quota import interleaved
from tonghop.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CheckedReport:
    """The newest checked version of one unit's report, to be answered."""

    spreadsheet_id: str
    registry_tab_title: str
    unit_code: str
    sheet_version_id: int
    validation_run_id: int
    checked_at: dt.datetime
    version_time: dt.datetime | None
    tab_known: bool
    #: what the unit's tab last said: (sheet_version_id, validation_run_id, state key)
    last_written: tuple | None = None
    #: the service account the spreadsheet is written as (None: the first of the pool)
    service_account: str | None = None


@dataclass
class FeedbackSummary:
    period_code: str
    spreadsheets: int = 0
    tabs_written: int = 0
    failed: int = 0
    #: reports checked after the build the marts come from: answered after the next build
    awaiting_build: int = 0
    api_calls: Counter = field(default_factory=Counter)
    failures: dict[str, str] = field(default_factory=dict)
    #: seconds the writes waited for Google's quota (sheets.quota)
    quota_wait_seconds: float = 0.0

    def as_dict(self) -> dict:
        return {
            "quota_wait_seconds": self.quota_wait_seconds,
            "period_code": self.period_code,
            "spreadsheets": self.spreadsheets,
            "tabs_written": self.tabs_written,
            "failed": self.failed,
            "awaiting_build": self.awaiting_build,
            "api_calls": dict(self.api_calls),
            "failures": dict(self.failures),
        }


def checked_reports(
    conn, period_code: str, spreadsheet_ids: list[str] | None = None
) -> list[CheckedReport]:
    """Each registered report's newest checked version, with what its tab last said (only
    those of ``spreadsheet_ids`` when given)."""
    with conn.cursor() as cur:
        cur.execute(
            """
            with latest as (
                select distinct on (r.spreadsheet_id, r.tab_title)
                       r.spreadsheet_id, r.tab_title, r.unit_code, h.sheet_version_id,
                       h.validation_run_id, v.drive_modified_time, r.service_account
                from ops.sheet_registry r
                join parsed.report_headers h
                  on h.spreadsheet_id = r.spreadsheet_id and h.unit_code = r.unit_code
                 and h.registry_tab_title = r.tab_title
                join raw.sheet_versions v on v.sheet_version_id = h.sheet_version_id
                where r.period_code = %(period)s
                  and (%(only)s::text[] is null or r.spreadsheet_id = any(%(only)s::text[]))
                order by r.spreadsheet_id, r.tab_title, h.sheet_version_id desc)
            select l.spreadsheet_id, l.tab_title, l.unit_code, l.sheet_version_id,
                   l.validation_run_id, coalesce(run.finished_at, run.started_at),
                   l.drive_modified_time, written.feedback_write_id is not null,
                   case when written.feedback_write_id is not null then
                       array[written.sheet_version_id::text, written.validation_run_id::text,
                             written.state_key] end,
                   l.service_account
            from latest l
            join quality.validation_runs run on run.validation_run_id = l.validation_run_id
            left join lateral (
                select f.feedback_write_id, f.sheet_version_id, f.validation_run_id, f.state_key
                from ops.feedback_writes f
                where f.spreadsheet_id = l.spreadsheet_id and f.unit_code = l.unit_code
                  and f.outcome = 'written'
                order by f.feedback_write_id desc
                limit 1) written on true
            order by l.spreadsheet_id, l.tab_title""",
            {"period": period_code, "only": list(spreadsheet_ids) if spreadsheet_ids else None},
        )
        return [
            CheckedReport(
                *row[:8], last_written=tuple(row[8]) if row[8] else None, service_account=row[9]
            )
            for row in cur.fetchall()
        ]


def reports_to_answer(
    conn,
    states: dict[str, UnitState],
    period_code: str,
    *,
    rewrite_all: bool = False,
    spreadsheet_ids: list[str] | None = None,
) -> tuple[list[tuple[CheckedReport, UnitState]], int]:
    """The reports whose tab must say something new — a newer checked version, a new check of
    it, or a new state (``states``: the marts' ``fct_submission`` rows) — or all of them with
    ``rewrite_all`` (e.g. after the rules changed); and how many wait for a build that knows
    their newest version. Only those of ``spreadsheet_ids`` when given."""
    answer, waiting = [], 0
    for report in checked_reports(conn, period_code, spreadsheet_ids):
        state = states.get(report.unit_code)
        known = state and state.latest_sheet_version_id
        if not known or known < report.sheet_version_id:
            waiting += 1  # checked after the build the marts come from
            continue
        key = (str(report.sheet_version_id), str(report.validation_run_id), state.key)
        if rewrite_all or report.last_written != key:
            answer.append((report, state))
    return answer, waiting


def issues_of(conn, reports: list[CheckedReport]) -> dict[tuple[int, str], list[Issue]]:
    """The stored problems of each (version, unit)."""
    out: dict[tuple[int, str], list[Issue]] = defaultdict(list)
    if not reports:
        return out
    with conn.cursor() as cur:
        cur.execute(
            """
            select sheet_version_id, unit_code, period_code, part, row_key, tab_title, cell_ref,
                   rule_code, severity, blocks_version, value_found, message_vi, expected_vi,
                   fix_vi, expectation_type
            from quality.validation_issues
            where sheet_version_id = any(%s)""",
            ([r.sheet_version_id for r in reports],),
        )
        for row in cur:
            issue = Issue(*row)
            out[(issue.sheet_version_id, issue.unit_code)].append(issue)
    return out


def read_marts_states(settings: Settings, period_code: str) -> dict[str, UnitState]:
    """The period's rows of ``marts.fct_submission``, read as bi_reader (the marts' reader)."""
    conn = psycopg2.connect(settings.dsn("bi_reader"))
    try:
        return read_states(conn, period_code)
    finally:
        conn.close()


@dataclass
class FeedbackPlan:
    """The spreadsheets whose tabs have something new to say, as [spreadsheet id, service
    account (None: the first of the pool)], the accounts in turn (every shard then spreads its
    writes over every account's quota); and how many reports wait for the next build."""

    period_code: str
    spreadsheets: list[list] = field(default_factory=list)
    reports: int = 0
    awaiting_build: int = 0

    def as_dict(self) -> dict:
        return {
            "period_code": self.period_code,
            "spreadsheets": [list(s) for s in self.spreadsheets],
            "reports": self.reports,
            "awaiting_build": self.awaiting_build,
        }


def plan_feedback(
    settings: Settings, period_code: str, *, rewrite_all: bool = False
) -> FeedbackPlan:
    """Which spreadsheets to answer (no API call: the marts' states and the stored checks)."""
    plan = FeedbackPlan(period_code)
    conn = psycopg2.connect(settings.dsn("loader"))
    try:
        states = read_marts_states(settings, period_code)
        answer, plan.awaiting_build = reports_to_answer(
            conn, states, period_code, rewrite_all=rewrite_all
        )
    finally:
        conn.close()
    accounts: dict[str, str | None] = {}
    for report, _ in answer:
        accounts.setdefault(report.spreadsheet_id, report.service_account)
    plan.reports = len(answer)
    plan.spreadsheets = interleaved(
        [[sid, account] for sid, account in sorted(accounts.items())], key=lambda s: s[1]
    )
    return plan


def write_feedback(
    settings: Settings,
    catalogue: Catalogue,
    period_code: str,
    *,
    client=None,
    rewrite_all: bool = False,
    spreadsheet_ids: list[str] | None = None,
) -> FeedbackSummary:
    """Rewrite the "Kết quả kiểm tra" tab of every report checked since its last answer —
    only in ``spreadsheet_ids`` when given (a shard of :func:`plan_feedback`'s) —, each
    spreadsheet as the service account it is shared with (``client``: one client for all).

    Safe to run twice at once or again (an Airflow retry, two cycles of the period): each
    spreadsheet is written under a lock of its own, after reading again what its tabs last
    said, so a tab recorded as written is not written again."""
    period = catalogue.period(period_code)
    summary = FeedbackSummary(period_code=period_code)
    if spreadsheet_ids is not None and not spreadsheet_ids:
        return summary  # an empty shard (a plan with nothing to answer)
    conn = psycopg2.connect(settings.dsn("loader"))
    doing, spreadsheet_id = "reading the units' states from the marts", None
    try:
        states = read_marts_states(settings, period_code)
        doing = "reading the reports to answer"
        answer, summary.awaiting_build = reports_to_answer(
            conn, states, period_code, rewrite_all=rewrite_all, spreadsheet_ids=spreadsheet_ids
        )
        if not answer:
            log.info(
                "feedback for %s: nothing new to tell any unit (%d checked after the last build)",
                period_code,
                summary.awaiting_build,
            )
            return summary
        apis = _Apis(settings, client)
        reports = [report for report, _ in answer]
        state_of = {report.unit_code: state for report, state in answer}
        problems = issues_of(conn, reports)
        by_spreadsheet: dict[str, list[CheckedReport]] = defaultdict(list)
        for report in reports:
            by_spreadsheet[report.spreadsheet_id].append(report)
        # the shard's order (the accounts in turn), else the accounts taken in turn here; then
        # the account whose quota frees up soonest next (sheets.quota.soonest_first)
        order = [
            sid
            for sid in spreadsheet_ids
            or interleaved(
                sorted(by_spreadsheet), key=lambda sid: by_spreadsheet[sid][0].service_account
            )
            if sid in by_spreadsheet
        ]

        def account_of(sid: str) -> str | None:
            return by_spreadsheet[sid][0].service_account

        ordered = soonest_first(
            order, account_of, lambda a: getattr(apis(a).http, "limiter", None), "sheets_write"
        )
        progress.started("feedback", total=len(reports))
        for spreadsheet_id, group in ((sid, by_spreadsheet[sid]) for sid in ordered):
            doing = f"waiting for spreadsheet {spreadsheet_id}'s feedback lock"
            asked = len(group)
            with _spreadsheet_lock(conn, spreadsheet_id):
                # another writer (a cycle of the period at the same time, an earlier try) may
                # have answered it meanwhile: what is recorded now decides
                fresh = {
                    r.unit_code: r.last_written
                    for r in checked_reports(conn, period_code, [spreadsheet_id])
                }
                group = [
                    r
                    for r in group
                    if rewrite_all
                    or fresh.get(r.unit_code)
                    != (
                        str(r.sheet_version_id),
                        str(r.validation_run_id),
                        state_of[r.unit_code].key,
                    )
                ]
                if not group:
                    progress.advanced("feedback", asked)
                    continue
                summary.spreadsheets += 1
                api = apis(group[0].service_account)
                tabs = {
                    r.unit_code: check_tab(
                        unit_name=catalogue.unit(r.unit_code).unit_name,
                        period_name=period.period_name,
                        state_sentence=sentence(state_of[r.unit_code], period),
                        issues=problems.get((r.sheet_version_id, r.unit_code), []),
                        checked_at=r.checked_at,
                        version_time=r.version_time,
                        # a sheet nobody filled: the sentence says so, no list of its cells
                        list_problems=state_of[r.unit_code].latest_has_content is not False,
                        title=layout.check_tab_title(r.registry_tab_title),
                    )
                    for r in group
                }
                error = _write(api, spreadsheet_id, group, tabs)
                doing = f"recording what was written to spreadsheet {spreadsheet_id}"
                _record(conn, period_code, group, tabs, state_of, error)
            if error:
                summary.failed += len(group)
                summary.failures[spreadsheet_id] = error
                log.warning("feedback: spreadsheet %s not written: %s", spreadsheet_id, error)
            else:
                summary.tabs_written += len(group)
            progress.advanced("feedback", asked)
        summary.api_calls = apis.calls()
        summary.quota_wait_seconds = apis.waited()
    except (psycopg2.OperationalError, psycopg2.InterfaceError) as exc:
        if not connection_lost(conn, exc):
            raise
        recorded = summary.tabs_written + summary.failed
        raise WarehouseConnectionLost(
            f"feedback to the units of {period_code}: the connection to the warehouse "
            f"database was lost while {doing}: {one_line(exc)}. The answers of "
            f"{summary.spreadsheets - (1 if spreadsheet_id else 0)} spreadsheet(s) "
            f"({recorded} tab(s)) were written and recorded before it"
            + (
                f"; spreadsheet {spreadsheet_id} was answered, but the record of it was lost"
                if spreadsheet_id
                else ""
            )
            + ". Each record is its own transaction. When the database is back, the task's "
            "retry writes every tab not recorded as written (a tab written twice is "
            "redrawn, not duplicated)."
        ) from exc
    finally:
        conn.close()
    log.info(
        "feedback for %s: %d tabs written in %d spreadsheets, %d failed",
        period_code,
        summary.tabs_written,
        summary.spreadsheets,
        summary.failed,
    )
    return summary


@contextlib.contextmanager
def _spreadsheet_lock(conn, spreadsheet_id: str):
    """One writer of a spreadsheet's check tabs at a time, across processes (a PostgreSQL
    advisory lock of the session, released when the block ends or the session does)."""
    with conn.cursor() as cur:
        cur.execute(
            "select pg_advisory_lock(hashtext('tonghop.feedback'), hashtext(%s))",
            (spreadsheet_id,),
        )
    try:
        yield
    finally:
        if not conn.closed:
            with conn.cursor() as cur:
                cur.execute(
                    "select pg_advisory_unlock(hashtext('tonghop.feedback'), hashtext(%s))",
                    (spreadsheet_id,),
                )


class _Apis:
    """One :class:`SheetsApi` per service account (None: the first), or one around a given
    ``client``; their calls added up by ``calls()``."""

    def __init__(self, settings: Settings, client=None):
        self.client = client
        self.pool = None if client is not None else ClientPool(settings)
        self.apis: dict[str | None, SheetsApi] = {}

    def __call__(self, account: str | None) -> SheetsApi:
        key = None if self.client is not None else account
        if key not in self.apis:
            client = self.client if self.client is not None else self.pool(account)
            self.apis[key] = SheetsApi(client, client_account_email(client))
        return self.apis[key]

    def calls(self) -> Counter:
        total: Counter = Counter()
        for api in self.apis.values():
            total.update(api.calls)
        return total

    def waited(self) -> float:
        """Seconds the calls waited for Google's quota, every account added up."""
        return round(
            sum(
                getattr(getattr(a.http, "limiter", None), "waited", 0.0) for a in self.apis.values()
            ),
            1,
        )


def _requests(group: list[CheckedReport], tabs, service_account, trust_record: bool) -> list[dict]:
    """Delete our tab if it is there, then draw it again as the first tab."""
    requests: list[dict] = []
    for report in group:
        sheet_id = layout.check_sheet_id(report.unit_code)
        there = report.tab_known if trust_record else not report.tab_known
        if there:
            requests.append({"deleteSheet": {"sheetId": sheet_id}})
        drawn = tab_requests(tabs[report.unit_code], sheet_id, service_account=service_account)
        drawn[0]["addSheet"]["properties"]["index"] = 0
        requests += drawn
    return requests


def _write(api: SheetsApi, spreadsheet_id: str, group: list[CheckedReport], tabs) -> str | None:
    """One batchUpdate; if our record of which tabs exist was wrong (a tab deleted by hand, or
    a record lost), a second one with the other assumption. Returns the error, if any."""
    last_error = None
    for trust_record in (True, False):
        try:
            api.batch_update(
                spreadsheet_id, _requests(group, tabs, api.service_account, trust_record)
            )
            return None
        except APIError as exc:
            last_error = describe_error(exc)
            if exc.code != 400:
                return last_error
        except RequestException as exc:
            return describe_error(exc)
    return last_error


def _record(
    conn, period_code: str, group: list[CheckedReport], tabs, state_of, error: str | None
) -> None:
    now = dt.datetime.now(dt.UTC)
    with conn.cursor() as cur:
        for report in group:
            cur.execute(
                """
                insert into ops.feedback_writes (spreadsheet_id, tab_title, sheet_id, unit_code,
                    period_code, sheet_version_id, validation_run_id, written_at, outcome,
                    error_message, state_key)
                values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)""",
                (
                    report.spreadsheet_id,
                    tabs[report.unit_code].title,
                    layout.check_sheet_id(report.unit_code),
                    report.unit_code,
                    period_code,
                    report.sheet_version_id,
                    report.validation_run_id,
                    now,
                    "failed" if error else "written",
                    error,
                    state_of[report.unit_code].key,
                ),
            )
    conn.commit()
