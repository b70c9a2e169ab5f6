"""Writing report sheets as .xlsx workbooks (the blank template, and the emulator's content).

Takes :class:`sheets.layout.TabSpec` tabs and renders them with openpyxl: header styles,
column widths, frozen header rows, drop-downs and number/date rules with their Vietnamese hints
and messages (the same as the Sheet's), and sheet protection with only the input cells
unlocked.

Every value goes through :func:`set_value`, also in the other .xlsx writers (the summary
workbook, the checked copy of ``tonghop check``): text is never a formula, and text longer
than a cell of the file can hold is cut with a mark saying so (:func:`fit_xlsx_cell`).
"""

from __future__ import annotations

import unicodedata
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils.cell import range_boundaries
from openpyxl.worksheet.datavalidation import DataValidation

from sheets.layout import (
    CHOICE_ERROR_TITLE,
    DATE,
    DATE_ERROR_TITLE,
    NUMBER,
    NUMBER_ERROR_TITLE,
    TabSpec,
    choice_error,
    choice_hint,
    report_tabs,
)
from tonghop.catalogue import Catalogue
from tonghop.errors import UserError
from tonghop.vn import format_vi

HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
INPUT_FILL = PatternFill("solid", fgColor="FFF9E5")
FORMULA_PREFIXES = ("=", "+", "-", "@")


#: what one cell of an .xlsx file holds: 32,767 characters, counted as Excel counts them (in
#: UTF-16 code units: an emoji outside the Basic Multilingual Plane counts two). Google Sheets
#: allows 50,000, and so a unit's cell, whole in the marts and in the summary spreadsheet, may
#: not fit; openpyxl would cut it without a word.
XLSX_CELL_CHARS = 32_767
#: how many characters a cut may move back so as not to split a letter from its accent or an
#: emoji sequence
_MAX_BACK_OFF = 16


def _utf16_length(text: str) -> int:
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def fit_xlsx_cell(text: str, full_text_at: str | None = None, limit: int = XLSX_CELL_CHARS) -> str:
    """``text`` as an .xlsx cell can hold it: unchanged when it fits, else cut at the end and
    marked, within ``limit``: "… [đã cắt: ô gốc dài 40.000 ký tự; toàn văn <full_text_at>]".

    ``full_text_at`` says where the whole text is ("trong kho dữ liệu, bảng marts.fct_feedback,
    …"); without it the mark names the limit. The length is counted in characters as the
    reader counts them (NFC code points) and written the Vietnamese way (40.000)."""
    if len(text) <= limit // 2 or (len(text) <= limit and _utf16_length(text) <= limit):
        return text
    where = (
        f"toàn văn {full_text_at}"
        if full_text_at
        else f"một ô của tệp Excel chỉ chứa được {format_vi(limit)} ký tự"
    )
    mark = f" … [đã cắt: ô gốc dài {format_vi(len(text))} ký tự; {where}]"
    budget = max(limit - _utf16_length(mark), 0)
    end, used = 0, 0
    for end, ch in enumerate(text):  # noqa: B007 (where the text is cut, after the loop)
        used += 2 if ord(ch) > 0xFFFF else 1
        if used > budget:
            break
    # not between a letter and its accent, inside an emoji sequence, or before a modifier
    for _ in range(_MAX_BACK_OFF):
        if end == 0 or not (_continues(text[end]) or text[end - 1] == "\u200d"):
            break
        end -= 1
    return text[:end].rstrip() + mark


def _continues(ch: str) -> bool:
    """A character that belongs with the one before it (an accent, a joiner, a variation
    selector, a skin tone, a tag)."""
    return (
        unicodedata.category(ch).startswith("M")
        or ch in "\u200d\ufe0e\ufe0f"
        or 0x1F3FB <= ord(ch) <= 0x1F3FF
        or 0xE0000 <= ord(ch) <= 0xE007F
    )


