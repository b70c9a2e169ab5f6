"""The malformed-report corpus through the real validation: every case names its rule, its cell
and its Vietnamese message, and nothing else.

All cases and the clean units are validated together in one ``validate`` call (as one pull of
the period would be), with the Great Expectations suites in memory. A few cases also go
through ``tonghop check`` on a saved .xlsx, which must find the same problems offline.
"""

from __future__ import annotations

import unicodedata
from collections import Counter, defaultdict
from decimal import Decimal

import pytest
from validation_corpus import (
    CASES,
    CLEAN_UNITS,
    CORPUS_PERIOD,
    Case,
    CaseContext,
    build_case_workbook,
    build_clean_workbook,
)

from expectations.runner import ReportToCheck, validate
from ingest.parse import ParsedReport, parse_report
from sheets import layout
from sheets.template import set_value, write_workbook
from tooling.check import check_workbook, format_issue

CASES_BY_NAME = {case.name: case for case in CASES}
#: cases also checked offline with `tonghop check` (the unit and period it reads from the
#: workbook are the case's own: no identity case here)
OFFLINE_CASES = [
    "count_thousands_comma",
    "date_text_due_day",
    "task_row_duplicated",
    "renamed_tab",
    "feedback_content_without_kind",
    "status_column_deleted",
    "task_row_text_only",
    "feedback_tab_deleted",
]


def parse_workbook(workbook, catalogue, spreadsheet_id: str) -> ParsedReport:
    from sheets_emulator import workbook_to_spreadsheet_resource

    resource = workbook_to_spreadsheet_resource(
        workbook, spreadsheet_id=spreadsheet_id, title=spreadsheet_id
    )
    return parse_report(resource, value_kind_of=catalogue.value_kind_of)


@pytest.fixture(scope="module")
def batch(catalogue):
    """Every case and every clean unit, parsed, then validated in ONE run."""
    parsed: dict[str, ParsedReport] = {}
    for case in CASES:
        parsed[case.unit_code] = parse_workbook(
            build_case_workbook(case, catalogue), catalogue, case.unit_code
        )
    for unit in CLEAN_UNITS:
        parsed[unit] = parse_workbook(build_clean_workbook(unit, catalogue), catalogue, unit)
    reports = [
        ReportToCheck(sheet_version_id=n, unit_code=unit, period_code=CORPUS_PERIOD, parsed=report)
        for n, (unit, report) in enumerate(parsed.items(), start=1)
    ]
    outcome = validate(reports, catalogue, store_results=False)
    issues = defaultdict(list)
    for issue in outcome.issues:
        issues[issue.unit_code].append(issue)
    return {"outcome": outcome, "issues": issues, "parsed": parsed}


# ------------------------------------------------------------------ the corpus itself
def test_corpus_is_large_and_uses_distinct_expected_units(catalogue):
    assert len(CASES) >= 30
    units = [case.unit_code for case in CASES] + list(CLEAN_UNITS)
    assert len(units) == len(set(units)), "each case (and clean unit) needs its own unit"
    assert len({case.name for case in CASES}) == len(CASES)
    expected = {u.unit_code for u in catalogue.expected_units(CORPUS_PERIOD)}
    assert set(units) <= expected
    assert len(CLEAN_UNITS) >= 3
    for case in CASES:
        for e in case.expected:
            assert e.severity in ("error", "warning")
            assert e.message_contains and e.message_contains == unicodedata.normalize(
                "NFC", e.message_contains
            )


