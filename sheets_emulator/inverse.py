"""Sheets ``Spreadsheet`` JSON -> model / openpyxl Workbook (the inverse of resource.py).

Used by ``POST /v4/spreadsheets`` and offered publicly: build an .xlsx from
the JSON a client would send or from what ``spreadsheets.get`` returned.
A number whose ``formattedValue`` looks like a vi_VN date ("20/6/2026",
"20/6/2026 14:05:00") comes back as a date/datetime, so our own output
round-trips.  ``userEnteredFormat`` and the row/column metadata (pixelSize,
hiddenByUser) are kept; a format the emulator cannot store raises ValueError.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from openpyxl.workbook.workbook import Workbook

from .a1 import Rect, rect_from_grid_range
from .formats import normalize_format
from .model import (
    DEFAULT_COL_PX,
    DEFAULT_COLS,
    DEFAULT_LOCALE,
    DEFAULT_ROW_PX,
    DEFAULT_ROWS,
    DEFAULT_TIME_ZONE,
    SheetModel,
    WorkbookModel,
)
from .validation import normalize_rule
from .values import EPOCH, Formula, from_extended_value
from .xlsx_grid import model_to_workbook

_DATE_TEXT = re.compile(r"^\d{1,2}/\d{1,2}/\d{4}$")
_DATETIME_TEXT = re.compile(r"^\d{1,2}/\d{1,2}/\d{4} \d{1,2}:\d{2}:\d{2}$")


def cell_value(cell: dict[str, Any]) -> Any:
    """In: a CellData dict. Out: the model value it stands for."""
    value = from_extended_value(cell.get("userEnteredValue"))
    if isinstance(value, Formula):
        effective = cell.get("effectiveValue")
        if effective:
            value.cached = cell_value(
                {"userEnteredValue": effective, "formattedValue": cell.get("formattedValue")}
            )
        return value
    text = cell.get("formattedValue") or ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if _DATETIME_TEXT.match(text):
            return (EPOCH + dt.timedelta(days=float(value))).replace(microsecond=0)
        if _DATE_TEXT.match(text):
            return (EPOCH + dt.timedelta(days=int(value))).date()
    return value


def _dimension_metadata(sheet: SheetModel, rows: bool, start: int, items: list) -> None:
    """Store non-default pixelSize / hiddenByUser of DimensionProperties ``items`` from ``start``."""
    sizes, hidden = (
        (sheet.row_heights, sheet.hidden_rows) if rows else (sheet.col_widths, sheet.hidden_cols)
    )
    default = DEFAULT_ROW_PX if rows else DEFAULT_COL_PX
    for i, props in enumerate(items, start):
        if (props or {}).get("pixelSize") and int(props["pixelSize"]) != default:
            sizes[i] = int(props["pixelSize"])
        if (props or {}).get("hiddenByUser"):
            hidden.add(i)


def _sheet_from_json(data: dict[str, Any], index: int, model: WorkbookModel) -> SheetModel:
    props = data.get("properties") or {}
    grid = props.get("gridProperties") or {}
    title = props.get("title") or f"Sheet{index + 1}"
    sheet_id = props.get("sheetId")
    sheet = SheetModel(
        sheet_id=int(sheet_id)
        if sheet_id is not None
        else (0 if index == 0 else model.new_sheet_id(title)),
        title=title,
        row_count=int(grid.get("rowCount") or DEFAULT_ROWS),
        col_count=int(grid.get("columnCount") or DEFAULT_COLS),
        frozen_rows=int(grid.get("frozenRowCount") or 0),
        frozen_cols=int(grid.get("frozenColumnCount") or 0),
        hidden=bool(props.get("hidden")),
    )
    for block in data.get("data") or []:
        r0, c0 = int(block.get("startRow") or 0), int(block.get("startColumn") or 0)
        for i, row in enumerate(block.get("rowData") or []):
            for j, cell in enumerate((row or {}).get("values") or []):
                r, c = r0 + i, c0 + j
                sheet.row_count = max(sheet.row_count, r + 1)
                sheet.col_count = max(sheet.col_count, c + 1)
                sheet.set(r, c, cell_value(cell or {}))
                if cell and cell.get("note"):
                    sheet.notes[(r, c)] = cell["note"]
                if cell and cell.get("dataValidation"):
                    sheet.set_validation(
                        Rect(r, r + 1, c, c + 1), normalize_rule(cell["dataValidation"])
                    )
                fmt = normalize_format((cell or {}).get("userEnteredFormat"))
                if fmt:
                    sheet.formats[(r, c)] = fmt
        for rows, key, start in ((True, "rowMetadata", r0), (False, "columnMetadata", c0)):
            _dimension_metadata(sheet, rows, start, block.get(key) or [])
    sheet.merges = [rect_from_grid_range(m) for m in data.get("merges") or []]
    sheet.protected_ranges = [dict(p) for p in data.get("protectedRanges") or []]
    sheet.basic_filter = data.get("basicFilter")
    return sheet


def spreadsheet_resource_to_model(
    resource: dict[str, Any],
    locale: str = DEFAULT_LOCALE,
    time_zone: str = DEFAULT_TIME_ZONE,
) -> WorkbookModel:
    """In: Spreadsheet JSON (as sent to create, or as get returned), the locale and time zone
    it gets when its properties name none. Out: a model."""
    props = resource.get("properties") or {}
    model = WorkbookModel(
        title=props.get("title") or "Untitled spreadsheet",
        locale=props.get("locale") or locale,
        time_zone=props.get("timeZone") or time_zone,
    )
    for index, data in enumerate(resource.get("sheets") or []):
        sheet = _sheet_from_json(data, index, model)
        if model.sheet_by_id(sheet.sheet_id) is not None:
            raise ValueError(f"duplicate sheetId {sheet.sheet_id}")
        if model.sheet_by_title(sheet.title) is not None:
            raise ValueError(f'A sheet with the name "{sheet.title}" already exists.')
        model.sheets.append(sheet)
    if not model.sheets:
        model.sheets.append(SheetModel(sheet_id=0, title="Sheet1"))
    return model


def spreadsheet_resource_to_workbook(resource: dict[str, Any]) -> Workbook:
    """In: Spreadsheet JSON. Out: an openpyxl Workbook (with emulator metadata)."""
    return model_to_workbook(spreadsheet_resource_to_model(resource))
