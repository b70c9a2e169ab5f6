"""xlsx <-> :class:`WorkbookModel` conversion (openpyxl).

``load_model(source)`` reads an .xlsx path (or an openpyxl ``Workbook``)
into a model; ``save_model(model, path)`` writes the model back as a
normal .xlsx a person can open.  Things Excel cannot hold (sheet ids,
Google titles Excel rejects, protected ranges, grid size, rules Excel
cannot express, ...) travel in a custom document property named
``sheets_emulator`` (JSON), so a round trip through the store is lossless.
Cell formats become openpyxl styles (number format, font, solid fill,
alignment); what styles cannot say (CLIP wrapping, exact colours, a
numberFormat type its pattern does not suggest, ...) goes in that property
too, per cell, as ``formatExtras``.
"""

from __future__ import annotations

import copy
import datetime as dt
import io
import json
import os
import re
import threading
import warnings
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.comments import Comment
from openpyxl.packaging.custom import StringProperty
from openpyxl.styles import Font
from openpyxl.styles.numbers import is_date_format
from openpyxl.utils import get_column_letter
from openpyxl.utils.cell import column_index_from_string, coordinate_from_string
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.datavalidation import DataValidation

from .a1 import Rect, format_a1, parse_a1, rect_from_grid_range
from .formats import format_diff, patch_format, read_style, write_style
from .model import (
    DEFAULT_COLS,
    DEFAULT_LOCALE,
    DEFAULT_ROWS,
    DEFAULT_TIME_ZONE,
    SheetModel,
    WorkbookModel,
)
from .validation import excel_to_rule, rule_to_excel
from .values import CellError, Formula

META_PROPERTY = "sheets_emulator"
_BAD_TITLE_CHARS = re.compile(r"[\[\]:*?/\\]")
WorkbookSource = str | os.PathLike | Workbook


# --------------------------------------------------------------------- load
def _cell_value(cell: Any) -> Any:
    value = cell.value
    if value is None:
        return None
    kind = cell.data_type
    if kind == "f":
        text = value if isinstance(value, str) else getattr(value, "text", None) or str(value)
        return Formula(text if text.startswith("=") else "=" + text)
    if kind == "e":
        return CellError(str(value))
    if isinstance(value, dt.datetime):
        fmt = (cell.number_format or "").lower()
        if value.time() == dt.time(0) and "h" not in fmt and "s" not in fmt:
            return value.date()
        return value
    if isinstance(value, dt.timedelta):
        return value.total_seconds() / 86400
    if isinstance(value, (bool, int, float, dt.date, dt.time)):
        return value
    text = str(value)
    return text if text != "" else None


def _base_font(ws: Any) -> Font:
    """Out: the workbook's default font (what unformatted text uses)."""
    fonts = ws.parent._fonts
    return fonts[0] if len(fonts) else Font()


def _dated(value: Any) -> bool:
    """Out: whether a model value is a date/time (its date pattern is its type, not a format)."""
    return isinstance(value, (dt.date, dt.time))


def _sheet_rows(ws: Any) -> tuple[list[list[Any]], list[tuple[int, int]], dict, dict]:
    """Out: (rows, formula positions, notes, formats) read from an openpyxl worksheet."""
    rows: list[list[Any]] = []
    formulas: list[tuple[int, int]] = []
    notes: dict[tuple[int, int], str] = {}
    formats: dict[tuple[int, int], dict] = {}
    base_font = _base_font(ws)
    for (r, c), cell in sorted(ws._cells.items()):
        comment = getattr(cell, "comment", None)
        if comment is not None and comment.text:
            notes[(r - 1, c - 1)] = comment.text
        value = _cell_value(cell)
        fmt = read_style(cell, _dated(value), base_font)
        if fmt:
            formats[(r - 1, c - 1)] = fmt
        if value is None:
            continue
        while len(rows) < r:
            rows.append([])
        line = rows[r - 1]
        if len(line) < c:
            line.extend([None] * (c - len(line)))
        line[c - 1] = value
        if isinstance(value, Formula):
            formulas.append((r - 1, c - 1))
    return rows, formulas, notes, formats


def _dimensions(ws: Any, sheet: SheetModel) -> None:
    for letter, cd in ws.column_dimensions.items():
        lo = cd.min or column_index_from_string(letter)
        hi = cd.max or lo
        for col in range(lo - 1, min(hi, sheet.col_count)):
            if cd.customWidth and cd.width:
                sheet.col_widths[col] = round(cd.width * 7 + 5)
            if cd.hidden:
                sheet.hidden_cols.add(col)
    for index, rd in ws.row_dimensions.items():
        if rd.customHeight and rd.ht:
            sheet.row_heights[index - 1] = round(rd.ht * 4 / 3)
        if rd.hidden:
            sheet.hidden_rows.add(index - 1)