def set_value(cell: Cell, value: Any, *, full_text_at: str | None = None) -> None:
    """Write a value; text is always stored as text, never as a formula ("=1+1" stays text),
    and text too long for a cell is cut with a mark saying where the whole text is
    (:func:`fit_xlsx_cell`)."""
    if isinstance(value, str):
        value = fit_xlsx_cell(value, full_text_at)
    cell.value = value
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        cell.data_type = "s"


def write_workbook(tabs: list[TabSpec]) -> Workbook:
    workbook = Workbook()
    workbook.remove(workbook.active)
    for tab in tabs:
        render_tab(workbook, tab)
    return workbook


def render_tab(workbook: Workbook, tab: TabSpec, index: int | None = None) -> None:
    """Add ``tab`` to the workbook as a protected sheet (only its input ranges editable)."""
    ws = workbook.create_sheet(tab.title, index)
    for r, row in enumerate(tab.rows, start=1):
        for c, value in enumerate(row, start=1):
            if value is not None:
                set_value(ws.cell(row=r, column=c), value)
    for c, width in enumerate(tab.column_widths, start=1):
        ws.column_dimensions[ws.cell(row=1, column=c).column_letter].width = width
    if tab.wrap:
        first, last = tab.wrap_rows or (0, ws.max_row)
        for row in ws.iter_rows(min_row=first + 1, max_row=max(last, first + 1)):
            for cell in row:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
    for ref in tab.merges:
        ws.merge_cells(ref)
        min_col, min_row, _, _ = range_boundaries(ref)
        ws.cell(row=min_row, column=min_col).alignment = Alignment(wrap_text=True, vertical="top")
    for r in tab.header_rows:
        for cell in ws[r + 1]:
            cell.font = Font(bold=True)
            cell.fill = HEADER_FILL
            cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
    for r in tab.title_rows:
        ws.cell(row=r + 1, column=1).font = Font(bold=True, size=13)
    for r in tab.bold_rows:
        ws.cell(row=r + 1, column=1).font = Font(bold=True)
    if tab.frozen_rows:
        ws.freeze_panes = ws.cell(row=tab.frozen_rows + 1, column=1)
    for dv in data_validations(tab):
        ws.add_data_validation(dv)
    _fit_rows_and_page(ws, tab)
    ws.protection.sheet = True
    ws.protection.formatColumns = False
    for ref in tab.input_ranges:
        min_col, min_row, max_col, max_row = range_boundaries(ref)
        for row in ws.iter_rows(min_row=min_row, max_row=max_row, min_col=min_col, max_col=max_col):
            for cell in row:
                cell.protection = Protection(locked=False)
                cell.fill = INPUT_FILL


#: points per line of wrapped 11-point text, and the most a row is made (Excel allows 409)
LINE_HEIGHT = 15
MAX_ROW_HEIGHT = 400


def _fit_rows_and_page(ws, tab: TabSpec) -> None:
    """Rows tall enough for their wrapped text (neither Excel nor LibreOffice grows a row of a
    written file by itself: a long task text would show its first line only) — the heights the
    tab states (``TabSpec.row_lines``), else estimated for each wrapped row —, and the page
    set for printing: A4 landscape, as wide as one page, the header row on every page."""
    for r, lines in tab.row_lines.items():  # heights the tab states (merged sentences)
        ws.row_dimensions[r + 1].height = LINE_HEIGHT * lines + 3
    if tab.wrap:
        first, last = tab.wrap_rows or (0, len(tab.rows))
        for r, row in enumerate(tab.rows[first:last], start=first + 1):
            if r - 1 in tab.row_lines:
                continue
            lines = 1
            for c, value in enumerate(row):
                width = tab.column_widths[c] if c < len(tab.column_widths) else 0
                if isinstance(value, str) and width:
                    lines = max(lines, _lines(value, width))
            if lines > 1:
                ws.row_dimensions[r].height = min(lines * LINE_HEIGHT, MAX_ROW_HEIGHT)
    set_page(ws, landscape=True, title_rows=tab.frozen_rows)


