"""Publishing a period: the summary spreadsheet and the draft report say what the marts say.

A demo province (CB-2026-6T) is landed through the real pipeline into a warehouse database of
its own (``tonghop_publish``); before the pull, one unit types formula-looking text into its
difficulties ("=HYPERLINK(…)", "+84 …", "-", "@…"), and one switches "Đã nộp" on its sheet as
provisioned, writing nothing else. After a real ``dbt build`` the period is
published twice (two run ids): the summary spreadsheet is read back through gspread, the .xlsx
with openpyxl, the .docx with python-docx, and the PDF is rendered to images with poppler.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import shutil
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest

from tests.conftest import api_calls, query

DATABASE = "tonghop_publish"
PERIOD = "CB-2026-6T"
SEED = 11
OFFICIAL = "vanhoa.xa@caobang.gov.vn"
#: what a unit may type that a spreadsheet would take for a formula
FORMULA_LIKE = [
    '=HYPERLINK("http://vi-du.example";"bấm vào đây")',
    "+84 912 345 678",
    "-",
    "@Sở VHTTDL xem giúp",
    "=1+1",
]
MM_TO_PT = 72 / 25.4


@pytest.fixture(scope="module")
def published(settings, catalogue, tmp_path_factory):
    """The period landed, built and published twice; returns a namespace of what was made."""
    from pipeline.dbt import run_dbt
    from publish.bundle import publish_period
    from sheets import layout
    from sheets_emulator import emulator_client
    from testing.province import demo_province, land, own_warehouse, register_entries
    from tooling.demo_setup import demo_spreadsheet_id

    tmp = tmp_path_factory.mktemp("publish")
    with own_warehouse(settings, DATABASE, tmp) as (own, server):
        manifest, entries = demo_province(server, PERIOD, seed=SEED)
        register_entries(own, entries)
        typist = next(u for u in manifest.units_with("on_time"))
        # a unit that switched "Đã nộp" on the sheet as provisioned, and wrote nothing else
        blank_sent = manifest.units_with("untouched")[0]
        emulator_client(server.url, user=OFFICIAL).http_client.values_update(
            demo_spreadsheet_id(PERIOD, blank_sent),
            f"'{layout.TAB_INFO}'!{layout.info_cell('submitted')}",
            params={"valueInputOption": "RAW"},
            body={"values": [["Đã nộp"]]},
        )
        kind = layout.column_letter(layout.column_index(layout.FEEDBACK_COLUMNS, "kind"))
        content = layout.column_letter(layout.column_index(layout.FEEDBACK_COLUMNS, "content"))
        unit_client = emulator_client(server.url, user=OFFICIAL).http_client
        rows = [["Khó khăn", text] for text in FORMULA_LIKE]
        unit_client.values_update(
            demo_spreadsheet_id(PERIOD, typist),
            f"'{layout.TAB_FEEDBACK}'!{kind}2:{content}{1 + len(rows)}",
            params={"valueInputOption": "RAW"},
            body={"values": rows},
        )

        land(own, catalogue, PERIOD)
        run_dbt(own, ["build"])
        client = emulator_client(server.url)
        server.reset_stats()
        first = publish_period(own, PERIOD, "run-1", client=client)
        first_calls = api_calls(server)
        server.reset_stats()
        second = publish_period(own, PERIOD, "run-2", client=client)
        second_calls = api_calls(server)

        class Published:
            pass

        p = Published()
        p.settings, p.server, p.client, p.typist = own, server, client, typist
        p.blank_sent = blank_sent
        p.manifest = manifest
        p.first, p.second, p.calls = first, second, (first_calls, second_calls)
        yield p


def marts(p, sql: str, params: tuple = ()) -> list[tuple]:
    return query(p.settings.dsn("bi_reader"), sql, params)


def as_number(value):
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


# ------------------------------------------------------------------ estimates, assumed dates
@pytest.fixture(scope="module")
def annual_and_assumed(published):
    """The same warehouse's annual period (due 30/11, figures to 14/12) and a Tam Đường period
    (a due date its plan does not give), published without their PDF."""
    from publish.bundle import publish_period

    p = published
    return {
        code: publish_period(p.settings, code, "run-1", client=p.client, pdf=False)
        for code in ("CB-2026-NAM", "TD-2025-6T")
    }


def test_the_annual_summary_and_report_say_which_figures_are_estimates(
    published, annual_and_assumed
):
    p = published
    result = annual_and_assumed["CB-2026-NAM"]
    sheet = p.client.open_by_key(result.spreadsheet_id)
    overview = sheet.worksheet("Tổng quan").get(value_render_option="UNFORMATTED_VALUE")
    assert [
        "Thời gian chốt số liệu",
        "15/12/2025 – 14/12/2026 (bao gồm số ước thực hiện từ 01/12/2026 đến 14/12/2026)",
    ] in [row[:2] for row in overview]
    totals = sheet.worksheet("Chỉ tiêu toàn tỉnh").get(value_render_option="UNFORMATTED_VALUE")
    assert totals[0][0] == (
        "KẾT QUẢ CÁC CHỈ TIÊU TOÀN TỈNH SO VỚI MỤC TIÊU (bao gồm số ước "
        "thực hiện từ 01/12/2026 đến 14/12/2026)"
    )
    text = docx_text(result.docx_path)
    assert (
        "(số liệu từ ngày 15/12/2025 đến ngày 14/12/2026, bao gồm số ước thực hiện từ "
        "01/12/2026 đến 14/12/2026; hạn nộp chậm nhất 23 giờ 59 phút ngày 30/11/2026)"
    ) in text
    assert (
        "Bảng 3. Kết quả các chỉ tiêu (bao gồm số ước thực hiện từ 01/12/2026 đến 14/12/2026)"
    ) in text
    # the 6-month report has no estimate and says none
    assert "ước thực hiện" not in docx_text(p.first.docx_path)


def test_an_assumed_due_date_is_said_to_be_assumed(published, annual_and_assumed):
    p = published
    result = annual_and_assumed["TD-2025-6T"]
    overview = (
        p.client.open_by_key(result.spreadsheet_id)
        .worksheet("Tổng quan")
        .get(value_render_option="UNFORMATTED_VALUE")
    )
    assert [
        "Hạn nộp",
        "chậm nhất 23 giờ 59 phút ngày 20/06/2025 (ngày giả định: kế hoạch "
        "không quy định ngày báo cáo)",
    ] in [row[:2] for row in overview]
    assert (
        "hạn nộp chậm nhất 23 giờ 59 phút ngày 20/06/2025 (ngày giả định: kế hoạch không "
        "quy định ngày báo cáo))"
    ) in docx_text(result.docx_path)
    # and the reminder a person sends the units
    from publish.reminder import missing_units

    reminder = missing_units(p.settings, "TD-2025-6T", "run-1")
    assert (
        Path(reminder["reminder_path"])
        .read_text(encoding="utf-8")
        .startswith(
            "Báo cáo 6 tháng đầu năm 2025 — hạn nộp chậm nhất 23 giờ 59 phút ngày 20/06/2025 (ngày "
            "giả định: kế hoạch không quy định ngày báo cáo)\n"
        )
    )
    # Cao Bằng's dates are the plan's: no note
    assert "giả định" not in docx_text(p.first.docx_path)


def test_completion_is_rated_over_tasks_with_an_end_only(published):
    p = published
    overview = {row[0]: row[1] for row in sheet_grid(p, "Tổng quan") if len(row) > 1}
    [(ongoing, active, with_end, done, rate)] = marts(
        p,
        """
        select ongoing_tasks, ongoing_tasks_active, tasks_with_end, tasks_with_end_done,
               task_done_rate
        from marts.agg_province_summary where period_code = %s""",
        (PERIOD,),
    )
    assert overview["Nhiệm vụ thường xuyên: số lượt được giao"] == ongoing
    assert overview["Nhiệm vụ thường xuyên: đang thực hiện thường xuyên"] == active
    assert overview["Nhiệm vụ hằng năm, có thời hạn: số lượt được giao"] == with_end
    assert overview["Nhiệm vụ hằng năm, có thời hạn: số lượt hoàn thành"] == done
    assert as_number(
        overview["Tỷ lệ hoàn thành (chỉ nhiệm vụ hằng năm, có thời hạn)"]
    ) == as_number(rate)
    assert "Số lượt nhiệm vụ hoàn thành" not in overview
    text = docx_text(p.first.docx_path)
    assert "Nhiệm vụ thường xuyên (không có thời điểm hoàn thành):" in text
    assert "tỷ lệ hoàn thành chỉ tính trên nhiệm vụ hằng năm, có thời hạn" in text


# ------------------------------------------------------------------ the summary spreadsheet
def sheet_grid(p, title: str, render: str = "UNFORMATTED_VALUE") -> list[list]:
    spreadsheet = p.client.open_by_key(p.first.spreadsheet_id)
    return spreadsheet.worksheet(title).get(value_render_option=render)


def test_the_summary_spreadsheet_has_every_table_and_is_rewritten_not_duplicated(published):
    p = published
    assert p.first.spreadsheet_id == p.second.spreadsheet_id
    titles = [ws.title for ws in p.client.open_by_key(p.first.spreadsheet_id).worksheets()]
    assert titles == [
        "Tổng quan",
        "Tình hình nộp",
        "Tỷ lệ theo loại đơn vị",
        "Chỉ tiêu toàn tỉnh",
        "Chỉ tiêu theo đơn vị",
        "Nhiệm vụ",
        "Khó khăn, kiến nghị",
    ]
    # finding it, its metadata and one batchUpdate: the rewrite does not grow with the rows
    first, second = p.calls
    assert second.get("sheets.spreadsheets.batchUpdate") == 1
    assert sum(second.values()) <= 4, second
    assert first.get("sheets.spreadsheets.batchUpdate") == 1
    # the deadline as the catalogue's on_time_until (23:59:59 on 20/6, Vietnam time) words it
    overview = sheet_grid(p, "Tổng quan")
    assert ["Hạn nộp", "chậm nhất 23 giờ 59 phút ngày 20/06/2026"] in [row[:2] for row in overview]


def test_the_summary_spreadsheet_shows_figures_the_vietnamese_way(published):
    """Created through the API it would be the service account's en_US (0.5 shown "50.0%");
    the batchUpdate that writes it sets vi_VN and Vietnam's time: "50,0%"."""
    import re

    p = published
    sheet = p.client.open_by_key(p.first.spreadsheet_id)
    assert (sheet.locale, sheet.timezone) == ("vi_VN", "Asia/Ho_Chi_Minh")
    shown = [v for row in sheet_grid(p, "Tỷ lệ theo loại đơn vị", "FORMATTED_VALUE") for v in row]
    rates = [v for v in shown if isinstance(v, str) and v.endswith("%")]
    assert rates and all(re.fullmatch(r"\d+,\d%", v) for v in rates), rates


