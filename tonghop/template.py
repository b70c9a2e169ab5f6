"""Writing report sheets as .xlsx workbooks (the blank template, and the emulator's content).

Takes :class:`tonghop.layout.TabSpec` tabs and renders them with openpyxl: header styles,
column widths, frozen header rows, drop-downs, and sheet protection with only the input cells
unlocked.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils.cell import range_boundaries
from openpyxl.worksheet.datavalidation import DataValidation

from tonghop.catalogue import Catalogue
from tonghop.errors import UserError
from tonghop.layout import TabSpec, report_tabs

HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
INPUT_FILL = PatternFill("solid", fgColor="FFF9E5")
FORMULA_PREFIXES = ("=", "+", "-", "@")


def set_value(cell: Cell, value: Any) -> None:
    """Write a value; text is always stored as text, never as a formula ("=1+1" stays text)."""
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
        for row in ws.iter_rows():
            for cell in row:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
    for r in tab.header_rows:
        for cell in ws[r + 1]:
            cell.font = Font(bold=True)
            cell.fill = HEADER_FILL
            cell.alignment = Alignment(wrap_text=True, vertical="center",
                                       horizontal="center")
    for r in tab.title_rows:
        ws.cell(row=r + 1, column=1).font = Font(bold=True, size=13)
    if tab.frozen_rows:
        ws.freeze_panes = ws.cell(row=tab.frozen_rows + 1, column=1)
    for ref, options in tab.choices:
        dv = DataValidation(type="list", formula1='"' + ",".join(options) + '"',
                            allow_blank=True, showDropDown=False)
        dv.error = "Chọn một giá trị trong danh sách."
        dv.errorTitle = "Giá trị không hợp lệ"
        dv.add(ref)
        ws.add_data_validation(dv)
    ws.protection.sheet = True
    ws.protection.formatColumns = False
    for ref in tab.input_ranges:
        min_col, min_row, max_col, max_row = range_boundaries(ref)
        for row in ws.iter_rows(min_row=min_row, max_row=max_row, min_col=min_col,
                                max_col=max_col):
            for cell in row:
                cell.protection = Protection(locked=False)
                cell.fill = INPUT_FILL


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
        raise UserError(f"“{output}” là một thư mục: hãy ghi tên tệp .xlsx cần tạo, ví dụ "
                        f"“{output / 'bao_cao.xlsx'}”.")
    if output.suffix.lower() != ".xlsx":
        raise UserError(f"Tên tệp “{output}” phải có đuôi .xlsx (Excel chỉ mở được như vậy), "
                        f"ví dụ “{output.with_suffix('.xlsx')}”.")


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
