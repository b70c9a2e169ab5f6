"""Validating what a pull landed: parse new versions, run the suites, store rows and issues.

In: the period; reads raw.sheet_versions of the period's registered spreadsheets that have not
been parsed yet. Out: parsed.* rows, quality.validation_issues and one quality.validation_runs
row, written in one transaction — a version is either fully processed or not at all, so a
rerun after a crash picks it up again.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

import psycopg2
from psycopg2.extras import execute_values

from expectations.runner import RULESET_VERSION, ReportToCheck, validate
from ingest.parse import parse_report
from tonghop.catalogue import Catalogue
from tonghop.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class ValidationSummary:
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
        cur.execute("""
            select v.sheet_version_id, r.unit_code, r.period_code, r.tab_title, v.payload
            from raw.sheet_versions v
            join ops.sheet_registry r on r.spreadsheet_id = v.spreadsheet_id
            where r.period_code = %s
              and not exists (
                  select 1 from parsed.report_headers h
                  where h.sheet_version_id = v.sheet_version_id and h.unit_code = r.unit_code)
            order by v.sheet_version_id, r.unit_code""", (period_code,))
        return [ReportToCheck(sheet_version_id=version_id, unit_code=unit, period_code=period,
                              registry_tab_title=tab,
                              parsed=parse_report(payload, tab_title=tab or None,
                                                  value_kind_of=catalogue.value_kind_of))
                for version_id, unit, period, tab, payload in cur]


def validate_landed(settings: Settings, catalogue: Catalogue, period_code: str,
                    pull_run_id: str | None = None) -> ValidationSummary:
    conn = psycopg2.connect(settings.dsn("loader"))
    try:
        reports = unparsed_reports(conn, period_code, catalogue)
        if not reports:
            log.info("validation: no new version to check for %s", period_code)
            return ValidationSummary(None, 0, 0, 0, 0, None)
        started = dt.datetime.now(dt.timezone.utc)
        outcome = validate(reports, catalogue, store_results=True)
        run_id = _store(conn, reports, outcome, pull_run_id, started)
    finally:
        conn.close()
    summary = ValidationSummary(run_id, len(reports), outcome.rows_checked, outcome.errors,
                                outcome.warnings, outcome.data_docs_path)
    log.info("validation run %s: %d reports, %d errors, %d warnings; Data Docs: %s", run_id,
             len(reports), outcome.errors, outcome.warnings, outcome.data_docs_path)
    return summary


def _store(conn, reports: list[ReportToCheck], outcome, pull_run_id, started) -> int:
    now = dt.datetime.now(dt.timezone.utc)
    with conn.cursor() as cur:
        cur.execute("""
            insert into quality.validation_runs (pull_run_id, started_at, finished_at,
                ruleset_version, sheet_versions, rows_checked, errors, warnings, gx_success,
                data_docs_path)
            values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) returning validation_run_id""",
                    (pull_run_id, started, now, RULESET_VERSION,
                     len({r.sheet_version_id for r in reports}), outcome.rows_checked,
                     outcome.errors, outcome.warnings, outcome.gx_success,
                     outcome.data_docs_path))
        run_id = cur.fetchone()[0]
        headers, tasks, indicators, feedback = [], [], [], []
        for r in reports:
            h = r.parsed.header
            spreadsheet_id = r.parsed.spreadsheet_id
            headers.append((r.sheet_version_id, r.unit_code, r.period_code, run_id,
                            spreadsheet_id, r.registry_tab_title, h["claimed_unit_code"],
                            h["claimed_period_code"], h["reporter_name"], h["reporter_position"],
                            h["reporter_phone"], h["reporter_email"], h["submitted_text"],
                            h["submitted"] is True, now))
            key = (r.sheet_version_id, r.unit_code, r.period_code)
            tasks += [key + (t["row_key"], t["tab_title"], t["row_number"], t["task_code"],
                             t["status_text"], t["status_code"], t["result"], t["completed_on"],
                             t["completed_on_text"], t["evidence"], t["note"])
                      for t in r.parsed.tasks]
            indicators += [key + (i["row_key"], i["tab_title"], i["row_number"],
                                  i["indicator_code"], i["value_text"], i["value"],
                                  i["value_reading"], i["value_note"], i["note"])
                           for i in r.parsed.indicators]
            feedback += [key + (f["row_key"], f["tab_title"], f["row_number"], f["kind"],
                                f["kind_text"], f["content"])
                         for f in r.parsed.feedback]
        execute_values(cur, """
            insert into parsed.report_headers (sheet_version_id, unit_code, period_code,
                validation_run_id, spreadsheet_id, registry_tab_title, claimed_unit_code,
                claimed_period_code, reporter_name, reporter_position, reporter_phone,
                reporter_email, submitted_text, is_submitted, parsed_at) values %s""", headers)
        execute_values(cur, """
            insert into parsed.task_rows (sheet_version_id, unit_code, period_code, row_key,
                tab_title, row_number, task_code, status_text, status_code, result_text,
                completed_on, completed_on_text, evidence_text, note_text) values %s""", tasks)
        execute_values(cur, """
            insert into parsed.indicator_rows (sheet_version_id, unit_code, period_code, row_key,
                tab_title, row_number, indicator_code, value_text, value_number, value_reading,
                reading_note, note_text) values %s""", indicators)
        execute_values(cur, """
            insert into parsed.feedback_rows (sheet_version_id, unit_code, period_code, row_key,
                tab_title, row_number, kind, kind_text, content_text) values %s""", feedback)
        execute_values(cur, """
            insert into quality.validation_issues (validation_run_id, sheet_version_id,
                unit_code, period_code, part, row_key, tab_title, cell_ref, rule_code, severity,
                blocks_version, expectation_type, value_found, message_vi, expected_vi, fix_vi)
            values %s""", [
            (run_id, i.sheet_version_id, i.unit_code, i.period_code, i.part, i.row_key,
             i.tab_title, i.cell_ref, i.rule_code, i.severity, i.blocks_version,
             i.expectation_type, i.value_found, i.message_vi, i.expected_vi, i.fix_vi)
            for i in outcome.issues])
    conn.commit()
    return run_id
