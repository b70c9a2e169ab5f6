"""Resolve A1 range text against a workbook model, with Google's errors."""

from __future__ import annotations

from .a1 import A1ParseError, Rect, column_letters, format_range, parse_a1, split_range
from .errors import ApiError, bad_request
from .model import SheetModel, WorkbookModel


def resolve_range(model: WorkbookModel, text: str) -> tuple[SheetModel, Rect]:
    """In: the model and a range like ``'Tab'!A1:C``, ``Tab`` or ``A1:B2``.

    Out: ``(sheet, rect)``; a range without a tab refers to the first sheet.
    Raises 400 "Unable to parse range: ..." like Google.
    """
    try:
        title, part = split_range(text)
        if title is None and part is not None:
            named = model.sheet_by_title(part)
            if named is not None:
                return named, Rect()
        if title is None:
            if not model.sheets:
                raise A1ParseError(text)
            sheet = model.sheets[0]
        else:
            found = model.sheet_by_title(title)
            if found is None:
                raise A1ParseError(text)
            sheet = found
        rect = Rect() if part is None else parse_a1(part)
    except A1ParseError:
        raise bad_request(f"Unable to parse range: {text}") from None
    return sheet, rect


def grid_error(sheet: SheetModel, rect: Rect) -> ApiError:
    """Out: Google's "exceeds grid limits" 400 for ``rect`` on ``sheet``."""
    r0, c0 = rect.r0 or 0, rect.c0 or 0
    r1 = rect.r1 if rect.r1 is not None else max(sheet.row_count, r0 + 1)
    c1 = rect.c1 if rect.c1 is not None else max(sheet.col_count, c0 + 1)
    label = format_range(sheet.title, Rect(r0, r1, c0, c1))
    return bad_request(
        f"Range ({label}) exceeds grid limits. Max rows: {sheet.row_count}, "
        f"max columns: {sheet.col_count}"
    )


def check_in_grid(sheet: SheetModel, rect: Rect) -> None:
    """Raise Google's 400 when ``rect`` reaches outside the sheet's grid."""
    r0, c0 = rect.r0 or 0, rect.c0 or 0
    if (
        r0 >= sheet.row_count
        or c0 >= sheet.col_count
        or (rect.r1 is not None and rect.r1 > sheet.row_count)
        or (rect.c1 is not None and rect.c1 > sheet.col_count)
    ):
        raise grid_error(sheet, rect)


def check_read_start(sheet: SheetModel, rect: Rect, text: str) -> None:
    """Raise Google's 400 for a read range (values.get/batchGet, spreadsheets.get ``ranges``)
    that starts past the sheet's grid. A read range that only ends past it is not refused:
    Google answers the part inside the grid (the caller clamps ``rect``). The message names the
    range as the caller wrote it, as Google's does."""
    if (rect.r0 or 0) >= sheet.row_count or (rect.c0 or 0) >= sheet.col_count:
        raise bad_request(
            f"Range ({text.strip()}) exceeds grid limits. Max rows: {sheet.row_count}, "
            f"max columns: {sheet.col_count}"
        )


def check_write_fits(text: str, rect: Rect, rows: int, cols: int) -> None:
    """Raise Google's 400 when ``rows`` x ``cols`` values overflow a bounded ``rect``."""
    if rect.r1 is not None and (rect.r0 or 0) + rows > rect.r1:
        raise bad_request(
            f"Requested writing within range [{text}], but tried writing to row "
            f"[{(rect.r0 or 0) + rows}]"
        )
    if rect.c1 is not None and (rect.c0 or 0) + cols > rect.c1:
        raise bad_request(
            f"Requested writing within range [{text}], but tried writing to column "
            f"[{column_letters((rect.c0 or 0) + cols - 1)}]"
        )


def write_target(text: str, rect: Rect) -> Rect:
    """Out: the area a write may fill: a lone cell like ``A1`` only marks the start."""
    _, part = split_range(text)
    if part is not None and ":" not in part:
        return Rect(rect.r0, None, rect.c0, None)
    return rect


CELL_LIMIT = 10_000_000


def check_cell_limit(model: WorkbookModel) -> None:
    """Raise Google's 400 when the workbook's grids hold more than 10 million cells."""
    if sum(s.row_count * s.col_count for s in model.sheets) > CELL_LIMIT:
        raise bad_request(
            "This action would increase the number of cells in the workbook above the "
            f"limit of {CELL_LIMIT} cells."
        )
