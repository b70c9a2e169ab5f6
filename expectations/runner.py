"""Running the report suites on many unit reports at once.

In: parsed reports (``ingest.parse.ParsedReport``) with their owner (unit, period) and the
programme catalogue. Out: one :class:`Issue` per failing row and rule, with the cell, the value
found and the Vietnamese message, expectation and fix taken from the expectation's ``meta`` in
``gx/expectations/*.json`` — the suites are data, this module only feeds them.

All reports of a cycle are validated together: one DataFrame per part of the sheet
(headers, tasks, indicators, feedback) and one checkpoint run per part, whatever the number of
units, then one build of the Data Docs pages of that run (the checkpoints have no action of
their own: a build each rebuilt the site's index four times and its templates with it, 40 % of
a validation's time). A unit's bad data produces issues, never an exception; a broken pipeline
(missing suite, GE failure) raises.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import math
import os
import string
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd

from expectations import data_docs
from ingest.parse import ParsedReport
from sheets import layout
from sheets.layout import vi_date
from tonghop.catalogue import TIMING_LABELS, Catalogue
from tonghop.settings import Settings
from tonghop.vn import TASK_STATUSES, format_vi, shorten

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

log = logging.getLogger(__name__)

GX_DIR = Path(__file__).resolve().parent
PARTS = ("headers", "tasks", "indicators", "feedback")
#: the part an issue is recorded under (one header per report)
ISSUE_PART = {"headers": "header"}
#: bump when the rules change in a way that should be visible in stored results
RULESET_VERSION = "2026.12-2"
#: a value is compared with the unit's previous period only when one of the two reaches this:
#: going from 2 to 7 "buổi" is ordinary, from 20 to 700 "lượt người" is worth a second look
OUTLIER_MIN_MAGNITUDE = 10


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
    #: indicator code → the unit's valid value in the previous period of the same kind
    previous_values: Mapping[str, Decimal] = field(default_factory=dict)
    previous_period_name: str | None = None


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


@dataclass(frozen=True)
class RuleResult:
    """One rule on one report: how many rows it looked at, how many failed."""

    sheet_version_id: int | None
    unit_code: str
    period_code: str
    part: str
    rule_code: str
    severity: str
    rows_checked: int
    rows_failed: int


@dataclass
class ValidationOutcome:
    issues: list[Issue]
    rows_checked: int
    gx_success: bool
    data_docs_path: str | None
    rule_results: list[RuleResult] = field(default_factory=list)

    @property
    def errors(self) -> int:
        return sum(1 for i in self.issues if i.severity == "error")

    @property
    def warnings(self) -> int:
        return sum(1 for i in self.issues if i.severity == "warning")


# ------------------------------------------------------------------ building the frames
#: how to write an indicator's value, by kind: the fix of an unreadable value, and of a value
#: read only after interpreting it ("5 buổi", "1.200")
VALUE_FIX = {
    "count": "Ghi số nguyên, chỉ bằng chữ số (ví dụ 1200).",
    "money": "Ghi số, phần thập phân dùng dấu phẩy (ví dụ 12,5).",
    None: "Ghi bằng chữ số, không kèm chữ (ví dụ 1200 hoặc 12,5).",
}
VALUE_INTERPRETED_FIX = {
    "count": "Nếu hiểu như vậy là đúng, ghi lại là số nguyên, chỉ bằng chữ số (ví dụ 1200), "
    "để lần sau không bị cảnh báo.",
    "money": "Nếu hiểu như vậy là đúng, ghi lại chỉ bằng chữ số, không dùng dấu chấm, phần "
    "thập phân dùng dấu phẩy (ví dụ 12,5), để lần sau không bị cảnh báo.",
    None: "Nếu hiểu như vậy là đúng, ghi lại chỉ bằng chữ số để lần sau không bị cảnh báo.",
}
#: the tables whose header line is checked column by column, as named in messages
_TABLE_NAMES = {"tasks": "bảng nhiệm vụ", "indicators": "bảng chỉ tiêu"}
_SIZE_AND_MERGE_FIELDS = (
    "rows_over_limit",
    "rows_over_limit_cell",
    "rows_limit",
    "rows_over_from",
    "cells_too_long",
    "cells_too_long_cell",
    "cell_chars_limit",
    "merged_ranges",
    "merged_ranges_cell",
    "hidden_controls",
    "hidden_controls_cell",
)
#: what a message may quote of one value the unit typed, and what "Giá trị hiện có" shows
QUOTE_CHARS, VALUE_FOUND_CHARS = 100, 300
#: values that are what the unit typed (quoted at most QUOTE_CHARS long); everything else in a
#: message is made by the pipeline (notes are already shortened where they quote a cell)
_TYPED = {
    "task_code",
    "indicator_code",
    "claimed_unit_code",
    "claimed_period_code",
    "result",
    "evidence",
    "note",
    "content",
    "reporter_name",
}


def _quoted(key: str, value: Any) -> Any:
    if isinstance(value, str) and (key in _TYPED or key.endswith("_text")):
        return shorten(value, QUOTE_CHARS)
    return value


def build_frames(reports: Iterable[ReportToCheck], catalogue: Catalogue) -> dict[str, pd.DataFrame]:
    """The four DataFrames the suites validate, with the context columns the rules need."""
    rows: dict[str, list[dict]] = {part: [] for part in PARTS}
    for report_id, report in enumerate(reports):
        period = catalogue.period(report.period_code)
        programme = period.programme_code
        assigned_tasks = {t.task_code for t, _ in catalogue.tasks_for(programme, report.unit_code)}
        assigned_indicators = {
            i.indicator_code: i for i in catalogue.indicators_for(programme, report.unit_code)
        }
        window = f"{vi_date(period.data_from)} – {vi_date(period.data_to)}"
        base = {
            "report_id": report_id,
            "sheet_version_id": report.sheet_version_id,
            "unit_code": report.unit_code,
            "period_code": report.period_code,
        }
        header = report.parsed.header
        info_cell = header["claimed_unit_code_cell"] or _expected_tab(report, layout.TAB_INFO)
        tab_found = header["tab_found"]
        # a report the unit has not filled is not checked cell by cell: one issue says so
        filled = report.parsed.has_content
        task_codes = {t["task_code"] for t in report.parsed.tasks}
        indicator_codes = {i["indicator_code"] for i in report.parsed.indicators}
        rows["headers"].append(
            base
            | {
                # a report's header is shown at its unit code cell (or the tab it should be in)
                "cell": info_cell,
                "registry_tab_title": report.registry_tab_title,
                "tab_found": tab_found,
                "claimed_unit_code": header["claimed_unit_code"],
                "claimed_unit_code_text": header.get("claimed_unit_code_text"),
                "claimed_unit_code_cell": header["claimed_unit_code_cell"],
                "claimed_unit_code_says": _claimed(
                    header, "unit_code", "Mã đơn vị", "Bảng tính ghi mã đơn vị"
                ),
                "claimed_period_code": header["claimed_period_code"],
                "claimed_period_code_text": header.get("claimed_period_code_text"),
                "claimed_period_code_cell": header["claimed_period_code_cell"],
                "claimed_period_code_says": _claimed(
                    header, "period_code", "Mã kỳ báo cáo", "Bảng tính ghi kỳ báo cáo"
                ),
                "unit_matches": header["claimed_unit_code"] == report.unit_code
                or not header["has_info_block"],
                "period_matches": header["claimed_period_code"] == report.period_code
                or not header["has_info_block"],
                "has_info_block": header["has_info_block"],
                "info_block_found": header["has_info_block"] or not tab_found,
                "info_block_tab": _expected_tab(report, layout.TAB_INFO),
                "has_task_table": header["has_task_table"] or not tab_found,
                "task_table_tab": _expected_tab(report, layout.TAB_TASKS),
                "has_indicator_table": header["has_indicator_table"]
                or not tab_found
                or not assigned_indicators,
                "indicator_table_tab": _expected_tab(report, layout.TAB_INDICATORS),
                "has_feedback_table": header.get("has_feedback_table", False) or not tab_found,
                "feedback_table_tab": _expected_tab(report, layout.TAB_FEEDBACK),
                **_columns_missing(header),
                "missing_tasks": _missing(assigned_tasks, task_codes)
                if header["has_task_table"]
                else None,
                "missing_tasks_cell": header.get("tasks_header_cell"),
                "missing_indicators": _missing(set(assigned_indicators), indicator_codes)
                if header["has_indicator_table"]
                else None,
                "missing_indicators_cell": header.get("indicators_header_cell"),
                "submitted_reading": header["submitted_reading"],
                "submitted_text": header["submitted_text"],
                "submitted_cell": header["submitted_cell"],
                "reporter_name": header["reporter_name"],
                "reporter_name_cell": header["reporter_name_cell"],
                # the size of the report and merged cells (ingest.parse bounds and records them)
                **{key: header.get(key) for key in _SIZE_AND_MERGE_FIELDS},
                "has_content": filled,
                # a missing tab is its own issue
                "content_found": filled or not tab_found,
                "not_filled_cell": _where_to_start(report.parsed),
            }
        )
        if not filled:
            continue
        for task in report.parsed.tasks:
            code = task["task_code"]
            known = code is None or code in catalogue.tasks
            completed_on = task["completed_on"]
            rows["tasks"].append(
                base
                | task
                | _status_timing(task, catalogue.tasks.get(code))
                | {
                    "task_known": known,
                    "task_assigned": not known or code is None or code in assigned_tasks,
                    "completed_on_in_window": completed_on is None
                    or period.data_from <= completed_on <= period.data_to,
                    "data_window": window,
                    "status_a1": _a1(task["status_cell"]),
                    "cell": row_cell(task, "status_cell", "task_code_cell"),
                }
            )
        for ind in report.parsed.indicators:
            code = ind["indicator_code"]
            known = code is None or code in catalogue.indicators
            meta = catalogue.indicators.get(code or "")
            value = ind["value"]
            previous = report.previous_values.get(code or "")
            kind = meta.value_kind if meta else None
            rows["indicators"].append(
                base
                | ind
                | {
                    "value": float(value) if value is not None else math.nan,
                    "indicator_known": known,
                    "indicator_assigned": not known or code is None or code in assigned_indicators,
                    "value_a1": _a1(ind["value_cell"]),
                    "value_expected": _value_expected(meta),
                    "value_fix": VALUE_FIX[kind],
                    "value_interpreted_fix": VALUE_INTERPRETED_FIX[kind],
                    "row_content": "nội dung" if ind["value_reading"] == "empty" else "số liệu",
                    "previous_value": _plain(previous),
                    "previous_period": report.previous_period_name,
                    "ratio_to_previous": _ratio_to_previous(ind, previous),
                    "cell": row_cell(ind, "value_cell", "indicator_code_cell"),
                }
            )
        for item in report.parsed.feedback:
            rows["feedback"].append(
                base | item | {"cell": row_cell(item, "content_cell", "kind_cell")}
            )
    return {part: pd.DataFrame(rows[part]) for part in PARTS}


def row_cell(row: dict, *keys: str) -> str:
    """The cell a row of a table is known by: the first of its cells ``keys`` the sheet has
    (the one the unit fills: a task's status, an indicator's value, a feedback's content), else
    the row's first cell, e.g. 'Chỉ tiêu!E12'."""
    for key in keys:
        if row.get(key):
            return row[key]
    return f"{row['tab_title']}!A{row['row_number']}"


def _a1(cell_ref: str | None) -> str | None:
    """'Nhiệm vụ!G5' → 'G5': a cell as a message names it (the tab is in its own column)."""
    return cell_ref.rsplit("!", 1)[-1] if cell_ref else None


def _where_to_start(parsed: ParsedReport) -> str | None:
    """The cell an unfilled report is shown at: the first status of its task table (where
    filling it starts), else the first value of its indicator table, else a table's header."""
    for rows, key in ((parsed.tasks, "status_cell"), (parsed.indicators, "value_cell")):
        for row in rows:
            if row.get(key):
                return row[key]
    return parsed.header.get("tasks_header_cell") or parsed.header.get("indicators_header_cell")


def _status_timing(task: dict, meta) -> dict[str, Any]:
    """Whether the status fits the task's timing: an ongoing task ("Thường xuyên") is never
    "Hoàn thành", and "Đang thực hiện thường xuyên" is for ongoing tasks only (a warning: the
    row is kept, the marts count it by the task's timing); with the words the unit reads."""
    status = task.get("status_code")
    cell = (task.get("status_cell") or "").rsplit("!", 1)[-1]
    label = {"status_label": next((k for k, v in TASK_STATUSES.items() if v == status), "")}
    return label | _status_fits(status, cell, meta)


def _status_fits(status: str | None, cell: str, meta) -> dict[str, Any]:
    if meta is None or status is None:
        return {"status_fits_timing": True}
    if meta.is_ongoing and status == "hoan_thanh":
        return {
            "status_fits_timing": False,
            "status_timing_message": f"Nhiệm vụ “{meta.task_code}” thực hiện thường xuyên, "
            f"không có thời điểm hoàn thành, nhưng ô {cell} ghi “Hoàn thành”.",
            "status_timing_expected": "Đang thực hiện thường xuyên (hoặc Chưa triển khai)",
            "status_timing_fix": f"Tại ô {cell}, chọn “Đang thực hiện thường xuyên” trong "
            "danh sách và ghi kết quả đã làm trong kỳ vào cột Kết quả thực hiện.",
        }
    if not meta.is_ongoing and status == "dang_thuc_hien_thuong_xuyen":
        timing = TIMING_LABELS.get(meta.timing, meta.timing).lower()
        return {
            "status_fits_timing": False,
            "status_timing_message": f"Nhiệm vụ “{meta.task_code}” thực hiện {timing}, "
            f"không phải thường xuyên, nhưng ô {cell} ghi “Đang thực hiện thường xuyên”.",
            "status_timing_expected": "Chưa triển khai, Đang triển khai hoặc Hoàn thành",
            "status_timing_fix": f"Tại ô {cell}, chọn “Đang triển khai” hoặc “Hoàn thành” "
            "trong danh sách.",
        }
    return {"status_fits_timing": True}


def _expected_tab(report: ReportToCheck, template_tab: str) -> str:
    """Where a part of the report should be: the unit's own tab when units share a
    spreadsheet, else the template's tab."""
    return report.registry_tab_title or template_tab


def _claimed(header: dict, key: str, label: str, says: str) -> str:
    """What the info block says about the unit or the period, for the identity messages:
    'Bảng tính ghi mã đơn vị “X”', 'Ô Mã đơn vị đang trống' or 'Không tìm thấy ô Mã đơn vị'."""
    if header.get(f"claimed_{key}_cell") is None:
        return f"Không tìm thấy ô {label} trong phần Thông tin"
    text = header.get(f"claimed_{key}_text") or header.get(f"claimed_{key}")
    if not text:
        return f"Ô {label} đang trống"
    return f"{says} “{shorten(text, QUOTE_CHARS)}”"


def _columns_missing(header: dict) -> dict[str, str | None]:
    """The header-line problem of the task and indicator tables: one issue, shown at the first
    cell of the (first) table's header line, naming the table, its tab and the columns."""
    found = []
    for part, name in _TABLE_NAMES.items():
        missing = header.get(f"{part}_columns_missing_labels")
        cell = header.get(f"{part}_columns_cell")
        if missing and cell:
            tab, _, a1 = cell.rpartition("!")
            line = a1.lstrip(string.ascii_uppercase)
            labels = ", ".join(f"“{label}”" for label in missing)
            found.append((cell, f"{name} (trang “{tab}”, dòng {line}) thiếu cột {labels}"))
    if not found:
        return {"columns_missing": None, "columns_missing_cell": None}
    return {
        "columns_missing": "; ".join(text for _, text in found),
        "columns_missing_cell": found[0][0],
    }


def _plain(value: Decimal | None) -> str | None:
    return None if value is None else format_vi(value)


def _ratio_to_previous(indicator_row: dict, previous: Decimal | None) -> float:
    """This period's value over the previous period's, for the out-of-line warning; NaN (not
    checked) when there is no previous value, when both are small, when the value itself is
    not a valid number, or when the unit already explained it in the Ghi chú column."""
    value = indicator_row["value"]
    if (
        previous is None
        or value is None
        or value < 0
        or indicator_row["note"]
        or indicator_row["value_reading"] not in ("number", "interpreted")
        or max(value, previous) < OUTLIER_MIN_MAGNITUDE
    ):
        return math.nan
    return float(value) / float(max(previous, Decimal(1)))


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
    values = _Blank({k: ("" if _is_missing(v) else _quoted(k, v)) for k, v in row.items()})
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
    cell_ref = None if _is_missing(cell_ref) else cell_ref
    # the tab: a column named by the rule (a missing table: the tab it should be in), else the
    # row's tab, else the tab of the cell
    tab_key = meta.get("tab")
    tab = row.get(tab_key) if tab_key else row.get("tab_title")
    if _is_missing(tab) and cell_ref and "!" in cell_ref:
        tab = cell_ref.rsplit("!", 1)[0]
    value_key = meta.get("value")
    value = row.get(value_key) if value_key else None
    return Issue(
        sheet_version_id=None
        if _is_missing(row.get("sheet_version_id"))
        else int(row["sheet_version_id"]),
        unit_code=row["unit_code"],
        period_code=row["period_code"],
        part=ISSUE_PART.get(part, part),
        row_key=row.get("row_key"),
        tab_title=None if _is_missing(tab) or tab == "" else tab,
        cell_ref=cell_ref,
        rule_code=meta["rule"],
        severity=meta["severity"],
        blocks_version=bool(meta.get("blocks_version", False)),
        value_found=None if _is_missing(value) else shorten(str(value), VALUE_FOUND_CHARS),
        message_vi=_fmt(meta["message_vi"], row),
        expected_vi=_fmt(meta.get("expected_vi"), row),
        fix_vi=_fmt(meta.get("fix_vi"), row),
        expectation_type=config.type,
    )


def _issues_from(
    part: str, frame: pd.DataFrame, suite_result, index_columns: list[str]
) -> list[Issue]:
    """An issue per failing row of each failing expectation; a row is found by its
    ``index_columns`` (the checkpoint's ``unexpected_index_column_names``: a result does not
    always name them)."""
    issues = []
    records = frame.to_dict("records")
    by_key: dict[tuple, dict] | None = None
    for result in suite_result.results:
        if result.success:
            continue
        if result.exception_info and result.exception_info.get("raised_exception"):
            raise RuntimeError(
                f"Expectation {result.expectation_config.type} on {part} "
                f"failed to run: {result.exception_info}"
            )
        for index in result.result.get("unexpected_index_list") or []:
            if isinstance(index, dict):  # {unit_code, cell, sheet_version_id, <column>: value}
                by_key = by_key or _rows_by_key(part, records, index_columns)
                row = by_key[_key(index, index_columns)]
            else:  # without index columns: the row's position
                row = records[int(index)]
            issues.append(_issue(part, row, result.expectation_config))
    return issues


def _key(values: Mapping[str, Any], names: Iterable[str]) -> tuple:
    """A row's index columns, alike whether read from the frame or from a result (where a
    number may come back as text: '12' for 12)."""
    return tuple(None if _is_missing(values.get(n)) else _plain_key(values[n]) for n in names)


def _plain_key(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _rows_by_key(part: str, records: list[dict], names: list[str]) -> dict[tuple, dict]:
    by_key = {_key(r, names): r for r in records}
    if len(by_key) != len(records):
        raise RuntimeError(
            f"Rows of {part} are not told apart by {', '.join(names)}: a result could not "
            f"say which row failed"
        )
    return by_key


@contextlib.contextmanager
def gx_project_lock(project_dir: Path = GX_DIR):
    """One writer at a time of the file-based project (``gx/uncommitted``: results and Data
    Docs), across processes: two validations at once (two periods on two workers, two test
    workers) would otherwise build the Data Docs index while the other writes a result file,
    or delete the old runs (:func:`expectations.data_docs.prune_history`) the other lists."""
    folder = project_dir / "gx" / "uncommitted"
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".tonghop.lock", "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def load_suites(project_dir: Path = GX_DIR) -> dict[str, dict]:
    """The suites as stored on disk (part → suite JSON)."""
    folder = project_dir / "gx" / "expectations"
    return {
        part: json.loads((folder / f"{suite_name(part)}.json").read_text(encoding="utf-8"))
        for part in PARTS
    }


def result_format(part: str, project_dir: Path = GX_DIR) -> dict:
    """What a result of the part holds, as its checkpoint says (``gx/checkpoints``): every
    failing row, known by its ``unexpected_index_column_names`` — the unit, the row's cell
    (:func:`row_cell`) and the version read, never the row's position in the DataFrame."""
    path = project_dir / "gx" / "checkpoints" / f"{suite_name(part)}.json"
    return json.loads(path.read_text(encoding="utf-8"))["result_format"]


def validate(
    reports: list[ReportToCheck],
    catalogue: Catalogue,
    *,
    store_results: bool = True,
    keep_runs: int = Settings.gx_keep_runs,
    project_dir: Path = GX_DIR,
) -> ValidationOutcome:
    """Validate reports with the suites.

    ``store_results=True`` runs the project's checkpoints in the file-based context (results
    stored, Data Docs rebuilt, readable offline, the last ``keep_runs`` runs of each suite
    kept) — the pipeline. ``False`` runs the same suites in an ephemeral context and writes
    nothing — ``tonghop check`` on a single workbook. ``project_dir`` holds the project
    (``gx/``): this package's own, or a copy (tests).
    """
    frames = build_frames(reports, catalogue)
    with gx_project_lock(project_dir) if store_results else contextlib.nullcontext():
        return _run_suites(frames, store_results, project_dir, keep_runs)


def _run_suites(
    frames: dict[str, pd.DataFrame], store_results: bool, project_dir: Path, keep_runs: int
) -> ValidationOutcome:
    import great_expectations as gx
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
    )

    from expectations import quiet_great_expectations

    quiet_great_expectations()

    issues: list[Issue] = []
    success = True
    parts = [part for part in PARTS if not frames[part].empty]
    #: what the Data Docs build after the checkpoints renders: each result and its suite
    rendered: list = []
    if store_results:
        # before the Data Docs build below, which rebuilds the index from what is left
        data_docs.prune_history(project_dir / "gx", keep_runs, map(suite_name, parts))
        context = gx.get_context(mode="file", project_root_dir=str(project_dir))
    else:
        from great_expectations.data_context.types.base import ProgressBarsConfig

        context = gx.get_context(mode="ephemeral")
        context.variables.progress_bars = ProgressBarsConfig(
            globally=False, metric_calculations=False
        )
        source = context.data_sources.add_pandas("unit_reports")
    for part in parts:
        frame = frames[part]
        if store_results:
            checkpoint = context.checkpoints.get(suite_name(part))
            run = checkpoint.run(batch_parameters={"dataframe": frame})
            suite_results = list(run.run_results.values())
            rendered += [*run.run_results]
            rendered += [ExpectationSuiteIdentifier(name=r.suite_name) for r in suite_results]
        else:
            suite = gx.ExpectationSuite(**_suite_kwargs(load_suites(project_dir)[part]))
            batch = (
                source.add_dataframe_asset(part)
                .add_batch_definition_whole_dataframe("all_rows")
                .get_batch(batch_parameters={"dataframe": frame})
            )
            suite_results = [batch.validate(suite, result_format=result_format(part, project_dir))]
        index_columns = result_format(part, project_dir).get("unexpected_index_column_names", [])
        for suite_result in suite_results:
            success = success and suite_result.success
            issues.extend(_issues_from(part, frame, suite_result, index_columns))
    docs = None
    if store_results:
        # the pages of this run's results and suites, and the index (what each checkpoint's
        # update_data_docs action did for its own result, once for all of them)
        context.build_data_docs(resource_identifiers=rendered)
        data_docs.make_offline(project_dir / "gx")
        sites = context.get_docs_sites_urls()
        docs = sites[0]["site_url"] if sites else None
    rows = sum(len(f) for f in frames.values())
    rule_results = _rule_results(frames, issues, project_dir)
    log.info(
        "validated %d rows of %d reports: %d errors, %d warnings",
        rows,
        len(frames["headers"]),
        sum(i.severity == "error" for i in issues),
        sum(i.severity == "warning" for i in issues),
    )
    return ValidationOutcome(
        issues=issues,
        rows_checked=rows,
        gx_success=success,
        data_docs_path=docs,
        rule_results=rule_results,
    )


def _rule_results(
    frames: dict[str, pd.DataFrame], issues: list[Issue], project_dir: Path = GX_DIR
) -> list[RuleResult]:
    """Every rule of every part on every report that has rows in that part."""
    failed: dict[tuple, set] = {}
    for i in issues:
        failed.setdefault((i.sheet_version_id, i.unit_code, i.rule_code), set()).add(
            i.row_key or i.cell_ref
        )
    suites = load_suites(project_dir)
    out = []
    for part in PARTS:
        frame = frames[part]
        if frame.empty:
            continue
        rules = [(e["meta"]["rule"], e["meta"]["severity"]) for e in suites[part]["expectations"]]
        counts = frame.groupby(["report_id"], sort=True).size()
        firsts = frame.drop_duplicates("report_id").set_index("report_id")
        for report_id, rows in counts.items():
            head = firsts.loc[report_id]
            version = (
                None if _is_missing(head["sheet_version_id"]) else int(head["sheet_version_id"])
            )
            for rule, severity in rules:
                out.append(
                    RuleResult(
                        sheet_version_id=version,
                        unit_code=head["unit_code"],
                        period_code=head["period_code"],
                        part=ISSUE_PART.get(part, part),
                        rule_code=rule,
                        severity=severity,
                        rows_checked=int(rows),
                        rows_failed=len(failed.get((version, head["unit_code"], rule), ())),
                    )
                )
    return out


def _suite_kwargs(data: dict) -> dict:
    return {"name": data["name"], "expectations": data["expectations"], "meta": data.get("meta")}
