"""Writing to Google Sheets: a tab of the report layout (:class:`sheets.layout.TabSpec`)
rendered as ``spreadsheets.batchUpdate`` requests, and the few write calls the project makes
(create a spreadsheet, batchUpdate, share, read its sheets' properties), counted by endpoint.

Used by provisioning (``ingest.provision``) and by the units' "Kết quả kiểm tra" tabs
(``publish.unit_feedback``).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal
from typing import Any

from gspread.urls import DRIVE_FILES_API_V3_URL, SPREADSHEET_BATCH_UPDATE_URL
from openpyxl.utils.cell import range_boundaries

from sheets import layout
from sheets.client import SPREADSHEET_MIME
from sheets.layout import TabSpec

PIXELS_PER_CHAR = 7
PIXELS_PER_LINE = 21  # one line of text: Sheets' default row (10-point Arial)
HEADER_BACKGROUND = {"red": 0xDD / 255, "green": 0xEB / 255, "blue": 0xF7 / 255}  # DDEBF7
INPUT_BACKGROUND = {"red": 1.0, "green": 0xF9 / 255, "blue": 0xE5 / 255}  # FFF9E5
TITLE_FONT_SIZE = 13
#: an input cell keeps what the unit types, as typed ("1.200", "0912345678", "1/4"): Sheets
#: interprets nothing, the pipeline reads the text (tonghop.vn) — except a date cell, which
#: Sheets reads in the spreadsheet's locale (vi_VN: day/month/year) and shows day/month/year
TEXT_FORMAT = {"type": "TEXT", "pattern": "@"}
DATE_FORMAT = {"type": "DATE", "pattern": "d/m/yyyy"}

# endpoint names as the emulator counts them
CREATE = "drive.files.create"
UPDATE = "drive.files.update"
BATCH_UPDATE = "sheets.spreadsheets.batchUpdate"
SHARE = "drive.permissions.create"
GET = "sheets.spreadsheets.get"
LIST = "drive.files.list"
#: what provisioning reads of a sheet it updates in place
READ_CELLS_FIELDS = (
    "properties(title),sheets(properties(sheetId,title,gridProperties(rowCount,columnCount)),"
    "data(startRow,startColumn,rowData(values(userEnteredValue,formattedValue))))"
)


# ---------------------------------------------------------------------------- requests
def spreadsheet_settings_request() -> dict:
    """The request that gives a spreadsheet our locale and time zone (a new spreadsheet has
    its creator's: en_US for a service account, which reads "1.200" as 1.2 and "1/4/2026" as
    4 January). Values already in the spreadsheet stay as they are."""
    return {
        "updateSpreadsheetProperties": {
            "properties": {
                "locale": layout.SPREADSHEET_LOCALE,
                "timeZone": layout.SPREADSHEET_TIME_ZONE,
            },
            "fields": "locale,timeZone",
        }
    }


def grid_range(sheet_id: int, ref: str) -> dict[str, int]:
    """A1 ('B7', 'G2:G9') → GridRange (0-based, end exclusive)."""
    min_col, min_row, max_col, max_row = range_boundaries(ref)
    return {
        "sheetId": sheet_id,
        "startRowIndex": min_row - 1,
        "endRowIndex": max_row,
        "startColumnIndex": min_col - 1,
        "endColumnIndex": max_col,
    }


def cell_value(value: Any) -> dict[str, Any]:
    """A Python value → CellData; text is always a stringValue (never a formula)."""
    if value is None:
        return {}
    if isinstance(value, bool):
        extended = {"boolValue": value}
    elif isinstance(value, (int, float, Decimal)):
        extended = {"numberValue": float(value) if isinstance(value, Decimal) else value}
    elif isinstance(value, dt.date):
        extended = {"stringValue": layout.vi_date(value)}
    else:
        extended = {"stringValue": str(value)}
    return {"userEnteredValue": extended}


def tab_requests(
    tab: TabSpec,
    sheet_id: int,
    *,
    first: bool = False,
    service_account: str | None = None,
    unit_editor: str | None = None,
) -> list[dict]:
    """The batchUpdate requests that render ``tab`` as sheet ``sheet_id``.

    ``first``: the tab is the spreadsheet's existing first sheet (updated, not added).
    ``unit_editor``: besides protecting every cell but the input ranges, protect the input
    ranges too so only this email (and the service account) may edit them — for a tab in a
    spreadsheet shared with many units.
    """
    n_rows = max(len(tab.rows), tab.frozen_rows + 1, 1)
    n_cols = max(max((len(r) for r in tab.rows), default=1), len(tab.column_widths), 1)
    properties = {
        "sheetId": sheet_id,
        "title": tab.title,
        "gridProperties": {
            "rowCount": n_rows,
            "columnCount": n_cols,
            "frozenRowCount": tab.frozen_rows,
        },
    }
    whole = {
        "sheetId": sheet_id,
        "startRowIndex": 0,
        "endRowIndex": n_rows,
        "startColumnIndex": 0,
        "endColumnIndex": n_cols,
    }
    requests: list[dict] = []
    if first:
        requests.append(
            {
                "updateSheetProperties": {
                    "properties": properties,
                    "fields": "title,gridProperties(rowCount,columnCount,frozenRowCount)",
                }
            }
        )
    else:
        requests.append({"addSheet": {"properties": properties}})
    requests.append(
        {
            "updateCells": {
                "start": {"sheetId": sheet_id, "rowIndex": 0, "columnIndex": 0},
                "rows": [{"values": [cell_value(v) for v in row]} for row in tab.rows],
                "fields": "userEnteredValue",
            }
        }
    )
    if tab.wrap:
        wrapped = whole
        if tab.wrap_rows:
            start, end = tab.wrap_rows
            wrapped = {**whole, "startRowIndex": start, "endRowIndex": min(end, n_rows)}
        requests.append(
            {
                "repeatCell": {
                    "range": wrapped,
                    "cell": {
                        "userEnteredFormat": {"wrapStrategy": "WRAP", "verticalAlignment": "TOP"}
                    },
                    "fields": "userEnteredFormat(wrapStrategy,verticalAlignment)",
                }
            }
        )
    for r in tab.header_rows:
        requests.append(
            {
                "repeatCell": {
                    "range": {**whole, "startRowIndex": r, "endRowIndex": r + 1},
                    "cell": {
                        "userEnteredFormat": {
                            "backgroundColor": HEADER_BACKGROUND,
                            "textFormat": {"bold": True},
                            "horizontalAlignment": "CENTER",
                            "verticalAlignment": "MIDDLE",
                            "wrapStrategy": "WRAP",
                        }
                    },
                    "fields": "userEnteredFormat(backgroundColor,textFormat.bold,horizontalAlignment,"
                    "verticalAlignment,wrapStrategy)",
                }
            }
        )
    for r in tab.title_rows:
        requests.append(
            {
                "repeatCell": {
                    "range": {
                        **whole,
                        "startRowIndex": r,
                        "endRowIndex": r + 1,
                        "endColumnIndex": 1,
                    },
                    "cell": {
                        "userEnteredFormat": {
                            "textFormat": {"bold": True, "fontSize": TITLE_FONT_SIZE}
                        }
                    },
                    "fields": "userEnteredFormat(textFormat.bold,textFormat.fontSize)",
                }
            }
        )
    for r in tab.bold_rows:
        requests.append(
            {
                "repeatCell": {
                    "range": {**whole, "startRowIndex": r, "endRowIndex": r + 1},
                    "cell": {"userEnteredFormat": {"textFormat": {"bold": True}}},
                    "fields": "userEnteredFormat.textFormat.bold",
                }
            }
        )
    for ref in tab.input_ranges:
        requests.append(
            {
                "repeatCell": {
                    "range": grid_range(sheet_id, ref),
                    "cell": {
                        "userEnteredFormat": {
                            "backgroundColor": INPUT_BACKGROUND,
                            "numberFormat": TEXT_FORMAT,
                        }
                    },
                    "fields": "userEnteredFormat(backgroundColor,numberFormat)",
                }
            }
        )
    # a cell that must hold a number is not plain text: its format is automatic, so Sheets reads
    # what the unit types by the spreadsheet's locale (vi_VN: "1.200" is 1200, "12,5" is 12.5)
    # and the strict number rule then judges a number — in a plain-text cell even "1200" is
    # text, refused by that rule
    for rule in tab.rules:
        if rule.kind == layout.NUMBER:
            requests.append(
                {
                    "repeatCell": {
                        "range": grid_range(sheet_id, rule.ref),
                        "cell": {"userEnteredFormat": {}},
                        "fields": "userEnteredFormat.numberFormat",
                    }
                }
            )
    for ref in tab.date_ranges:
        requests.append(
            {
                "repeatCell": {
                    "range": grid_range(sheet_id, ref),
                    "cell": {"userEnteredFormat": {"numberFormat": DATE_FORMAT}},
                    "fields": "userEnteredFormat.numberFormat",
                }
            }
        )
    for c, width in enumerate(tab.column_widths):
        if width:
            requests.append(column_width_request(sheet_id, c, int(round(width * PIXELS_PER_CHAR))))
    for ref in tab.merges:
        requests.append(
            {"mergeCells": {"range": grid_range(sheet_id, ref), "mergeType": "MERGE_ALL"}}
        )
        requests.append(
            {
                "repeatCell": {
                    "range": grid_range(sheet_id, ref),
                    "cell": {
                        "userEnteredFormat": {"wrapStrategy": "WRAP", "verticalAlignment": "TOP"}
                    },
                    "fields": "userEnteredFormat(wrapStrategy,verticalAlignment)",
                }
            }
        )
    for r, lines in sorted(tab.row_lines.items()):
        requests.append(
            {
                "updateDimensionProperties": {
                    "range": {
                        "sheetId": sheet_id,
                        "dimension": "ROWS",
                        "startIndex": r,
                        "endIndex": r + 1,
                    },
                    "properties": {"pixelSize": PIXELS_PER_LINE * lines + 4},
                    "fields": "pixelSize",
                }
            }
        )
    requests += validation_requests(tab, sheet_id)
    requests.append(
        {
            "addProtectedRange": {
                "protectedRange": _protected(
                    {"sheetId": sheet_id},
                    f"{tab.title}: chỉ sửa các ô cần điền",
                    [service_account] if service_account else [],
                    unprotected=[grid_range(sheet_id, ref) for ref in tab.input_ranges],
                )
            }
        }
    )
    if unit_editor:
        editors = [unit_editor] + ([service_account] if service_account else [])
        for ref in tab.input_ranges:
            requests.append(
                {
                    "addProtectedRange": {
                        "protectedRange": _protected(
                            grid_range(sheet_id, ref), f"{tab.title}: ô do đơn vị điền", editors
                        )
                    }
                }
            )
    return requests


def choice_rule(options: list[str], hint: str) -> dict:
    """A strict drop-down: only a value of the list is accepted (Sheets refuses any other and
    shows the hint)."""
    return {
        "condition": {
            "type": "ONE_OF_LIST",
            "values": [{"userEnteredValue": o} for o in options],
        },
        "inputMessage": hint,
        "strict": True,
        "showCustomUi": True,
    }


def input_rule(rule: layout.InputRule) -> dict:
    """A number (≥ 0) or date rule with its hint. A strict rule is refused when broken: a
    figure that is not a number (“5 buổi”, “nhiều”, “-3”) — how a typed number is read is the
    spreadsheet's locale, the same for every unit of the file. A date rule only marks a
    wrong value: a date typed as text is still read (``tonghop.vn.read_date``) and reported."""
    if rule.kind == layout.NUMBER:
        condition = {"type": "NUMBER_GREATER_THAN_EQ", "values": [{"userEnteredValue": "0"}]}
    elif rule.kind == layout.DATE:
        condition = {"type": "DATE_IS_VALID"}
    else:
        raise ValueError(f"unknown input rule kind {rule.kind!r}")
    return {"condition": condition, "inputMessage": rule.hint, "strict": rule.strict}


def validation_requests(tab: TabSpec, sheet_id: int) -> list[dict]:
    """The setDataValidation requests of a tab: its drop-downs, then its number and date rules
    (the same lists, hints and strictness as the .xlsx template, ``sheets.template``)."""
    requests = [
        {
            "setDataValidation": {
                "range": grid_range(sheet_id, ref),
                "rule": choice_rule(
                    options, tab.choice_hints.get(ref) or layout.choice_hint(options)
                ),
            }
        }
        for ref, options in tab.choices
    ]
    requests += [
        {"setDataValidation": {"range": grid_range(sheet_id, rule.ref), "rule": input_rule(rule)}}
        for rule in tab.rules
    ]
    return requests


def column_width_request(sheet_id: int, column: int, pixels: int) -> dict:
    """The request that sets one column's width (0-based ``column``) in pixels."""
    return {
        "updateDimensionProperties": {
            "range": {
                "sheetId": sheet_id,
                "dimension": "COLUMNS",
                "startIndex": column,
                "endIndex": column + 1,
            },
            "properties": {"pixelSize": pixels},
            "fields": "pixelSize",
        }
    }


