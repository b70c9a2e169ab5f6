"""The offline template (.xlsx) and the Google Sheet give a unit the same help: the same strict
drop-downs, number and date rules on the same cells, with the same Vietnamese hints; the
template's messages are Vietnamese too. The target column is there only when a target is, and
the "Khó khăn, kiến nghị" table has room for many lines, all read.

The Sheet's side is what the emulator holds after the real batchUpdate (``tab_requests``); the
template's is the file written and read back with openpyxl."""

from __future__ import annotations

import pytest
from openpyxl import load_workbook
from openpyxl.utils.cell import range_boundaries

from sheets import layout

CASES = [
    ("TD-UBND", "TD-2025-6T"),  # a target (≥ 5/năm); counts only
    ("CB-SO-VHTTDL", "CB-2026-6T"),  # money (kinh phí); a task with an end
    ("CB-XA-001", "CB-2026-NAM"),  # a commune, annual report with estimates
]


@pytest.fixture(scope="module")
def emulator(tmp_path_factory):
    from sheets_emulator import EmulatorServer, emulator_client

    server = EmulatorServer(tmp_path_factory.mktemp("help-emulator"), host="127.0.0.1", port=0)
    server.start()
    yield emulator_client(server.url)
    server.stop()


def _cells(ref: str):
    c0, r0, c1, r1 = range_boundaries(ref)
    for r in range(r0, r1 + 1):
        for c in range(c0, c1 + 1):
            yield layout.a1(r - 1, c - 1)


def sheet_help(client, tabs) -> dict[tuple[str, str], tuple]:
    """(tab, cell) → (kind, list, hint, refused) as the emulator holds the Sheet's rules."""
    from sheets.writer import SheetsApi, tab_requests

    api = SheetsApi(client, None)
    spreadsheet_id = api.create("help", {})
    requests = []
    for index, tab in enumerate(tabs):
        requests += tab_requests(tab, index, first=index == 0)
    api.batch_update(spreadsheet_id, requests)
    meta = client.http_client.fetch_sheet_metadata(
        spreadsheet_id,
        params={
            "includeGridData": "true",
            "fields": "sheets(properties(title),data(rowData(values(dataValidation))))",
        },
    )
    found = {}
    for sheet in meta["sheets"]:
        for r, row in enumerate(sheet["data"][0].get("rowData", [])):
            for c, cell in enumerate(row.get("values", [])):
                rule = cell.get("dataValidation")
                if not rule:
                    continue
                condition = rule["condition"]
                kind = {
                    "ONE_OF_LIST": "list",
                    "NUMBER_GREATER_THAN_EQ": "number ≥ 0",
                    "DATE_IS_VALID": "date",
                }[condition["type"]]
                values = [v["userEnteredValue"] for v in condition.get("values", [])]
                if kind == "number ≥ 0":
                    assert values == ["0"]
                    values = []
                if kind == "list":
                    assert rule.get("showCustomUi")
                key = (sheet["properties"]["title"], layout.a1(r, c))
                found[key] = (kind, values, rule["inputMessage"], bool(rule.get("strict")))
    return found


def xlsx_help(path) -> dict[tuple[str, str], tuple]:
    """(tab, cell) → (kind, list, hint, refused) of the template's validations; checks each
    has a Vietnamese title and message within Excel's limits."""
    found = {}
    for ws in load_workbook(path):
        for dv in ws.data_validations.dataValidation:
            assert dv.showErrorMessage and dv.showInputMessage and dv.allow_blank
            assert dv.errorTitle in (
                layout.CHOICE_ERROR_TITLE,
                layout.NUMBER_ERROR_TITLE,
                layout.DATE_ERROR_TITLE,
            )
            assert len(dv.errorTitle) <= 32 and 0 < len(dv.error) <= 255
            assert 0 < len(dv.prompt) <= 255
            if dv.type == "list":
                kind, values = "list", dv.formula1.strip('"').split(",")
                assert dv.errorStyle == "stop" and not dv.showDropDown  # the arrow shows
            elif dv.type == "decimal":
                assert (dv.operator, dv.formula1) == ("greaterThanOrEqual", "0")
                kind, values = "number ≥ 0", []
            else:
                assert dv.type == "date" and dv.errorStyle == "warning"
                kind, values = "date", []
            for ref in str(dv.sqref).split():
                for cell in _cells(ref):
                    found[(ws.title, cell)] = (kind, values, dv.prompt, dv.errorStyle == "stop")
    return found


