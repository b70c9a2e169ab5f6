"""sheets_emulator: cell formats, row/column metadata and formula-looking strings.

Through the REAL gspread client: what a summary-spreadsheet writer sets
(bold headers, fills, alignment, wrapping, number formats, column widths,
frozen rows) is stored, persisted in the .xlsx and returned the way Google
returns it; text that looks like a formula stays text.
"""

from __future__ import annotations

import datetime as dt

import gspread
import openpyxl
import pytest
from openpyxl.styles import Alignment, Font, PatternFill

from sheets_emulator import (
    EmulatorServer,
    SpreadsheetStore,
    emulator_client,
    spreadsheet_resource_to_model,
    workbook_to_spreadsheet_resource,
)
from sheets_emulator.resource import spreadsheet_resource

BLUE = {"red": 0xDD / 255, "green": 0xEB / 255, "blue": 0xF7 / 255}  # DDEBF7, exact in xlsx
FORMATS = (
    "sheets(properties(gridProperties),data(columnMetadata,rowData(values(userEnteredFormat))))"
)


@pytest.fixture()
def server(tmp_path):
    with EmulatorServer(tmp_path / "store", host="127.0.0.1", port=0) as running:
        yield running


@pytest.fixture()
def client(server):
    return emulator_client(server.url)


def whole(sheet_id=0, r0=0, r1=1, c0=0, c1=3) -> dict:
    return {
        "sheetId": sheet_id,
        "startRowIndex": r0,
        "endRowIndex": r1,
        "startColumnIndex": c0,
        "endColumnIndex": c1,
    }


def repeat(fmt: dict, fields: str, **rng) -> dict:
    return {
        "repeatCell": {"range": whole(**rng), "cell": {"userEnteredFormat": fmt}, "fields": fields}
    }


def formats_of(client, sid: str, sheet: int = 0) -> list[list]:
    """userEnteredFormat per cell (None where Google omits it), via spreadsheets.get + fields."""
    data = client.http_client.fetch_sheet_metadata(sid, params={"fields": FORMATS})["sheets"][
        sheet
    ]["data"][0]
    return [
        [v.get("userEnteredFormat") for v in row.get("values", [])]
        for row in data.get("rowData", [])
    ]


def stored(server, sid: str) -> dict:
    """The formats of the first sheet as read back from the .xlsx alone (a fresh store)."""
    return SpreadsheetStore(server.store.root).snapshot(sid).sheets[0].formats