def test_reporting_status_by_unit_equals_the_marts(published):
    p = published
    grid = sheet_grid(p, "Tình hình nộp", "FORMATTED_VALUE")  # dates as shown: d/m/yyyy
    assert grid[2][:5] == ["STT", "Mã đơn vị", "Đơn vị", "Loại đơn vị", "Tình trạng"]
    sheet = {row[1]: (row[2], row[4], row[6] if len(row) > 6 else "") for row in grid[3:]}
    expected = {
        code: (name, status, f"{due.day}/{due.month}/{due.year}")
        for code, name, status, due in marts(
            p,
            """
                    select unit_code, unit_name_at_period, submission_state_vi, due_date
                    from marts.fct_submission where period_code = %s""",
            (PERIOD,),
        )
    }
    assert sheet == expected
    statuses = {s for _, s, _ in expected.values()}
    assert {
        "Nộp hợp lệ, đúng hạn",
        "Nộp hợp lệ, trễ hạn",
        "Đã nộp nhưng còn lỗi",
        "Chưa chọn “Đã nộp”",
        "Chưa điền",
    } <= statuses, "the demo should have them all"


def test_rates_and_indicator_totals_equal_the_marts(published):
    p = published
    grid = sheet_grid(p, "Tỷ lệ theo loại đơn vị")
    sheet = {row[0]: (row[1], row[2], row[3]) for row in grid[3:]}
    expected = {
        name: (e, a, float(rate))
        for name, e, a, rate in marts(
            p,
            """
        select unit_type_name, expected_reports, actual_reports, reporting_rate
        from marts.agg_reporting_rate where period_code = %s""",
            (PERIOD,),
        )
    }
    assert sheet == expected

    grid = sheet_grid(p, "Chỉ tiêu toàn tỉnh")
    sheet = {row[0]: row[3] if len(row) > 3 and row[3] != "" else None for row in grid[3:]}
    expected = {
        code: as_number(total)
        for code, total in marts(
            p,
            """
        select indicator_code, total_value from marts.agg_indicator_totals
        where period_code = %s""",
            (PERIOD,),
        )
    }
    assert sheet == expected and any(v for v in expected.values())

    grid = sheet_grid(p, "Chỉ tiêu theo đơn vị")
    # the indicators across, headed by their names and units, not their codes
    named = {
        f"{name} ({unit})": code
        for code, name, unit in marts(
            p, "select indicator_code, indicator_name, unit_of_measure from marts.dim_indicator"
        )
    }
    codes = [named[header] for header in grid[2][2:]]
    by_unit = {
        (row[0], code): value
        for row in grid[3:-1]
        for code, value in zip(codes, row[2:])
        if value != ""
    }
    expected = {
        (u, c): as_number(v)
        for u, c, v in marts(
            p,
            """
        select unit_code, indicator_code, value_number from marts.fct_indicator_value
        where period_code = %s""",
            (PERIOD,),
        )
    }
    assert by_unit == expected
    assert grid[-1][1] == "Tổng cộng toàn tỉnh"