# ------------------------------------------------------------------ per case
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_case_gives_exactly_its_issues(case: Case, batch):
    issues = batch["issues"][case.unit_code]
    for expected in case.expected:
        matching = [
            i
            for i in issues
            if (i.rule_code, i.severity, i.cell_ref)
            == (expected.rule_code, expected.severity, expected.cell_ref)
        ]
        assert matching, (
            f"{case.name}: no {expected.rule_code} ({expected.severity}) at "
            f"{expected.cell_ref}; got "
            f"{[(i.rule_code, i.severity, i.cell_ref) for i in issues]}"
        )
        assert any(expected.message_contains in i.message_vi for i in matching), (
            f"{case.name}: {expected.rule_code} at {expected.cell_ref} says "
            f"{[i.message_vi for i in matching]}, expected it to contain "
            f"“{expected.message_contains}”"
        )
        assert all(i.blocks_version == expected.blocks_version for i in matching)
        if expected.fix_contains:
            assert any(expected.fix_contains in i.fix_vi for i in matching), (
                f"{case.name}: fix {[i.fix_vi for i in matching]}, expected "
                f"“{expected.fix_contains}”"
            )
        if expected.value_found:
            assert any(i.value_found == expected.value_found for i in matching), (
                case.name,
                [i.value_found for i in matching],
            )
        if expected.tab_title:
            assert all(i.tab_title == expected.tab_title for i in matching), (
                case.name,
                [i.tab_title for i in matching],
            )
    got = {(i.rule_code, i.cell_ref) for i in issues}
    want = {(e.rule_code, e.cell_ref) for e in case.expected}
    assert got == want, (
        f"{case.name} ({case.what_the_unit_did}): unexpected "
        f"{sorted(got - want, key=str)}, missing {sorted(want - got, key=str)}"
    )
    assert len(issues) == len(case.expected), [(i.rule_code, i.cell_ref) for i in issues]


def test_every_issue_speaks_plain_vietnamese(batch):
    for issue in batch["outcome"].issues:
        for text in (issue.message_vi, issue.fix_vi):
            assert text and text.strip(), issue
            assert text == unicodedata.normalize("NFC", text), issue
            assert "“”" not in text and "None" not in text and "nan" not in text.split(), issue
        assert issue.period_code == CORPUS_PERIOD


def test_every_issue_says_where(batch):
    """A tab always; a cell unless a whole tab or table is missing (then the tab it should be
    in) — so `tonghop check` never says just "bảng tính"."""
    for issue in batch["outcome"].issues:
        assert issue.tab_title, issue
        if issue.cell_ref:
            assert issue.cell_ref.startswith(issue.tab_title + "!"), issue
        else:
            assert issue.rule_code in (
                "structure.task_table",
                "structure.indicator_table",
                "structure.feedback_table",
                "structure.info_block",
            ), issue
        assert "bảng tính:" not in format_issue(issue), issue


def test_a_table_with_a_missing_column_gives_one_issue_and_rejects_the_version(batch):
    """Not one "Chưa chọn Tình trạng" per row: one issue at the header line, and the whole
    version stays out of the marts (the rows of the table cannot be trusted)."""
    for name in ("status_column_deleted", "value_header_renamed", "task_column_deleted"):
        issues = batch["issues"][CASES_BY_NAME[name].unit_code]
        assert [(i.rule_code, i.blocks_version) for i in issues] == [("structure.columns", True)], (
            name
        )
        assert issues[0].cell_ref.endswith("!A1")


def test_a_documented_decimal_comma_in_money_is_read_as_typed(batch, catalogue):
    """The guide tells units to write money with a decimal comma: "1,5" is no problem there
    (only "12.5", with a dot, is uncertain — case money_dot_decimal)."""
    period = catalogue.period(CORPUS_PERIOD)
    guide = " ".join(layout.guide_lines(catalogue.programmes[period.programme_code], period))
    assert "phần thập phân dùng dấu phẩy (ví dụ 12,5)" in guide
    report = batch["parsed"][CASES_BY_NAME["money_decimal_comma"].unit_code]
    [money] = [i for i in report.indicators if i["indicator_code"] == "CB.CT09"]
    assert (money["value"], money["value_reading"], money["value_note"]) == (
        Decimal("1.5"),
        "number",
        None,
    )


def test_a_number_in_the_note_column_stays_a_note(batch):
    report = batch["parsed"][CASES_BY_NAME["indicator_note_is_a_number"].unit_code]
    [row] = [i for i in report.indicators if i["indicator_code"] == "CB.CT01"]
    assert row["note"] == "15" and row["value_reading"] == "number"


def test_clean_units_have_no_issue_in_the_same_batch(batch):
    for unit in CLEAN_UNITS:
        assert batch["issues"].get(unit, []) == [], unit
    assert batch["outcome"].rows_checked > 0


