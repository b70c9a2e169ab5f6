"""The parser finds each part of a report by its labels, wherever the unit moved it."""

from __future__ import annotations

import datetime as dt

import pytest

from ingest.parse import parse_report
from sheets import layout
from sheets.template import write_workbook

UNIT, PERIOD = "CB-SO-VHTTDL", "CB-2026-6T"


@pytest.fixture
def workbook(catalogue):
    return write_workbook(layout.report_tabs(catalogue, UNIT, PERIOD))


def parse(workbook, catalogue, **kwargs):
    from sheets_emulator import workbook_to_spreadsheet_resource

    resource = workbook_to_spreadsheet_resource(workbook, spreadsheet_id="x")
    return parse_report(resource, value_kind_of=catalogue.value_kind_of, **kwargs)


def test_blank_template_reads_back_its_prefilled_parts(workbook, catalogue):
    report = parse(workbook, catalogue)
    tasks = catalogue.tasks_for("CB-KH84", UNIT)
    assert report.header["claimed_unit_code"] == UNIT
    assert report.header["claimed_period_code"] == PERIOD
    assert report.header["submitted"] is False
    assert [t["task_code"] for t in report.tasks] == [t.task_code for t, _ in tasks]
    assert all(t["status_reading"] == "empty" for t in report.tasks)
    assert {i["indicator_code"] for i in report.indicators} == {
        i.indicator_code for i in catalogue.indicators_for("CB-KH84", UNIT)
    }
    assert report.feedback == []


def test_values_cells_and_readings(workbook, catalogue):
    ws = workbook[layout.TAB_TASKS]
    ws["G2"], ws["H2"], ws["I2"] = "Hoàn thành", "Đã tổ chức 3 hội nghị", "20/6/2026"
    ws = workbook[layout.TAB_INDICATORS]
    ws["E2"] = "1.200"
    report = parse(workbook, catalogue)
    task = report.tasks[0]
    assert task["status_code"] == "hoan_thanh" and task["status_cell"] == "Nhiệm vụ!G2"
    assert task["result"] == "Đã tổ chức 3 hội nghị"
    # a date typed as text, in the guide's order, and "1.200" in a count: Vietnamese writing,
    # read as such without a note for the unit; how it was read is kept
    assert task["completed_on"] == dt.date(2026, 6, 20)
    assert (task["completed_on_reading"], task["completed_on_note"]) == ("date", None)
    assert task["completed_on_how"] == "ngày/tháng/năm"
    indicator = report.indicators[0]
    assert (indicator["value"], indicator["value_reading"], indicator["value_cell"]) == (
        1200,
        "number",
        "Chỉ tiêu!E2",
    )
    assert (indicator["value_note"], indicator["value_how"]) == (
        None,
        "dấu chấm phân cách hàng nghìn",
    )


@pytest.mark.parametrize(
    "tab, cell, typed, filled",
    [
        (None, None, None, False),  # the sheet as provisioned
        (layout.TAB_TASKS, "G2", "   ", False),  # spaces only
        (layout.TAB_TASKS, "K2", "\u200b\ufeff", False),  # invisible characters only
        (layout.TAB_INFO, "B10", "Nông Thị Lan", False),  # the info block is not the report
        (layout.TAB_FEEDBACK, "C2", "Thiếu kinh phí", False),  # nor are the difficulties
        (layout.TAB_TASKS, "G2", "Hoàn thành", True),  # a status
        (layout.TAB_TASKS, "H2", "Đã tổ chức", True),  # a result
        (layout.TAB_TASKS, "I2", "20/6/2026", True),  # a completion date
        (layout.TAB_TASKS, "J2", "Kế hoạch số 1", True),  # evidence
        (layout.TAB_TASKS, "K2", "x", True),  # a task's note
        (layout.TAB_INDICATORS, "E2", 0, True),  # a value, even 0
        (layout.TAB_INDICATORS, "F2", "chưa có số liệu", True),  # an indicator's note
    ],
)
def test_a_report_has_content_when_the_unit_wrote_in_its_tables(
    workbook, catalogue, tab, cell, typed, filled
):
    """One definition of a filled report (ParsedReport.has_content): anything the unit
    writes in the cells it fills of the task and indicator tables."""
    if tab:
        workbook[tab][cell] = typed
    assert parse(workbook, catalogue).has_content is filled


def test_inserted_rows_renamed_tab_and_moved_table_are_still_read(workbook, catalogue):
    ws = workbook[layout.TAB_TASKS]
    ws.insert_rows(1, amount=3)  # a unit adds a title above the table
    ws["A1"] = "BÁO CÁO CỦA SỞ"
    ws.title = "NV (đã sửa)"  # and renames the tab
    info = workbook[layout.TAB_INFO]
    info.insert_rows(5, amount=2)  # and inserts blank lines in the info block
    report = parse(workbook, catalogue)
    assert report.header["claimed_unit_code"] == UNIT
    assert report.tasks and report.tasks[0]["row_key"] == "NV (đã sửa)!5"
    assert report.tasks[0]["status_cell"] == "NV (đã sửa)!G5"


def test_tab_scope_reads_only_the_units_tab(workbook, catalogue):
    report = parse(workbook, catalogue, tab_title=layout.TAB_TASKS)
    assert report.tasks and not report.indicators
    assert report.header["has_info_block"] is False
    missing = parse(workbook, catalogue, tab_title="Không có")
    assert missing.header["tab_found"] is False


def test_hidden_controls_are_removed_from_text_and_titles_and_recorded(workbook, catalogue):
    """An RLO, isolates and tag characters in cells and in a tab's title: the text is read
    without them, every reference names the tab without them, and the header names where they
    were (sheet.hidden_controls); a clean report records nothing."""
    assert parse(workbook, catalogue).header["hidden_controls"] is None
    ws = workbook[layout.TAB_TASKS]
    ws["G2"], ws["H2"] = "Hoàn thành\u202e", "\u2067Đã tổ chức\u2069 3 buổi"
    ws["H3"] = "Bình thường\u200b"  # zero-width only: cleaned, not named
    ws.title = "Nhiệm vụ\u202e"
    feedback = workbook[layout.TAB_FEEDBACK]
    feedback["B2"], feedback["C2"] = "Kiến nghị", "Cấp kinh phí\U000e0041\U000e0042 🏴"
    report = parse(workbook, catalogue)
    task = report.tasks[0]
    assert (task["status_code"], task["status_reading"]) == ("hoan_thanh", "choice")
    assert task["result"] == "Đã tổ chức 3 buổi"
    assert task["row_key"] == "Nhiệm vụ!2" and task["result_cell"] == "Nhiệm vụ!H2"
    assert report.tasks[1]["result"] == "Bình thường"
    assert report.feedback[0]["content"] == "Cấp kinh phí 🏴"
    header = report.header
    assert header["hidden_controls"] == (
        "tên trang “Nhiệm vụ”, Nhiệm vụ!G2, Nhiệm vụ!H2 và 1 chỗ khác"
    )
    assert header["hidden_controls_cell"] == "Nhiệm vụ!A1"
