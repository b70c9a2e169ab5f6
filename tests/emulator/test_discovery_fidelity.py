"""Every answer of sheets_emulator has the shape Google publishes for it.

Google's discovery documents for Sheets v4 and Drive v3 (shipped with google-api-python-client,
``googleapiclient/discovery_cache/documents``) name, for each method, its HTTP verb, its path and
the schema of its response.  For every route the emulator serves (``sheets_emulator.app.ROUTES``):

- the route is a method of the document, with the same verb and path;
- representative calls (the richest answers the emulator gives: grid data with formats, notes,
  validation, merges, protected ranges, filters; ``fields=*`` on Drive) answer JSON in which every
  key is a property of the method's response schema (``$ref``, array ``items`` and
  ``additionalProperties`` followed), every value has the schema's type (Google's int64 are
  strings, ``google-datetime`` an RFC 3339 time, enums one of their values, ``kind`` its default);
- a failing call answers Google's error shape ``{"error": {"code", "message", "status", ...}}``.

So fidelity is tested against Google's own description, not assumed.
"""

from __future__ import annotations

import importlib.resources
import json
import re
from collections import defaultdict
from typing import Any
from urllib.parse import quote

import pytest
import requests

from sheets_emulator import EmulatorServer
from sheets_emulator.app import ROUTES
from sheets_emulator.batch_common import HANDLERS