# ------------------------------------------------------------------ what must be read as typed
def test_formula_looking_text_is_kept_as_text(batch):
    report = batch["parsed"][CASES_BY_NAME["formula_looking_text"].unit_code]
    tasks = {t["task_code"]: t for t in report.tasks}
    assert tasks["CB.2.3"]["result"] == "=SUM(A1)"
    assert tasks["CB.2.4"]["evidence"].startswith("- Kế hoạch số 12/KH-UBND")
    assert report.header["reporter_phone"] == "+84 912 345 678"
    assert [f["content"] for f in report.feedback if f["row_number"] == 4] == [
        "=> Đề nghị bổ sung kinh phí"
    ]


def _readings(report: ParsedReport) -> dict:
    keep_task = (
        "task_code",
        "status_code",
        "status_reading",
        "result",
        "completed_on",
        "completed_on_reading",
        "evidence",
        "status_cell",
    )
    keep_ind = ("indicator_code", "value", "value_reading", "value_cell")
    keep_fb = ("kind", "kind_reading", "content", "kind_cell")
    return {
        "tasks": [{k: t[k] for k in keep_task} for t in report.tasks],
        "indicators": [{k: i[k] for k in keep_ind} for i in report.indicators],
        "feedback": [{k: f[k] for k in keep_fb} for f in report.feedback],
        "header": {
            k: report.header[k]
            for k in (
                "claimed_unit_code",
                "claimed_period_code",
                "reporter_name",
                "submitted",
                "submitted_reading",
            )
        },
    }


def test_nfd_text_is_read_exactly_as_nfc(batch, catalogue):
    case = CASES_BY_NAME["nfd_text"]
    clean = parse_workbook(build_clean_workbook(case.unit_code, catalogue), catalogue, "clean")
    assert _readings(batch["parsed"][case.unit_code]) == _readings(clean)


def test_invisible_characters_do_not_change_what_is_read(batch, catalogue):
    case = CASES_BY_NAME["status_with_invisible_characters"]
    clean = _readings(
        parse_workbook(build_clean_workbook(case.unit_code, catalogue), catalogue, "clean")
    )
    got = _readings(batch["parsed"][case.unit_code])
    assert got["tasks"] == clean["tasks"]
    assert got["indicators"] == clean["indicators"]
    assert got["feedback"][0]["kind"] == "kho_khan"
    assert got["feedback"][0]["kind_reading"] == "choice"


def test_the_first_info_block_is_the_reports(batch):
    header = batch["parsed"][CASES_BY_NAME["info_block_pasted_twice"].unit_code].header
    assert header["claimed_period_code"] == CORPUS_PERIOD
    assert header["claimed_period_code_cell"] == "Thông tin!B6"
    assert header["reporter_name"] == "Nông Thị Lan"


# ------------------------------------------------------------------ offline, `tonghop check`
@pytest.mark.parametrize("name", OFFLINE_CASES)
def test_tonghop_check_finds_the_same_issues_offline(name, batch, catalogue, tmp_path):
    case = CASES_BY_NAME[name]
    path = tmp_path / f"{case.unit_code}.xlsx"
    build_case_workbook(case, catalogue).save(path)
    result = check_workbook(path)
    assert (result.unit_code, result.period_code) == (case.unit_code, CORPUS_PERIOD)
    offline = sorted(((i.rule_code, i.cell_ref, i.message_vi) for i in result.issues), key=str)
    in_batch = sorted(
        ((i.rule_code, i.cell_ref, i.message_vi) for i in batch["issues"][case.unit_code]), key=str
    )
    assert offline == in_batch
    assert {(i.rule_code, i.cell_ref) for i in result.issues} == {
        (e.rule_code, e.cell_ref) for e in case.expected
    }


# ------------------------------------------------------------------ a report not filled
NOT_FILLED_UNIT = "CB-XA-001"  # 8 tasks, 5 indicators


def blank_workbook(catalogue):
    return write_workbook(layout.report_tabs(catalogue, NOT_FILLED_UNIT, CORPUS_PERIOD))


def check_alone(workbook, catalogue) -> list:
    parsed = parse_workbook(workbook, catalogue, NOT_FILLED_UNIT)
    report = ReportToCheck(None, NOT_FILLED_UNIT, CORPUS_PERIOD, parsed)
    return validate([report], catalogue, store_results=False).issues


