"""Tests of sheets_emulator through the REAL gspread client (plus a few units)."""

from __future__ import annotations

import copy
import datetime as dt
import io
import json
import os
import re
import signal
import socket
import subprocess
import sys
import zipfile
from pathlib import Path

import gspread
import openpyxl
import pytest
import requests
from gspread.utils import ExportFormat
from openpyxl.worksheet.datavalidation import DataValidation

import sheets_emulator.store as store_module
from sheets_emulator import (
    EmulatorServer,
    EmulatorSession,
    SpreadsheetStore,
    emulator_client,
    spreadsheet_resource_to_model,
    workbook_to_spreadsheet_resource,
)
from sheets_emulator.a1 import Rect, parse_a1, split_range
from sheets_emulator.fieldmask import apply_mask, parse_mask
from sheets_emulator.session import rewrite_url

DRIVE_FILES = "https://www.googleapis.com/drive/v3/files"
STATUSES = ["Chưa triển khai", "Đang triển khai", "Hoàn thành"]
LIST_FORMULA = '"' + ",".join(STATUSES) + '"'
MAIN_ROOT = Path(__file__).resolve().parents[2]


# ---------------------------------------------------------------- fixtures
@pytest.fixture()
def server(tmp_path):
    """A running emulator on 127.0.0.1, random port, store in tmp_path/store."""
    with EmulatorServer(tmp_path / "store", host="127.0.0.1", port=0) as running:
        yield running


@pytest.fixture()
def client(server):
    """A real gspread.Client talking to the emulator."""
    return emulator_client(server.url)


def vietnamese_workbook() -> openpyxl.Workbook:
    """A report template as a province would e-mail it."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Báo cáo"
    ws.append(
        ["Tên đơn vị", "Trạng thái", "Số lượng", "Tỷ lệ", "Ngày", "Thời điểm", "Đạt", "Gấp đôi"]
    )
    ws.append(
        [
            "Sở Văn hóa, Thể thao và Du lịch",
            "Đang triển khai",
            42,
            3.25,
            dt.date(2026, 6, 20),
            dt.datetime(2026, 6, 20, 14, 5),
            True,
            "=C2*2",
        ]
    )
    ws.append(["Thư viện tỉnh"])
    ws.freeze_panes = "A2"
    dv = DataValidation(type="list", formula1=LIST_FORMULA, allow_blank=True)
    dv.add("B2:B3")
    ws.add_data_validation(dv)
    hidden = wb.create_sheet("Danh mục")
    hidden["A1"] = "Ẩn"
    hidden.sheet_state = "hidden"
    return wb


def string_cell(text: str) -> dict:
    value = {"stringValue": text}
    return {"userEnteredValue": value, "effectiveValue": value, "formattedValue": text}


def number_cell(number, text: str) -> dict:
    value = {"numberValue": number}
    return {"userEnteredValue": value, "effectiveValue": value, "formattedValue": text}


def date_cell(number, text: str, kind: str, pattern: str) -> dict:
    """A date (a serial number) as Google gives it: with the locale's DATE format."""
    return {
        **number_cell(number, text),
        "userEnteredFormat": {"numberFormat": {"type": kind, "pattern": pattern}},
    }


def effective_formats(blocks: list[dict]) -> list[dict]:
    """The cells' effectiveFormats (Google's defaults under the cell's own), taken out."""
    found = []
    for block in blocks:
        for row in block.get("rowData", []):
            for cell in row.get("values", []):
                if "effectiveFormat" in cell:
                    found.append(cell.pop("effectiveFormat"))
    return found


def without_metadata(blocks: list[dict]) -> list[dict]:
    """GridData blocks minus rowMetadata/columnMetadata (checked separately)."""
    return [
        {k: v for k, v in b.items() if k not in ("rowMetadata", "columnMetadata")} for b in blocks
    ]


LIST_RULE = {
    "condition": {"type": "ONE_OF_LIST", "values": [{"userEnteredValue": s} for s in STATUSES]},
    "showCustomUi": True,
}