@pytest.mark.parametrize("unit_code,period_code", CASES)
def test_the_sheet_and_the_template_give_the_same_help_on_the_same_cells(
    emulator, catalogue, tmp_path, unit_code, period_code
):
    from sheets.template import write_template

    tabs = layout.report_tabs(catalogue, unit_code, period_code)
    in_sheet = sheet_help(emulator, tabs)
    in_xlsx = xlsx_help(write_template(catalogue, unit_code, period_code, tmp_path / "t.xlsx"))
    assert in_sheet.keys() == in_xlsx.keys()
    for key, (kind, values, hint, refused) in in_sheet.items():
        x_kind, x_values, x_hint, x_refused = in_xlsx[key]
        assert (kind, values, hint) == (x_kind, x_values, x_hint), key
        # a drop-down and a figure are refused in the Sheet; in Excel a figure of money warns
        # (the decimal comma is read by the computer's settings), a date warns in both
        assert refused == (kind != "date"), key
        assert x_refused == (kind == "list" or (kind == "number ≥ 0" and "phẩy" not in hint))

    # every cell a unit fills with a choice, a figure or a date has its help; nothing else
    period = catalogue.period(period_code)
    tasks = catalogue.tasks_for(period.programme_code, unit_code)
    indicators = catalogue.indicators_for(period.programme_code, unit_code)
    status = layout.column_letter(layout.column_index(layout.TASK_COLUMNS, "status"))
    done = layout.column_letter(layout.column_index(layout.TASK_COLUMNS, "completed_on"))
    value = layout.column_letter(layout.column_index(layout.INDICATOR_COLUMNS, "value"))
    expected = {(layout.TAB_TASKS, f"{status}{r}") for r in range(2, len(tasks) + 2)}
    expected |= {(layout.TAB_TASKS, f"{done}{r}") for r in range(2, len(tasks) + 2)}
    expected |= {(layout.TAB_INDICATORS, f"{value}{r}") for r in range(2, len(indicators) + 2)}
    expected |= {(layout.TAB_FEEDBACK, f"B{r}") for r in range(2, layout.FEEDBACK_ROWS + 2)}
    expected.add((layout.TAB_INFO, "B14"))  # Đã nộp
    assert in_sheet.keys() == expected

    for n, (task, _) in enumerate(tasks, start=2):
        kind, values, hint, _ = in_sheet[(layout.TAB_TASKS, f"{status}{n}")]
        assert kind == "list" and values == layout.task_status_choices(task)
        assert hint == "Chọn trong danh sách: " + ", ".join(values) + "."
        kind, _, hint, _ = in_sheet[(layout.TAB_TASKS, f"{done}{n}")]
        assert kind == "date"
        if task.is_ongoing:
            assert hint == "Nhiệm vụ thường xuyên không có ngày hoàn thành: để trống ô này."
        else:
            assert hint == (
                "Ghi ngày hoàn thành dạng ngày/tháng/năm, ví dụ "
                f"{period.data_to.day}/{period.data_to.month}/{period.data_to.year}."
            )
    for n, ind in enumerate(indicators, start=2):
        _, _, hint, _ = in_sheet[(layout.TAB_INDICATORS, f"{value}{n}")]
        assert hint.startswith(f"Ghi số {ind.unit_of_measure} bằng chữ số")
        assert hint.endswith("nếu không có, ghi 0.")
        assert ("ví dụ 12,5" in hint) == (ind.value_kind == "money")
    kind, values, hint, _ = in_sheet[(layout.TAB_FEEDBACK, f"B{layout.FEEDBACK_ROWS + 1}")]
    assert values == ["Khó khăn", "Kiến nghị"] and f"có {layout.FEEDBACK_ROWS} dòng" in hint