# ---------------------------------------------------------------- formatted for reading
def test_summary_sheet_formats_are_stored_returned_and_persisted(client, server):
    sh = client.create("Tổng hợp")
    sh.update_locale("vi_VN")  # a new spreadsheet is en_US: "20/6/2026" would stay text
    ws = sh.sheet1
    ws.update(
        [["Tổng hợp tháng 6"], [], ["Đơn vị", "Tỷ lệ", "Ngày"], ["Sở Y tế", 0.875, "20/6/2026"]],
        "A1",
        value_input_option="USER_ENTERED",
    )
    sh.batch_update(
        {
            "requests": [
                repeat(
                    {
                        "backgroundColor": BLUE,
                        "textFormat": {"bold": True},
                        "horizontalAlignment": "CENTER",
                        "verticalAlignment": "MIDDLE",
                        "wrapStrategy": "WRAP",
                    },
                    "userEnteredFormat(backgroundColor,textFormat.bold,horizontalAlignment,"
                    "verticalAlignment,wrapStrategy)",
                    r0=2,
                    r1=3,
                ),
                repeat(
                    {"numberFormat": {"type": "PERCENT", "pattern": "0.0%"}},
                    "userEnteredFormat.numberFormat",
                    r0=3,
                    r1=4,
                    c0=1,
                    c1=2,
                ),
                repeat(
                    {"textFormat": {"bold": True, "fontSize": 13}},
                    "userEnteredFormat(textFormat.bold,textFormat.fontSize)",
                    r0=0,
                    r1=1,
                    c0=0,
                    c1=1,
                ),
                {
                    "updateDimensionProperties": {
                        "range": {
                            "sheetId": 0,
                            "dimension": "COLUMNS",
                            "startIndex": 0,
                            "endIndex": 1,
                        },
                        "properties": {"pixelSize": 220},
                        "fields": "pixelSize",
                    }
                },
            ]
        }
    )
    ws.freeze(rows=3)
    ws.format(
        "C4", {"horizontalAlignment": "RIGHT"}
    )  # gspread: fields userEnteredFormat(horizontalAlignment)

    header = {
        "backgroundColor": BLUE,
        "backgroundColorStyle": {"rgbColor": BLUE},
        "textFormat": {"bold": True},
        "horizontalAlignment": "CENTER",
        "verticalAlignment": "MIDDLE",
        "wrapStrategy": "WRAP",
    }
    assert formats_of(client, sh.id) == [
        [{"textFormat": {"bold": True, "fontSize": 13}}],
        [],
        [header, header, header],
        [
            None,
            {"numberFormat": {"type": "PERCENT", "pattern": "0.0%"}},
            # a typed date is a serial number with the locale's DATE format, as Google gives it
            {
                "horizontalAlignment": "RIGHT",
                "numberFormat": {"type": "DATE", "pattern": "d/M/yyyy"},
            },
        ],
    ]
    meta = client.http_client.fetch_sheet_metadata(sh.id, params={"fields": FORMATS})["sheets"][0]
    assert meta["properties"]["gridProperties"]["frozenRowCount"] == 3
    assert meta["data"][0]["columnMetadata"][:3] == [
        {"pixelSize": 220},
        {"pixelSize": 100},
        {"pixelSize": 100},
    ]

    # includeGridData without fields: also effectiveFormat (Google's defaults under the user's format)
    full = client.http_client.fetch_sheet_metadata(sh.id, params={"includeGridData": "true"})
    grid = full["sheets"][0]["data"][0]
    cell = grid["rowData"][2]["values"][0]
    assert cell["userEnteredFormat"] == header
    assert cell["effectiveFormat"]["textFormat"]["bold"] is True
    assert cell["effectiveFormat"]["textFormat"]["fontFamily"] == "Arial"
    assert cell["effectiveFormat"]["wrapStrategy"] == "WRAP"
    assert "userEnteredFormat" not in grid["rowData"][3]["values"][0]  # default format: omitted
    assert len(grid["rowMetadata"]) == 1000 and grid["rowMetadata"][0] == {"pixelSize": 21}
    dotted = client.http_client.fetch_sheet_metadata(
        sh.id, params={"fields": "sheets.data.rowData.values.effectiveFormat.textFormat.bold"}
    )
    assert dotted["sheets"][0]["data"][0]["rowData"][2]["values"][0] == {
        "effectiveFormat": {"textFormat": {"bold": True}}
    }

    # in the .xlsx: real styles a person sees in Excel
    saved = openpyxl.load_workbook(server.store.workbook_path(sh.id)).active
    assert saved["A3"].font.b and saved["A3"].fill.fill_type == "solid"
    assert saved["A3"].fill.fgColor.rgb == "FFDDEBF7"
    assert (saved["A3"].alignment.horizontal, saved["A3"].alignment.vertical) == (
        "center",
        "center",
    )
    assert saved["A3"].alignment.wrap_text
    assert saved["B4"].number_format == "0.0%"
    assert saved["A1"].font.sz == 13 and saved["A1"].font.b
    assert saved.freeze_panes == "A4"
    assert stored(server, sh.id) == server.store.snapshot(sh.id).sheets[0].formats