def _freeze(ws: Any, sheet: SheetModel) -> None:
    pane = ws.freeze_panes
    if pane:
        letters, row = coordinate_from_string(pane)
        sheet.frozen_rows = row - 1
        sheet.frozen_cols = column_index_from_string(letters) - 1


def _read_meta(wb: Workbook) -> dict[str, Any]:
    try:
        prop = wb.custom_doc_props[META_PROPERTY]
    except (KeyError, AttributeError, TypeError):
        return {}
    try:
        meta = json.loads(prop.value)
    except (TypeError, ValueError):
        return {}
    return meta if isinstance(meta, dict) else {}


def _apply_sheet_meta(sheet: SheetModel, meta: dict[str, Any]) -> None:
    sheet.sheet_id = int(meta.get("sheetId", sheet.sheet_id))
    sheet.title = meta.get("title", sheet.title)
    if "rowCount" in meta:
        used_r, used_c = sheet.used_extent()
        sheet.row_count = max(int(meta["rowCount"]), used_r, 1)
        sheet.col_count = max(int(meta["columnCount"]), used_c, 1)
    sheet.protected_ranges = list(meta.get("protectedRanges", []))
    sheet.basic_filter = meta.get("basicFilter")
    sheet.extra_props = dict(meta.get("extraProps", {}))
    sheet.extra_grid_props = dict(meta.get("extraGridProps", {}))
    for grid_range, rule in meta.get("validations", []):
        sheet.validations.append((rect_from_grid_range(grid_range), rule))
    for refs, diff in meta.get("formatExtras", []):
        for ref in refs.split():
            rect = parse_a1(ref)
            for key in ((r, c) for r in range(rect.r0, rect.r1) for c in range(rect.c0, rect.c1)):
                fmt = patch_format(sheet.formats.get(key, {}), diff)
                if fmt:
                    sheet.formats[key] = fmt
                else:
                    sheet.formats.pop(key, None)


