"""Shared pieces of the batchUpdate handlers: registry, errors and helpers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .a1 import Rect, rect_from_grid_range
from .fieldmask import Mask, parse_mask, top_level_paths
from .formats import check_mask, update_format
from .model import SheetModel, WorkbookModel
from .ranges import grid_error
from .validation import normalize_rule
from .values import CELL_TOO_LONG, from_extended_value, too_long

Handler = Callable[[WorkbookModel, dict], dict | None]
HANDLERS: dict[str, Handler] = {}
EXTRA_SHEET_PROPS = {"tabColor", "tabColorStyle", "rightToLeft"}
EXTRA_GRID_PROPS = {"hideGridlines", "rowGroupControlAfter", "columnGroupControlAfter"}
EXTRA_SPREADSHEET_PROPS = {
    "autoRecalc",
    "defaultFormat",
    "iterativeCalculationSettings",
    "spreadsheetTheme",
}
CELL_FIELDS = {"userEnteredValue", "userEnteredFormat", "note", "dataValidation"}
IGNORED_CELL_FIELDS = {"textFormatRuns"}


class RequestError(ValueError):
    """A problem with one request; reported as 'Invalid requests[i].kind: ...'."""


def handles(kind: str) -> Callable[[Handler], Handler]:
    """Decorator registering a handler for request ``kind``."""

    def register(fn: Handler) -> Handler:
        HANDLERS[kind] = fn
        return fn

    return register


# ------------------------------------------------------------------ helpers
def sheet_for(model: WorkbookModel, sheet_id: Any) -> SheetModel:
    """Out: the sheet with ``sheet_id`` (default 0) or RequestError."""
    sheet = model.sheet_by_id(int(sheet_id or 0))
    if sheet is None:
        raise RequestError(f"No grid with id: {sheet_id}")
    return sheet


def grid_target(model: WorkbookModel, grid_range: dict | None) -> tuple[SheetModel, Rect]:
    """In: GridRange JSON. Out: (sheet, rect bounded to the grid); 400 if outside it."""
    if grid_range is None:
        raise RequestError("range is required")
    sheet = sheet_for(model, grid_range.get("sheetId", 0))
    rect = rect_from_grid_range(grid_range)
    if (rect.r1 is not None and rect.r1 > sheet.row_count) or (
        rect.c1 is not None and rect.c1 > sheet.col_count
    ):
        raise grid_error(sheet, rect)
    return sheet, rect.clamp(sheet.row_count, sheet.col_count)


def get_path(data: dict, path: list[str]) -> tuple[bool, Any]:
    """In: a dict and a key path. Out: (present, value)."""
    node: Any = data
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return False, None
        node = node[key]
    return True, node


def cell_field_names(fields: str | None) -> set[str]:
    """In: a CellData ``fields`` mask. Out: the top-level names (400 for unsupported ones)."""
    if not fields:
        raise RequestError("At least one field must be specified in 'fields'.")
    names = {path[0] for path in top_level_paths(fields)}
    if "*" in names:
        return CELL_FIELDS | IGNORED_CELL_FIELDS
    unknown = names - CELL_FIELDS - IGNORED_CELL_FIELDS
    if unknown:
        raise RequestError(f"field(s) {sorted(unknown)} not supported by sheets_emulator")
    return names


def format_mask(fields: str) -> Mask:
    """In: a CellData ``fields`` mask. Out: its part under ``userEnteredFormat`` (None = all of it)."""
    mask = parse_mask(fields)
    sub = None if mask is None or "*" in mask else mask.get("userEnteredFormat")
    check_mask(sub)
    return sub


def apply_cell(
    sheet: SheetModel, r: int, c: int, cell: dict, fields: set[str], fmt_mask: Mask = None
) -> None:
    """Apply the ``fields`` of CellData ``cell`` to (r, c) of ``sheet``.

    ``fmt_mask``: the mask under ``userEnteredFormat`` (None = the whole format).
    """
    if r >= sheet.row_count or c >= sheet.col_count:
        raise grid_error(sheet, Rect(r, r + 1, c, c + 1))
    if "userEnteredValue" in fields:
        value = from_extended_value(cell.get("userEnteredValue"))
        if too_long(value):
            raise RequestError(CELL_TOO_LONG)
        sheet.set(r, c, value)
    if "userEnteredFormat" in fields:
        fmt = update_format(sheet.formats.get((r, c)), cell.get("userEnteredFormat"), fmt_mask)
        if fmt:
            sheet.formats[(r, c)] = fmt
        else:
            sheet.formats.pop((r, c), None)
    if "note" in fields:
        if cell.get("note"):
            sheet.notes[(r, c)] = str(cell["note"])
        else:
            sheet.notes.pop((r, c), None)
    if "dataValidation" in fields:
        rule = cell.get("dataValidation")
        sheet.set_validation(Rect(r, r + 1, c, c + 1), normalize_rule(rule) if rule else None)


def is_rows(body: dict) -> bool:
    """In: a DimensionRange-like body. Out: True for ROWS, False for COLUMNS."""
    dimension = body.get("dimension")
    if dimension not in ("ROWS", "COLUMNS"):
        raise RequestError(f"dimension must be ROWS or COLUMNS, got {dimension!r}")
    return dimension == "ROWS"


def dimension_range(model: WorkbookModel, body: dict) -> tuple[SheetModel, bool, int, int]:
    """In: DimensionRange JSON. Out: (sheet, is_rows, start, end) with defaults filled."""
    if body is None:
        raise RequestError("range is required")
    sheet = sheet_for(model, body.get("sheetId", 0))
    rows = is_rows(body)
    limit = sheet.row_count if rows else sheet.col_count
    start = int(body.get("startIndex") or 0)
    end = int(body["endIndex"]) if body.get("endIndex") is not None else limit
    if start < 0 or end < start:
        raise RequestError(f"Invalid dimension range {start}:{end}")
    return sheet, rows, start, end


def drop_none(data: dict) -> dict:
    """Out: ``data`` without keys whose value is None (recursively)."""
    return {
        k: (drop_none(v) if isinstance(v, dict) else v) for k, v in data.items() if v is not None
    }