DOCUMENTS = importlib.resources.files("googleapiclient.discovery_cache") / "documents"
SHEETS = json.loads((DOCUMENTS / "sheets.v4.json").read_text("utf-8"))
DRIVE = json.loads((DOCUMENTS / "drive.v3.json").read_text("utf-8"))
ROUTE_KEYS = [key for _, _, key, _ in ROUTES]
FOLDER_MIME = "application/vnd.google-apps.folder"
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$")
INT64 = re.compile(r"^-?\d+$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
BASE64 = re.compile(r"^[A-Za-z0-9+/_-]*={0,2}$")
INT_RANGES = {"int32": (-(2**31), 2**31 - 1), "uint32": (0, 2**32 - 1)}
#: google.rpc.Code names, what an error's ``status`` may be
RPC_STATUSES = {
    "CANCELLED",
    "UNKNOWN",
    "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED",
    "NOT_FOUND",
    "ALREADY_EXISTS",
    "PERMISSION_DENIED",
    "UNAUTHENTICATED",
    "RESOURCE_EXHAUSTED",
    "FAILED_PRECONDITION",
    "ABORTED",
    "OUT_OF_RANGE",
    "UNIMPLEMENTED",
    "INTERNAL",
    "UNAVAILABLE",
    "DATA_LOSS",
}


# ----------------------------------------------------------------- the discovery documents
def _methods(node: dict, out: dict[str, dict]) -> dict[str, dict]:
    for method in node.get("methods", {}).values():
        out[method["id"]] = method
    for child in node.get("resources", {}).values():
        _methods(child, out)
    return out


METHODS = {**_methods(SHEETS, {}), **_methods(DRIVE, {})}


def discovery_id(route_key: str) -> str:
    """The emulator's stats key (``sheets.values.get``) -> the document's method id
    (``sheets.spreadsheets.values.get``)."""
    if route_key.startswith("sheets.values."):
        return "sheets.spreadsheets." + route_key[len("sheets.") :]
    return route_key


def document_of(route_key: str) -> dict:
    return SHEETS if route_key.startswith("sheets.") else DRIVE


def conform(value: Any, schema: dict, doc: dict, path: str = "$") -> list[str]:
    """The ways ``value`` departs from the discovery ``schema`` (empty: it conforms)."""
    if "$ref" in schema:
        return conform(value, doc["schemas"][schema["$ref"]], doc, path)
    kind = schema.get("type")
    problems: list[str] = []
    if kind == "object":
        if not isinstance(value, dict):
            return [f"{path}: {type(value).__name__} where the schema has an object"]
        properties, extra = schema.get("properties"), schema.get("additionalProperties")
        for key, item in value.items():
            if properties is not None and key in properties:
                sub = properties[key]
                if key == "kind" and "default" in sub and item != sub["default"]:
                    problems.append(f"{path}.kind: {item!r}, not {sub['default']!r}")
                problems += conform(item, sub, doc, f"{path}.{key}")
            elif extra is not None:
                problems += conform(item, extra, doc, f"{path}[{key!r}]")
            else:
                name = schema.get("id", "object")
                problems.append(f"{path}.{key}: not a property of {name}")
        return problems
    if kind == "array":
        if not isinstance(value, list):
            return [f"{path}: {type(value).__name__} where the schema has an array"]
        for i, item in enumerate(value):
            problems += conform(item, schema.get("items", {}), doc, f"{path}[{i}]")
        return problems
    if kind == "string":
        if not isinstance(value, str):
            return [f"{path}: {value!r} is not a string ({schema.get('format', 'string')})"]
        fmt = schema.get("format")
        if fmt in ("int64", "uint64") and not INT64.match(value):
            problems.append(f"{path}: {value!r} is not an {fmt}")
        if fmt in ("google-datetime", "date-time") and not RFC3339.match(value):
            problems.append(f"{path}: {value!r} is not an RFC 3339 time")
        if fmt == "date" and not DATE.match(value):
            problems.append(f"{path}: {value!r} is not a date")
        if fmt == "byte" and not BASE64.match(value):
            problems.append(f"{path}: {value!r} is not base64")
        if "enum" in schema and value not in schema["enum"]:
            problems.append(f"{path}: {value!r} is not one of {schema['enum']}")
        return problems
    if kind == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            return [f"{path}: {value!r} is not an integer"]
        low, high = INT_RANGES.get(schema.get("format"), (value, value))
        return [] if low <= value <= high else [f"{path}: {value} is out of {schema['format']}"]
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return [f"{path}: {value!r} is not a number"]
        return []
    if kind == "boolean":
        return [] if isinstance(value, bool) else [f"{path}: {value!r} is not a boolean"]
    if kind == "any":
        return []
    return [f"{path}: the schema has an unknown type {kind!r}"]


def error_shape(body: Any, status: int) -> list[str]:
    """The ways ``body`` departs from Google's JSON error for HTTP ``status``."""
    if not isinstance(body, dict) or set(body) != {"error"} or not isinstance(body["error"], dict):
        return [f"not {{'error': {{...}}}}: {body!r}"]
    error, problems = body["error"], []
    if error.get("code") != status:
        problems.append(f"code {error.get('code')!r} is not the HTTP status {status}")
    if not isinstance(error.get("message"), str) or not error["message"]:
        problems.append(f"message {error.get('message')!r}")
    if error.get("status") not in RPC_STATUSES:
        problems.append(f"status {error.get('status')!r} is not a google.rpc.Code name")
    unknown = set(error) - {"code", "message", "status", "errors", "details"}
    if unknown:
        problems.append(f"keys beyond Google's: {sorted(unknown)}")
    for item in error.get("errors", []):
        if not isinstance(item, dict) or not {"message", "domain", "reason"} <= set(item):
            problems.append(f"errors item {item!r} lacks message/domain/reason")
        elif set(item) - {"message", "domain", "reason", "location", "locationType"}:
            problems.append(f"errors item {item!r} has keys beyond Google's")
    return problems


# ----------------------------------------------------------------- the routes are Google's
SAMPLE_PARAMS = {
    "spreadsheetId": "1AbC-dEf_123",
    "sheetId": "42",
    "range": quote("'Hướng dẫn'!A1:B2", safe=""),
    "fileId": "1AbC-dEf_123",
    "permissionId": "01234567890123456789",
}


@pytest.mark.parametrize("key", ROUTE_KEYS)
def test_each_route_is_a_method_of_the_discovery_document_with_its_verb_and_path(key):
    method = METHODS.get(discovery_id(key))
    assert method is not None, f"{key}: no method {discovery_id(key)} in Google's document"
    verb = next(m for m, _, k, _ in ROUTES if k == key)
    assert verb == method["httpMethod"]
    doc = document_of(key)
    template = "/" + doc["servicePath"] + method.get("flatPath", method["path"])
    path = re.sub(r"\{\+?(\w+)\}", lambda m: SAMPLE_PARAMS[m.group(1)], template)
    matched = next((k for m, p, k, _ in ROUTES if m == verb and p.match(path)), None)
    assert matched == key, f"{verb} {path} (Google's {method['id']}) is routed to {matched}"


# ----------------------------------------------------------------- representative calls
class Recorder:
    """Calls the emulator over HTTP and keeps each answer under the endpoint that served it
    (read from the emulator's call stats, so a case can never be filed under the wrong one)."""

    def __init__(self, server: EmulatorServer) -> None:
        self.server = server
        self.session = requests.Session()
        self.session.trust_env = False
        self.answers: dict[str, list[tuple[str, requests.Response]]] = defaultdict(list)
        self.requests: list[tuple[str, str, Any]] = []  # (endpoint, label, JSON body sent)

    def __call__(
        self,
        verb: str,
        path: str,
        *,
        params: dict | None = None,
        body: Any = None,
        expect: int = 200,
        user: str | None = None,
    ) -> Any:
        before = self.server.stats()["calls"]
        headers = {"X-Emulator-User": user} if user else {}
        response = self.session.request(
            verb, self.server.url + path, params=params, json=body, headers=headers
        )
        after = self.server.stats()["calls"]
        (endpoint,) = [k for k in after if after[k] != before.get(k, 0)]
        label = f"{verb} {path} {params or ''}"
        assert response.status_code == expect, f"{label}: {response.status_code} {response.text}"
        self.answers[endpoint].append((label, response))
        if body is not None:
            self.requests.append((endpoint, label, body))
        if (
            response.headers.get("Content-Type", "").startswith("application/json")
            and response.content
        ):
            return response.json()
        return response


def grid(sheet_id: int, r0: int, r1: int, c0: int, c1: int) -> dict:
    return {
        "sheetId": sheet_id,
        "startRowIndex": r0,
        "endRowIndex": r1,
        "startColumnIndex": c0,
        "endColumnIndex": c1,
    }


BLUE = {"red": 0.87, "green": 0.92, "blue": 0.97}


def sheets_calls(call: Recorder) -> set[str]:
    """Every Sheets route, with the richest content the emulator keeps. Out: the batchUpdate
    request kinds sent."""
    created = call(
        "POST",
        "/v4/spreadsheets",
        body={
            "properties": {
                "title": "Báo cáo tháng 6",
                "locale": "vi_VN",
                "timeZone": "Asia/Ho_Chi_Minh",
            },
            "sheets": [
                {
                    "properties": {
                        "sheetId": 0,
                        "title": "Hướng dẫn",
                        "gridProperties": {"rowCount": 40, "columnCount": 8, "frozenRowCount": 1},
                    },
                    "data": [
                        {
                            "startRow": 0,
                            "startColumn": 0,
                            "rowData": [
                                {
                                    "values": [
                                        {"userEnteredValue": {"stringValue": "Chỉ tiêu"}},
                                        {"userEnteredValue": {"stringValue": "Giá trị"}},
                                    ]
                                },
                                {
                                    "values": [
                                        {"userEnteredValue": {"stringValue": "Số buổi"}},
                                        {"userEnteredValue": {"numberValue": 12}},
                                    ]
                                },
                            ],
                        }
                    ],
                }
            ],
        },
    )
    sid = created["spreadsheetId"]
    base = f"/v4/spreadsheets/{sid}"
    call("GET", base)
    kinds: set[str] = set()

    def batch(*requests_: dict, **extra: Any) -> dict:
        kinds.update(next(iter(r)) for r in requests_)
        return call("POST", f"{base}:batchUpdate", body={"requests": list(requests_), **extra})

    added = batch(
        {
            "addSheet": {
                "properties": {
                    "sheetId": 777,
                    "title": "Dữ liệu",
                    "index": 1,
                    "gridProperties": {"rowCount": 60, "columnCount": 10},
                    "tabColorStyle": {"rgbColor": BLUE},
                }
            }
        },
        {
            "updateSheetProperties": {
                "properties": {"sheetId": 777, "gridProperties": {"frozenColumnCount": 1}},
                "fields": "gridProperties.frozenColumnCount",
            }
        },
        {
            "updateSpreadsheetProperties": {
                "properties": {"title": "Báo cáo tháng 6 (xã A)"},
                "fields": "title",
            }
        },
        {
            "updateCells": {
                "range": grid(777, 0, 2, 0, 3),
                "fields": "userEnteredValue,userEnteredFormat,note",
                "rows": [
                    {
                        "values": [
                            {
                                "userEnteredValue": {"stringValue": "Tên"},
                                "userEnteredFormat": {
                                    "textFormat": {"bold": True},
                                    "backgroundColor": BLUE,
                                },
                                "note": "Ghi rõ họ tên",
                            },
                            {
                                "userEnteredValue": {"numberValue": 1234.5},
                                "userEnteredFormat": {
                                    "numberFormat": {"type": "NUMBER", "pattern": "#,##0.0"}
                                },
                            },
                            {"userEnteredValue": {"formulaValue": "=B1*2"}},
                        ]
                    },
                    {
                        "values": [
                            {"userEnteredValue": {"boolValue": True}},
                            {
                                "userEnteredValue": {"numberValue": 46194},
                                "userEnteredFormat": {
                                    "numberFormat": {"type": "DATE", "pattern": "dd/mm/yyyy"}
                                },
                            },
                        ]
                    },
                ],
            }
        },
        {
            "repeatCell": {
                "range": grid(777, 2, 4, 0, 3),
                "cell": {
                    "userEnteredFormat": {
                        "horizontalAlignment": "CENTER",
                        "wrapStrategy": "WRAP",
                        "verticalAlignment": "MIDDLE",
                        "textFormat": {
                            "italic": True,
                            "fontSize": 11,
                            "foregroundColorStyle": {"rgbColor": BLUE},
                        },
                    }
                },
                "fields": "userEnteredFormat(horizontalAlignment,wrapStrategy,verticalAlignment,textFormat)",
            }
        },
        {
            "setDataValidation": {
                "range": grid(777, 4, 6, 1, 2),
                "rule": {
                    "condition": {
                        "type": "ONE_OF_LIST",
                        "values": [{"userEnteredValue": "Có"}, {"userEnteredValue": "Không"}],
                    },
                    "strict": True,
                    "showCustomUi": True,
                    "inputMessage": "Chọn Có hoặc Không",
                },
            }
        },
        {
            "setDataValidation": {
                "range": grid(777, 4, 6, 2, 3),
                "rule": {
                    "condition": {
                        "type": "NUMBER_BETWEEN",
                        "values": [{"userEnteredValue": "0"}, {"userEnteredValue": "100"}],
                    },
                    "strict": True,
                },
            }
        },
        {
            "addProtectedRange": {
                "protectedRange": {
                    "range": grid(777, 0, 1, 0, 10),
                    "description": "Tiêu đề",
                    "warningOnly": True,
                }
            }
        },
        {"mergeCells": {"range": grid(777, 10, 11, 0, 3), "mergeType": "MERGE_ALL"}},
        {"mergeCells": {"range": grid(777, 12, 14, 0, 2), "mergeType": "MERGE_ROWS"}},
        {"unmergeCells": {"range": grid(777, 12, 14, 0, 2)}},
        {
            "updateDimensionProperties": {
                "range": {"sheetId": 777, "dimension": "COLUMNS", "startIndex": 0, "endIndex": 1},
                "properties": {"pixelSize": 180},
                "fields": "pixelSize",
            }
        },
        {
            "updateDimensionProperties": {
                "range": {"sheetId": 777, "dimension": "ROWS", "startIndex": 20, "endIndex": 22},
                "properties": {"hiddenByUser": True},
                "fields": "hiddenByUser",
            }
        },
        {
            "autoResizeDimensions": {
                "dimensions": {
                    "sheetId": 777,
                    "dimension": "COLUMNS",
                    "startIndex": 1,
                    "endIndex": 3,
                }
            }
        },
        {
            "insertDimension": {
                "range": {"sheetId": 777, "dimension": "ROWS", "startIndex": 30, "endIndex": 32},
                "inheritFromBefore": True,
            }
        },
        {
            "deleteDimension": {
                "range": {"sheetId": 777, "dimension": "COLUMNS", "startIndex": 8, "endIndex": 9}
            }
        },
        {"appendDimension": {"sheetId": 777, "dimension": "ROWS", "length": 5}},
        {"setBasicFilter": {"filter": {"range": grid(777, 0, 6, 0, 3)}}},
        {
            "duplicateSheet": {
                "sourceSheetId": 777,
                "newSheetName": "Bản sao",
                "insertSheetIndex": 2,
            }
        },
        includeSpreadsheetInResponse=True,
        responseIncludeGridData=True,
    )
    protected = added["replies"][7]["addProtectedRange"]["protectedRange"]["protectedRangeId"]
    copy_id = added["replies"][-1]["duplicateSheet"]["properties"]["sheetId"]
    # the richest reads: every sheet's grid data, with masks, and chosen ranges
    call("GET", base, params={"includeGridData": "true"})
    call(
        "GET",
        base,
        params={"ranges": ["'Dữ liệu'!A1:C8", "'Hướng dẫn'!A1:B2"], "includeGridData": "true"},
    )
    call(
        "GET",
        base,
        params={
            "fields": "sheets(properties,data.rowData.values(formattedValue,note))",
            "ranges": "'Dữ liệu'!A1:C2",
        },
    )
    batch(
        {
            "updateProtectedRange": {
                "protectedRange": {"protectedRangeId": protected, "description": "Hàng tiêu đề"},
                "fields": "description",
            }
        },
        {"deleteProtectedRange": {"protectedRangeId": protected}},
        {"clearBasicFilter": {"sheetId": 777}},
        {"deleteSheet": {"sheetId": copy_id}},
    )
    other = call("POST", "/v4/spreadsheets", body={"properties": {"title": "Tổng hợp"}})
    call(
        "POST",
        f"{base}/sheets/777:copyTo",
        body={"destinationSpreadsheetId": other["spreadsheetId"]},
    )

    values = f"{base}/values"
    for option in ("FORMATTED_VALUE", "UNFORMATTED_VALUE", "FORMULA"):
        call(
            "GET",
            f"{values}/{quote(chr(39) + 'Dữ liệu' + chr(39) + '!A1:C2', safe='')}",
            params={"valueRenderOption": option, "dateTimeRenderOption": "FORMATTED_STRING"},
        )
    call("GET", f"{values}/{quote('Dữ liệu!A1:C3', safe='')}", params={"majorDimension": "COLUMNS"})
    call("GET", f"{values}/{quote('Hướng dẫn!F30:G31', safe='')}")  # empty: no "values"
    call(
        "GET",
        f"{values}:batchGet",
        params={
            "ranges": ["'Hướng dẫn'!A1:B2", "'Dữ liệu'!2:1000"],
            "valueRenderOption": "UNFORMATTED_VALUE",
        },
    )
    call("GET", f"{values}:batchGet")
    call(
        "PUT",
        f"{values}/{quote('Hướng dẫn!A3', safe='')}",
        params={"valueInputOption": "USER_ENTERED", "includeValuesInResponse": "true"},
        body={
            "range": "'Hướng dẫn'!A3",
            "majorDimension": "ROWS",
            "values": [["Số lượt", "340", "=B3/2"]],
        },
    )
    call(
        "POST",
        f"{values}:batchUpdate",
        body={
            "valueInputOption": "RAW",
            "includeValuesInResponse": True,
            "data": [
                {"range": "'Hướng dẫn'!D1:E2", "values": [["a", 1], ["b", True]]},
                {"range": "'Dữ liệu'!E1", "majorDimension": "COLUMNS", "values": [["c", "d"]]},
            ],
        },
    )
    call(
        "POST",
        f"{values}/{quote('Hướng dẫn!A1:B1', safe='')}:append",
        params={
            "valueInputOption": "USER_ENTERED",
            "insertDataOption": "INSERT_ROWS",
            "includeValuesInResponse": "true",
        },
        body={"values": [["Số đội", "3"]]},
    )
    call(
        "POST",
        f"{values}/{quote('Hướng dẫn!H1', safe='')}:append",
        params={"valueInputOption": "RAW"},
        body={"values": [["mới"]]},
    )
    call("POST", f"{values}/{quote('Hướng dẫn!D1:E2', safe='')}:clear", body={})
    call("POST", f"{values}:batchClear", body={"ranges": ["'Dữ liệu'!E1:E2", "'Hướng dẫn'!H1"]})
    return kinds


def drive_calls(call: Recorder) -> None:
    """Every Drive route: folders and spreadsheets, shared, edited by two people, listed."""
    folder = call(
        "POST",
        "/drive/v3/files",
        params={"fields": "*"},
        body={"name": "Kỳ 2026-06", "mimeType": FOLDER_MIME, "description": "Báo cáo tháng 6"},
    )
    sheet = call(
        "POST",
        "/drive/v3/files",
        params={"fields": "*"},
        body={
            "name": "Xã A",
            "mimeType": "application/vnd.google-apps.spreadsheet",
            "parents": [folder["id"]],
            "appProperties": {"unit": "xa-a"},
            "properties": {"ky": "2026-06"},
            "starred": True,
        },
    )
    fid = sheet["id"]
    files = f"/drive/v3/files/{fid}"
    call(
        "PUT",
        f"/v4/spreadsheets/{fid}/values/A1",
        params={"valueInputOption": "RAW"},
        body={"values": [["sửa"]]},
        user="can-bo.xa-a@tonghop.example",
    )
    call("GET", files)
    call("GET", files, params={"fields": "*"})
    call(
        "GET",
        files,
        params={"fields": "id,version,lastModifyingUser(displayName,emailAddress),size,owners"},
    )
    call("GET", files, params={"fields": "*"}, user="can-bo.xa-a@tonghop.example")
    call(
        "PATCH",
        files,
        params={"fields": "*", "addParents": "0AEmulatorRootFolderUk9PVA"},
        body={
            "name": "Xã A (đã nhận)",
            "description": "đã nhận",
            "appProperties": {"received": "1"},
        },
    )
    call("POST", f"{files}/copy", params={"fields": "*"}, body={"name": "Xã A (bản sao)"})
    call("GET", "/drive/v3/files")
    call("GET", "/drive/v3/files", params={"fields": "*", "pageSize": 2})
    call(
        "GET",
        "/drive/v3/files",
        params={
            "q": f"'{folder['id']}' in parents and trashed = false",
            "fields": "nextPageToken,files(*)",
            "orderBy": "modifiedTime desc",
        },
    )
    call("GET", f"{files}/export", params={"mimeType": XLSX_MIME})
    call("GET", f"{files}/export", params={"mimeType": "text/csv"})
    call("GET", f"{files}/comments", params={"fields": "*"})
    call("GET", f"{files}/revisions")
    call("GET", f"{files}/revisions", params={"fields": "*"}, user="can-bo.xa-a@tonghop.example")
    call("GET", f"{files}/revisions", params={"fields": "*", "pageSize": 1})
    user = call(
        "POST",
        f"{files}/permissions",
        params={"fields": "*"},
        body={"type": "user", "role": "writer", "emailAddress": "can-bo.xa-a@tonghop.example"},
    )
    call(
        "POST",
        f"{files}/permissions",
        params={"fields": "*"},
        body={"type": "domain", "role": "reader", "domain": "tonghop.example"},
    )
    call(
        "POST",
        f"{files}/permissions",
        body={"type": "anyone", "role": "reader", "allowFileDiscovery": False},
    )
    call("GET", f"{files}/permissions")
    call("GET", f"{files}/permissions", params={"fields": "*", "pageSize": 2})
    call("GET", f"{files}/permissions/{user['id']}")
    call("GET", f"{files}/permissions/{user['id']}", params={"fields": "*"})
    call(
        "PATCH",
        f"{files}/permissions/{user['id']}",
        params={"fields": "*"},
        body={"role": "commenter"},
    )
    call("DELETE", f"{files}/permissions/{user['id']}", expect=204)
    call("PATCH", f"/drive/v3/files/{folder['id']}", params={"fields": "*"}, body={"trashed": True})
    call("GET", f"/drive/v3/files/{folder['id']}", params={"fields": "*"})
    call("DELETE", f"/drive/v3/files/{folder['id']}", expect=204)


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    with EmulatorServer(tmp_path_factory.mktemp("fidelity")) as server:
        call = Recorder(server)
        kinds = sheets_calls(call)
        drive_calls(call)
        yield call, kinds


def test_the_calls_cover_every_route_and_every_batch_update_request(recorded):
    call, kinds = recorded
    assert set(call.answers) == set(ROUTE_KEYS)
    assert kinds == set(HANDLERS)


@pytest.mark.parametrize("key", ROUTE_KEYS)
def test_each_answer_has_the_response_shape_of_the_discovery_document(recorded, key):
    call, _ = recorded
    method, doc = METHODS[discovery_id(key)], document_of(key)
    answers = call.answers[key]
    assert answers, f"{key} was not called"
    problems = []
    for label, response in answers:
        if "response" not in method:  # files.delete, permissions.delete, files.export
            if method["id"] == "drive.files.export":
                assert not response.headers["Content-Type"].startswith("application/json"), label
                assert response.content, label
            else:
                assert (response.status_code, response.content) == (204, b""), label
            continue
        assert response.headers["Content-Type"].startswith("application/json"), label
        problems += [f"{label}: {p}" for p in conform(response.json(), method["response"], doc)]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    "key", sorted({k for k in ROUTE_KEYS if "request" in METHODS[discovery_id(k)]})
)
def test_the_requests_sent_are_googles_requests(recorded, key):
    """The representative calls themselves are what Google's document describes (so the answers
    above are answers to real requests)."""
    call, _ = recorded
    method, doc = METHODS[discovery_id(key)], document_of(key)
    problems = []
    for endpoint, label, body in call.requests:
        if endpoint == key:
            problems += [f"{label}: {p}" for p in conform(body, method["request"], doc)]
    assert not problems, "\n".join(problems)


