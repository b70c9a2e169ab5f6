"""Build the Sheets v4 ``Spreadsheet`` JSON resource from a model.

``spreadsheet_resource`` gives what ``GET /v4/spreadsheets/{id}`` returns
before any field mask is applied; ``workbook_to_spreadsheet_resource``
(public) does the same straight from an .xlsx path or openpyxl Workbook.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .a1 import Rect, intersect
from .formats import effective_format, response_format
from .locales import locale_rules
from .model import DEFAULT_COL_PX, DEFAULT_ROW_PX, SheetModel, WorkbookModel
from .values import DEFAULT_LOCALE, Formula, cell_data, date_format
from .xlsx_grid import WorkbookSource, load_model

SPREADSHEET_URL = "https://docs.google.com/spreadsheets/d/{}/edit"


def sheet_properties(sheet: SheetModel, index: int) -> dict[str, Any]:
    """Out: the ``SheetProperties`` JSON of ``sheet`` at position ``index``."""
    grid: dict[str, Any] = {"rowCount": sheet.row_count, "columnCount": sheet.col_count}
    if sheet.frozen_rows:
        grid["frozenRowCount"] = sheet.frozen_rows
    if sheet.frozen_cols:
        grid["frozenColumnCount"] = sheet.frozen_cols
    grid.update(sheet.extra_grid_props)
    props: dict[str, Any] = {
        "sheetId": sheet.sheet_id,
        "title": sheet.title,
        "index": index,
        "sheetType": "GRID",
        "gridProperties": grid,
    }
    if sheet.hidden:
        props["hidden"] = True
    props.update(sheet.extra_props)
    return props


def dimension_metadata(sheet: SheetModel, rows: bool, start: int, end: int) -> list[dict[str, Any]]:
    """Out: ``DimensionProperties`` JSON of rows (or columns) ``start``..``end``-1."""
    sizes, hidden = (
        (sheet.row_heights, sheet.hidden_rows) if rows else (sheet.col_widths, sheet.hidden_cols)
    )
    default = DEFAULT_ROW_PX if rows else DEFAULT_COL_PX
    out = []
    for i in range(start, end):
        props: dict[str, Any] = {"hiddenByUser": True} if i in hidden else {}
        props["pixelSize"] = sizes.get(i, default)
        out.append(props)
    return out


def shown_format(fmt: dict[str, Any] | None, value: Any, locale: str) -> dict[str, Any] | None:
    """Out: the format Google reports for a cell: its stored format, and for a date, date-time
    or time value without a number format the locale's date format (a date is a serial
    number with a DATE format: what Google gives a date typed into an automatic cell)."""
    shown = value.cached if isinstance(value, Formula) else value
    if (fmt or {}).get("numberFormat") is None:
        typed = date_format(shown, locale_rules(locale))
        if typed is not None:
            return {**(fmt or {}), "numberFormat": typed}
    return fmt or None


def grid_data(sheet: SheetModel, rect: Rect, locale: str = DEFAULT_LOCALE) -> dict[str, Any]:
    """Out: the ``GridData`` JSON of ``rect`` (trailing empty cells/rows omitted), values shown
    in ``locale``.

    Formatted cells (and dates: :func:`shown_format`) carry ``userEnteredFormat`` and
    ``effectiveFormat``; every row and column of ``rect`` gets its ``rowMetadata`` /
    ``columnMetadata``.
    """
    box = rect.clamp(sheet.row_count, sheet.col_count)
    rules = [
        (inter, rule) for r, rule in sheet.validations if (inter := intersect(r, box)) is not None
    ]
    notes = {k: v for k, v in sheet.notes.items() if box.contains(*k)}
    formats = {k: v for k, v in sheet.formats.items() if box.contains(*k)}
    last_row = box.r0
    for r in range(box.r0, min(box.r1, len(sheet.rows))):
        if any(v is not None for v in sheet.rows[r][box.c0 : box.c1]):
            last_row = r + 1
    for r, _ in list(notes) + list(formats):
        last_row = max(last_row, r + 1)
    for inter, _ in rules:
        last_row = max(last_row, inter.r1)
    row_data: list[dict[str, Any]] = []
    for r in range(box.r0, last_row):
        line = sheet.rows[r] if r < len(sheet.rows) else []
        row_rules = [(i, rule) for i, rule in rules if i.r0 <= r < i.r1]
        values: list[dict[str, Any]] = []
        for c in range(box.c0, box.c1):
            value = line[c] if c < len(line) else None
            fmt = shown_format(formats.get((r, c)), value, locale)
            cell = cell_data(value, locale, (fmt or {}).get("numberFormat"))
            if fmt:
                cell["userEnteredFormat"] = response_format(fmt)
                cell["effectiveFormat"] = effective_format(fmt, value)
            note = notes.get((r, c))
            if note is not None:
                cell["note"] = note
            for inter, rule in reversed(row_rules):
                if inter.c0 <= c < inter.c1:
                    cell["dataValidation"] = rule
                    break
            values.append(cell)
        while values and not values[-1]:
            values.pop()
        row_data.append({"values": values} if values else {})
    out: dict[str, Any] = {"startRow": box.r0, "startColumn": box.c0}
    if row_data:
        out["rowData"] = row_data
    out["rowMetadata"] = dimension_metadata(sheet, True, box.r0, box.r1)
    out["columnMetadata"] = dimension_metadata(sheet, False, box.c0, box.c1)
    return out


def sheet_resource(
    sheet: SheetModel,
    index: int,
    data_rects: Iterable[Rect] | None = None,
    locale: str = DEFAULT_LOCALE,
) -> dict[str, Any]:
    """Out: the ``Sheet`` JSON; ``data`` holds one GridData per rect when given (values shown
    in ``locale``)."""
    out: dict[str, Any] = {"properties": sheet_properties(sheet, index)}
    if data_rects is not None:
        out["data"] = [grid_data(sheet, rect, locale) for rect in data_rects]
    if sheet.merges:
        out["merges"] = [m.to_grid_range(sheet.sheet_id) for m in sheet.merges]
    if sheet.protected_ranges:
        out["protectedRanges"] = [dict(pr) for pr in sheet.protected_ranges]
    if sheet.basic_filter:
        out["basicFilter"] = dict(sheet.basic_filter)
    return out


def spreadsheet_resource(
    model: WorkbookModel,
    spreadsheet_id: str,
    include_grid_data: bool = False,
    ranges: list[tuple[SheetModel, Rect]] | None = None,
) -> dict[str, Any]:
    """Build the Spreadsheet JSON.

    In: the model, its id, whether to include grid data and optional
    resolved ranges (only the sheets they touch are returned, in sheet order).
    Out: the resource dict, no field mask applied.
    """
    props: dict[str, Any] = {
        "title": model.title,
        "locale": model.locale,
        "timeZone": model.time_zone,
    }
    props.update(model.extra_props)
    sheets = []
    for index, sheet in enumerate(model.sheets):
        if ranges is None:
            rects = [Rect()] if include_grid_data else None
        else:
            mine = [rect for s, rect in ranges if s is sheet]
            if not mine:
                continue
            rects = mine if include_grid_data else None
        sheets.append(sheet_resource(sheet, index, rects, model.locale))
    return {
        "spreadsheetId": spreadsheet_id,
        "properties": props,
        "sheets": sheets,
        "spreadsheetUrl": SPREADSHEET_URL.format(spreadsheet_id),
    }


def workbook_to_spreadsheet_resource(
    path_or_workbook: WorkbookSource,
    spreadsheet_id: str = "local",
    title: str | None = None,
    include_grid_data: bool = True,
) -> dict[str, Any]:
    """Read an .xlsx the way Sheets would serve it.

    In: an .xlsx path or openpyxl ``Workbook``, the id to report, an
    optional title (default: the workbook's title property or file stem)
    and whether to include grid data.
    Out: exactly the JSON of ``GET /v4/spreadsheets/{id}?includeGridData=...``
    (no field mask).
    """
    model = load_model(path_or_workbook, title=title)
    return spreadsheet_resource(model, spreadsheet_id, include_grid_data=include_grid_data)