def test_field_mask_semantics(client, server):
    sh = client.create("Mặt nạ")
    start = {
        "backgroundColor": BLUE,
        "textFormat": {"bold": True, "italic": True, "fontSize": 12},
        "horizontalAlignment": "LEFT",
        "numberFormat": {"type": "NUMBER", "pattern": "#,##0"},
    }
    sh.batch_update({"requests": [repeat(start, "userEnteredFormat", c1=5)]})

    sh.batch_update(
        {
            "requests": [
                # a sub-path changes only that field
                repeat(
                    {"textFormat": {"bold": False}}, "userEnteredFormat.textFormat.bold", c0=0, c1=1
                ),
                # a sub-message listed whole is replaced whole
                repeat(
                    {"textFormat": {"underline": True}}, "userEnteredFormat.textFormat", c0=1, c1=2
                ),
                # listed but absent = cleared
                repeat({}, "userEnteredFormat(backgroundColor,numberFormat)", c0=2, c1=3),
                # userEnteredFormat alone replaces the whole format
                repeat({"wrapStrategy": "CLIP"}, "userEnteredFormat", c0=3, c1=4),
                # fields that do not name the format leave it alone
                {
                    "repeatCell": {
                        "range": whole(c0=4, c1=5),
                        "cell": {"userEnteredValue": {"numberValue": 5}},
                        "fields": "userEnteredValue",
                    }
                },
            ]
        }
    )
    (row,) = formats_of(client, sh.id)
    styled = {
        "backgroundColor": BLUE,
        "backgroundColorStyle": {"rgbColor": BLUE},
        "horizontalAlignment": "LEFT",
        "numberFormat": {"type": "NUMBER", "pattern": "#,##0"},
    }
    assert row[0] == {**styled, "textFormat": {"italic": True, "fontSize": 12}}
    assert row[1] == {**styled, "textFormat": {"underline": True}}
    assert row[2] == {
        "textFormat": {"bold": True, "italic": True, "fontSize": 12},
        "horizontalAlignment": "LEFT",
    }
    assert row[3] == {"wrapStrategy": "CLIP"}
    assert row[4] == {**styled, "textFormat": {"bold": True, "italic": True, "fontSize": 12}}

    # updateCells: '*' sets everything from the cell, so a cell without a format loses it;
    # with a range, cells not given are reset for the listed fields
    sh.batch_update(
        {
            "requests": [
                {
                    "updateCells": {
                        "start": {"sheetId": 0, "rowIndex": 0, "columnIndex": 0},
                        "rows": [{"values": [{"userEnteredValue": {"stringValue": "x"}}]}],
                        "fields": "*",
                    }
                },
                {
                    "updateCells": {
                        "range": whole(c0=1, c1=3),
                        "rows": [
                            {
                                "values": [
                                    {
                                        "userEnteredFormat": {
                                            "backgroundColorStyle": {"rgbColor": {"red": 1}}
                                        }
                                    }
                                ]
                            }
                        ],
                        "fields": "userEnteredFormat.backgroundColor",
                    }
                },
            ]
        }
    )
    (row,) = formats_of(client, sh.id)
    assert row[0] is None
    assert row[1]["backgroundColor"] == {"red": 1} and row[1]["textFormat"] == {"underline": True}
    assert "backgroundColor" not in row[2]
    assert stored(server, sh.id) == server.store.snapshot(sh.id).sheets[0].formats


def test_formats_survive_the_xlsx_exactly(client, server):
    """What styles cannot say (CLIP, 0.9 red, a DATE format on a date...) comes back from the metadata."""
    sh = client.create("Bền")
    sh.update_locale("vi_VN")  # "20/06/2026" is a date in vi_VN, text in a new (en_US) sheet
    sh.sheet1.update(
        [[dt.date(2026, 6, 20).strftime("%d/%m/%Y"), 46193, 3]],
        "A1",
        value_input_option="USER_ENTERED",
    )
    sh.batch_update(
        {
            "requests": [
                repeat(
                    {
                        "numberFormat": {"type": "DATE", "pattern": "d/m/yyyy"},
                        "wrapStrategy": "OVERFLOW_CELL",
                    },
                    "userEnteredFormat(numberFormat,wrapStrategy)",
                    c0=0,
                    c1=1,
                ),
                repeat(
                    {
                        "numberFormat": {"type": "NUMBER"},
                        "backgroundColor": {"red": 0.9, "alpha": 1},
                        "textFormat": {
                            "fontSize": 11,
                            "fontFamily": "Times New Roman",
                            "foregroundColorStyle": {"rgbColor": {"blue": 1}},
                        },
                    },
                    "userEnteredFormat",
                    c0=1,
                    c1=2,
                ),
                repeat(
                    {
                        "wrapStrategy": "CLIP",
                        "numberFormat": {"type": "CURRENCY", "pattern": "0.00"},
                    },
                    "userEnteredFormat(wrapStrategy,numberFormat)",
                    c0=2,
                    c1=3,
                ),
            ]
        }
    )
    live = server.store.snapshot(sh.id).sheets[0].formats
    assert live[(0, 1)] == {
        "numberFormat": {"type": "NUMBER"},
        "backgroundColor": {"red": 0.9, "alpha": 1},
        "textFormat": {
            "fontSize": 11,
            "fontFamily": "Times New Roman",
            "foregroundColor": {"blue": 1},
        },
    }
    assert stored(server, sh.id) == live
    (row,) = formats_of(client, sh.id)
    assert row[1]["textFormat"]["foregroundColorStyle"] == {"rgbColor": {"blue": 1}}
    assert row[2] == {
        "wrapStrategy": "CLIP",
        "numberFormat": {"type": "CURRENCY", "pattern": "0.00"},
    }


