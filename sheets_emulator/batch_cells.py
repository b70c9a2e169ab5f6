"""batchUpdate requests about ranges: cells, validation, protection, merges, dimensions, filters.

Each handler takes (model being edited, request body) and returns its reply dict or None.
"""

from __future__ import annotations

from typing import Any

from .a1 import Rect, intersect
from .batch_common import (
    IGNORED_CELL_FIELDS,
    RequestError,
    apply_cell,
    cell_field_names,
    dimension_range,
    drop_none,
    format_mask,
    grid_target,
    handles,
    is_rows,
    sheet_for,
)
from .fieldmask import top_level_paths
from .model import SheetModel, WorkbookModel
from .validation import normalize_rule


# ------------------------------------------------------------------ cells
@handles("updateCells")
def update_cells(model: WorkbookModel, body: dict) -> None:
    """updateCells: write ``rows`` at ``start`` (or fill ``range``, clearing the rest) per ``fields``."""
    fields = cell_field_names(body.get("fields"))
    fmt_mask = format_mask(body["fields"])
    rows = body.get("rows") or []
    if body.get("start") is not None:
        start = body["start"]
        sheet = sheet_for(model, start.get("sheetId", 0))
        r0, c0, rect = int(start.get("rowIndex") or 0), int(start.get("columnIndex") or 0), None
    elif body.get("range") is not None:
        sheet, rect = grid_target(model, body["range"])
        r0, c0 = rect.r0 or 0, rect.c0 or 0
    else:
        raise RequestError("Either 'start' or 'range' must be set.")
    if fields <= IGNORED_CELL_FIELDS:
        return
    covered: set[tuple[int, int]] = set()
    for i, row in enumerate(rows):
        for j, cell in enumerate((row or {}).get("values") or []):
            if rect is not None and not rect.contains(r0 + i, c0 + j):
                raise RequestError("rows extend beyond the given range")
            apply_cell(sheet, r0 + i, c0 + j, cell or {}, fields, fmt_mask)
            covered.add((r0 + i, c0 + j))
    if rect is not None:
        for r in range(rect.r0 or 0, rect.r1 or 0):
            for c in range(rect.c0 or 0, rect.c1 or 0):
                if (r, c) not in covered:
                    apply_cell(sheet, r, c, {}, fields, fmt_mask)


@handles("repeatCell")
def repeat_cell(model: WorkbookModel, body: dict) -> None:
    """repeatCell: give every cell of ``range`` the ``cell`` fields (values, formats, notes, validation)."""
    fields = cell_field_names(body.get("fields"))
    fmt_mask = format_mask(body["fields"])
    sheet, rect = grid_target(model, body.get("range"))
    cell = body.get("cell") or {}
    if "dataValidation" in fields:
        rule = cell.get("dataValidation")
        sheet.set_validation(rect, normalize_rule(rule) if rule else None)
    per_cell = fields & {"userEnteredValue", "userEnteredFormat", "note"}
    if per_cell:
        for r in range(rect.r0 or 0, rect.r1 or 0):
            for c in range(rect.c0 or 0, rect.c1 or 0):
                apply_cell(sheet, r, c, cell, per_cell, fmt_mask)


@handles("setDataValidation")
def set_data_validation(model: WorkbookModel, body: dict) -> None:
    """setDataValidation: set (or, without ``rule``, clear) the rule of ``range``."""
    sheet, rect = grid_target(model, body.get("range"))
    rule = body.get("rule")
    if rule is not None and not (rule.get("condition") or {}).get("type"):
        raise RequestError("rule.condition.type is required")
    sheet.set_validation(rect, normalize_rule(rule) if rule else None)


# ------------------------------------------------------------------ protection
def _find_protected(model: WorkbookModel, pr_id: Any) -> tuple[SheetModel, dict]:
    for sheet in model.sheets:
        for pr in sheet.protected_ranges:
            if str(pr.get("protectedRangeId")) == str(pr_id):
                return sheet, pr
    raise RequestError(f"No protected range with id: {pr_id}")


