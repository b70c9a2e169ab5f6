"""spreadsheets.values.* : read, write, append and clear cell values.

Functions here work on a model (read) or on a private copy being edited
(write) and return Google's response JSON.  HTTP plumbing lives in
:mod:`sheets_emulator.app`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from .a1 import Rect, format_range, parse_a1, split_range
from .errors import bad_request
from .model import SheetModel, WorkbookModel
from .ranges import check_in_grid, check_read_start, check_write_fits, resolve_range, write_target
from .values import CELL_TOO_LONG, DEFAULT_LOCALE, is_date_type, parse_input, render, too_long

RENDER_OPTIONS = ("FORMATTED_VALUE", "UNFORMATTED_VALUE", "FORMULA")
DATE_OPTIONS = ("SERIAL_NUMBER", "FORMATTED_STRING")
INPUT_OPTIONS = ("RAW", "USER_ENTERED")


def _enum(value: str | None, allowed: tuple[str, ...], default: str, name: str) -> str:
    if value in (None, ""):
        return default
    if value not in allowed:
        raise bad_request(f"Invalid value at '{name}', \"{value}\"")
    return value


def major_dimension(value: str | None) -> str:
    """In: a ``majorDimension`` value. Out: ROWS or COLUMNS (400 otherwise)."""
    if value in (None, "", "DIMENSION_UNSPECIFIED"):
        return "ROWS"
    return _enum(value, ("ROWS", "COLUMNS"), "ROWS", "major_dimension")


def render_options(params: dict[str, str | None]) -> tuple[str, str]:
    """Out: validated (valueRenderOption, dateTimeRenderOption)."""
    return (
        _enum(
            params.get("valueRenderOption"),
            RENDER_OPTIONS,
            "FORMATTED_VALUE",
            "value_render_option",
        ),
        _enum(
            params.get("dateTimeRenderOption"),
            DATE_OPTIONS,
            "SERIAL_NUMBER",
            "date_time_render_option",
        ),
    )


def input_option(value: str | None) -> str:
    """Out: the validated ``valueInputOption`` (400 when missing, like Google)."""
    if value in (None, "", "INPUT_VALUE_OPTION_UNSPECIFIED"):
        raise bad_request("'valueInputOption' is required but not specified")
    return _enum(value, INPUT_OPTIONS, "RAW", "value_input_option")


def _trimmed(lines: list[list[Any]]) -> list[list[Any]]:
    out = []
    for line in lines:
        while line and line[-1] is None:
            line.pop()
        out.append(["" if v is None else v for v in line])
    while out and not out[-1]:
        out.pop()
    return out


def number_format(sheet: SheetModel, row: int, col: int) -> dict | None:
    """Out: the ``numberFormat`` of cell (row, col), None when it has none (automatic)."""
    fmt = sheet.formats.get((row, col))
    return fmt.get("numberFormat") if fmt else None


def read_values(
    sheet: SheetModel,
    rect: Rect,
    option: str,
    date_option: str,
    major: str,
    locale: str = DEFAULT_LOCALE,
) -> dict[str, Any]:
    """Out: ``{"range", "majorDimension", "values"?}`` for the part of ``rect`` inside the grid
    of ``sheet`` (callers refuse a ``rect`` that starts past it), shown in ``locale``."""
    box = rect.clamp(sheet.row_count, sheet.col_count)
    grid = []
    for r in range(box.r0, min(box.r1, len(sheet.rows))):
        line = sheet.rows[r]
        grid.append(
            [
                render(line[c], option, date_option, locale, number_format(sheet, r, c))
                for c in range(box.c0, min(box.c1, len(line)))
            ]
        )
    if major == "COLUMNS":
        width = max((len(line) for line in grid), default=0)
        grid = [[line[c] if c < len(line) else None for line in grid] for c in range(width)]
    out: dict[str, Any] = {"range": format_range(sheet.title, box), "majorDimension": major}
    values = _trimmed(grid)
    if values:
        out["values"] = values
    return out


def get_range(model: WorkbookModel, text: str, params: dict[str, str | None]) -> dict[str, Any]:
    """values.get: In: model, range text, query params. Out: a ValueRange of the range's part
    inside the grid (400 when the range starts past the grid)."""
    option, date_option = render_options(params)
    sheet, rect = resolve_range(model, text)
    check_read_start(sheet, rect, text)
    return read_values(
        sheet,
        rect,
        option,
        date_option,
        major_dimension(params.get("majorDimension")),
        model.locale,
    )


def _as_rows(values: Any, major: str) -> list[list[Any]]:
    if values is None:
        return []
    if not isinstance(values, list) or not all(isinstance(v, list) for v in values):
        raise bad_request(
            "Invalid values: expected a list of lists ('values' is a ListValue of ListValues)"
        )
    if major == "COLUMNS":
        height = max((len(col) for col in values), default=0)
        return [[col[r] if r < len(col) else None for col in values] for r in range(height)]
    return values


def write_values(
    sheet: SheetModel,
    rect: Rect,
    rows: list[list[Any]],
    option: str,
    text: str,
    grow: bool = False,
    locale: str = DEFAULT_LOCALE,
) -> dict[str, Any]:
    """Write ``rows`` with their top-left at ``rect``'s start.

    In: sheet (being edited), target rect, row-major values, valueInputOption,
    the range text (for errors), ``grow`` (enlarge the grid instead of
    failing, as append does) and the spreadsheet's locale (how USER_ENTERED
    text is read).  Out: ``{"updatedRange", "updatedRows", ...}``.
    """
    rect = write_target(text, rect)
    r0, c0 = rect.r0 or 0, rect.c0 or 0
    height = len(rows)
    width = max((len(line) for line in rows), default=0)
    check_write_fits(text, rect, height, width)
    target = Rect(r0, r0 + max(height, 1), c0, c0 + max(width, 1))
    if grow:
        sheet.row_count = max(sheet.row_count, target.r1)
        sheet.col_count = max(sheet.col_count, target.c1)
    else:
        check_in_grid(sheet, target)
    cells, touched_rows, touched_cols = 0, set(), set()
    for i, line in enumerate(rows):
        for j, raw in enumerate(line):
            current = number_format(sheet, r0 + i, c0 + j)
            skip, value, typed_format = parse_input(raw, option, locale, current)
            if skip:
                continue
            if too_long(value):
                raise bad_request(CELL_TOO_LONG)
            sheet.set(r0 + i, c0 + j, value)
            _typed_format(sheet, r0 + i, c0 + j, value, current, typed_format)
            cells += 1
            touched_rows.add(i)
            touched_cols.add(j)
    out: dict[str, Any] = {"updatedRange": format_range(sheet.title, target)}
    if cells:
        out.update(
            updatedRows=len(touched_rows), updatedColumns=len(touched_cols), updatedCells=cells
        )
    return out


def _typed_format(
    sheet: SheetModel, row: int, col: int, value: Any, current: dict | None, typed: dict | None
) -> None:
    """Give a cell the number format Google gives what was typed: a percentage or a number
    with thousands marks its format when the cell has none; a date typed into a cell with a
    number format that is not a date's drops that format (the cell then shows the date in
    the locale's automatic pattern, as Google switches it to a date)."""
    fmt = sheet.formats.get((row, col))
    if typed is not None and current is None:
        sheet.formats[(row, col)] = {**(fmt or {}), "numberFormat": typed}
    elif (
        isinstance(value, (dt.date, dt.time))
        and current is not None
        and not is_date_type(current)
        and fmt is not None
    ):
        rest = {k: v for k, v in fmt.items() if k != "numberFormat"}
        if rest:
            sheet.formats[(row, col)] = rest
        else:
            del sheet.formats[(row, col)]