def test_task_groups_and_difficulties_are_gathered(published):
    p = published
    grid = sheet_grid(p, "Nhiệm vụ")
    # ongoing tasks by what was done; completion only over tasks with an end
    assert grid[2][4:11] == [
        "Thường xuyên: được giao",
        "Thường xuyên: đang thực hiện",
        "Thường xuyên: có kết quả",
        "Hằng năm, có thời hạn: được giao",
        "Hoàn thành",
        "Đang triển khai",
        "Tỷ lệ hoàn thành",
    ]
    assert "tỷ lệ hoàn thành chỉ tính nhiệm vụ hằng năm, có thời hạn" in grid[0][0]
    sheet = [(row[0], row[2], row[5], row[7], row[8]) for row in grid[3:]]
    assert sheet == [
        tuple(r)
        for r in marts(
            p,
            """
        select task_group_no, tasks_assigned, ongoing_tasks_active, tasks_with_end,
               tasks_with_end_done
        from marts.agg_task_group_summary where period_code = %s order by task_group_code""",
            (PERIOD,),
        )
    ]
    grid = sheet_grid(p, "Khó khăn, kiến nghị")
    assert (
        len(grid) - 3
        == marts(p, "select count(*) from marts.fct_feedback where period_code = %s", (PERIOD,))[0][
            0
        ]
    )


def test_formula_looking_input_stays_text_everywhere(published):
    p = published
    from openpyxl import load_workbook

    # in the spreadsheet: the exact text, as a string, even when asked for formulas
    grid = sheet_grid(p, "Khó khăn, kiến nghị", render="FORMULA")
    typed = [row[4] for row in grid[3:] if row[1] == p.typist]
    for text in FORMULA_LIKE:
        assert text in typed
    meta = p.client.open_by_key(p.first.spreadsheet_id).fetch_sheet_metadata(
        {
            "includeGridData": "true",
            "ranges": f"'Khó khăn, kiến nghị'!E4:E{len(grid)}",
            "fields": "sheets.data.rowData.values.userEnteredValue",
        }
    )
    values = [
        c.get("userEnteredValue", {})
        for r in meta["sheets"][0]["data"][0]["rowData"]
        for c in r.get("values", [])
    ]
    assert values and all(set(v) <= {"stringValue"} for v in values)
    assert {"stringValue": "=1+1"} in values
    # in the .xlsx: string cells, not formulas
    ws = load_workbook(p.first.xlsx_path)["Khó khăn, kiến nghị"]
    cells = [c for c in ws["E"] if c.value in FORMULA_LIKE]
    assert {c.value for c in cells} == set(FORMULA_LIKE)
    assert all(c.data_type == "s" for c in cells)


def test_the_spreadsheet_is_formatted_for_reading(published):
    p = published
    meta = p.client.open_by_key(p.first.spreadsheet_id).fetch_sheet_metadata(
        {
            "fields": "sheets(properties(title,gridProperties),data(columnMetadata(pixelSize)))",
            "includeGridData": "false",
        }
    )
    for sheet in meta["sheets"]:
        assert sheet["properties"]["gridProperties"].get("frozenRowCount") == 3, sheet[
            "properties"
        ]["title"]
    from publish.summary import PIXELS_PER_WIDTH

    meta = p.client.open_by_key(p.first.spreadsheet_id).fetch_sheet_metadata(
        {
            "includeGridData": "true",
            "ranges": "'Tình hình nộp'!A1:C4",
            "fields": "sheets.data(columnMetadata.pixelSize,rowData.values.userEnteredFormat)",
        }
    )
    data = meta["sheets"][0]["data"][0]
    widths = [c.get("pixelSize") for c in data["columnMetadata"][:3]]
    assert widths == [6 * PIXELS_PER_WIDTH, 14 * PIXELS_PER_WIDTH, 34 * PIXELS_PER_WIDTH]
    header = data["rowData"][2]["values"][0]["userEnteredFormat"]
    assert header["textFormat"]["bold"] is True


#: the labels of a table's last row when it is a total (kept below the filter)
TOTAL_LABELS = ("Tổng cộng toàn tỉnh", "Tất cả loại đơn vị")


def is_total(row: list) -> bool:
    return any(value in TOTAL_LABELS for value in row[:2])


def test_the_spreadsheet_has_date_cells_filters_and_whole_counts(published, catalogue):
    """What the .xlsx gets, as far as the Sheets API allows: date cells (serial numbers with a
    d/m/yyyy format, shown the vi_VN way), counts without decimals, a filter on every table's
    header row (not over its total row) and the title across the table in a row tall enough for
    its 13-point line."""
    p = published
    meta = p.client.open_by_key(p.first.spreadsheet_id).fetch_sheet_metadata(
        {"fields": "sheets(properties(sheetId,title),basicFilter,merges)"}
    )
    for sheet in meta["sheets"]:
        title = sheet["properties"]["title"]
        grid = sheet_grid(p, title)
        totals = int(is_total(grid[-1]))
        columns = len(grid[2])
        assert sheet["basicFilter"]["range"] == {
            "sheetId": sheet["properties"]["sheetId"],
            "startRowIndex": 2,
            "endRowIndex": len(grid) - totals,
            "startColumnIndex": 0,
            "endColumnIndex": max(columns, 2),
        }, title
        assert {
            "sheetId": sheet["properties"]["sheetId"],
            "startRowIndex": 0,
            "endRowIndex": 1,
            "startColumnIndex": 0,
            "endColumnIndex": max(columns, 2),
        } in sheet["merges"], title
    meta = p.client.open_by_key(p.first.spreadsheet_id).fetch_sheet_metadata(
        {
            "includeGridData": "true",
            "ranges": "'Tình hình nộp'!A1:K80",
            "fields": "sheets.data(rowMetadata.pixelSize,rowData.values(userEnteredFormat,"
            "effectiveValue,formattedValue))",
        }
    )
    data = meta["sheets"][0]["data"][0]
    assert data["rowMetadata"][0]["pixelSize"] >= 13 * 2  # the 13-point title, accents and all
    title = data["rowData"][0]["values"][0]["userEnteredFormat"]
    assert title["textFormat"] == {"bold": True, "fontSize": 13}
    received = {
        code: (at, due)
        for code, at, due in marts(
            p,
            """
            select unit_code,
                   to_char(received_at at time zone 'Asia/Ho_Chi_Minh', 'FMDD/FMMM/YYYY HH24:MI'),
                   to_char(on_time_until at time zone 'Asia/Ho_Chi_Minh', 'FMDD/FMMM/YYYY')
            from marts.fct_submission where period_code = %s""",
            (PERIOD,),
        )
    }
    shown = {}
    for row in data["rowData"][3:]:
        cells = row["values"]
        code = cells[1]["formattedValue"]
        at, due = cells[5], cells[6]
        assert due["userEnteredFormat"]["numberFormat"] == {"type": "DATE", "pattern": "d/m/yyyy"}
        assert "numberValue" in due["effectiveValue"]  # a date cell, not text: it sorts by date
        if "effectiveValue" in at:
            assert at["userEnteredFormat"]["numberFormat"] == {
                "type": "DATE_TIME",
                "pattern": "d/m/yyyy hh:mm",
            }
        shown[code] = (at.get("formattedValue"), due["formattedValue"])
    assert shown == received
    # counts are whole: "90.108", never "90.108,0"; money keeps its decimal comma
    grid = sheet_grid(p, "Chỉ tiêu toàn tỉnh", "FORMATTED_VALUE")
    for row in grid[3:]:
        if len(row) > 3 and row[3] != "":
            whole = catalogue.indicators[row[0]].value_kind == "count"
            assert re.fullmatch(r"\d{1,3}(\.\d{3})*" + ("" if whole else r",\d{1,3}"), row[3]), row