@handles("addProtectedRange")
def add_protected_range(model: WorkbookModel, body: dict) -> dict:
    """addProtectedRange: store it with a new id. Out: the addProtectedRange reply."""
    pr = drop_none(dict(body.get("protectedRange") or {}))
    if "namedRangeId" in pr or "range" not in pr:
        raise RequestError(
            "a 'range' is required (named ranges are not supported by sheets_emulator)"
        )
    sheet, _ = grid_target(model, pr["range"])
    pr["range"] = {"sheetId": sheet.sheet_id, **pr["range"]}
    for flag in ("warningOnly", "requestingUserCanEdit"):
        if not pr.get(flag):
            pr.pop(flag, None)
    wanted = pr.get("protectedRangeId")
    if wanted is not None:
        try:
            _find_protected(model, wanted)
        except RequestError:
            pass
        else:
            raise RequestError(f"A protected range with id {wanted} already exists.")
    pr["protectedRangeId"] = int(wanted) if wanted is not None else model.new_protected_range_id()
    ordered = {"protectedRangeId": pr.pop("protectedRangeId"), **pr}
    sheet.protected_ranges.append(ordered)
    return {"addProtectedRange": {"protectedRange": dict(ordered)}}


@handles("updateProtectedRange")
def update_protected_range(model: WorkbookModel, body: dict) -> None:
    """updateProtectedRange: change the listed ``fields`` of a stored protected range."""
    new = body.get("protectedRange") or {}
    sheet, pr = _find_protected(model, new.get("protectedRangeId"))
    fields = body.get("fields")
    if not fields:
        raise RequestError("At least one field must be specified in 'fields'.")
    heads = {p[0] for p in top_level_paths(fields)}
    if "*" in heads:
        heads = set(new) - {"protectedRangeId"}
    for head in heads:
        if head == "range":
            target, _ = grid_target(model, new.get("range"))
            if target is not sheet:
                sheet.protected_ranges.remove(pr)
                target.protected_ranges.append(pr)
        if new.get(head) in (None, False):
            pr.pop(head, None)
        else:
            pr[head] = new[head]


@handles("deleteProtectedRange")
def delete_protected_range(model: WorkbookModel, body: dict) -> None:
    """deleteProtectedRange: remove it (400 for an unknown id)."""
    sheet, pr = _find_protected(model, body.get("protectedRangeId"))
    sheet.protected_ranges.remove(pr)


# ------------------------------------------------------------------ merges
def _check_merge_overlap(sheet: SheetModel, area: Rect) -> None:
    kept = []
    for merge in sheet.merges:
        inter = intersect(merge, area)
        if inter is None:
            kept.append(merge)
        elif inter != merge:
            raise RequestError(
                "You must select all cells in a merged range to merge or unmerge them."
            )
    sheet.merges = kept


@handles("mergeCells")
def merge_cells(model: WorkbookModel, body: dict) -> None:
    """mergeCells (MERGE_ALL / MERGE_COLUMNS / MERGE_ROWS); keeps only each top-left value."""
    sheet, rect = grid_target(model, body.get("range"))
    kind = body.get("mergeType") or "MERGE_ALL"
    r0, r1, c0, c1 = rect.r0 or 0, rect.r1 or 0, rect.c0 or 0, rect.c1 or 0
    if kind == "MERGE_ALL":
        pieces = [rect]
    elif kind == "MERGE_COLUMNS":
        pieces = [Rect(r0, r1, c, c + 1) for c in range(c0, c1)]
    elif kind == "MERGE_ROWS":
        pieces = [Rect(r, r + 1, c0, c1) for r in range(r0, r1)]
    else:
        raise RequestError(f"Unknown mergeType {kind!r}")
    _check_merge_overlap(sheet, rect)
    for piece in pieces:
        if (piece.r1 or 0) - (piece.r0 or 0) <= 1 and (piece.c1 or 0) - (piece.c0 or 0) <= 1:
            continue
        for r in range(piece.r0 or 0, piece.r1 or 0):
            for c in range(piece.c0 or 0, piece.c1 or 0):
                if (r, c) != (piece.r0, piece.c0):
                    sheet.set(r, c, None)
        sheet.merges.append(piece)


@handles("unmergeCells")
def unmerge_cells(model: WorkbookModel, body: dict) -> None:
    """unmergeCells: drop merges inside ``range`` (400 if one sticks out)."""
    sheet, rect = grid_target(model, body.get("range"))
    _check_merge_overlap(sheet, rect)


