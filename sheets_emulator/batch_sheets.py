"""batchUpdate requests about sheets and spreadsheet properties.

addSheet, deleteSheet, duplicateSheet, updateSheetProperties (title,
index, hidden, gridProperties.*, tab colour) and updateSpreadsheetProperties.
Each handler takes (model being edited, request body) and returns its reply dict or None.
"""

from __future__ import annotations

from typing import Any

from .batch_common import (
    EXTRA_GRID_PROPS,
    EXTRA_SHEET_PROPS,
    EXTRA_SPREADSHEET_PROPS,
    RequestError,
    get_path,
    handles,
    sheet_for,
)
from .fieldmask import top_level_paths
from .model import (
    DEFAULT_LOCALE,
    DEFAULT_TIME_ZONE,
    SheetModel,
    WorkbookModel,
    clone_sheet,
)
from .resource import sheet_properties


# ------------------------------------------------------------------ sheets
def _new_title(model: WorkbookModel) -> str:
    n = len(model.sheets) + 1
    while model.sheet_by_title(f"Sheet{n}") is not None:
        n += 1
    return f"Sheet{n}"


def _check_title(model: WorkbookModel, title: Any, sheet: SheetModel | None = None) -> str:
    if not isinstance(title, str) or not title.strip():
        raise RequestError("A sheet title must not be empty.")
    other = model.sheet_by_title(title)
    if other is not None and other is not sheet and other.title.casefold() == title.casefold():
        raise RequestError(
            f'A sheet with the name "{title}" already exists. Please enter another name.'
        )
    return title


def _set_grid(sheet: SheetModel, grid: dict, keys: set[str]) -> None:
    rows = int(grid.get("rowCount", sheet.row_count)) if "rowCount" in keys else sheet.row_count
    cols = (
        int(grid.get("columnCount", sheet.col_count)) if "columnCount" in keys else sheet.col_count
    )
    if rows < 1 or cols < 1:
        raise RequestError("A sheet must have at least one row and one column.")
    if (rows, cols) != (sheet.row_count, sheet.col_count):
        sheet.resize(rows, cols)
    if "frozenRowCount" in keys:
        sheet.frozen_rows = int(grid.get("frozenRowCount") or 0)
    if "frozenColumnCount" in keys:
        sheet.frozen_cols = int(grid.get("frozenColumnCount") or 0)
    if sheet.frozen_rows and sheet.frozen_rows >= sheet.row_count:
        raise RequestError("You can't freeze all visible rows on the sheet.")
    if sheet.frozen_cols and sheet.frozen_cols >= sheet.col_count:
        raise RequestError("You can't freeze all visible columns on the sheet.")
    for key in keys & EXTRA_GRID_PROPS:
        if grid.get(key) is None:
            sheet.extra_grid_props.pop(key, None)
        else:
            sheet.extra_grid_props[key] = grid[key]
    unknown = (
        keys - EXTRA_GRID_PROPS - {"rowCount", "columnCount", "frozenRowCount", "frozenColumnCount"}
    )
    if unknown:
        raise RequestError(
            f"Attempted to update unknown field(s): gridProperties.{sorted(unknown)}"
        )


def _move_sheet(model: WorkbookModel, sheet: SheetModel, index: int) -> None:
    current = model.sheets.index(sheet)
    index = max(0, min(int(index), len(model.sheets)))
    if index > current:
        index -= 1
    model.sheets.remove(sheet)
    model.sheets.insert(index, sheet)


def _check_visible(model: WorkbookModel) -> None:
    if all(s.hidden for s in model.sheets):
        raise RequestError("You can't hide all the sheets in a document.")


@handles("addSheet")
def add_sheet(model: WorkbookModel, body: dict) -> dict:
    """addSheet. In: model, request body. Out: ``{"addSheet": {"properties": ...}}``."""
    props = body.get("properties") or {}
    if props.get("sheetType", "GRID") != "GRID":
        raise RequestError("only GRID sheets are supported by sheets_emulator")
    title = _check_title(model, props["title"]) if props.get("title") else _new_title(model)
    if props.get("sheetId") is not None:
        sheet_id = int(props["sheetId"])
        if sheet_id < 0 or model.sheet_by_id(sheet_id) is not None:
            raise RequestError(f"A sheet with the id {sheet_id} already exists or is invalid.")
    else:
        sheet_id = model.new_sheet_id(f"{model.title}|{title}|{len(model.sheets)}")
    sheet = SheetModel(sheet_id=sheet_id, title=title, hidden=bool(props.get("hidden")))
    grid = props.get("gridProperties") or {}
    _set_grid(sheet, grid, set(grid))
    for key in EXTRA_SHEET_PROPS & set(props):
        sheet.extra_props[key] = props[key]
    index = props.get("index")
    index = len(model.sheets) if index is None else max(0, min(int(index), len(model.sheets)))
    model.sheets.insert(index, sheet)
    _check_visible(model)
    return {"addSheet": {"properties": sheet_properties(sheet, index)}}