# ------------------------------------------------------------------ the summary workbook (.xlsx)
#: what a code looks like: a unit (CB-XA-001) or an indicator (CB.CT01)
CODE = re.compile(r"^[A-Z]{2}[.-][A-Z0-9.-]+$")


@pytest.fixture(scope="module")
def workbook(published):
    from openpyxl import load_workbook

    return load_workbook(published.first.xlsx_path)


def headers_of(ws) -> list[str]:
    return [c.value for c in ws[3] if c.value is not None]


def test_the_workbook_dates_are_date_cells_in_vietnamese_order(published, workbook):
    """The last on-time day a date cell (d/m/yyyy), the time sent a date-time cell in
    Vietnam's time (d/m/yyyy hh:mm): Excel sorts them by date ("1/7/2026" after "10/6/2026"),
    not as text; they equal the marts' timestamps taken in Vietnam's time by PostgreSQL."""
    p = published
    ws = workbook["Tình hình nộp"]
    headers = headers_of(ws)
    at, due = headers.index("Thời điểm nộp"), headers.index("Hạn nộp")
    expected = {
        code: (received, last_day)
        for code, received, last_day in marts(
            p,
            """
            select unit_code,
                   date_trunc('second', received_at at time zone 'Asia/Ho_Chi_Minh'),
                   (on_time_until at time zone 'Asia/Ho_Chi_Minh')::date
            from marts.fct_submission where period_code = %s""",
            (PERIOD,),
        )
    }
    found = {}
    for row in ws.iter_rows(min_row=4):
        assert row[due].is_date and row[due].number_format == "d/m/yyyy"
        if row[at].value is not None:
            assert row[at].is_date and row[at].number_format == "d/m/yyyy hh:mm"
        found[row[1].value] = (row[at].value, row[due].value.date())
    assert found.keys() == expected.keys()
    for code, (received, last_day) in expected.items():
        got, got_day = found[code]
        assert got_day == last_day, code
        if received is None:
            assert got is None, code
        else:  # a date-time cell holds a fraction of a day: equal to the second
            assert abs((got - received).total_seconds()) < 1, code
    assert any(v for v, _ in found.values()), "the demo should have reports received"
    assert workbook["Tổng quan"]["B7"].is_date  # "Số liệu tính đến ngày"


def test_the_workbook_counts_are_whole_numbers_by_the_catalogue(workbook, catalogue):
    """A count (buổi, lượt người, …) is an int shown "#,##0" ("857 buổi", never "857,0"); money
    (triệu đồng) keeps its decimals — by the indicator's kind in the catalogue."""
    formats = {"count": "#,##0", "money": "#,##0.0##"}
    ws = workbook["Chỉ tiêu toàn tỉnh"]
    headers = headers_of(ws)
    total, before = headers.index("Tổng số"), headers.index("Kỳ trước")
    for row in ws.iter_rows(min_row=4):
        kind = catalogue.indicators[row[0].value].value_kind
        for cell in (row[total], row[before]):
            if cell.value is not None:
                assert cell.number_format == formats[kind], (row[0].value, cell.number_format)
                if kind == "count":
                    assert isinstance(cell.value, int), (row[0].value, cell.value)
    ws = workbook["Chỉ tiêu theo đơn vị"]
    indicators = {
        f"{i.indicator_name} ({i.unit_of_measure})": i for i in catalogue.indicators.values()
    }
    for c, header in enumerate(headers_of(ws)[2:], start=2):
        kind = indicators[header].value_kind  # headed by the indicator's name and unit
        cells = [row[c] for row in ws.iter_rows(min_row=4) if row[c].value is not None]
        assert all(cell.number_format == formats[kind] for cell in cells), header
        assert kind == "money" or all(isinstance(cell.value, int) for cell in cells), header
    # every other figure of the workbook is a count or a rate: nothing shows a ",0"
    for ws in workbook:
        if ws.title in ("Chỉ tiêu toàn tỉnh", "Chỉ tiêu theo đơn vị"):
            continue
        for row in ws.iter_rows(min_row=4):
            for cell in row:
                if isinstance(cell.value, (int, float)) and not cell.is_date:
                    assert cell.number_format in ("#,##0", "0.0%"), (ws.title, cell.coordinate)
                    assert cell.number_format == "0.0%" or isinstance(cell.value, int)


def test_the_workbook_names_every_code_and_filters_every_table(workbook):
    """Headers are Vietnamese words; a code column has its name beside it; an autofilter on
    every table's header row, over its rows (a total row stays below it)."""
    beside = {"Mã đơn vị": "Đơn vị", "Mã chỉ tiêu": "Chỉ tiêu", "Nhóm": "Nhóm nhiệm vụ"}
    for ws in workbook:
        headers = headers_of(ws)
        assert not [h for h in headers if CODE.match(h)], (ws.title, headers)
        for code, name in beside.items():
            if code in headers:
                assert headers[headers.index(code) + 1] == name, ws.title
        last_row = ws.max_row
        rows_end = last_row - is_total([c.value for c in ws[last_row]])
        last_column = ws.cell(row=3, column=len(headers)).column_letter
        assert ws.auto_filter.ref == f"A3:{last_column}{rows_end}", ws.title
        assert ws.freeze_panes == "A4"