# ------------------------------------------------------------------ dimensions
@handles("updateDimensionProperties")
def update_dimension_properties(model: WorkbookModel, body: dict) -> None:
    """updateDimensionProperties: pixelSize and hiddenByUser of rows/columns."""
    if "dataSourceSheetRange" in body:
        raise RequestError("data source sheets are not supported by sheets_emulator")
    sheet, rows, start, end = dimension_range(model, body.get("range"))
    props = body.get("properties") or {}
    fields = body.get("fields")
    if not fields:
        raise RequestError("At least one field must be specified in 'fields'.")
    heads = {p[0] for p in top_level_paths(fields)}
    if "*" in heads:
        heads = {"pixelSize", "hiddenByUser"}
    unknown = heads - {"pixelSize", "hiddenByUser"}
    if unknown:
        raise RequestError(f"field(s) {sorted(unknown)} not supported by sheets_emulator")
    sizes = sheet.row_heights if rows else sheet.col_widths
    hidden = sheet.hidden_rows if rows else sheet.hidden_cols
    for index in range(start, end):
        if "pixelSize" in heads:
            if props.get("pixelSize"):
                sizes[index] = int(props["pixelSize"])
            else:
                sizes.pop(index, None)
        if "hiddenByUser" in heads:
            if props.get("hiddenByUser"):
                hidden.add(index)
            else:
                hidden.discard(index)


@handles("autoResizeDimensions")
def auto_resize_dimensions(model: WorkbookModel, body: dict) -> None:
    """autoResizeDimensions: validated, otherwise a no-op (no fonts to measure)."""
    if "dataSourceSheetDimensions" in body:
        raise RequestError("data source sheets are not supported by sheets_emulator")
    dimension_range(model, body.get("dimensions"))  # validated; sizing is a no-op


@handles("insertDimension")
def insert_dimension(model: WorkbookModel, body: dict) -> None:
    """insertDimension: insert empty rows/columns; cells and features shift."""
    sheet, rows, start, end = dimension_range(model, body.get("range"))
    limit = sheet.row_count if rows else sheet.col_count
    if start > limit:
        raise RequestError(f"startIndex {start} is beyond the grid ({limit})")
    if end > start:
        sheet.insert_lines(rows, start, end - start)


@handles("deleteDimension")
def delete_dimension(model: WorkbookModel, body: dict) -> None:
    """deleteDimension: delete rows/columns; cells and features shift."""
    sheet, rows, start, end = dimension_range(model, body.get("range"))
    limit = sheet.row_count if rows else sheet.col_count
    end = min(end, limit)
    if start == 0 and end >= limit:
        what = "rows" if rows else "columns"
        raise RequestError(f"You can't delete all the {what} on the sheet.")
    if end > start:
        sheet.delete_lines(rows, start, end - start)


@handles("appendDimension")
def append_dimension(model: WorkbookModel, body: dict) -> None:
    """appendDimension: grow the grid by ``length`` rows/columns."""
    sheet = sheet_for(model, body.get("sheetId", 0))
    length = int(body.get("length") or 0)
    if length < 1:
        raise RequestError("length must be positive")
    if is_rows(body):
        sheet.row_count += length
    else:
        sheet.col_count += length


# ------------------------------------------------------------------ filters
@handles("setBasicFilter")
def set_basic_filter(model: WorkbookModel, body: dict) -> None:
    """setBasicFilter: store the filter (sorting is refused: it would move data)."""
    spec = dict(body.get("filter") or {})
    if spec.get("sortSpecs"):
        raise RequestError("sortSpecs (sorting data) is not supported by sheets_emulator")
    sheet, rect = grid_target(model, spec.get("range") or {"sheetId": 0})
    spec["range"] = rect.to_grid_range(sheet.sheet_id)
    sheet.basic_filter = spec


@handles("clearBasicFilter")
def clear_basic_filter(model: WorkbookModel, body: dict) -> None:
    """clearBasicFilter: forget the sheet's basic filter."""
    sheet_for(model, body.get("sheetId", 0)).basic_filter = None