def test_the_target_column_is_there_only_when_a_target_is(catalogue):
    """Over every expected unit of every period: "Chỉ tiêu kế hoạch" is the last column when
    one of the unit's indicators has a target, and absent otherwise; every other column is
    where INDICATOR_COLUMNS puts it."""
    shapes = set()
    for period_code, period in catalogue.periods.items():
        for unit in catalogue.expected_units(period_code):
            indicators = catalogue.indicators_for(period.programme_code, unit.unit_code)
            tabs = layout.report_tabs(catalogue, unit.unit_code, period_code)
            [tab] = [t for t in tabs if t.title == layout.TAB_INDICATORS]
            header = tab.rows[0]
            has_target = any(i.target_value is not None for i in indicators)
            assert ("Chỉ tiêu kế hoạch" in header) == has_target, unit.unit_code
            for key, label, _, _ in layout.INDICATOR_COLUMNS:
                if key != "target":
                    assert header[layout.column_index(layout.INDICATOR_COLUMNS, key)] == label
            if has_target:
                assert header[-1] == "Chỉ tiêu kế hoạch"
                assert [row[-1] for row in tab.rows[1:]] == [
                    i.target_label or None for i in indicators
                ]
            shapes.add(has_target)
    assert shapes == {True, False}  # both shapes are made


@pytest.mark.parametrize("unit_code,period_code", [CASES[0], CASES[1]])
def test_both_shapes_parse_and_the_value_is_where_the_layout_says(
    catalogue, unit_code, period_code
):
    from ingest.parse import parse_report
    from sheets.template import write_workbook
    from sheets_emulator import workbook_to_spreadsheet_resource

    workbook = write_workbook(layout.report_tabs(catalogue, unit_code, period_code))
    ws = workbook[layout.TAB_INDICATORS]
    value = layout.column_letter(layout.column_index(layout.INDICATOR_COLUMNS, "value"))
    note = layout.column_letter(layout.column_index(layout.INDICATOR_COLUMNS, "note"))
    ws[f"{value}2"], ws[f"{note}2"] = 7, "Ghi chú"
    report = parse_report(
        workbook_to_spreadsheet_resource(workbook, spreadsheet_id="x"),
        value_kind_of=catalogue.value_kind_of,
    )
    first = report.indicators[0]
    assert (first["value"], first["value_cell"]) == (7, f"Chỉ tiêu!{value}2")
    assert first["note"] == "Ghi chú"
    assert report.header["indicators_columns_missing"] == ""


def test_the_feedback_table_has_room_and_every_line_is_read(catalogue):
    """30 open lines (unlocked in the template), every one read; and lines a unit inserts in
    the table are read too."""
    from ingest.parse import parse_report
    from sheets.template import write_workbook
    from sheets_emulator import workbook_to_spreadsheet_resource

    unit_code, period_code = CASES[1]
    workbook = write_workbook(layout.report_tabs(catalogue, unit_code, period_code))
    ws = workbook[layout.TAB_FEEDBACK]
    rows = range(2, layout.FEEDBACK_ROWS + 2)
    assert layout.FEEDBACK_ROWS >= 30
    assert all(not ws[f"{c}{r}"].protection.locked for r in rows for c in "BC")
    for r in rows:
        ws[f"B{r}"] = "Khó khăn" if r % 2 else "Kiến nghị"
        ws[f"C{r}"] = f"Ý thứ {r - 1}"
    ws.insert_rows(10, amount=3)  # the unit makes room in the middle of the table
    for r in (10, 11, 12):
        ws[f"B{r}"], ws[f"C{r}"] = "Kiến nghị", f"Ý chèn thêm ở dòng {r}"
    report = parse_report(workbook_to_spreadsheet_resource(workbook, spreadsheet_id="x"))
    contents = [f["content"] for f in report.feedback]
    assert len(contents) == layout.FEEDBACK_ROWS + 3
    assert contents[-1] == f"Ý thứ {layout.FEEDBACK_ROWS}" and "Ý chèn thêm ở dòng 11" in contents


def test_the_guide_says_how_to_fill_the_help_and_whom_to_call(catalogue):
    period = catalogue.period("CB-2026-6T")
    guide = layout.guide_lines(catalogue.programmes["CB-KH84"], period)
    text = " ".join(guide)
    assert f"có sẵn {layout.FEEDBACK_ROWS} dòng" in text
    assert "hiện gợi ý cách ghi" in text and "bị từ chối" in text
    assert guide[-1].startswith("8. Liên hệ khi cần hỗ trợ: Sở Văn hóa, Thể thao và Du lịch")