# ---------------------------------------------------------------- xlsx -> resource
def test_vietnamese_xlsx_round_trips_to_exact_cell_data(tmp_path):
    path = tmp_path / "bao_cao.xlsx"
    vietnamese_workbook().save(path)

    resource = workbook_to_spreadsheet_resource(path, spreadsheet_id="abc", title="Báo cáo tháng 6")

    assert resource["spreadsheetId"] == "abc"
    assert resource["properties"] == {
        "title": "Báo cáo tháng 6",
        "locale": "vi_VN",
        "timeZone": "Asia/Ho_Chi_Minh",
    }
    assert resource["spreadsheetUrl"] == "https://docs.google.com/spreadsheets/d/abc/edit"
    first, second = resource["sheets"]
    assert first["properties"] == {
        "sheetId": 0,
        "title": "Báo cáo",
        "index": 0,
        "sheetType": "GRID",
        "gridProperties": {"rowCount": 1000, "columnCount": 26, "frozenRowCount": 1},
    }
    assert second["properties"]["sheetId"] == 1
    assert second["properties"]["hidden"] is True
    headers = [
        "Tên đơn vị",
        "Trạng thái",
        "Số lượng",
        "Tỷ lệ",
        "Ngày",
        "Thời điểm",
        "Đạt",
        "Gấp đôi",
    ]
    assert first["data"][0]["rowMetadata"] == [{"pixelSize": 21}] * 1000
    assert first["data"][0]["columnMetadata"] == [{"pixelSize": 100}] * 26
    data = without_metadata(copy.deepcopy(first["data"]))
    dated = effective_formats(data)
    assert [(f["numberFormat"]["type"], f["horizontalAlignment"]) for f in dated] == [
        ("DATE", "RIGHT"),
        ("DATE_TIME", "RIGHT"),
    ]
    assert dated[0]["textFormat"]["fontFamily"] == "Arial"
    assert data == [
        {
            "startRow": 0,
            "startColumn": 0,
            "rowData": [
                {"values": [string_cell(h) for h in headers]},
                {
                    "values": [
                        string_cell("Sở Văn hóa, Thể thao và Du lịch"),
                        {**string_cell("Đang triển khai"), "dataValidation": LIST_RULE},
                        number_cell(42, "42"),
                        number_cell(3.25, "3,25"),  # vi_VN: a decimal comma
                        date_cell(46193, "20/6/2026", "DATE", "d/M/yyyy"),
                        date_cell(
                            46193 + (14 * 3600 + 5 * 60) / 86400,
                            "20/6/2026 14:05:00",
                            "DATE_TIME",
                            "d/M/yyyy H:mm:ss",
                        ),
                        {
                            "userEnteredValue": {"boolValue": True},
                            "effectiveValue": {"boolValue": True},
                            "formattedValue": "TRUE",
                        },
                        {"userEnteredValue": {"formulaValue": "=C2*2"}},
                    ]
                },
                {"values": [string_cell("Thư viện tỉnh"), {"dataValidation": LIST_RULE}]},
            ],
        }
    ]
    # Same answer from an in-memory openpyxl Workbook, and no grid data on request.
    again = workbook_to_spreadsheet_resource(vietnamese_workbook(), "abc", "Báo cáo tháng 6")
    assert again["sheets"][0]["data"] == first["data"]
    bare = workbook_to_spreadsheet_resource(path, include_grid_data=False)
    assert "data" not in bare["sheets"][0]