def set_page(ws, *, landscape: bool, title_rows: int = 0) -> None:
    """The sheet set for printing on A4, landscape or portrait, scaled to one page's width (as
    many pages down as it takes), its first ``title_rows`` rows repeated on every page."""
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    if title_rows:
        ws.print_title_rows = f"1:{title_rows}"


#: letters of Vietnamese text per unit of column width (a width counts the digit "0", wider
#: than most letters), measured on the rendered template
LETTERS_PER_WIDTH = 1.15


def _lines(text: str, width: int) -> int:
    """How many lines ``text`` takes in a column ``width`` characters wide."""
    usable = max(int(width * LETTERS_PER_WIDTH) - 1, 1)
    return sum(max(1, -(-len(part) // usable)) for part in text.split("\n"))


#: the dates a completion date may be (Excel has no "any valid date" rule)
FIRST_DATE, LAST_DATE = "DATE(2000,1,1)", "DATE(2100,12,31)"


def data_validations(tab: TabSpec) -> list[DataValidation]:
    """The tab's drop-downs, number and date rules, with the same lists, hints and messages as
    the Sheet (``sheets.writer.validation_requests``). A drop-down refuses any other value
    (errorStyle stop); a number or date rule refuses or warns as its ``excel_style`` says."""
    out = []
    for ref, options in tab.choices:
        dv = DataValidation(
            type="list",
            formula1='"' + ",".join(options) + '"',
            allow_blank=True,
            showDropDown=False,  # Excel's flag hides the arrow: False shows it
            showErrorMessage=True,
            errorStyle="stop",
            errorTitle=CHOICE_ERROR_TITLE,
            error=choice_error(options),
            showInputMessage=True,
            prompt=tab.choice_hints.get(ref) or choice_hint(options),
        )
        dv.add(ref)
        out.append(dv)
    for rule in tab.rules:
        if rule.kind == NUMBER:
            dv = DataValidation(
                type="decimal",
                operator="greaterThanOrEqual",
                formula1="0",
                errorTitle=NUMBER_ERROR_TITLE,
            )
        elif rule.kind == DATE:
            dv = DataValidation(
                type="date",
                operator="between",
                formula1=FIRST_DATE,
                formula2=LAST_DATE,
                errorTitle=DATE_ERROR_TITLE,
            )
        else:
            raise ValueError(f"unknown input rule kind {rule.kind!r}")
        dv.allow_blank = True
        dv.showErrorMessage = True
        dv.errorStyle = rule.excel_style
        dv.error = rule.error
        dv.showInputMessage = True
        dv.prompt = rule.hint
        dv.add(rule.ref)
        out.append(dv)
    return out


def write_template(catalogue: Catalogue, unit_code: str, period_code: str, path: Path) -> Path:
    """The blank report of one unit for one period, as an .xlsx file."""
    require_output_path(path)
    workbook = write_workbook(report_tabs(catalogue, unit_code, period_code))
    save_workbook(workbook, path)
    return path


def require_output_path(output: Path) -> None:
    """A path an .xlsx can be written to, or a Vietnamese :class:`UserError` (checked before
    any work, and again by :func:`save_workbook`)."""
    output = Path(output)
    if output.is_dir():
        raise UserError(
            f"“{output}” là một thư mục: hãy ghi tên tệp .xlsx cần tạo, ví dụ "
            f"“{output / 'bao_cao.xlsx'}”."
        )
    if output.suffix.lower() != ".xlsx":
        raise UserError(
            f"Tên tệp “{output}” phải có đuôi .xlsx (Excel chỉ mở được như vậy), "
            f"ví dụ “{output.with_suffix('.xlsx')}”."
        )


def save_workbook(workbook: Workbook, output: Path) -> None:
    """``workbook.save(output)``, the folder created if needed; a Vietnamese
    :class:`UserError` when the file cannot be written there (no permission, a full disk, a
    folder in the way)."""
    require_output_path(output)
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        workbook.save(output)
    except OSError as exc:
        raise UserError(f"Không ghi được tệp “{output}”: {exc.strerror or exc}.") from exc