# ----------------------------------------------------------------- errors
def _error_path(key: str) -> str:
    method, doc = METHODS[discovery_id(key)], document_of(key)
    template = "/" + doc["servicePath"] + method.get("flatPath", method["path"])
    unknown = {**SAMPLE_PARAMS, "spreadsheetId": "khong-ton-tai", "fileId": "khong-ton-tai"}
    return re.sub(r"\{\+?(\w+)\}", lambda m: unknown[m.group(1)], template)


#: a valid body where the emulator checks the body before the file
ERROR_BODIES = {
    "sheets.spreadsheets.sheets.copyTo": {"destinationSpreadsheetId": "khong-ton-tai-nua"},
    "drive.permissions.create": {
        "type": "user",
        "role": "reader",
        "emailAddress": "a@tonghop.example",
    },
    "drive.permissions.update": {"role": "reader"},
}


@pytest.mark.parametrize(
    "key",
    [
        k
        for k in ROUTE_KEYS
        if "{" in (METHODS[discovery_id(k)].get("flatPath") or METHODS[discovery_id(k)]["path"])
    ],
)
def test_each_route_answers_an_unknown_file_with_googles_error_shape(recorded, key):
    call, _ = recorded
    verb = next(m for m, _, k, _ in ROUTES if k == key)
    body = ERROR_BODIES.get(key, {}) if verb in ("POST", "PUT", "PATCH") else None
    params = {"valueInputOption": "RAW", "mimeType": XLSX_MIME}
    response = requests.request(verb, call.server.url + _error_path(key), params=params, json=body)
    assert response.status_code == 404, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    assert not error_shape(response.json(), 404), error_shape(response.json(), 404)