def test_the_workbook_is_set_for_printing(workbook):
    """A4, one page wide, landscape where the table is wider than a portrait page, the title
    and header rows on every page, the tab and page number in the footer; the title's row tall
    enough for its 13-point capitals with their accents (Ổ, Ấ clipped at Excel's 15 points)."""
    for ws in workbook:
        setup = ws.page_setup
        assert int(setup.paperSize) == int(ws.PAPERSIZE_A4), ws.title
        assert (setup.fitToWidth, setup.fitToHeight) == (1, 0), ws.title
        assert ws.sheet_properties.pageSetUpPr.fitToPage
        assert ws.print_title_rows == "$1:$3", ws.title
        assert "&P" in ws.oddFooter.center.text
        # A4 portrait holds 21 cm less 2.54 cm of margins: ~ 700 pixels, 7 a width unit
        width_px = sum(
            (ws.column_dimensions[ws.cell(row=3, column=c).column_letter].width or 8.43) * 7
            for c in range(1, len(headers_of(ws)) + 1)
        )
        assert setup.orientation == ("landscape" if width_px > 700 else "portrait"), ws.title
        title = ws["A1"]
        assert title.font.sz == 13 and title.alignment.wrap_text
        assert f"A1:{ws.cell(row=3, column=len(headers_of(ws))).column_letter}1" in {
            str(r) for r in ws.merged_cells.ranges
        }
        # at least 1.5 × the font size a line, for as many lines as the title needs at one
        # character of 13 points a width unit at most
        lines = -(-len(title.value) // int(width_px / 7))
        assert ws.row_dimensions[1].height >= 1.5 * 13 * lines, ws.title


@pytest.fixture(scope="module")
def printed_workbook(published, tmp_path_factory):
    """The first run's workbook printed by LibreOffice Calc to PDF (once): each page's text and
    size."""
    import os

    from publish.report import render_pdf, soffice_path

    if not (soffice_path() and shutil.which("pdftotext")):
        if os.environ.get("CI"):
            pytest.fail("LibreOffice and poppler must be installed in CI (scripts/bootstrap.sh)")
        pytest.skip("LibreOffice or poppler not installed: no workbook to print")
    copy = tmp_path_factory.mktemp("workbook") / Path(published.first.xlsx_path).name
    shutil.copy(published.first.xlsx_path, copy)
    pdf = render_pdf(copy, budget=120)
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout
    pages = text.split("\f")[:-1]
    info = subprocess.run(
        ["pdfinfo", "-f", "1", "-l", str(len(pages)), str(pdf)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    sizes = [
        (float(w), float(h)) for w, h in re.findall(r"Page +\d+ size: +([\d.]+) x ([\d.]+)", info)
    ]
    assert len(sizes) == len(pages)
    return pages, sizes


def test_the_printed_workbook_is_one_page_wide_with_its_titles_on_every_page(
    workbook, printed_workbook
):
    """LibreOffice Calc's print of the .xlsx: each page names its tab in the footer; every page
    of a tab has its title, its first and its last column's header (one page across, the
    header repeated), on A4 in the tab's orientation; a tab takes few pages."""
    pages, sizes = printed_workbook
    by_tab: dict[str, list[int]] = {}
    for n, page in enumerate(pages):
        footer = re.search(r"(\S[^\n]*?) – trang (\d+)/(\d+)\s*$", page)
        assert footer and int(footer.group(2)) == n + 1 and int(footer.group(3)) == len(pages)
        by_tab.setdefault(footer.group(1), []).append(n)
    assert list(by_tab) == workbook.sheetnames
    for ws in workbook:
        headers = headers_of(ws)
        landscape = ws.page_setup.orientation == "landscape"
        for n in by_tab[ws.title]:
            words = set(pages[n].split())
            # the title and the header row on every page, the first column's header and the
            # last's: no page holds only some of the columns
            assert set(ws["A1"].value.split()[:4]) <= words, (ws.title, n)
            assert set(headers[0].split()) | set(headers[-1].split()) <= words, (ws.title, n)
            width, height = sizes[n]
            assert (width > height) == landscape and {round(width), round(height)} == {595, 842}
        rows = ws.max_row - 3
        assert len(by_tab[ws.title]) <= 1 + rows // 20, (ws.title, len(by_tab[ws.title]))
    assert len(pages) <= 16  # the demo's prints on 11 (32 before the print set-up)


# ------------------------------------------------------------------ the draft report
def docx_text(path) -> str:
    from docx import Document

    document = Document(path)
    parts = [para.text for para in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.extend(cell.text for cell in row.cells)
    return "\n".join(parts)


def docx_tables(path) -> list[list[list[str]]]:
    """The .docx's tables as text: [0] the header blocks, then Bảng 1-3, [-1] the signer."""
    from docx import Document

    return [
        [[cell.text for cell in row.cells] for row in table.rows] for table in Document(path).tables
    ]


#: the generator's scenario -> the submission state fct_submission's rule gives it
STATE_OF_SCENARIO = {
    "on_time": "hop_le_dung_han",
    "late": "hop_le_tre_han",
    "draft": "chua_chon_da_nop",
    "untouched": "chua_dien",
    "errors": "con_loi",
    "wrong_unit": "con_loi",
}


def test_the_report_counts_each_state_as_the_scenario_made_it_named_by_the_mart(
    published, catalogue
):
    """Bảng 1 (unit types × submission states): every count from the generator's scenarios
    and the catalogue's unit types (not from the marts); the states' names are the mart's
    (fct_submission.submission_state_vi), not the report's own."""
    import csv

    from publish.marts import pct_vi
    from tonghop.catalogue import CATALOGUE_DIR

    p = published
    states = {unit: STATE_OF_SCENARIO[scenario] for unit, scenario in p.manifest.scenarios.items()}
    states[p.blank_sent] = "con_loi"  # "Đã nộp" on a sheet with nothing written: an error
    # the typist's difficulties were typed today: its only version is on time until the deadline
    deadline = catalogue.periods[PERIOD].on_time_until
    if dt.datetime.now(dt.UTC) > deadline:
        states[p.typist] = "hop_le_tre_han"
    with open(CATALOGUE_DIR / "unit_types.csv", encoding="utf-8") as f:
        type_names = {r["unit_type"]: r["unit_type_name"] for r in csv.DictReader(f)}
    by_type: dict[str, dict[str, int]] = {}
    for unit, state in states.items():
        counts = by_type.setdefault(type_names[catalogue.units[unit].unit_type], {})
        counts[state] = counts.get(state, 0) + 1
    order = ["hop_le_dung_han", "hop_le_tre_han", "con_loi", "chua_chon_da_nop", "chua_dien"]
    present = [s for s in order if any(s in c for c in by_type.values())]
    names = dict(
        marts(
            p,
            "select distinct submission_state, submission_state_vi from marts.fct_submission",
        )
    )
    table = docx_tables(p.first.docx_path)[1]
    assert table[0] == [
        "STT",
        "Loại đơn vị",
        "Phải báo cáo",
        *[names[s] for s in present],
        "Tỷ lệ nộp hợp lệ",
    ]
    assert names["hop_le_dung_han"] == "Nộp hợp lệ, đúng hạn"  # the words of the issue

    def row(label: str, counts: dict[str, int]) -> list[str]:
        total = sum(counts.values())
        counted = counts.get("hop_le_dung_han", 0) + counts.get("hop_le_tre_han", 0)
        return [
            label,
            str(total),
            *[str(counts.get(s, 0)) for s in present],
            pct_vi(round(counted / total, 4)),
        ]

    assert [r[1:] for r in table[1:-1]] == [row(name, by_type[name]) for name in sorted(by_type)]
    assert [r[0] for r in table[1:]] == [str(n) for n in range(1, len(by_type) + 1)] + [""]
    everyone: dict[str, int] = {}
    for state in states.values():
        everyone[state] = everyone.get(state, 0) + 1
    assert table[-1][1:] == row("Tổng số", everyone)
    # the units whose report does not count, each under its state's name
    text = docx_text(p.first.docx_path)
    not_counted = sorted(u for u, s in states.items() if s not in order[:2])
    assert f"Các đơn vị có báo cáo chưa được tính ({len(not_counted)}): " in text
    for state in present[2:]:
        units = [u for u, s in states.items() if s == state]
        assert f"{names[state][:1].lower()}{names[state][1:]} ({len(units)}): " in text
    assert "Đã nộp" not in table[0]  # "submitted" said as the mart says it, never alone


def test_the_report_tables_carry_the_marts_figures(published):
    from publish.marts import number_vi, pct_vi

    p = published
    tables = docx_tables(p.first.docx_path)
    groups = [row[1:5] for row in tables[2][1:]]

    def of(part, whole):
        return f"{number_vi(part)}/{number_vi(whole)}" if whole else "–"

    assert groups == [
        [name, number_vi(a), number_vi(r), of(act, on)]
        for name, a, r, act, on in marts(
            p,
            """
        select task_group_name, tasks_assigned, tasks_reported, ongoing_tasks_active,
               ongoing_tasks
        from marts.agg_task_group_summary where period_code = %s order by task_group_code""",
            (PERIOD,),
        )
    ]
    indicators = {row[1]: (row[3], row[4]) for row in tables[3][1:]}
    assert indicators == {
        name: (number_vi(total) if total is not None else "–", f"{reporting}/{expected}")
        for name, total, reporting, expected in marts(
            p,
            """
        select indicator_name, total_value, reporting_units, expected_units
        from marts.agg_indicator_totals where period_code = %s""",
            (PERIOD,),
        )
    }
    text = docx_text(p.first.docx_path)
    expected_reports, actual, rate = marts(
        p,
        """
        select expected_reports, actual_reports, reporting_rate from marts.agg_province_summary
        where period_code = %s""",
        (PERIOD,),
    )[0]
    assert (
        f"Tổng số đơn vị phải báo cáo: {number_vi(expected_reports)}; đã nộp báo cáo hợp "
        f"lệ: {number_vi(actual)} đơn vị (tỷ lệ {pct_vi(rate)})"
    ) in text
    for text_typed in FORMULA_LIKE[:2]:  # difficulties are quoted as typed
        assert text_typed.rstrip(".") in text
    missing = [
        name
        for (name,) in marts(
            p,
            """
        select unit_name_at_period from marts.fct_submission
        where period_code = %s and reporting_status = 'missing'""",
            (PERIOD,),
        )
    ]
    assert missing and all(name in text for name in missing)
    # the next period (CB-2026-DX01, on time until 23:59:59 on 25/8/2026) worded as the sheet does
    assert "hạn nộp chậm nhất 23 giờ 59 phút ngày 25/08/2026." in text


#: what an internal code looks like: an indicator or task (CB.CT01, CB.1.2), a unit
#: (CB-XA-001), a mart's code (hop_le_dung_han, khong_co_muc_tieu, ubnd_xa)
INTERNAL_CODE = re.compile(r"\b[A-Z]{2}\.(CT)?\d|\b[A-Z]{2}-[A-Z]{2,4}-\d{3}\b|\b[a-z]+_[a-z_]+\b")


def test_the_report_tables_have_no_empty_column_and_no_internal_code(published):
    p = published
    tables = docx_tables(p.first.docx_path)[1:-1]
    assert len(tables) == 3
    for table in tables:
        header, body = table[0], table[1:]
        assert header[0] == "STT" and [r[0] for r in body if r[0]] == [
            str(n) for n in range(1, len([r for r in body if r[0]]) + 1)
        ]
        for k, name in enumerate(header):
            assert any(row[k] not in ("", "–") for row in body), f"column “{name}” says nothing"
    words = docx_text(p.first.docx_path)
    assert not INTERNAL_CODE.findall(words), INTERNAL_CODE.findall(words)[:5]
    # "Không đặt mục tiêu" is said once, for the table, not on every row
    assert "Không đặt mục tiêu" not in words
    assert words.count("Kế hoạch không đặt mục tiêu định lượng cho các chỉ tiêu này.") == 1


def test_the_report_has_only_the_charts_that_say_something(published):
    """This period sets no target: no indicator chart and no caption about it; the reporting
    rate chart (several unit types) is there, in the report's font."""
    from docx import Document

    p = published
    manifest = json.loads(Path(p.first.manifest_path).read_text(encoding="utf-8"))
    assert {n for n in manifest["files"] if n.endswith(".png")} == {"bieu_do_ty_le_nop.png"}
    document = Document(p.first.docx_path)
    assert len(document.inline_shapes) == 1
    captions = [t for t in (para.text for para in document.paragraphs) if t.startswith("Biểu đồ")]
    assert captions == ["Biểu đồ 1. Tỷ lệ đơn vị nộp báo cáo hợp lệ theo loại đơn vị"]


def test_the_units_requests_are_in_the_annex_attributed_and_the_sos_go_to_ubnd(
    published, catalogue
):
    from docx import Document

    p = published
    body = [para.text for para in Document(p.first.docx_path).paragraphs]
    annex = body.index("Phụ lục")
    assert body[annex + 1 : annex + 3] == [
        "KHÓ KHĂN, VƯỚNG MẮC VÀ KIẾN NGHỊ, ĐỀ XUẤT",
        "CỦA CÁC ĐƠN VỊ",
    ]
    assert re.fullmatch(
        r"\(Kèm theo Báo cáo số\s+/BC-SVHTTDL ngày\s+tháng\s+năm 2026 của Sở Văn hóa, Thể thao "
        r"và Du lịch\)",
        body[annex + 3],
    )
    report, appendix = body[:annex], body[annex:]
    part_two = appendix.index("II. KIẾN NGHỊ, ĐỀ XUẤT")
    recommendations: dict[str, list[str]] = {}
    for text, unit in marts(
        p,
        """
        select f.content_text, s.unit_name_at_period from marts.fct_feedback f
        join marts.fct_submission s using (period_code, unit_code)
        where f.period_code = %s and f.feedback_kind = 'kien_nghi'""",
        (PERIOD,),
    ):
        recommendations.setdefault(" ".join(text.split()), []).append(unit)
    assert recommendations
    for text, units in recommendations.items():
        # in the annex's second part, with every unit that wrote it; never in the Sở's body
        quoted = text.rstrip(".")
        [line] = [t for t in appendix[part_two:] if t.split(". ", 1)[-1].startswith(quoted)]
        assert all(unit in line for unit in units), line
        assert not [t for t in report if text in t]
    # the typist's own words: in the annex's first part, attributed; "-" says nothing
    typist = catalogue.units[p.typist].unit_name
    for typed in FORMULA_LIKE:
        lines = [t for t in appendix[:part_two] if f" {typed} ({typist})." in t]
        assert len(lines) == (0 if typed == "-" else 1), typed
    # the Sở asks UBND tỉnh, from the figures, and does not ask itself
    requests = report[report.index("IV. KIẾN NGHỊ, ĐỀ XUẤT") + 1 :]
    assert requests[0].startswith("- Đề nghị UBND tỉnh chỉ đạo ")
    assert not [t for t in report if "Đề nghị Sở" in t]
    assert not [t for t in report if "Kết quả kiểm tra" in t]


def test_the_title_is_spelled_out_and_its_numbers_stay_whole(published):
    from docx import Document

    p = published
    document = Document(p.first.docx_path)
    body = [para.text for para in document.paragraphs]
    title = body[body.index("BÁO CÁO") + 1]
    assert title == (
        "Kết quả thực hiện Kế hoạch của Ủy ban nhân dân tỉnh Cao Bằng thực hiện Quyết định số "
        "2640/QĐ-TTg ngày 04/12/2025 của Thủ tướng Chính phủ và Kết luận số 84-KL/TW ngày "
        "21/6/2024 của Bộ Chính trị"
    )
    assert body[body.index("BÁO CÁO") + 2] == "(6 tháng đầu năm 2026)"
    assert not re.search(r"\b(QĐ|KL|KH|NQ) \d", docx_text(p.first.docx_path))
    # the title's hyphens are Word's non-breaking hyphen
    paragraph = document.paragraphs[body.index("BÁO CÁO") + 1]
    assert paragraph._p.xml.count("<w:noBreakHyphen/>") == 2


def test_the_signer_block_has_the_title_room_to_sign_and_a_name_line(published):
    from publish.report.layout import NAME_LINE

    p = published
    left, right = docx_tables(p.first.docx_path)[-1][0]
    assert left.startswith("Nơi nhận:") and left.endswith("- Lưu: VT.")
    lines = right.split("\n")
    assert lines[0] == "GIÁM ĐỐC" and lines[-1] == NAME_LINE
    assert lines[1:-1] == [""] * 5  # the signature and the seal
    assert "Ký, ghi rõ họ tên" not in right


def test_the_report_follows_decree_30_layout(published):
    from docx import Document

    p = published
    document = Document(p.first.docx_path)
    section = document.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    assert [
        round(m.mm)
        for m in (
            section.top_margin,
            section.bottom_margin,
            section.left_margin,
            section.right_margin,
        )
    ] == [20, 20, 30, 15]
    paragraphs = [
        *document.paragraphs,
        *(
            para
            for table in document.tables
            for row in table.rows
            for cell in row.cells
            for para in cell.paragraphs
        ),
    ]
    fonts = {r.font.name for para in paragraphs for r in para.runs if r.text.strip()}
    assert fonts == {"Times New Roman"}
    header = [[c.text for c in row.cells] for row in document.tables[0].rows]
    assert header[0][0].split("\n")[:2] == ["UBND TỈNH CAO BẰNG", "SỞ VĂN HÓA, THỂ THAO VÀ DU LỊCH"]
    assert header[0][1].split("\n")[:2] == [
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
    ]
    assert header[1][0].startswith("Số:") and header[1][0].endswith("/BC-SVHTTDL")
    assert re.fullmatch(r"Cao Bằng, ngày\s+tháng\s+năm 2026", header[1][1])
    body = [para.text for para in document.paragraphs]
    assert "BÁO CÁO" in body
    headings = [
        "I. KẾT QUẢ THỰC HIỆN",
        "II. TỒN TẠI, HẠN CHẾ VÀ NGUYÊN NHÂN",
        "1. Tồn tại, hạn chế",
        "2. Nguyên nhân",
        "III. PHƯƠNG HƯỚNG, NHIỆM VỤ THỜI GIAN TỚI",
        "IV. KIẾN NGHỊ, ĐỀ XUẤT",
        "Phụ lục",
    ]
    assert [t for t in body if t in headings] == headings
    assert body[body.index("Phụ lục") - 1].endswith("xem xét, chỉ đạo./.")


@pytest.fixture(scope="module")
def rendered(published, tmp_path_factory):
    """The first run's PDF, its page count and page images (poppler)."""
    import os

    if not (published.first.pdf_path and shutil.which("pdftoppm")):
        if os.environ.get("CI"):
            pytest.fail("LibreOffice and poppler must be installed in CI (scripts/bootstrap.sh)")
        pytest.skip("LibreOffice or poppler not installed: no PDF to render")
    pdf = Path(published.first.pdf_path)
    out = tmp_path_factory.mktemp("pages")
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(pdf), str(out / "page")], check=True)
    info = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, text=True).stdout
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    size = re.search(r"Page size:\s+([\d.]+) x ([\d.]+) pts", info)
    return pdf, pages, (float(size.group(1)), float(size.group(2))), sorted(out.glob("*.png"))


def test_the_pdf_renders_to_a_few_a4_pages(rendered):
    pdf, pages, size, images = rendered
    assert 3 <= pages <= 12
    assert len(images) == pages
    assert size == pytest.approx((595.3, 841.9), abs=1)


def test_the_pdf_embeds_only_the_report_font_which_has_every_character_it_shows(
    rendered, published
):
    """One font in the PDF: Liberation Serif 2 (no DejaVu Serif for "Kết", "của"); and that
    font has a glyph for every character of the report."""
    from publish.report.fonts import missing_glyphs, render_font_file
    from testing.decree30 import FONT_NAMES, embedded_fonts

    pdf = rendered[0]
    assert set(embedded_fonts(pdf)) <= FONT_NAMES, embedded_fonts(pdf)
    shown = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout
    assert "Kết quả" in shown
    for bold in (False, True):
        path = render_font_file(bold=bold)
        assert missing_glyphs(path, docx_text(published.first.docx_path)) == ""


def test_the_pdf_follows_decree_30(rendered):
    """Fonts, sizes, margins, the header blocks, page numbers and the signer block, read back
    from the PDF by a program (testing/decree30.py)."""
    from testing.decree30 import check

    assert check(rendered[0]) == []


def test_no_document_number_breaks_across_lines_in_the_pdf(rendered):
    pdf = rendered[0]
    lines = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout.splitlines()
    assert not [ln for ln in lines if re.search(r"[0-9A-ZĐ][-/]$", ln.strip())]


def test_the_pdf_first_page_has_the_header_blocks_in_place(rendered):
    from PIL import Image

    pdf, _, (width, height), images = rendered
    words = subprocess.run(
        ["pdftotext", "-f", "1", "-l", "1", "-bbox", str(pdf), "-"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    boxes: list[list] = []  # [x0, y0, x1, text]; poppler cuts words at some diacritics
    for x0, y0, x1, text in re.findall(
        r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="[\d.]+">([^<]*)</word>', words
    ):
        x0, y0, x1 = float(x0), float(y0), float(x1)
        if boxes and boxes[-1][1] == y0 and abs(x0 - boxes[-1][2]) < 0.5:
            boxes[-1][2], boxes[-1][3] = x1, boxes[-1][3] + text
        else:
            boxes.append([x0, y0, x1, text])
    boxes = [(x0, y0, text) for x0, y0, _, text in boxes]

    def where(word: str) -> tuple[float, float]:
        return next((x, y) for x, y, t in boxes if t == word)

    # Quốc hiệu top right, the issuing body top left, "BÁO CÁO" centred below both
    x_motto, y_motto = where("CỘNG")
    x_body, y_body = where("SỞ")
    x_title, y_title = where("BÁO")
    assert x_motto > width * 0.4 and x_body < width * 0.3
    assert y_motto < height * 0.15 and y_body < height * 0.2
    assert y_title > max(y_motto, y_body) and abs(x_title - width / 2) < width * 0.15
    assert where("Hạnh")[1] < y_title and where("/BC-SVHTTDL")[0] < width / 2
    # the left margin (30 mm) holds no ink on any page
    margin_px = None
    for image in images:
        page = Image.open(image).convert("L")
        margin_px = int(page.width * (28 * MM_TO_PT) / width)
        strip = page.crop((0, 0, margin_px, page.height))
        assert strip.getextrema()[0] > 200, f"ink in the left margin of {image.name}"
    first = Image.open(images[0]).convert("L")
    top_left = first.crop((margin_px, 0, first.width // 2, first.height // 6))
    top_right = first.crop((first.width // 2, 0, first.width, first.height // 6))
    assert top_left.getextrema()[0] < 100 and top_right.getextrema()[0] < 100


# ------------------------------------------------------------------ reproducible
def test_each_run_has_its_folder_and_a_manifest_with_inputs_and_checksums(published):
    p = published
    for run in (p.first, p.second):
        folder = Path(run.folder)
        manifest = json.loads(Path(run.manifest_path).read_text(encoding="utf-8"))
        assert manifest["period_code"] == PERIOD and folder.name in ("run-1", "run-2")
        assert folder.parent.name == PERIOD
        for name, entry in manifest["files"].items():
            data = (folder / name).read_bytes()
            assert entry == {
                "bytes": len(data),
                "sha256": hashlib.sha256(data).hexdigest(),
                "reproducible": entry["reproducible"],
            }
        assert {Path(run.xlsx_path).name, Path(run.docx_path).name} <= set(manifest["files"])
        counts = manifest["inputs"]["marts_rows_read"]
        assert (
            counts["fct_submission"]
            == marts(
                p,
                """
            select count(*) from marts.fct_submission where period_code = %s""",
                (PERIOD,),
            )[0][0]
        )
        assert (
            manifest["inputs"]["reflects"]["latest_sheet_version_id"]
            == marts(
                p,
                """
            select max(sheet_version_id) from marts.fct_report_version where period_code = %s""",
                (PERIOD,),
            )[0][0]
        )


def test_publishing_the_same_data_twice_gives_the_same_content(published):
    p = published
    one = json.loads(Path(p.first.manifest_path).read_text(encoding="utf-8"))
    two = json.loads(Path(p.second.manifest_path).read_text(encoding="utf-8"))
    assert one["content_sha256"] == two["content_sha256"]
    assert one["inputs"]["data_sha256"] == two["inputs"]["data_sha256"]
    reproducible = {n: f["sha256"] for n, f in one["files"].items() if f["reproducible"]}
    assert reproducible == {n: f["sha256"] for n, f in two["files"].items() if f["reproducible"]}
    assert {".xlsx", ".docx", ".png"} <= {Path(n).suffix for n in reproducible}


# ------------------------------------------------------------------ the reminder
def test_each_run_ends_with_the_units_still_missing(published, catalogue):
    from publish.reminder import missing_units

    p = published
    reminder = missing_units(p.settings, PERIOD, "run-1")
    missing = dict(
        marts(
            p,
            """
        select unit_code, unit_name_at_period from marts.fct_submission
        where period_code = %s and reporting_status = 'missing'""",
            (PERIOD,),
        )
    )
    assert {u["unit_code"] for u in reminder["units"]} == set(missing) and missing
    assert reminder["missing"] == len(missing)
    text = Path(reminder["reminder_path"]).read_text(encoding="utf-8")
    assert Path(reminder["reminder_path"]).parent == Path(p.first.folder)
    assert f"Đơn vị chưa nộp báo cáo hợp lệ: {len(missing)}" in text
    assert text.startswith(
        "Báo cáo 6 tháng đầu năm 2026 — hạn nộp chậm nhất 23 giờ 59 phút ngày 20/06/2026\n"
    )
    for unit in reminder["units"]:
        assert unit["unit_name"] in text and unit["reason"] in text
        assert unit["email"] == catalogue.unit(unit["unit_code"]).contact_email
    # the reasons are the words of the units' own mails and check tabs (publish/unit_state.py)
    reasons = {u["reason"] for u in reminder["units"]}
    assert any(
        r.startswith("đã điền nhưng chưa chọn “Đã nộp” tại ô Thông tin!B14") for r in reasons
    )  # drafts
    assert any(re.fullmatch(r"còn \d+ lỗi cần sửa \(xem bảng các vấn đề\)", r) for r in reasons)
    # not "còn 1 lỗi cần sửa" for a sheet with nothing in it but "Đã nộp"
    [blank_sent] = [u for u in reminder["units"] if u["unit_code"] == p.blank_sent]
    assert (blank_sent["state"], blank_sent["reason"]) == (
        "con_loi",
        "đã chọn “Đã nộp” nhưng chưa điền báo cáo — điền các trang báo cáo",
    )
    assert {u["state"] for u in reminder["units"]} <= {
        "con_loi",
        "chua_chon_da_nop",
        "chua_dien",
        "chua_co_bang",
    }
    assert reminder["wide_shares"] == [] and "chia sẻ rộng" not in text


def test_the_reminder_names_a_sheet_anyone_with_the_link_can_edit(published, catalogue):
    """Found by provisioning's sharing check (the period is provisioned already: one listing
    call), then listed for the Sở at the end of the reminder, in Vietnamese."""
    from ingest.provision import provision_period
    from publish.reminder import missing_units
    from tooling.demo_setup import demo_spreadsheet_id

    p = published
    sheet = demo_spreadsheet_id(PERIOD, p.typist)
    # the demo's sheets were generated, not provisioned: the first provisioning writes the
    # catalogue's cells into them once (ingest.sheet_update); the check below is a later run's
    provision_period(p.settings, catalogue, PERIOD, client=p.client)
    p.client.insert_permission(sheet, None, perm_type="anyone", role="writer", with_link=True)
    try:
        p.server.reset_stats()
        checked = provision_period(p.settings, catalogue, PERIOD, client=p.client)
        assert api_calls(p.server) == {"drive.files.list": 1}
        assert [(s["unit_codes"], s["type"]) for s in checked.wide_shares] == [
            ([p.typist], "anyone")
        ]
        reminder = missing_units(p.settings, PERIOD, "run-3")
        text = Path(reminder["reminder_path"]).read_text(encoding="utf-8")
        name = catalogue.unit(p.typist).unit_name
        assert (
            "Bảng tính chia sẻ rộng hơn mức cho phép: 1 (chỉ đơn vị và Sở được mở; đề nghị "
            "đơn vị thu hồi quyền chia sẻ)"
        ) in text
        assert f"1. {name} ({p.typist}) — ai có đường liên kết cũng sửa được" in text
    finally:
        p.client.remove_permission(sheet, "anyoneWithLink")