def _info_and_feedback_only(workbook, catalogue):
    """The unit filled its name, switched "Đã nộp" and wrote a difficulty — and nothing in
    its task and indicator tables."""
    ctx = CaseContext(catalogue, NOT_FILLED_UNIT, CORPUS_PERIOD)
    set_value(ctx.info_cell(workbook, "reporter_name"), "Nông Thị Lan")
    set_value(ctx.info_cell(workbook, "submitted"), "Đã nộp")
    set_value(ctx.feedback_cell(workbook, 1, "kind"), "Khó khăn")
    set_value(ctx.feedback_cell(workbook, 1, "content"), "Thiếu kinh phí.")
    # spaces and invisible characters in the tables are nothing
    set_value(ctx.task_cell(workbook, "CB.2.3", "result"), "  \u200b ")


@pytest.mark.parametrize("spoil", [None, _info_and_feedback_only], ids=["provisioned", "info"])
def test_a_report_not_filled_gets_one_issue_not_one_per_cell(catalogue, spoil):
    """Not "8 lỗi" for a sheet nobody opened: one error saying the report is not filled, at
    the first status (where filling starts), with what to do; the version does not count."""
    workbook = blank_workbook(catalogue)
    if spoil:
        spoil(workbook, catalogue)
    [issue] = check_alone(workbook, catalogue)
    assert (issue.rule_code, issue.severity, issue.blocks_version) == (
        "sheet.not_filled",
        "error",
        True,
    )
    assert issue.cell_ref == f"{layout.TAB_TASKS}!G2" and issue.tab_title == layout.TAB_TASKS
    assert issue.message_vi.startswith("Chưa điền báo cáo: bảng nhiệm vụ và bảng chỉ tiêu")
    assert "chọn Tình trạng và ghi Kết quả thực hiện cho từng nhiệm vụ (trang “Nhiệm vụ”)" in (
        issue.fix_vi
    )
    assert "ghi số liệu của kỳ cho từng chỉ tiêu, không có thì ghi 0 (trang “Chỉ tiêu”)" in (
        issue.fix_vi
    )


def test_a_structure_problem_is_told_beside_not_filled(catalogue):
    """What the unit must repair before it can fill the report is still said."""
    workbook = blank_workbook(catalogue)
    workbook.remove(workbook[layout.TAB_INDICATORS])
    issues = check_alone(workbook, catalogue)
    assert sorted((i.rule_code, i.severity) for i in issues) == [
        ("sheet.not_filled", "error"),
        ("structure.indicator_table", "error"),
    ]


def test_one_value_written_makes_the_report_checked_cell_by_cell(catalogue):
    """A report with anything in its tables is checked as a report: every blank status and
    figure is an error of its own, naming its cell."""
    workbook = blank_workbook(catalogue)
    ctx = CaseContext(catalogue, NOT_FILLED_UNIT, CORPUS_PERIOD)
    set_value(ctx.indicator_cell(workbook, "CB.CT01"), 0)
    issues = check_alone(workbook, catalogue)
    rules = Counter(i.rule_code for i in issues)
    tasks = len(catalogue.tasks_for("CB-KH84", NOT_FILLED_UNIT))
    indicators = len(catalogue.indicators_for("CB-KH84", NOT_FILLED_UNIT))
    assert rules == {
        "task.status_required": tasks,
        "indicator.value_missing": indicators - 1,
        "info.reporter_required": 1,
    }
    assert all(i.severity == "error" for i in issues if i.rule_code != "info.reporter_required")
    value_column = layout.column_letter(layout.column_index(layout.INDICATOR_COLUMNS, "value"))
    assert {i.cell_ref for i in issues if i.rule_code == "indicator.value_missing"} == {
        f"{layout.TAB_INDICATORS}!{value_column}{row}" for row in range(3, 2 + indicators)
    }


def test_tonghop_check_says_not_filled_for_a_blank_sheet(catalogue, tmp_path):
    path = tmp_path / "blank.xlsx"
    blank_workbook(catalogue).save(path)
    result = check_workbook(path)
    assert [(i.rule_code, i.cell_ref) for i in result.issues] == [
        ("sheet.not_filled", f"{layout.TAB_TASKS}!G2")
    ]