def _with_data(
    out: dict[str, Any], sheet: SheetModel, params: dict[str, Any], locale: str = DEFAULT_LOCALE
) -> dict[str, Any]:
    if str(params.get("includeValuesInResponse", "")).lower() in ("true", "1"):
        _, part = split_range(out["updatedRange"])
        option, date_option = (
            _enum(params.get("responseValueRenderOption"), RENDER_OPTIONS, "FORMATTED_VALUE", "x"),
            _enum(params.get("responseDateTimeRenderOption"), DATE_OPTIONS, "SERIAL_NUMBER", "y"),
        )
        out["updatedData"] = read_values(
            sheet, parse_a1(part or "A1"), option, date_option, "ROWS", locale
        )
    return out


def update_range(
    model: WorkbookModel,
    spreadsheet_id: str,
    text: str,
    body: dict[str, Any],
    params: dict[str, Any],
) -> dict[str, Any]:
    """values.update on a model being edited. Out: the UpdateValuesResponse."""
    option = input_option(params.get("valueInputOption"))
    sheet, rect = resolve_range(model, text)
    rows = _as_rows(body.get("values"), major_dimension(body.get("majorDimension")))
    out = write_values(sheet, rect, rows, option, text, locale=model.locale)
    return {"spreadsheetId": spreadsheet_id, **_with_data(out, sheet, params, model.locale)}


