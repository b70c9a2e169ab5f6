"""Running the report suites on many unit reports at once.

In: parsed reports (``ingest.parse.ParsedReport``) with their owner (unit, period) and the
programme catalogue. Out: one :class:`Issue` per failing row and rule, with the cell, the value
found and the Vietnamese message, expectation and fix taken from the expectation's ``meta`` in
``gx/expectations/*.json`` — the suites are data, this module only feeds them.

All reports of a cycle are validated together: one DataFrame per part of the sheet
(headers, tasks, indicators, feedback) and one checkpoint run per part, whatever the number of
units. A unit's bad data produces issues, never an exception; a broken pipeline (missing suite,
GE failure) raises.
"""

from __future__ import annotations

import json
import logging
import math
import os
import string
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Iterable

import pandas as pd

from ingest.parse import ParsedReport
from tonghop.catalogue import Catalogue
from tonghop.layout import vi_date

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

log = logging.getLogger(__name__)

GX_DIR = Path(__file__).resolve().parent
PARTS = ("headers", "tasks", "indicators", "feedback")
#: the part an issue is recorded under (one header per report)
ISSUE_PART = {"headers": "header"}
#: bump when the rules change in a way that should be visible in stored results
RULESET_VERSION = "2026.11-1"


def suite_name(part: str) -> str:
    return f"unit_report_{part}"


@dataclass(frozen=True)
class ReportToCheck:
    """One unit's report inside one spreadsheet version."""

    sheet_version_id: int | None
    unit_code: str
    period_code: str
    parsed: ParsedReport
    registry_tab_title: str = ""