def test_formula_with_cached_value_reports_it(tmp_path):
    wb = openpyxl.Workbook()
    wb.active["A1"] = 21
    wb.active["B1"] = "=A1*2"
    plain = tmp_path / "plain.xlsx"
    wb.save(plain)
    excel_saved = tmp_path / "excel.xlsx"  # as Excel saves it: the result cached in <v>
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(excel_saved, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                # openpyxl writes an empty <v /> (or <v></v> when lxml is installed)
                data = re.sub(
                    rb"<f>A1\*2</f><v\s*/>|<f>A1\*2</f><v></v>", b"<f>A1*2</f><v>42</v>", data
                )
                assert b"<v>42</v>" in data
            dst.writestr(item, data)
    cell = workbook_to_spreadsheet_resource(excel_saved)["sheets"][0]["data"][0]["rowData"][0][
        "values"
    ][1]
    assert cell == {
        "userEnteredValue": {"formulaValue": "=A1*2"},
        "effectiveValue": {"numberValue": 42},
        "formattedValue": "42",
    }
    bare = workbook_to_spreadsheet_resource(plain)["sheets"][0]["data"][0]["rowData"][0]["values"][
        1
    ]
    assert bare == {"userEnteredValue": {"formulaValue": "=A1*2"}}


def test_inverse_rebuilds_the_same_resource(tmp_path):
    resource = workbook_to_spreadsheet_resource(vietnamese_workbook(), "abc", "T")
    model = spreadsheet_resource_to_model(resource)
    store = SpreadsheetStore(tmp_path / "s")
    sid = store.put_workbook("inv", model, "T")
    again = workbook_to_spreadsheet_resource(store.workbook_path(sid), "abc", "T")
    assert again["sheets"][0]["data"] == resource["sheets"][0]["data"]


# ---------------------------------------------------------------- gspread workflow
def test_gspread_end_to_end(client, server):
    sh = client.create("Báo cáo tháng 6")
    assert len(sh.id) == 44
    assert sh.title == "Báo cáo tháng 6"
    assert [w.title for w in sh.worksheets()] == ["Sheet1"]
    ws = sh.sheet1

    ws.update([["Đơn vị", "Số"], ["=1+1", 5], ["Hà Nội", 1.5]], "A1", value_input_option="RAW")
    assert ws.get_all_values() == [["Đơn vị", "Số"], ["=1+1", "5"], ["Hà Nội", "1.5"]]
    assert ws.get("A2", value_render_option="FORMULA") == [["=1+1"]]  # RAW keeps text
    assert ws.get_all_records() == [{"Đơn vị": "=1+1", "Số": 5}, {"Đơn vị": "Hà Nội", "Số": 1.5}]

    # a spreadsheet created through the API has the creating account's locale: en_US
    assert (sh.locale, sh.timezone) == ("en_US", "America/Los_Angeles")
    ws.update(
        [["=SUM(B2:B3)", "007", "true", "20/6/2026"]], "A5", value_input_option="USER_ENTERED"
    )
    # month 20 is no date in en_US (month/day/year): the text stays text
    assert ws.get("A5:D5", value_render_option="FORMULA") == [["=SUM(B2:B3)", 7, True, "20/6/2026"]]
    sh.update_locale("vi_VN")
    sh.update_timezone("Asia/Ho_Chi_Minh")
    sh = client.open_by_key(sh.id)
    assert (sh.locale, sh.timezone) == ("vi_VN", "Asia/Ho_Chi_Minh")
    ws.update([["20/6/2026"]], "D5", value_input_option="USER_ENTERED")
    assert ws.get("A5:D5", value_render_option="FORMULA") == [["=SUM(B2:B3)", 7, True, 46193]]
    assert ws.get("A3:D5") == [
        ["Hà Nội", "1,5"],
        [],
        ["", "7", "TRUE", "20/6/2026"],
    ]  # no formula is computed

    tab = sh.add_worksheet("Tổng hợp", rows=20, cols=5)
    assert tab.title == "Tổng hợp" and tab.row_count == 20 and tab.id != 0
    assert [w.title for w in sh.worksheets()] == ["Sheet1", "Tổng hợp"]
    tab.update([["x", 1]], "A1", value_input_option="RAW")
    batch = sh.values_batch_get(["'Tổng hợp'!A1:B2", "Sheet1!A1:B1"])
    assert batch["valueRanges"] == [
        {"range": "'Tổng hợp'!A1:B2", "majorDimension": "ROWS", "values": [["x", "1"]]},
        {"range": "Sheet1!A1:B1", "majorDimension": "ROWS", "values": [["Đơn vị", "Số"]]},
    ]

    reply = sh.batch_update(
        {
            "requests": [
                {
                    "setDataValidation": {
                        "range": {
                            "sheetId": 0,
                            "startRowIndex": 1,
                            "endRowIndex": 3,
                            "startColumnIndex": 2,
                            "endColumnIndex": 3,
                        },
                        "rule": {
                            "condition": {
                                "type": "ONE_OF_LIST",
                                "values": [{"userEnteredValue": s} for s in STATUSES],
                            },
                            "strict": True,
                            "showCustomUi": True,
                        },
                    }
                },
                {
                    "addProtectedRange": {
                        "protectedRange": {
                            "range": {"sheetId": 0, "startRowIndex": 0, "endRowIndex": 1},
                            "description": "Tiêu đề",
                            "warningOnly": True,
                        }
                    }
                },
            ]
        }
    )
    protected = reply["replies"][1]["addProtectedRange"]["protectedRange"]
    assert protected["description"] == "Tiêu đề" and isinstance(protected["protectedRangeId"], int)
    assert reply["replies"][0] == {}
    assert sh.list_protected_ranges(0) == [protected]

    ws.freeze(rows=1)
    ws.format("A1:C1", {"textFormat": {"bold": True}})
    assert sh.sheet1.frozen_row_count == 1

    tab.update_title("Tổng hợp 2")
    assert [w.title for w in sh.worksheets()] == ["Sheet1", "Tổng hợp 2"]
    assert sh.worksheet("Tổng hợp 2").id == tab.id  # sheetId stable across renames
    sh.del_worksheet(tab)
    assert [w.title for w in sh.worksheets()] == ["Sheet1"]

    files = client.list_spreadsheet_files()
    assert [(f["id"], f["name"]) for f in files] == [(sh.id, "Báo cáo tháng 6")]
    assert set(files[0]) == {"id", "name", "createdTime", "modifiedTime"}

    sh.share("canbo@svhttdl.gov.vn", perm_type="user", role="writer", notify=False)
    emails = {p.get("emailAddress"): p["role"] for p in sh.list_permissions()}
    assert emails["canbo@svhttdl.gov.vn"] == "writer"
    sh.remove_permissions("canbo@svhttdl.gov.vn")
    assert "canbo@svhttdl.gov.vn" not in {p.get("emailAddress") for p in sh.list_permissions()}

    fields = (
        "spreadsheetId,properties.title,sheets(properties(sheetId,title,index),"
        "data(rowData(values(formattedValue,effectiveValue,userEnteredValue))))"
    )
    meta = client.http_client.fetch_sheet_metadata(
        sh.id, params={"includeGridData": "true", "fields": fields}
    )
    assert meta["spreadsheetId"] == sh.id
    assert meta["properties"] == {"title": "Báo cáo tháng 6"}
    assert meta["sheets"][0]["properties"] == {"sheetId": 0, "title": "Sheet1", "index": 0}
    rows = meta["sheets"][0]["data"][0]["rowData"]
    assert rows[1]["values"][0] == string_cell("=1+1")
    assert rows[4]["values"][0] == {"userEnteredValue": {"formulaValue": "=SUM(B2:B3)"}}
    assert rows[1]["values"][2] == {}  # only a validation there, not selected by the mask
    assert rows[3] == {}


def test_permissions_as_drive_gives_them_listed_paged_and_taken_back(client):
    """Drive v3: "anyone with the link" is permission id ``anyoneWithLink`` with
    allowFileDiscovery false; files.list gives each file's permissions (and ``shared``) in the
    same answer; permissions.list pages only when pageSize is set; the owner cannot be
    removed; a permission taken back is gone from both."""
    from gspread.urls import DRIVE_FILES_API_V3_URL

    sh = client.create("Báo cáo của xã")
    fresh = client.http_client.request(
        "get", DRIVE_FILES_API_V3_URL, params={"fields": "files(id,shared)"}
    ).json()
    assert fresh == {"files": [{"id": sh.id, "shared": False}]}
    client.insert_permission(
        sh.id, "vanhoa@xa.gov.vn", perm_type="user", role="writer", notify=False
    )
    client.insert_permission(sh.id, None, perm_type="anyone", role="writer", with_link=True)
    client.insert_permission(sh.id, "caobang.gov.vn", perm_type="domain", role="reader")
    fields = "id,type,role,emailAddress,domain,allowFileDiscovery"
    listed = client.http_client.request(
        "get", DRIVE_FILES_API_V3_URL, params={"fields": f"files(id,shared,permissions({fields}))"}
    ).json()["files"]
    [entry] = listed
    assert entry["shared"] is True
    by_type = {p["type"] + ":" + p["role"]: p for p in entry["permissions"]}
    assert set(by_type) == {"user:owner", "user:writer", "anyone:writer", "domain:reader"}
    assert by_type["anyone:writer"] == {
        "id": "anyoneWithLink",
        "type": "anyone",
        "role": "writer",
        "allowFileDiscovery": False,
    }
    assert by_type["domain:reader"]["domain"] == "caobang.gov.vn"
    assert "emailAddress" not in by_type["anyone:writer"]

    url = f"{DRIVE_FILES_API_V3_URL}/{sh.id}/permissions"
    whole = client.http_client.request("get", url, params={"fields": f"permissions({fields})"})
    assert whole.json()["permissions"] == entry["permissions"]
    first = client.http_client.request("get", url, params={"pageSize": 3}).json()
    assert len(first["permissions"]) == 3 and first["nextPageToken"]
    rest = client.http_client.request(
        "get", url, params={"pageSize": 3, "pageToken": first["nextPageToken"]}
    ).json()
    assert len(rest["permissions"]) == 1 and "nextPageToken" not in rest
    with pytest.raises(gspread.exceptions.APIError) as too_many:
        client.http_client.request("get", url, params={"pageSize": 101})
    assert too_many.value.code == 400

    client.remove_permission(sh.id, "anyoneWithLink")
    after = {p["id"] for p in client.list_permissions(sh.id)}
    assert "anyoneWithLink" not in after and len(after) == 3
    with pytest.raises(gspread.exceptions.APIError) as gone:
        client.remove_permission(sh.id, "anyoneWithLink")
    assert gone.value.code == 404
    owner = next(p["id"] for p in client.list_permissions(sh.id) if p["role"] == "owner")
    with pytest.raises(gspread.exceptions.APIError) as owner_kept:
        client.remove_permission(sh.id, owner)
    assert owner_kept.value.code == 403


def test_values_append_clear_and_batch_clear(client):
    sh = client.create("Nhật ký")
    ws = sh.sheet1
    ws.append_rows([["Ngày", "Việc"], ["1/6/2026", "Họp"]], value_input_option="RAW")
    res = ws.append_rows([["2/6/2026", "Báo cáo"]], value_input_option="RAW")
    assert res["tableRange"] == "Sheet1!A1:B2"
    assert res["updates"]["updatedRange"] == "Sheet1!A3:B3"
    assert ws.get_all_values()[-1] == ["2/6/2026", "Báo cáo"]
    assert ws.batch_clear(["A3:B3"])["clearedRanges"] == ["Sheet1!A3:B3"]
    assert len(ws.get_all_values()) == 2
    assert ws.clear()["clearedRange"] == "Sheet1!A1:Z1000"
    assert ws.get_all_values() == [[]]


def test_ranges_rows_and_folders(client):
    folder = client.http_client.request(
        "post", DRIVE_FILES, json={"name": "Tỉnh", "mimeType": "application/vnd.google-apps.folder"}
    ).json()["id"]
    sh = client.create("Trong thư mục", folder_id=folder)
    assert [f["name"] for f in client.list_spreadsheet_files(folder_id=folder)] == ["Trong thư mục"]
    ws = sh.sheet1
    ws.update([["a", 1], ["b", 2], ["c", 3]], "A1", value_input_option="RAW")
    ws.insert_rows([["chèn"]], row=2)
    assert ws.col_values(1) == ["a", "chèn", "b", "c"]
    ws.delete_rows(2)
    assert ws.col_values(1) == ["a", "b", "c"]

    got = client.http_client.spreadsheets_get(
        sh.id, params={"ranges": "Sheet1!B2:C3", "includeGridData": "true"}
    )
    assert [s["properties"]["title"] for s in got["sheets"]] == ["Sheet1"]
    assert got["sheets"][0]["data"] == [
        {
            "startRow": 1,
            "startColumn": 1,
            "rowData": [{"values": [number_cell(2, "2")]}, {"values": [number_cell(3, "3")]}],
            "rowMetadata": [{"pixelSize": 21}] * 2,
            "columnMetadata": [{"pixelSize": 100}] * 2,
        }
    ]
    small = sh.add_worksheet("Nhỏ", rows=2, cols=2)
    with pytest.raises(gspread.exceptions.APIError) as beyond:
        small.update([["x"], ["y"], ["z"]], "A1", value_input_option="RAW")
    assert (
        beyond.value.error["message"]
        == "Range (Nhỏ!A1:A3) exceeds grid limits. Max rows: 2, max columns: 2"
    )
    small.append_rows([["x"], ["y"], ["z"]])  # append grows the grid, like Google
    assert small.get_all_values() == [["x"], ["y"], ["z"]]


def test_structure_changes_persist_in_the_xlsx(client, server):
    sh = client.create("Mẫu")
    ws = sh.sheet1
    ws.update([["Tiêu đề", "", ""], ["a", "b", "c"]], "A1", value_input_option="RAW")
    ws.merge_cells("A1:C1")
    sh.batch_update(
        {
            "requests": [
                {
                    "updateDimensionProperties": {
                        "range": {
                            "sheetId": 0,
                            "dimension": "COLUMNS",
                            "startIndex": 0,
                            "endIndex": 1,
                        },
                        "properties": {"pixelSize": 180},
                        "fields": "pixelSize",
                    }
                }
            ]
        }
    )
    ws.add_protected_range("A2:C2", warning_only=True)
    ws.update_title("Trang tính: 6/2026")  # not a legal Excel tab title
    ws.freeze(rows=1, cols=1)

    fresh = SpreadsheetStore(server.store.root)  # read back from disk only
    model = fresh.snapshot(sh.id)
    sheet = model.sheets[0]
    assert (sheet.title, sheet.sheet_id) == ("Trang tính: 6/2026", 0)
    assert sheet.merges == [Rect(0, 1, 0, 3)]
    assert sheet.col_widths == {0: 180}
    assert (sheet.frozen_rows, sheet.frozen_cols) == (1, 1)
    assert len(sheet.protected_ranges) == 1
    wb = openpyxl.load_workbook(server.store.workbook_path(sh.id))
    assert wb.worksheets[0]["A1"].value == "Tiêu đề"
    assert [str(r) for r in wb.worksheets[0].merged_cells.ranges] == ["A1:C1"]


def test_validation_round_trip_openpyxl_and_batch_update(client, server, tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Tiến độ"
    ws.append(["Hoạt động", "Trạng thái", "Kết quả"])
    dv = DataValidation(type="list", formula1=LIST_FORMULA)
    dv.add("B2:B4")
    ws.add_data_validation(dv)
    sid = server.store.put_workbook("template1", wb, "Mẫu tiến độ")

    sh = client.open_by_key(sid)
    sh.batch_update(
        {
            "requests": [
                {
                    "setDataValidation": {
                        "range": {
                            "sheetId": 0,
                            "startRowIndex": 1,
                            "endRowIndex": 4,
                            "startColumnIndex": 2,
                            "endColumnIndex": 3,
                        },
                        "rule": {
                            "condition": {
                                "type": "ONE_OF_LIST",
                                "values": [
                                    {"userEnteredValue": "Đạt"},
                                    {"userEnteredValue": "Không đạt"},
                                ],
                            },
                            "strict": True,
                            "showCustomUi": True,
                        },
                    }
                }
            ]
        }
    )

    meta = client.http_client.fetch_sheet_metadata(sid, params={"includeGridData": "true"})
    row = meta["sheets"][0]["data"][0]["rowData"][1]["values"]
    assert row[1] == {"dataValidation": LIST_RULE}
    assert row[2]["dataValidation"]["strict"] is True
    assert [v["userEnteredValue"] for v in row[2]["dataValidation"]["condition"]["values"]] == [
        "Đạt",
        "Không đạt",
    ]

    saved = openpyxl.load_workbook(server.store.workbook_path(sid)).active
    formulas = sorted(dv.formula1 for dv in saved.data_validations.dataValidation)
    assert formulas == sorted([LIST_FORMULA, '"Đạt,Không đạt"'])
    fresh = SpreadsheetStore(server.store.root).snapshot(sid).sheets[0]
    assert fresh.validation_at(2, 1) == LIST_RULE
    assert fresh.validation_at(3, 2)["strict"] is True


# ---------------------------------------------------------------- accounting
def test_stats_count_each_endpoint(client, server):
    sid = server.store.put_workbook("stats1", vietnamese_workbook(), "Thống kê")
    server.reset_stats()
    sh = client.open_by_key(sid)
    assert server.stats() == {"calls": {"sheets.spreadsheets.get": 1}, "total": 1}
    sh.worksheet("Báo cáo").get_all_values()
    sh.values_batch_get(["A1", "B1"])
    sh.sheet1.update([["x"]], "A10", value_input_option="RAW")  # sheet1 = one more get
    client.list_spreadsheet_files()
    expected = {
        "drive.files.list": 1,
        "sheets.spreadsheets.get": 3,
        "sheets.values.batchGet": 1,
        "sheets.values.get": 1,
        "sheets.values.update": 1,
    }
    assert server.stats() == {"calls": expected, "total": 7}
    over_http = requests.get(server.url + "/_emulator/stats", timeout=5).json()
    assert over_http == server.stats()  # admin routes are not counted
    assert requests.get(server.url + "/_emulator/health", timeout=5).json() == {"status": "ok"}
    requests.post(server.url + "/_emulator/reset-stats", timeout=5)
    assert server.stats() == {"calls": {}, "total": 0}


def test_write_bumps_modified_time(client, server):
    sid = server.store.put_workbook(
        None, vietnamese_workbook(), "Cũ", modified_time=dt.datetime(2026, 6, 1, 8, 30)
    )
    sh = client.open_by_key(sid)
    assert sh.get_lastUpdateTime() == "2026-06-01T08:30:00.000Z"
    sh.sheet1.update([["mới"]], "A20", value_input_option="RAW")
    after = sh.get_lastUpdateTime()
    assert after > "2026-06-01T08:30:00.000Z"
    assert len(after) == 24 and after.endswith("Z")
    server.store.set_modified_time(sid, "2026-06-18T09:15:00Z")
    assert server.store.get_drive_file(sid)["modifiedTime"] == "2026-06-18T09:15:00.000Z"


# ---------------------------------------------------------------- errors
def test_unknown_spreadsheet_is_404(client):
    with pytest.raises(gspread.exceptions.APIError) as caught:
        client.http_client.fetch_sheet_metadata("khong-ton-tai")
    assert caught.value.code == 404
    assert caught.value.error["status"] == "NOT_FOUND"
    with pytest.raises(gspread.exceptions.SpreadsheetNotFound):
        client.open_by_key("khong-ton-tai")
    with pytest.raises(gspread.exceptions.APIError) as drive:
        client.get_file_drive_metadata("khong-ton-tai")
    assert drive.value.code == 404


def test_bad_tab_in_range_is_400(client):
    sh = client.create("Lỗi")
    with pytest.raises(gspread.exceptions.APIError) as caught:
        sh.values_get("'Không có'!A1")
    assert caught.value.code == 400
    assert caught.value.error["message"] == "Unable to parse range: 'Không có'!A1"
    assert caught.value.error["status"] == "INVALID_ARGUMENT"
    # a read range that ends past the grid is answered for the part inside it, as Google does;
    # only one that starts past the grid is refused
    assert sh.values_get("Sheet1!A1:AB2")["range"] == "Sheet1!A1:Z2"
    with pytest.raises(gspread.exceptions.APIError) as beyond:
        sh.values_get("Sheet1!AB1:AC2")
    assert beyond.value.error["message"] == (
        "Range (Sheet1!AB1:AC2) exceeds grid limits. Max rows: 1000, max columns: 26"
    )


def test_unknown_batch_request_is_400_and_atomic(client):
    sh = client.create("Nguyên tử")
    with pytest.raises(gspread.exceptions.APIError) as caught:
        sh.batch_update(
            {
                "requests": [
                    {"addSheet": {"properties": {"title": "Mới"}}},
                    {"addChart": {"chart": {}}},
                ]
            }
        )
    assert caught.value.code == 400 and "addChart" in caught.value.error["message"]
    assert [w.title for w in sh.worksheets()] == ["Sheet1"]  # addSheet rolled back
    with pytest.raises(gspread.exceptions.APIError):
        sh.add_worksheet("sheet1", 10, 10)  # titles are unique, case-insensitively


# ---------------------------------------------------------------- drive
def test_drive_listing_pages_over_1000_files(client, server, tmp_path):
    template = tmp_path / "tiny.xlsx"
    openpyxl.Workbook().save(template)
    store = server.store
    with store.batch():
        for i in range(1003):
            store.put_workbook(
                f"f{i:05d}",
                template,
                f"Báo cáo {i}",
                modified_time=dt.datetime(2026, 6, 2) + dt.timedelta(minutes=i),
            )
        for i in range(3):
            store.put_workbook(
                f"old{i}", template, f"Cũ {i}", modified_time=dt.datetime(2026, 5, 1)
            )
    trashed = "f00007"
    client.http_client.request("patch", f"{DRIVE_FILES}/{trashed}", json={"trashed": True})

    params = {
        "q": "modifiedTime > '2026-06-01T00:00:00Z' and trashed=false",
        "fields": "nextPageToken,files(id,name,modifiedTime)",
        "pageSize": 1000,
    }
    seen, pages = [], 0
    while True:
        body = client.http_client.request("get", DRIVE_FILES, params=params).json()
        pages += 1
        seen.extend(body["files"])
        assert all(set(f) == {"id", "name", "modifiedTime"} for f in body["files"])
        if "nextPageToken" not in body:
            break
        params["pageToken"] = body["nextPageToken"]
    assert pages == 2
    ids = [f["id"] for f in seen]
    assert len(ids) == len(set(ids)) == 1002
    assert trashed not in ids and not any(i.startswith("old") for i in ids)
    assert len(client.list_spreadsheet_files()) == 1006  # gspread does not filter trashed


def test_drive_query_subset_and_metadata(client, server, tmp_path):
    store = server.store
    wb = openpyxl.Workbook()
    a = store.put_workbook(
        "a1", wb, "Báo cáo Hà Nội", app_properties={"tinh": "HN"}, parents=["folderX"]
    )
    b = store.put_workbook("b1", wb, "Tổng hợp", app_properties={"tinh": "HCM"})
    store.put_workbook("c1", wb, "Baocao", parents=["folderX"])

    def names(q, **extra):
        params = {"q": q, "fields": "files(id,name,appProperties)", **extra}
        return [
            f["name"]
            for f in client.http_client.request("get", DRIVE_FILES, params=params).json()["files"]
        ]

    assert names("name contains 'hà'") == ["Báo cáo Hà Nội"]  # word prefix, any case
    assert names("name contains 'nội'") == ["Báo cáo Hà Nội"]
    assert names("name contains 'cáo Hà'") == ["Báo cáo Hà Nội"]
    assert names("name contains 'ội'") == []
    assert names("name = 'Tổng hợp'") == ["Tổng hợp"]
    assert names("appProperties has { key='tinh' and value='HCM' }") == ["Tổng hợp"]
    assert names("'folderX' in parents", orderBy="name") == ["Baocao", "Báo cáo Hà Nội"]
    assert names("'root' in parents and mimeType='application/vnd.google-apps.spreadsheet'") == [
        "Tổng hợp"
    ]
    assert names("not name contains 'b' or name = 'Baocao'") == ["Tổng hợp", "Baocao"]
    with pytest.raises(gspread.exceptions.APIError) as bad:
        names("owner = 'x'")
    assert bad.value.code == 400

    got = client.http_client.request(
        "get", f"{DRIVE_FILES}/{a}", params={"fields": "id,name,appProperties,parents"}
    ).json()
    assert got == {
        "id": a,
        "name": "Báo cáo Hà Nội",
        "parents": ["folderX"],
        "appProperties": {"tinh": "HN"},
    }
    client.http_client.request(
        "patch",
        f"{DRIVE_FILES}/{b}",
        json={"name": "Tổng hợp 2026", "appProperties": {"tinh": None, "ky": "6"}},
    )
    assert store.get_drive_file(b)["appProperties"] == {"ky": "6"}
    assert client.open_by_key(b).title == "Tổng hợp 2026"

    copy = client.copy(a, title="Bản sao")  # gspread also lists comments: none here
    assert copy.title == "Bản sao" and copy.sheet1.id == 0
    client.del_spreadsheet(copy.id)
    assert not store.workbook_path(copy.id).exists()
    with pytest.raises(gspread.exceptions.SpreadsheetNotFound):
        client.open_by_key(copy.id)

    data = client.open_by_key(a).export(ExportFormat.EXCEL)
    assert openpyxl.load_workbook(io.BytesIO(data)).worksheets[0].title == "Sheet"


# ---------------------------------------------------------------- store
def test_store_caches_parsed_workbooks(tmp_path, monkeypatch):
    calls = []
    real = store_module.load_model
    monkeypatch.setattr(
        store_module, "load_model", lambda *a, **k: calls.append(1) or real(*a, **k)
    )
    store = SpreadsheetStore(tmp_path / "s")
    sid = store.put_workbook(None, vietnamese_workbook(), "Cache")
    store.snapshot(sid)
    store.snapshot(sid)
    assert len(calls) == 1
    with store.edit(sid) as model:
        model.sheets[0].set(5, 0, "mới")
    store.snapshot(sid)
    assert len(calls) == 1  # our own write keeps the cache valid
    store.put_workbook(sid, vietnamese_workbook(), "Cache")
    assert store.snapshot(sid).sheets[0].get(5, 0) is None
    assert len(calls) == 2
    drive = json.loads((tmp_path / "s" / "_drive.json").read_text(encoding="utf-8"))
    assert drive[sid]["name"] == "Cache" and drive[sid]["mimeType"] == store_module.SPREADSHEET_MIME


def test_two_stores_on_one_folder_see_each_other(client, server, tmp_path):
    generator = SpreadsheetStore(server.store.root)  # e.g. the demo generator, same folder
    sid = generator.put_workbook(
        "gen1", vietnamese_workbook(), "Từ bộ sinh", app_properties={"k": "v"}
    )
    sh = client.open_by_key(sid)  # the server's store picks the new file up
    sh.sheet1.update([["sửa"]], "A30", value_input_option="RAW")
    generator.put_workbook(
        "gen2", vietnamese_workbook(), "Thứ hai"
    )  # must not lose the server's bump
    names = {f["name"]: f for f in SpreadsheetStore(server.store.root).list_files()}
    assert set(names) == {"Từ bộ sinh", "Thứ hai"}
    assert names["Từ bộ sinh"]["modifiedTime"] == server.store.get_drive_file(sid)["modifiedTime"]


def test_store_adopts_loose_xlsx_files(tmp_path):
    root = tmp_path / "s"
    root.mkdir()
    vietnamese_workbook().save(root / "loose_file.xlsx")
    store = SpreadsheetStore(root)
    assert store.get_drive_file("loose_file")["name"] == "loose_file"
    assert store.snapshot("loose_file").sheets[0].title == "Báo cáo"


# ---------------------------------------------------------------- units
def test_field_mask_parser():
    mask = parse_mask(
        "spreadsheetId,properties.title,sheets(properties(sheetId,title),data/rowData)"
    )
    value = {
        "spreadsheetId": "x",
        "properties": {"title": "t", "locale": "vi_VN"},
        "sheets": [
            {
                "properties": {"sheetId": 0, "title": "a", "index": 0},
                "data": [{"rowData": [], "startRow": 0}],
            }
        ],
    }
    assert apply_mask(value, mask) == {
        "spreadsheetId": "x",
        "properties": {"title": "t"},
        "sheets": [{"properties": {"sheetId": 0, "title": "a"}, "data": [{"rowData": []}]}],
    }
    assert apply_mask(value, parse_mask("*")) == value


def test_a1_parsing():
    assert split_range("'It''s'!A1:B2") == ("It's", "A1:B2")
    assert split_range("Tab") == (None, "Tab")
    assert parse_a1("B2:C") == Rect(1, None, 1, 3)
    assert parse_a1("A:B") == Rect(0, None, 0, 2)
    assert parse_a1("3:4") == Rect(2, 4, 0, None)


def test_session_rewrites_google_urls():
    base = "http://127.0.0.1:9"
    assert rewrite_url("https://sheets.googleapis.com/v4/spreadsheets/x/values/A1?a=1", base) == (
        "http://127.0.0.1:9/v4/spreadsheets/x/values/A1?a=1"
    )
    assert (
        rewrite_url("https://www.googleapis.com/drive/v3/files/x", base)
        == "http://127.0.0.1:9/drive/v3/files/x"
    )
    assert rewrite_url("https://www.googleapis.com/upload/drive/v2/files/x", base).startswith(
        base + "/upload/drive/"
    )
    assert rewrite_url("https://example.org/", base) == "https://example.org/"
    assert EmulatorSession(base).trust_env is False


# ---------------------------------------------------------------- CLI
def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_cli_serves_and_stops_on_sigterm(tmp_path):
    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sheets_emulator",
            "serve",
            "--root",
            str(tmp_path / "cli"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        cwd=MAIN_ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(MAIN_ROOT)},
    )
    try:
        line = proc.stdout.readline().strip()
        assert (
            line
            == f"Sheets emulator listening on http://127.0.0.1:{port} (root {tmp_path / 'cli'})"
        )
        gc = emulator_client(f"http://127.0.0.1:{port}")
        assert gc.create("CLI").sheet1.title == "Sheet1"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


# ---------------------------------------------------------------- clock and revisions
def test_the_clock_dates_every_answer_and_stamp_and_a_server_process_follows_it(tmp_path):
    """set_clock moves the emulator's now (Google's clock): the Date header of every answer,
    modifiedTime and revisions follow it, in a separate server process sharing the root too;
    None goes back to real time."""
    from email.utils import parsedate_to_datetime

    root = tmp_path / "store"
    store = SpreadsheetStore(root)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sheets_emulator",
            "serve",
            "--root",
            str(root),
            "--port",
            str(port),
        ],
        cwd=MAIN_ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert "listening" in process.stdout.readline()
        url = f"http://127.0.0.1:{port}"
        moment = dt.datetime(2026, 6, 20, 16, 59, 30, tzinfo=dt.UTC)
        store.set_clock(moment)
        assert abs((store.now() - moment).total_seconds()) < 1
        answer = requests.get(f"{url}/_emulator/health", timeout=10)
        assert answer.headers["Date"].endswith(" GMT")
        assert abs((parsedate_to_datetime(answer.headers["Date"]) - moment).total_seconds()) < 2
        sheet = emulator_client(url, user="vanhoa.xa@caobang.gov.vn").create("Báo cáo")
        created = requests.get(
            f"{url}/drive/v3/files/{sheet.id}",
            params={"fields": "createdTime,modifiedTime"},
            timeout=10,
        ).json()
        assert created["createdTime"].startswith("2026-06-20T16:59:3")
        store.set_clock(None)
        later = parsedate_to_datetime(
            requests.get(f"{url}/_emulator/health", timeout=10).headers["Date"]
        )
        assert abs((later - dt.datetime.now(dt.UTC)).total_seconds()) < 5
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_revisions_list_names_who_changed_the_content_when_newest_last(server):
    """Every content change is a revision with its time and its editor (the API caller; none
    for a change with no known user), listed oldest first, paged like Drive v3."""
    server.set_clock(dt.datetime(2026, 8, 25, 16, 0, tzinfo=dt.UTC))
    sid = server.store.put_workbook(None, vietnamese_workbook(), "Báo cáo chung")
    unit_x = emulator_client(server.url, user="x@caobang.gov.vn")
    unit_x.open_by_key(sid).sheet1.update_acell("A1", "X")
    server.set_clock(dt.datetime(2026, 8, 25, 17, 30, tzinfo=dt.UTC))
    with server.store.edit(sid, user="y@caobang.gov.vn") as model:
        model.sheets[0].set(0, 1, "Y")
    url = f"{server.url}/drive/v3/files/{sid}/revisions"
    everything = requests.get(url, params={"fields": "*"}, timeout=10)
    body = everything.json()
    assert body["kind"] == "drive#revisionList" and "nextPageToken" not in body
    revisions = body["revisions"]
    assert [r["id"] for r in revisions] == ["1", "2", "3"]
    assert "lastModifyingUser" not in revisions[0]  # no known user
    assert [r["lastModifyingUser"]["emailAddress"] for r in revisions[1:]] == [
        "x@caobang.gov.vn",
        "y@caobang.gov.vn",
    ]
    assert revisions[1]["modifiedTime"].startswith("2026-08-25T16:00:0")
    assert revisions[2]["modifiedTime"].startswith("2026-08-25T17:30:0")
    assert revisions[2]["modifiedTime"] == server.store.get_drive_file(sid)["modifiedTime"]
    assert {"kind", "id", "mimeType", "modifiedTime"} <= set(revisions[0])
    default = requests.get(url, timeout=10).json()["revisions"][0]
    assert set(default) == {"kind", "id", "mimeType", "modifiedTime"}
    first = requests.get(
        url, params={"pageSize": 2, "fields": "nextPageToken,revisions(id)"}, timeout=10
    ).json()
    rest = requests.get(
        url,
        params={
            "pageSize": 2,
            "pageToken": first["nextPageToken"],
            "fields": "nextPageToken,revisions(id)",
        },
        timeout=10,
    ).json()
    assert [r["id"] for r in first["revisions"] + rest["revisions"]] == ["1", "2", "3"]
    assert "nextPageToken" not in rest
    assert requests.get(url, params={"pageSize": 0}, timeout=10).status_code == 400
    # metadata changes are no revision
    requests.patch(f"{server.url}/drive/v3/files/{sid}", json={"name": "Đổi tên"}, timeout=10)
    assert len(requests.get(url, timeout=10).json()["revisions"]) == 3
    server.set_clock(None)