@pytest.mark.parametrize(
    "verb, path, params, body, status",
    [
        ("GET", "/values/{range}", {}, None, 400),  # a tab that does not exist
        (
            "GET",
            "/values/" + quote("Hướng dẫn!A1000:B1001", safe=""),
            {},
            None,
            400,
        ),  # past the grid
        ("GET", "/values/A1", {"valueRenderOption": "PRETTY"}, None, 400),
        ("PUT", "/values/A1", {}, {"values": [["x"]]}, 400),  # no valueInputOption
        ("POST", ":batchUpdate", {}, {"requests": [{"addChart": {"chart": {}}}]}, 400),
        ("POST", ":batchUpdate", {}, {"requests": [{"deleteSheet": {"sheetId": 9999}}]}, 400),
        ("POST", ":batchUpdate", {}, "{not json", 400),
        ("GET", "", {"fields": "sheets(properties"}, None, 400),
        ("DRIVE GET", "", {"q": "name = "}, None, 400),
        ("DRIVE GET", "", {"pageSize": "0"}, None, 400),
        ("DRIVE GET", "/{file}", {"alt": "media"}, None, 403),
        ("DRIVE PATCH", "/{file}", {}, {"parents": ["x"]}, 403),
        ("DRIVE POST", "", {}, {"name": "x.txt", "mimeType": "text/plain"}, 501),
        ("DRIVE POST", "/{file}/permissions", {}, {"type": "user", "role": "writer"}, 400),
        ("DRIVE GET", "/{file}/permissions/khong-co", {}, None, 404),
        ("DRIVE GET", "/{file}/export", {"mimeType": "application/pdf"}, None, 501),
    ],
)
def test_refusals_have_googles_error_shape(recorded, verb, path, params, body, status):
    call, _ = recorded
    server = call.server
    sheet = requests.post(
        server.url + "/v4/spreadsheets", json={"properties": {"title": "Lỗi"}}
    ).json()
    sid = sheet["spreadsheetId"]
    if verb.startswith("DRIVE "):
        verb, url = verb.split()[1], f"{server.url}/drive/v3/files{path.replace('{file}', sid)}"
    else:
        path = path.replace("{range}", quote("'Không có'!A1", safe=""))
        url = f"{server.url}/v4/spreadsheets/{sid}{path}"
    data = body if isinstance(body, str) else (json.dumps(body) if body is not None else None)
    response = requests.request(
        verb, url, params=params, data=data, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == status, response.text
    assert not error_shape(response.json(), status), error_shape(response.json(), status)


def test_the_checker_finds_what_google_would_not_answer():
    """The checker itself: unknown keys, wrong types and int64 given as numbers are caught."""
    file_schema = {"$ref": "File"}
    assert (
        conform({"kind": "drive#file", "id": "1", "version": "7", "size": "10"}, file_schema, DRIVE)
        == []
    )
    assert conform({"version": 7}, file_schema, DRIVE) == ["$.version: 7 is not a string (int64)"]
    assert conform({"kind": "drive#folder"}, file_schema, DRIVE) == [
        "$.kind: 'drive#folder', not 'drive#file'"
    ]
    assert conform({"owners": [{"emailAddress": "a@b", "colour": "x"}]}, file_schema, DRIVE) == [
        "$.owners[0].colour: not a property of User"
    ]
    assert conform({"modifiedTime": "hôm qua"}, file_schema, DRIVE) == [
        "$.modifiedTime: 'hôm qua' is not an RFC 3339 time"
    ]
    assert conform({"appProperties": {"a": 1}}, file_schema, DRIVE) == [
        "$.appProperties['a']: 1 is not a string (string)"
    ]
    sheet_schema = {"$ref": "SheetProperties"}
    assert conform({"sheetId": True, "sheetType": "TABLE"}, sheet_schema, SHEETS) == [
        "$.sheetId: True is not an integer",
        "$.sheetType: 'TABLE' is not one of "
        + str(SHEETS["schemas"]["SheetProperties"]["properties"]["sheetType"]["enum"]),
    ]
    assert (
        error_shape({"error": {"code": 400, "message": "x", "status": "INVALID_ARGUMENT"}}, 400)
        == []
    )
    assert error_shape({"error": {"code": 400, "message": "x"}}, 400) == [
        "status None is not a google.rpc.Code name"
    ]