@dataclass(frozen=True)
class Issue:
    sheet_version_id: int | None
    unit_code: str
    period_code: str
    part: str
    row_key: str | None
    tab_title: str | None
    cell_ref: str | None
    rule_code: str
    severity: str
    blocks_version: bool
    value_found: str | None
    message_vi: str
    expected_vi: str | None
    fix_vi: str | None
    expectation_type: str

    def as_row(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ValidationOutcome:
    issues: list[Issue]
    rows_checked: int
    gx_success: bool
    data_docs_path: str | None

    @property
    def errors(self) -> int:
        return sum(1 for i in self.issues if i.severity == "error")

    @property
    def warnings(self) -> int:
        return sum(1 for i in self.issues if i.severity == "warning")


# ------------------------------------------------------------------ building the frames
def build_frames(reports: Iterable[ReportToCheck], catalogue: Catalogue) -> dict[str, pd.DataFrame]:
    """The four DataFrames the suites validate, with the context columns the rules need."""
    rows: dict[str, list[dict]] = {part: [] for part in PARTS}
    for report_id, report in enumerate(reports):
        period = catalogue.period(report.period_code)
        programme = period.programme_code
        assigned_tasks = {t.task_code for t, _ in catalogue.tasks_for(programme, report.unit_code)}
        assigned_indicators = {i.indicator_code: i for i in
                               catalogue.indicators_for(programme, report.unit_code)}
        window = f"{vi_date(period.data_from)} – {vi_date(period.data_to)}"
        base = {"report_id": report_id, "sheet_version_id": report.sheet_version_id,
                "unit_code": report.unit_code, "period_code": report.period_code}
        header = report.parsed.header
        task_codes = {t["task_code"] for t in report.parsed.tasks}
        indicator_codes = {i["indicator_code"] for i in report.parsed.indicators}
        missing_columns = ", ".join(filter(None, (header.get("tasks_columns_missing"),
                                                  header.get("indicators_columns_missing"))))
        rows["headers"].append(base | {
            "registry_tab_title": report.registry_tab_title,
            "tab_found": header["tab_found"],
            "claimed_unit_code": header["claimed_unit_code"],
            "claimed_unit_code_cell": header["claimed_unit_code_cell"],
            "claimed_period_code": header["claimed_period_code"],
            "claimed_period_code_cell": header["claimed_period_code_cell"],
            "unit_matches": header["claimed_unit_code"] == report.unit_code
            or not header["has_info_block"],
            "period_matches": header["claimed_period_code"] == report.period_code
            or not header["has_info_block"],
            "has_info_block": header["has_info_block"],
            "has_task_table": header["has_task_table"] or not header["tab_found"],
            "has_indicator_table": header["has_indicator_table"] or not header["tab_found"]
            or not assigned_indicators,
            "columns_missing": missing_columns or None,
            "missing_tasks": _missing(assigned_tasks, task_codes)
            if header["has_task_table"] else None,
            "missing_indicators": _missing(set(assigned_indicators), indicator_codes)
            if header["has_indicator_table"] else None,
            "submitted_reading": header["submitted_reading"],
            "submitted_text": header["submitted_text"],
            "submitted_cell": header["submitted_cell"],
            "reporter_name": header["reporter_name"],
            "reporter_name_cell": header["reporter_name_cell"],
        })
        for task in report.parsed.tasks:
            code = task["task_code"]
            known = code is None or code in catalogue.tasks
            completed_on = task["completed_on"]
            rows["tasks"].append(base | task | {
                "task_known": known,
                "task_assigned": not known or code is None or code in assigned_tasks,
                "completed_on_in_window": completed_on is None
                or period.data_from <= completed_on <= period.data_to,
                "data_window": window,
            })
        for ind in report.parsed.indicators:
            code = ind["indicator_code"]
            known = code is None or code in catalogue.indicators
            meta = catalogue.indicators.get(code or "")
            value = ind["value"]
            rows["indicators"].append(base | ind | {
                "value": float(value) if value is not None else math.nan,
                "indicator_known": known,
                "indicator_assigned": not known or code is None or code in assigned_indicators,
                "value_expected": _value_expected(meta),
            })
        for item in report.parsed.feedback:
            rows["feedback"].append(base | item)
    return {part: pd.DataFrame(rows[part]) for part in PARTS}


def _missing(expected: set[str], present: set[str]) -> str | None:
    missing = sorted(expected - present)
    return ", ".join(missing) if missing else None


def _value_expected(indicator) -> str:
    if indicator is None:
        return "Một số không âm"
    if indicator.is_count:
        return f"Số nguyên không âm ({indicator.unit_of_measure})"
    return f"Số không âm, tính bằng {indicator.unit_of_measure}; phần thập phân dùng dấu phẩy"


# ------------------------------------------------------------------ running the suites
class _Blank(dict):
    def __missing__(self, key):
        return ""


def _fmt(template: str | None, row: dict) -> str | None:
    if template is None:
        return None
    values = _Blank({k: ("" if _is_missing(v) else v) for k, v in row.items()})
    return string.Formatter().vformat(template, (), values)


def _is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _issue(part: str, row: dict, config) -> Issue:
    meta = config.meta or {}
    cell = meta.get("cell")
    if cell == "row_first":
        cell_ref = f"{row.get('tab_title')}!A{row.get('row_number')}"
    elif cell:
        cell_ref = row.get(f"{cell}_cell")
    else:
        cell_ref = None
    value_key = meta.get("value")
    value = row.get(value_key) if value_key else None
    return Issue(
        sheet_version_id=None if _is_missing(row.get("sheet_version_id"))
        else int(row["sheet_version_id"]),
        unit_code=row["unit_code"], period_code=row["period_code"],
        part=ISSUE_PART.get(part, part),
        row_key=row.get("row_key"), tab_title=row.get("tab_title"),
        cell_ref=None if _is_missing(cell_ref) else cell_ref,
        rule_code=meta["rule"], severity=meta["severity"],
        blocks_version=bool(meta.get("blocks_version", False)),
        value_found=None if _is_missing(value) else str(value),
        message_vi=_fmt(meta["message_vi"], row), expected_vi=_fmt(meta.get("expected_vi"), row),
        fix_vi=_fmt(meta.get("fix_vi"), row), expectation_type=config.type,
    )


def _issues_from(part: str, frame: pd.DataFrame, suite_result) -> list[Issue]:
    issues = []
    records = frame.to_dict("records")
    for result in suite_result.results:
        if result.success:
            continue
        if result.exception_info and result.exception_info.get("raised_exception"):
            raise RuntimeError(f"Expectation {result.expectation_config.type} on {part} "
                               f"failed to run: {result.exception_info}")
        for index in result.result.get("unexpected_index_list") or []:
            issues.append(_issue(part, records[int(index)], result.expectation_config))
    return issues


def load_suites() -> dict[str, dict]:
    """The suites as stored on disk (part → suite JSON)."""
    folder = GX_DIR / "gx" / "expectations"
    return {part: json.loads((folder / f"{suite_name(part)}.json").read_text(encoding="utf-8"))
            for part in PARTS}


def validate(reports: list[ReportToCheck], catalogue: Catalogue, *,
             store_results: bool = True) -> ValidationOutcome:
    """Validate reports with the suites.

    ``store_results=True`` runs the project's checkpoints in the file-based context (results
    stored, Data Docs rebuilt) — the pipeline. ``False`` runs the same suites in an ephemeral
    context and writes nothing — ``tonghop check`` on a single workbook.
    """
    import great_expectations as gx

    frames = build_frames(reports, catalogue)
    issues: list[Issue] = []
    success = True
    if store_results:
        context = gx.get_context(mode="file", project_root_dir=str(GX_DIR))
    else:
        from great_expectations.data_context.types.base import ProgressBarsConfig
        context = gx.get_context(mode="ephemeral")
        context.variables.progress_bars = ProgressBarsConfig(globally=False,
                                                             metric_calculations=False)
        source = context.data_sources.add_pandas("unit_reports")
    for part in PARTS:
        frame = frames[part]
        if frame.empty:
            continue
        if store_results:
            checkpoint = context.checkpoints.get(suite_name(part))
            run = checkpoint.run(batch_parameters={"dataframe": frame})
            suite_results = list(run.run_results.values())
        else:
            suite = gx.ExpectationSuite(**_suite_kwargs(load_suites()[part]))
            batch = source.add_dataframe_asset(part).add_batch_definition_whole_dataframe(
                "all_rows").get_batch(batch_parameters={"dataframe": frame})
            suite_results = [batch.validate(suite, result_format="COMPLETE")]
        for suite_result in suite_results:
            success = success and suite_result.success
            issues.extend(_issues_from(part, frame, suite_result))
    docs = None
    if store_results:
        sites = context.get_docs_sites_urls()
        docs = sites[0]["site_url"] if sites else None
    rows = sum(len(f) for f in frames.values())
    log.info("validated %d rows of %d reports: %d errors, %d warnings", rows,
             len(frames["headers"]), sum(i.severity == "error" for i in issues),
             sum(i.severity == "warning" for i in issues))
    return ValidationOutcome(issues=issues, rows_checked=rows, gx_success=success,
                             data_docs_path=docs)


def _suite_kwargs(data: dict) -> dict:
    return {"name": data["name"], "expectations": data["expectations"],
            "meta": data.get("meta")}