@handles("deleteSheet")
def delete_sheet(model: WorkbookModel, body: dict) -> None:
    """deleteSheet (400 when it is the last sheet)."""
    sheet = sheet_for(model, body.get("sheetId"))
    if len(model.sheets) == 1:
        raise RequestError("You can't remove all the sheets in a document.")
    model.sheets.remove(sheet)
    _check_visible(model)


@handles("duplicateSheet")
def duplicate_sheet(model: WorkbookModel, body: dict) -> dict:
    """duplicateSheet. Out: ``{"duplicateSheet": {"properties": ...}}``."""
    source = sheet_for(model, body.get("sourceSheetId"))
    copy = clone_sheet(source)
    copy.protected_ranges = []
    copy.title = _check_title(
        model, body.get("newSheetName") or model.unique_title(f"Copy of {source.title}")
    )
    new_id = body.get("newSheetId")
    if new_id is not None and model.sheet_by_id(int(new_id)) is not None:
        raise RequestError(f"A sheet with the id {new_id} already exists.")
    copy.sheet_id = int(new_id) if new_id is not None else model.new_sheet_id(f"{copy.title}|dup")
    index = body.get("insertSheetIndex")
    index = (
        model.sheets.index(source) + 1
        if index is None
        else max(0, min(int(index), len(model.sheets)))
    )
    model.sheets.insert(index, copy)
    return {"duplicateSheet": {"properties": sheet_properties(copy, index)}}


@handles("updateSheetProperties")
def update_sheet_properties(model: WorkbookModel, body: dict) -> None:
    """updateSheetProperties: apply the paths in ``fields`` (title, index, hidden, gridProperties.*, tab colour)."""
    props = body.get("properties") or {}
    sheet = sheet_for(model, props.get("sheetId", 0))
    fields = body.get("fields")
    if not fields:
        raise RequestError("At least one field must be specified in 'fields'.")
    paths = top_level_paths(fields)
    if paths == [["*"]]:
        paths = [[k] for k in props if k not in ("sheetId", "sheetType")]
    grid_keys: set[str] = set()
    for path in paths:
        head = path[0]
        present, value = get_path(props, path)
        if head == "title":
            sheet.title = _check_title(model, value, sheet)
        elif head == "index":
            _move_sheet(model, sheet, value if present else len(model.sheets))
        elif head == "hidden":
            sheet.hidden = bool(value)
        elif head == "gridProperties":
            grid_keys |= set(props.get("gridProperties") or {}) if len(path) == 1 else {path[1]}
        elif head in EXTRA_SHEET_PROPS:
            if value is None:
                sheet.extra_props.pop(head, None)
            else:
                sheet.extra_props[head] = value
        else:
            raise RequestError(f"Attempted to update unknown or read-only field: {'.'.join(path)}")
    if grid_keys:
        _set_grid(sheet, props.get("gridProperties") or {}, grid_keys)
    _check_visible(model)


@handles("updateSpreadsheetProperties")
def update_spreadsheet_properties(model: WorkbookModel, body: dict) -> None:
    """updateSpreadsheetProperties: title (also the Drive name), locale, timeZone."""
    props = body.get("properties") or {}
    fields = body.get("fields")
    if not fields:
        raise RequestError("At least one field must be specified in 'fields'.")
    paths = top_level_paths(fields)
    if paths == [["*"]]:
        paths = [[k] for k in props]
    for path in paths:
        head = path[0]
        value = props.get(head)
        if head == "title":
            if not value:
                raise RequestError("The spreadsheet title must not be empty.")
            model.title = str(value)
        elif head == "locale":
            model.locale = str(value or DEFAULT_LOCALE)
        elif head == "timeZone":
            model.time_zone = str(value or DEFAULT_TIME_ZONE)
        elif head in EXTRA_SPREADSHEET_PROPS:
            model.extra_props[head] = value
        else:
            raise RequestError(f"Attempted to update unknown field: {'.'.join(path)}")
