"""Validating what a pull landed: parse new versions, run the suites, store rows and issues.

In: the period; reads raw.sheet_versions of the period's registered spreadsheets that have not
been parsed yet, and the units' valid figures of the previous period of the same kind (for the
out-of-line warning). Out, written in one transaction — a version is either fully processed or
not at all, so a rerun after a crash picks it up again:

- parsed.* rows (every row as read, valid or not), and per report whether the unit filled
  anything (``ParsedReport.has_content``, the one definition the warehouse reads);
- quality.validation_runs: one row per run, also when there was nothing new to check;
- quality.validation_issues: one row per problem, with its cell and Vietnamese message;
- quality.rule_results: every rule on every report, rows checked and rows failed;
- quality.quarantined_rows: the rows an error keeps out of the marts, as read.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, replace
from decimal import Decimal

import psycopg2
from psycopg2.extras import Json, execute_values

from expectations.runner import RULESET_VERSION, ReportToCheck, validate
from ingest.parse import parse_report
from tonghop.catalogue import Catalogue
from tonghop.errors import WarehouseConnectionLost, connection_lost, one_line
from tonghop.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class ValidationSummary:
    period_code: str
    validation_run_id: int | None
    reports: int
    rows_checked: int
    errors: int
    warnings: int
    data_docs_path: str | None

    def as_dict(self) -> dict:
        return self.__dict__.copy()


def unparsed_reports(conn, period_code: str, catalogue: Catalogue) -> list[ReportToCheck]:
    """Reports (version × owning unit) of the period that have not been parsed yet."""
    with conn.cursor(name="unparsed_versions") as cur:
        cur.itersize = 200
        cur.execute(
            """
            select v.sheet_version_id, r.unit_code, r.period_code, r.tab_title, v.payload
            from raw.sheet_versions v
            join ops.sheet_registry r on r.spreadsheet_id = v.spreadsheet_id
            where r.period_code = %s
              and not exists (
                  select 1 from parsed.report_headers h
                  where h.sheet_version_id = v.sheet_version_id and h.unit_code = r.unit_code)
            order by v.sheet_version_id, r.unit_code""",
            (period_code,),
        )
        return [
            ReportToCheck(
                sheet_version_id=version_id,
                unit_code=unit,
                period_code=period,
                registry_tab_title=tab,
                parsed=parse_report(
                    payload, tab_title=tab or None, value_kind_of=catalogue.value_kind_of
                ),
            )
            for version_id, unit, period, tab, payload in cur
        ]


def previous_values(
    conn, period_code: str, catalogue: Catalogue
) -> tuple[str | None, dict[str, dict[str, Decimal]]]:
    """(name of the previous period of the same kind, unit → indicator → valid value there).

    A unit's value counts when it is in the unit's latest submitted version that was not
    rejected as a whole, in a row without errors — what reached the marts.
    """
    previous = catalogue.previous_period(period_code)
    if previous is None:
        return None, {}
    with conn.cursor() as cur:
        cur.execute(
            """
            with latest as (
                select distinct on (h.unit_code) h.sheet_version_id, h.unit_code
                from parsed.report_headers h
                where h.period_code = %s and h.is_submitted
                  and not exists (
                      select 1 from quality.validation_issues i
                      where i.sheet_version_id = h.sheet_version_id
                        and i.unit_code = h.unit_code and i.blocks_version)
                order by h.unit_code, h.sheet_version_id desc)
            select r.unit_code, r.indicator_code, r.value_number
            from parsed.indicator_rows r
            join latest l on l.sheet_version_id = r.sheet_version_id
                         and l.unit_code = r.unit_code
            where r.value_number is not null and r.indicator_code is not null
              and not exists (
                  select 1 from quality.validation_issues i
                  where i.sheet_version_id = r.sheet_version_id and i.unit_code = r.unit_code
                    and i.row_key = r.row_key and i.severity = 'error')""",
            (previous.period_code,),
        )
        values: dict[str, dict[str, Decimal]] = {}
        for unit, indicator, value in cur:
            values.setdefault(unit, {})[indicator] = value
    return previous.period_name, values


def lock_period(conn, stage: str, period_code: str) -> None:
    """Wait for, then hold until the transaction ends, the lock of one stage of one period.

    Two-key advisory locks: a key space apart from the one-key locks ``ingest.land`` takes per
    spreadsheet."""
    with conn.cursor() as cur:
        cur.execute(
            "select pg_advisory_xact_lock(hashtext(%s), hashtext(%s))",
            (f"tonghop.{stage}", period_code),
        )


def validate_landed(
    settings: Settings, catalogue: Catalogue, period_code: str, pull_run_id: str | None = None
) -> ValidationSummary:
    conn = psycopg2.connect(settings.dsn("loader"))
    doing = "waiting for the period's validation lock"
    try:
        started = dt.datetime.now(dt.UTC)
        # one validation of a period at a time: a second one (two cycles of the period at
        # once) waits here, then finds the first one's versions parsed and checks only what is
        # left, instead of checking them again and failing on their primary keys
        lock_period(conn, "validate", period_code)
        doing = "reading the versions to check"
        reports = unparsed_reports(conn, period_code, catalogue)
        if not reports:
            log.info("validation: no new version to check for %s", period_code)
            doing = "recording a run with nothing to check"
            run_id = _record_run(conn, period_code, pull_run_id, started, [], None)
            conn.commit()
            return ValidationSummary(period_code, run_id, 0, 0, 0, 0, None)
        previous_name, previous = previous_values(conn, period_code, catalogue)
        reports = [
            replace(
                r, previous_values=previous.get(r.unit_code, {}), previous_period_name=previous_name
            )
            for r in reports
        ]
        outcome = validate(reports, catalogue, store_results=True, keep_runs=settings.gx_keep_runs)
        doing = f"storing the results of {len(reports)} report(s)"
        run_id = _store(conn, period_code, reports, outcome, pull_run_id, started)
    except (psycopg2.OperationalError, psycopg2.InterfaceError) as exc:
        if not connection_lost(conn, exc):
            raise
        raise WarehouseConnectionLost(
            f"validation of {period_code}"
            f"{f' (pull {pull_run_id})' if pull_run_id else ''}: the connection to the "
            f"warehouse database was lost while {doing}: {one_line(exc)}. A run's parsed "
            f"rows, issues and results are stored in one transaction, so nothing of this run "
            f"was kept (unless the break came at its very commit, when all of it was). When "
            f"the database is back, the task's retry checks every version still unchecked: "
            f"none is lost or checked twice."
        ) from exc
    finally:
        conn.close()
    summary = ValidationSummary(
        period_code,
        run_id,
        len(reports),
        outcome.rows_checked,
        outcome.errors,
        outcome.warnings,
        outcome.data_docs_path,
    )
    log.info(
        "validation run %s: %d reports, %d errors, %d warnings; Data Docs: %s",
        run_id,
        len(reports),
        outcome.errors,
        outcome.warnings,
        outcome.data_docs_path,
    )
    return summary


def _record_run(
    conn,
    period_code: str,
    pull_run_id: str | None,
    started: dt.datetime,
    reports: list[ReportToCheck],
    outcome,
) -> int:
    with conn.cursor() as cur:
        cur.execute(
            """
            insert into quality.validation_runs (pull_run_id, period_code, started_at,
                finished_at, ruleset_version, reports, sheet_versions, rows_checked, errors,
                warnings, gx_success, data_docs_path)
            values (%s, %s, %s, now(), %s, %s, %s, %s, %s, %s, %s, %s)
            returning validation_run_id""",
            (
                pull_run_id,
                period_code,
                started,
                RULESET_VERSION,
                len(reports),
                len({r.sheet_version_id for r in reports}),
                outcome.rows_checked if outcome else 0,
                outcome.errors if outcome else 0,
                outcome.warnings if outcome else 0,
                outcome.gx_success if outcome else True,
                outcome.data_docs_path if outcome else None,
            ),
        )
        return cur.fetchone()[0]


def _store(
    conn, period_code: str, reports: list[ReportToCheck], outcome, pull_run_id, started
) -> int:
    now = dt.datetime.now(dt.UTC)
    run_id = _record_run(conn, period_code, pull_run_id, started, reports, outcome)
    with conn.cursor() as cur:
        headers, tasks, indicators, feedback = [], [], [], []
        for r in reports:
            h = r.parsed.header
            spreadsheet_id = r.parsed.spreadsheet_id
            headers.append(
                (
                    r.sheet_version_id,
                    r.unit_code,
                    r.period_code,
                    run_id,
                    spreadsheet_id,
                    r.registry_tab_title,
                    h["claimed_unit_code"],
                    h["claimed_period_code"],
                    h["reporter_name"],
                    h["reporter_position"],
                    h["reporter_phone"],
                    h["reporter_email"],
                    h["submitted_text"],
                    h["submitted"] is True,
                    now,
                    r.parsed.part_sha256 or None,
                    r.parsed.has_content,
                )
            )
            key = (r.sheet_version_id, r.unit_code, r.period_code)
            tasks += [
                key
                + (
                    t["row_key"],
                    t["tab_title"],
                    t["row_number"],
                    t["task_code"],
                    t["status_text"],
                    t["status_code"],
                    t["result"],
                    t["completed_on"],
                    t["completed_on_text"],
                    t["evidence"],
                    t["note"],
                )
                for t in r.parsed.tasks
            ]
            indicators += [
                key
                + (
                    i["row_key"],
                    i["tab_title"],
                    i["row_number"],
                    i["indicator_code"],
                    i["value_text"],
                    i["value"],
                    i["value_reading"],
                    i["value_note"],
                    i["note"],
                )
                for i in r.parsed.indicators
            ]
            feedback += [
                key
                + (
                    f["row_key"],
                    f["tab_title"],
                    f["row_number"],
                    f["kind"],
                    f["kind_text"],
                    f["content"],
                )
                for f in r.parsed.feedback
            ]
        execute_values(
            cur,
            """
            insert into parsed.report_headers (sheet_version_id, unit_code, period_code,
                validation_run_id, spreadsheet_id, registry_tab_title, claimed_unit_code,
                claimed_period_code, reporter_name, reporter_position, reporter_phone,
                reporter_email, submitted_text, is_submitted, parsed_at, part_sha256,
                has_content)
            values %s""",
            headers,
        )
        execute_values(
            cur,
            """
            insert into parsed.task_rows (sheet_version_id, unit_code, period_code, row_key,
                tab_title, row_number, task_code, status_text, status_code, result_text,
                completed_on, completed_on_text, evidence_text, note_text) values %s""",
            tasks,
        )
        execute_values(
            cur,
            """
            insert into parsed.indicator_rows (sheet_version_id, unit_code, period_code, row_key,
                tab_title, row_number, indicator_code, value_text, value_number, value_reading,
                reading_note, note_text) values %s""",
            indicators,
        )
        execute_values(
            cur,
            """
            insert into parsed.feedback_rows (sheet_version_id, unit_code, period_code, row_key,
                tab_title, row_number, kind, kind_text, content_text) values %s""",
            feedback,
        )
        execute_values(
            cur,
            """
            insert into quality.validation_issues (validation_run_id, sheet_version_id,
                unit_code, period_code, part, row_key, tab_title, cell_ref, rule_code, severity,
                blocks_version, expectation_type, value_found, message_vi, expected_vi, fix_vi)
            values %s""",
            [
                (
                    run_id,
                    i.sheet_version_id,
                    i.unit_code,
                    i.period_code,
                    i.part,
                    i.row_key,
                    i.tab_title,
                    i.cell_ref,
                    i.rule_code,
                    i.severity,
                    i.blocks_version,
                    i.expectation_type,
                    i.value_found,
                    i.message_vi,
                    i.expected_vi,
                    i.fix_vi,
                )
                for i in outcome.issues
            ],
        )
        execute_values(
            cur,
            """
            insert into quality.rule_results (validation_run_id, sheet_version_id, unit_code,
                period_code, part, rule_code, severity, rows_checked, rows_failed) values %s""",
            [
                (
                    run_id,
                    r.sheet_version_id,
                    r.unit_code,
                    r.period_code,
                    r.part,
                    r.rule_code,
                    r.severity,
                    r.rows_checked,
                    r.rows_failed,
                )
                for r in outcome.rule_results
            ],
        )
        execute_values(
            cur,
            """
            insert into quality.quarantined_rows (validation_run_id, sheet_version_id,
                unit_code, period_code, part, row_key, tab_title, row_number, rule_codes,
                row_data, quarantined_at) values %s""",
            [(run_id, *row, now) for row in quarantine(reports, outcome.issues)],
        )
    conn.commit()
    return run_id


def quarantine(reports: list[ReportToCheck], issues) -> list[tuple]:
    """The rows kept out of the marts: each row with an error, and every row of a version
    rejected as a whole (wrong unit or period) — as (version, unit, period, part, row_key, tab,
    row number, rule codes, row as read)."""
    row_errors: dict[tuple, list[str]] = {}
    blocked: dict[tuple, list[str]] = {}
    for i in issues:
        if i.severity != "error":
            continue
        report = (i.sheet_version_id, i.unit_code)
        if i.blocks_version:
            blocked.setdefault(report, []).append(i.rule_code)
        elif i.row_key:
            row_errors.setdefault(report + (i.part, i.row_key), []).append(i.rule_code)
    out = []
    for r in reports:
        report = (r.sheet_version_id, r.unit_code)
        for part, rows in (
            ("tasks", r.parsed.tasks),
            ("indicators", r.parsed.indicators),
            ("feedback", r.parsed.feedback),
        ):
            for row in rows:
                rules = blocked.get(report, []) + row_errors.get(
                    report + (part, row["row_key"]), []
                )
                if rules:
                    out.append(
                        (
                            r.sheet_version_id,
                            r.unit_code,
                            r.period_code,
                            part,
                            row["row_key"],
                            row["tab_title"],
                            row["row_number"],
                            sorted(set(rules)),
                            Json(_jsonable(row)),
                        )
                    )
    return out


def _jsonable(row: dict) -> dict:
    return {
        k: (
            v.isoformat()
            if isinstance(v, (dt.date, dt.datetime))
            else str(v)
            if isinstance(v, Decimal)
            else v
        )
        for k, v in row.items()
    }