def test_formats_move_with_rows_and_copies(client, server):
    sh = client.create("Dịch")
    ws = sh.sheet1
    sh.batch_update(
        {
            "requests": [
                repeat(
                    {"textFormat": {"bold": True}},
                    "userEnteredFormat.textFormat",
                    r0=1,
                    r1=2,
                    c0=0,
                    c1=1,
                )
            ]
        }
    )
    ws.insert_rows([["mới"]], row=1)
    assert set(server.store.snapshot(sh.id).sheets[0].formats) == {(2, 0)}
    ws.delete_rows(1)
    assert set(server.store.snapshot(sh.id).sheets[0].formats) == {(1, 0)}
    copy = ws.duplicate(new_sheet_name="Bản sao")
    assert formats_of(client, sh.id, sheet=1)[1] == [{"textFormat": {"bold": True}}]
    ws.resize(rows=1)
    assert server.store.snapshot(sh.id).sheets[0].formats == {}
    assert copy.id != ws.id


def test_hidden_columns_and_row_heights_in_metadata(client):
    sh = client.create("Kích thước")
    sh.batch_update(
        {
            "requests": [
                {
                    "updateDimensionProperties": {
                        "range": {
                            "sheetId": 0,
                            "dimension": "COLUMNS",
                            "startIndex": 1,
                            "endIndex": 2,
                        },
                        "properties": {"hiddenByUser": True},
                        "fields": "hiddenByUser",
                    }
                },
                {
                    "updateDimensionProperties": {
                        "range": {
                            "sheetId": 0,
                            "dimension": "ROWS",
                            "startIndex": 0,
                            "endIndex": 1,
                        },
                        "properties": {"pixelSize": 40},
                        "fields": "pixelSize",
                    }
                },
            ]
        }
    )
    got = client.http_client.spreadsheets_get(
        sh.id, params={"ranges": "Sheet1!A1:C2", "includeGridData": "true"}
    )
    (block,) = got["sheets"][0]["data"]
    assert block == {
        "startRow": 0,
        "startColumn": 0,
        "rowMetadata": [{"pixelSize": 40}, {"pixelSize": 21}],
        "columnMetadata": [
            {"pixelSize": 100},
            {"hiddenByUser": True, "pixelSize": 100},
            {"pixelSize": 100},
        ],
    }