def _protected(
    range_: dict, description: str, editors: list[str], unprotected: list[dict] | None = None
) -> dict:
    out: dict[str, Any] = {"range": range_, "description": description, "warningOnly": False}
    if unprotected:
        out["unprotectedRanges"] = unprotected
    if editors:
        out["editors"] = {"users": editors}
    return out


# ---------------------------------------------------------------------------- API calls
def client_account_email(client) -> str | None:
    """The service account's e-mail the client authenticates as; against the emulator, the
    account it says it is (``X-Emulator-User``), None for the emulator's default user."""
    http_client = getattr(client, "http_client", None)
    auth = getattr(http_client, "auth", None)
    email = getattr(auth, "service_account_email", None)
    if not email:
        headers = getattr(getattr(http_client, "session", None), "headers", None) or {}
        email = headers.get("X-Emulator-User")
    return email or None


class SheetsApi:
    """The few write calls we make (provisioning, the units' check tabs), counted by endpoint."""

    def __init__(self, client, service_account: str | None):
        self.client = client
        self.http = client.http_client
        self.service_account = service_account
        self.calls: Counter[str] = Counter()

    def create(self, title: str, app_properties: dict[str, str]) -> str:
        """A new spreadsheet with its appProperties, in one Drive call (its first sheet has
        sheetId 0)."""
        self.calls[CREATE] += 1
        body = {"name": title, "mimeType": SPREADSHEET_MIME, "appProperties": app_properties}
        response = self.http.request(
            "post",
            DRIVE_FILES_API_V3_URL,
            json=body,
            params={"supportsAllDrives": True, "fields": "id"},
        )
        return response.json()["id"]

    def batch_update(self, spreadsheet_id: str, requests: list[dict]) -> dict:
        self.calls[BATCH_UPDATE] += 1
        response = self.http.request(
            "post", SPREADSHEET_BATCH_UPDATE_URL % spreadsheet_id, json={"requests": requests}
        )
        return response.json()

    def mark(self, spreadsheet_id: str, app_properties: dict[str, str]) -> None:
        """Add ``app_properties`` to the file's (the others stay), in one Drive call."""
        self.calls[UPDATE] += 1
        self.http.request(
            "patch",
            f"{DRIVE_FILES_API_V3_URL}/{spreadsheet_id}",
            json={"appProperties": app_properties},
            params={"supportsAllDrives": True, "fields": "id"},
        )

    def trash(self, spreadsheet_id: str) -> None:
        """Move the file to Drive's trash (one Drive call; it can be restored from there)."""
        self.calls[UPDATE] += 1
        self.http.request(
            "patch",
            f"{DRIVE_FILES_API_V3_URL}/{spreadsheet_id}",
            json={"trashed": True},
            params={"supportsAllDrives": True, "fields": "id"},
        )

    def share(self, spreadsheet_id: str, email: str) -> None:
        self.calls[SHARE] += 1
        self.client.insert_permission(
            spreadsheet_id, email, perm_type="user", role="writer", notify=False
        )

    def read_cells(self, spreadsheet_id: str) -> dict:
        """The spreadsheet's title, its tabs' properties and typed values (one
        spreadsheets.get): what provisioning compares before writing a catalogue change in
        place."""
        self.calls[GET] += 1
        return self.http.fetch_sheet_metadata(
            spreadsheet_id, params={"includeGridData": "true", "fields": READ_CELLS_FIELDS}
        )

    def sheet_properties(self, spreadsheet_id: str) -> list[dict]:
        self.calls[GET] += 1
        meta = self.http.fetch_sheet_metadata(
            spreadsheet_id, params={"fields": "sheets(properties)"}
        )
        return [s["properties"] for s in meta.get("sheets", [])]