def load_model(source: WorkbookSource, title: str | None = None) -> WorkbookModel:
    """Read an .xlsx into a model.

    In: a path (str/PathLike) or an openpyxl ``Workbook``; optional title.
    Out: :class:`WorkbookModel`.  When given a path and the file has
    formulas, their cached results are read too (second, ``data_only`` pass).
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wb = source if isinstance(source, Workbook) else openpyxl.load_workbook(source)
    meta = _read_meta(wb)
    sheet_meta = {m.get("xlsxTitle"): m for m in meta.get("sheets", []) if isinstance(m, dict)}
    model = WorkbookModel(
        title=title
        or (wb.properties.title if wb.properties and wb.properties.title else "")
        or (Path(source).stem if not isinstance(source, Workbook) else "Untitled spreadsheet"),
        locale=meta.get("locale", DEFAULT_LOCALE),  # an .xlsx says none: the Sở's
        time_zone=meta.get("timeZone", DEFAULT_TIME_ZONE),
        extra_props=dict(meta.get("extraProps", {})),
        next_protected_range_id=int(meta.get("nextProtectedRangeId", 0)),
    )
    formula_cells: dict[str, list[tuple[int, int]]] = {}
    for index, ws in enumerate(wb.worksheets):
        rows, formulas, notes, formats = _sheet_rows(ws)
        sheet = SheetModel(
            sheet_id=index,
            title=ws.title,
            row_count=max(len(rows), DEFAULT_ROWS),
            col_count=max(max((len(line) for line in rows), default=0), DEFAULT_COLS),
            rows=rows,
            notes=notes,
            formats=formats,
            hidden=ws.sheet_state != "visible",
        )
        _freeze(ws, sheet)
        _dimensions(ws, sheet)
        for merged in ws.merged_cells.ranges:
            sheet.merges.append(
                Rect(merged.min_row - 1, merged.max_row, merged.min_col - 1, merged.max_col)
            )
        for r, c in [(m.r1 - 1, m.c1 - 1) for m in sheet.merges] + list(notes) + list(formats):
            sheet.row_count = max(sheet.row_count, r + 1)
            sheet.col_count = max(sheet.col_count, c + 1)
        for dv in ws.data_validations.dataValidation:
            rule = excel_to_rule(dv)
            if rule is None:
                continue
            for rng in dv.sqref.ranges:
                sheet.validations.append(
                    (Rect(rng.min_row - 1, rng.max_row, rng.min_col - 1, rng.max_col), rule)
                )
        if ws.title in sheet_meta:
            _apply_sheet_meta(sheet, sheet_meta[ws.title])
        elif meta:
            sheet.sheet_id = model.new_sheet_id(f"{ws.title}|{index}")
        if formulas:
            formula_cells[ws.title] = formulas
        model.sheets.append(sheet)
    _dedupe_sheet_ids(model)
    if formula_cells and not isinstance(source, Workbook):
        _read_cached_values(source, model, formula_cells)
    return model


def _dedupe_sheet_ids(model: WorkbookModel) -> None:
    seen: set[int] = set()
    for sheet in model.sheets:
        if sheet.sheet_id in seen:
            sheet.sheet_id = model.new_sheet_id(f"{sheet.title}|dup")
        seen.add(sheet.sheet_id)


def _read_cached_values(
    source: WorkbookSource, model: WorkbookModel, formula_cells: dict[str, list[tuple[int, int]]]
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cached_wb = openpyxl.load_workbook(source, data_only=True)
    by_xlsx_title = dict(zip([ws.title for ws in cached_wb.worksheets], model.sheets))
    for xlsx_title, cells in formula_cells.items():
        sheet = by_xlsx_title.get(xlsx_title)
        if sheet is None:
            continue
        ws_cells = cached_wb[xlsx_title]._cells
        for r, c in cells:
            cell = ws_cells.get((r + 1, c + 1))
            if cell is not None and cell.value is not None:
                formula = sheet.get(r, c)
                if isinstance(formula, Formula):
                    formula.cached = _cell_value(cell)


# --------------------------------------------------------------------- save
def _excel_titles(model: WorkbookModel) -> list[str]:
    """Out: one Excel-valid, unique tab title per sheet."""
    titles: list[str] = []
    used: set[str] = set()
    for sheet in model.sheets:
        base = _BAD_TITLE_CHARS.sub("_", sheet.title).strip("'")[:31] or "Sheet"
        candidate, n = base, 2
        while candidate.casefold() in used:
            suffix = f" ({n})"
            candidate = base[: 31 - len(suffix)] + suffix
            n += 1
        used.add(candidate.casefold())
        titles.append(candidate)
    return titles


def _write_cell(ws: Any, r: int, c: int, value: Any) -> None:
    cell = ws.cell(row=r + 1, column=c + 1)
    if isinstance(value, (Formula, CellError)):
        cell.value = value.text
    elif isinstance(value, str):
        text = ILLEGAL_CHARACTERS_RE.sub("", value)
        cell.value = text
        cell.data_type = "s"
        if len(text) > 32767:
            # openpyxl cuts text at Excel's 32,767 characters; Sheets keeps up to 50,000 (the
            # API refuses more), and an .xlsx file can hold them
            cell._value = text
    elif isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        cell.value = "#NUM!"
    else:
        cell.value = value
        if isinstance(value, dt.datetime):
            cell.number_format = "d/m/yyyy h:mm:ss"
        elif isinstance(value, dt.date):
            cell.number_format = "d/m/yyyy"
        elif isinstance(value, dt.time):
            cell.number_format = "h:mm:ss"


def _cover(cells: list[tuple[int, int]]) -> str:
    """In: (row, col) cells in row-major order. Out: A1 rects covering exactly them, space-separated."""
    rects: list[Rect] = []
    open_by_cols: dict[
        tuple[int, int], int
    ] = {}  # (c0, c1) -> index in rects of the rect ending at this row
    runs: list[tuple[int, int, int]] = []
    for r, c in cells:
        if runs and runs[-1][0] == r and runs[-1][2] == c:
            runs[-1] = (r, runs[-1][1], c + 1)
        else:
            runs.append((r, c, c + 1))
    for r, c0, c1 in runs:
        i = open_by_cols.get((c0, c1))
        if i is not None and rects[i].r1 == r:
            rects[i] = Rect(rects[i].r0, r + 1, c0, c1)
        else:
            open_by_cols[(c0, c1)] = len(rects)
            rects.append(Rect(r, r + 1, c0, c1))
    return " ".join(format_a1(rect) for rect in rects)


def _write_formats(ws: Any, sheet: SheetModel) -> list:
    """Style the formatted cells; out: ``[[refs, diff], ...]`` for what the styles cannot hold."""
    base_font = _base_font(ws)
    styled: dict[tuple[str, str], tuple[Any, dict]] = {}  # (format, prior pattern) -> (style, diff)
    extras: dict[str, tuple[dict, list[tuple[int, int]]]] = {}
    for (r, c), fmt in sorted(sheet.formats.items()):
        cell = ws.cell(row=r + 1, column=c + 1)
        value = sheet.get(r, c)
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        key = (json.dumps(fmt, sort_keys=True), cell.number_format, _dated(value), number)
        if key not in styled:
            write_style(cell, fmt, base_font)
            dated = _dated(value) or (number and is_date_format(cell.number_format))
            styled[key] = (
                copy.copy(cell._style),
                format_diff(fmt, read_style(cell, dated, base_font)),
            )
        style, diff = styled[key]
        cell._style = copy.copy(style)
        if diff:
            text = json.dumps(diff, sort_keys=True, ensure_ascii=False)
            extras.setdefault(text, (diff, []))[1].append((r, c))
    return [[_cover(cells), diff] for diff, cells in extras.values()]


def _write_sheet(ws: Any, sheet: SheetModel) -> tuple[list, list]:
    """Write one sheet; out: the validations and format parts Excel cannot hold (for the metadata)."""
    for r, c, value in sheet.iter_cells():
        _write_cell(ws, r, c, value)
    format_extras = _write_formats(ws, sheet)
    for (r, c), text in sheet.notes.items():
        ws.cell(row=r + 1, column=c + 1).comment = Comment(text, "sheets_emulator")
    leftovers: list = []
    grouped: dict[str, tuple[dict, list[Rect]]] = {}
    for rect, rule in sheet.validations:
        key = json.dumps(rule, sort_keys=True, ensure_ascii=False)
        grouped.setdefault(key, (rule, []))[1].append(rect)
    for rule, rects in grouped.values():
        kwargs = rule_to_excel(rule)
        bounded = [r.clamp(sheet.row_count, sheet.col_count) for r in rects]
        if kwargs is None:
            leftovers.extend([r.to_grid_range(sheet.sheet_id), rule] for r in bounded)
            continue
        dv = DataValidation(**kwargs)
        dv.sqref = " ".join(format_a1(r) for r in bounded if not r.is_empty())
        ws.add_data_validation(dv)
    for merge in sheet.merges:
        box = merge.clamp(sheet.row_count, sheet.col_count)
        ws.merge_cells(
            start_row=box.r0 + 1, end_row=box.r1, start_column=box.c0 + 1, end_column=box.c1
        )
    if sheet.frozen_rows or sheet.frozen_cols:
        ws.freeze_panes = f"{get_column_letter(sheet.frozen_cols + 1)}{sheet.frozen_rows + 1}"
    for col, px in sheet.col_widths.items():
        ws.column_dimensions[get_column_letter(col + 1)].width = max(px - 5, 0) / 7
    for col in sheet.hidden_cols:
        ws.column_dimensions[get_column_letter(col + 1)].hidden = True
    for row, px in sheet.row_heights.items():
        ws.row_dimensions[row + 1].height = px * 0.75
    for row in sheet.hidden_rows:
        ws.row_dimensions[row + 1].hidden = True
    if sheet.basic_filter and "range" in sheet.basic_filter:
        box = rect_from_grid_range(sheet.basic_filter["range"]).clamp(
            sheet.row_count, sheet.col_count
        )
        if not box.is_empty():
            ws.auto_filter.ref = format_a1(box)
    if sheet.hidden:
        ws.sheet_state = "hidden"
    return leftovers, format_extras


def model_to_workbook(model: WorkbookModel) -> Workbook:
    """In: a model. Out: an openpyxl ``Workbook`` carrying the emulator metadata."""
    wb = Workbook()
    wb.remove(wb.active)
    sheets_meta = []
    for sheet, xlsx_title in zip(model.sheets, _excel_titles(model)):
        ws = wb.create_sheet(title=xlsx_title)
        leftovers, format_extras = _write_sheet(ws, sheet)
        sheets_meta.append(
            {
                "xlsxTitle": xlsx_title,
                "title": sheet.title,
                "sheetId": sheet.sheet_id,
                "rowCount": sheet.row_count,
                "columnCount": sheet.col_count,
                "protectedRanges": sheet.protected_ranges,
                "basicFilter": sheet.basic_filter,
                "extraProps": sheet.extra_props,
                "extraGridProps": sheet.extra_grid_props,
                "validations": leftovers,
                **({"formatExtras": format_extras} if format_extras else {}),
            }
        )
    if model.sheets and all(s.hidden for s in model.sheets):
        wb.worksheets[0].sheet_state = "visible"
    meta = {
        "version": 1,
        "locale": model.locale,
        "timeZone": model.time_zone,
        "extraProps": model.extra_props,
        "nextProtectedRangeId": model.next_protected_range_id,
        "sheets": sheets_meta,
    }
    wb.custom_doc_props.append(
        StringProperty(name=META_PROPERTY, value=json.dumps(meta, ensure_ascii=False))
    )
    wb.properties.title = model.title
    return wb


def save_model(model: WorkbookModel, path: Path) -> None:
    """Write ``model`` to ``path`` atomically (temp file + ``os.replace``)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        model_to_workbook(model).save(tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def model_to_bytes(model: WorkbookModel) -> bytes:
    """Out: the .xlsx bytes of ``model`` (used by Drive export)."""
    buffer = io.BytesIO()
    model_to_workbook(model).save(buffer)
    return buffer.getvalue()