def test_openpyxl_styles_read_as_formats_and_create_keeps_them(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(
        ["Tiêu đề", 0.5, dt.date(2026, 6, 20)]
    )  # openpyxl gives the date 'yyyy-mm-dd': its type, not a format
    ws["A1"].font = Font(b=True)
    ws["A1"].fill = PatternFill(fill_type="solid", fgColor="FFFFF9E5")
    ws["A1"].alignment = Alignment(horizontal="center", vertical="top", wrap_text=True)
    ws["B1"].number_format = "0%"
    ws["D1"].font = Font(i=True)  # styled, no value
    resource = workbook_to_spreadsheet_resource(wb)
    (row,) = resource["sheets"][0]["data"][0]["rowData"]
    yellow = {"red": 1, "green": 0xF9 / 255, "blue": 0xE5 / 255}
    assert [v.get("userEnteredFormat") for v in row["values"]] == [
        {
            "textFormat": {"bold": True},
            "backgroundColor": yellow,
            "backgroundColorStyle": {"rgbColor": yellow},
            "horizontalAlignment": "CENTER",
            "verticalAlignment": "TOP",
            "wrapStrategy": "WRAP",
        },
        {"numberFormat": {"type": "PERCENT", "pattern": "0%"}},
        # a date is a serial number with a DATE format (the locale's: the .xlsx has no locale)
        {"numberFormat": {"type": "DATE", "pattern": "d/M/yyyy"}},
        {"textFormat": {"italic": True}},
    ]
    # the JSON -> model inverse keeps formats and sizes, so a resource round-trips
    model = spreadsheet_resource_to_model(resource)
    model.sheets[0].col_widths[2] = 150
    again = spreadsheet_resource(model, "x", include_grid_data=True)
    assert spreadsheet_resource(spreadsheet_resource_to_model(again), "x", True) == again


def test_unsupported_formats_are_400_and_atomic(client, server):
    sh = client.create("Từ chối")
    bad = [
        repeat({"borders": {"top": {"style": "SOLID"}}}, "userEnteredFormat.borders"),
        repeat(
            {"backgroundColorStyle": {"themeColor": "ACCENT1"}},
            "userEnteredFormat.backgroundColorStyle",
        ),
        repeat({"textFormat": {"link": {"uri": "https://x"}}}, "userEnteredFormat.textFormat"),
        repeat({"horizontalAlignment": "JUSTIFY"}, "userEnteredFormat.horizontalAlignment"),
        repeat({"numberFormat": {"pattern": "0.0"}}, "userEnteredFormat.numberFormat"),
        repeat({}, "userEnteredFormat.bordrs"),
        repeat({}, "userEnteredFormat(textFormat.colour)"),
        repeat({}, "effectiveFormat"),
    ]
    for request in bad:
        with pytest.raises(gspread.exceptions.APIError) as caught:
            sh.batch_update(
                {"requests": [repeat({"textFormat": {"bold": True}}, "userEnteredFormat"), request]}
            )
        assert caught.value.code == 400, request
        assert "repeatCell" in caught.value.error["message"]
    assert server.store.snapshot(sh.id).sheets[0].formats == {}  # all or nothing
    # clearing a field the emulator never stores is fine (there is nothing to clear)
    sh.batch_update({"requests": [repeat({}, "userEnteredFormat(borders,padding)")]})


# ---------------------------------------------------------------- text that looks like a formula
LOOKALIKES = ["=1+1", "+84 912", "-5", "@canbo", "=SUM(A1:A2)"]


def test_update_cells_string_values_stay_strings(client, server):
    sh = client.create("Chuỗi")
    ws = sh.sheet1
    sh.batch_update(
        {
            "requests": [
                {
                    "updateCells": {
                        "start": {"sheetId": 0, "rowIndex": 0, "columnIndex": 0},
                        "rows": [
                            {"values": [{"userEnteredValue": {"stringValue": t}}]}
                            for t in LOOKALIKES
                        ],
                        "fields": "userEnteredValue",
                    }
                }
            ]
        }
    )
    expected = [[t] for t in LOOKALIKES]
    assert ws.get("A1:A5", value_render_option="FORMULA") == expected
    assert ws.get("A1:A5") == expected
    assert ws.acell("A1", value_render_option="FORMULA").value == "=1+1"
    assert ws.acell("B1", value_render_option="FORMULA").value is None
    data = client.http_client.fetch_sheet_metadata(
        sh.id,
        params={
            "fields": "sheets.data.rowData.values(userEnteredValue,effectiveValue,formattedValue)"
        },
    )
    cells = [row["values"][0] for row in data["sheets"][0]["data"][0]["rowData"]]
    assert cells == [
        {
            "userEnteredValue": {"stringValue": t},
            "effectiveValue": {"stringValue": t},
            "formattedValue": t,
        }
        for t in LOOKALIKES
    ]
    fresh = SpreadsheetStore(server.store.root).snapshot(sh.id).sheets[0]
    assert [fresh.get(r, 0) for r in range(5)] == LOOKALIKES  # str, not Formula, from the .xlsx
    assert openpyxl.load_workbook(server.store.workbook_path(sh.id)).active["A1"].data_type != "f"


def test_values_update_raw_keeps_text_user_entered_makes_formulas(client, server):
    sh = client.create("RAW")
    ws = sh.sheet1
    ws.update([[t] for t in LOOKALIKES], "A1", value_input_option="RAW")
    assert ws.get("A1:A5", value_render_option="FORMULA") == [[t] for t in LOOKALIKES]
    assert ws.acell("A5", value_render_option="FORMULA").value == "=SUM(A1:A2)"
    fresh = SpreadsheetStore(server.store.root).snapshot(sh.id).sheets[0]
    assert [fresh.get(r, 0) for r in range(5)] == LOOKALIKES

    ws.update([["=1+1", "+5", "-5", "@canbo"]], "C1", value_input_option="USER_ENTERED")
    assert ws.get("C1:F1", value_render_option="FORMULA") == [["=1+1", 5, -5, "@canbo"]]
    data = client.http_client.fetch_sheet_metadata(
        sh.id,
        params={"ranges": "Sheet1!C1", "fields": "sheets.data.rowData.values.userEnteredValue"},
    )
    assert data["sheets"][0]["data"][0]["rowData"][0]["values"][0] == {
        "userEnteredValue": {"formulaValue": "=1+1"}
    }