def batch_update(model: WorkbookModel, spreadsheet_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """values.batchUpdate on a model being edited. Out: BatchUpdateValuesResponse."""
    option = input_option(body.get("valueInputOption"))
    params = {
        "includeValuesInResponse": body.get("includeValuesInResponse"),
        "responseValueRenderOption": body.get("responseValueRenderOption"),
        "responseDateTimeRenderOption": body.get("responseDateTimeRenderOption"),
    }
    responses, sheets = [], set()
    totals = {"totalUpdatedRows": 0, "totalUpdatedColumns": 0, "totalUpdatedCells": 0}
    for item in body.get("data") or []:
        text = item.get("range") or ""
        sheet, rect = resolve_range(model, text)
        rows = _as_rows(item.get("values"), major_dimension(item.get("majorDimension")))
        out = write_values(sheet, rect, rows, option, text, locale=model.locale)
        responses.append(
            {"spreadsheetId": spreadsheet_id, **_with_data(out, sheet, params, model.locale)}
        )
        if out.get("updatedCells"):
            sheets.add(sheet.sheet_id)
            totals["totalUpdatedRows"] += out["updatedRows"]
            totals["totalUpdatedColumns"] += out["updatedColumns"]
            totals["totalUpdatedCells"] += out["updatedCells"]
    result: dict[str, Any] = {"spreadsheetId": spreadsheet_id}
    if responses:
        result.update(totals, totalUpdatedSheets=len(sheets), responses=responses)
    return result


def _find_table(sheet: SheetModel, box: Rect) -> Rect | None:
    """Find the table values.append extends.

    Out: the first block of consecutive non-empty rows (within ``box``'s
    columns) that starts inside ``box``; it may run below ``box``.  None
    when ``box`` holds no data (then Google writes at the box's start).
    """

    def used(r: int) -> list[int]:
        line = sheet.rows[r][box.c0 : box.c1] if r < len(sheet.rows) else []
        return [j for j, v in enumerate(line) if v is not None]

    first = next((r for r in range(box.r0, min(box.r1, len(sheet.rows))) if used(r)), None)
    if first is None:
        return None
    last = first
    while last + 1 < len(sheet.rows) and used(last + 1):
        last += 1
    cols = [j for r in range(first, last + 1) for j in used(r)]
    return Rect(first, last + 1, box.c0 + min(cols), box.c0 + max(cols) + 1)


def append(
    model: WorkbookModel,
    spreadsheet_id: str,
    text: str,
    body: dict[str, Any],
    params: dict[str, Any],
) -> dict[str, Any]:
    """values.append on a model being edited. Out: AppendValuesResponse."""
    option = input_option(params.get("valueInputOption"))
    insert = params.get("insertDataOption") or "OVERWRITE"
    if insert not in ("OVERWRITE", "INSERT_ROWS"):
        raise bad_request(f"Invalid value at 'insert_data_option', \"{insert}\"")
    sheet, rect = resolve_range(model, text)
    check_in_grid(sheet, Rect(rect.r0, None, rect.c0, None))
    rows = _as_rows(body.get("values"), major_dimension(body.get("majorDimension")))
    box = rect.clamp(sheet.row_count, sheet.col_count)
    table = _find_table(sheet, box)
    if table is None:
        start = Rect(box.r0, None, box.c0, None)
    else:
        start = Rect(table.r1, None, table.c0, None)
    if insert == "INSERT_ROWS" and rows and start.r0 is not None and start.r0 < sheet.row_count:
        sheet.insert_lines(True, start.r0, len(rows))
    updates = write_values(sheet, start, rows, option, text, grow=True, locale=model.locale)
    out: dict[str, Any] = {"spreadsheetId": spreadsheet_id}
    if table is not None:
        out["tableRange"] = format_range(sheet.title, table)
    out["updates"] = {
        "spreadsheetId": spreadsheet_id,
        **_with_data(updates, sheet, params, model.locale),
    }
    return out


def clear(model: WorkbookModel, text: str) -> str:
    """values.clear on a model being edited. Out: the cleared range text."""
    sheet, rect = resolve_range(model, text)
    check_in_grid(sheet, rect)
    sheet.clear_rect(rect)
    return format_range(sheet.title, rect.clamp(sheet.row_count, sheet.col_count))
