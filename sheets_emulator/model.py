"""In-memory model of a spreadsheet: sheets, cell grid and sheet features.

A :class:`WorkbookModel` holds ordered :class:`SheetModel` objects.  Cells
are stored row-major as ``rows[r][c]`` (ragged lists, ``None`` = empty)
holding the Python values described in :mod:`sheets_emulator.values`.
Rect-shaped features (data validations, merges, protected ranges, basic
filter) use :class:`sheets_emulator.a1.Rect`; notes and formats (canonical
``userEnteredFormat`` JSON, see :mod:`sheets_emulator.formats`) are keyed by
``(row, col)`` and never mutated in place.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from .a1 import Rect, intersect, rect_from_grid_range, shift, subtract

DEFAULT_ROWS = 1000
DEFAULT_COLS = 26
DEFAULT_ROW_PX = 21  # Google's default row height / column width, in pixels
DEFAULT_COL_PX = 100
#: the locale and time zone of a spreadsheet that does not say (an .xlsx placed in the store,
#: which has no locale: it stands for a file the Sở converted in its own, Vietnamese, account)
DEFAULT_LOCALE = "vi_VN"
DEFAULT_TIME_ZONE = "Asia/Ho_Chi_Minh"
#: what Google gives a spreadsheet created through the API without a locale: the creating
#: account's settings, which for a service account (and any account left as it came) are the
#: United States' (SpreadsheetStore's ``new_locale`` / ``new_time_zone`` change it)
NEW_SPREADSHEET_LOCALE = "en_US"
NEW_SPREADSHEET_TIME_ZONE = "America/Los_Angeles"


@dataclass
class SheetModel:
    """One tab: properties, cells and sheet-level features."""

    sheet_id: int
    title: str
    row_count: int = DEFAULT_ROWS
    col_count: int = DEFAULT_COLS
    rows: list[list[Any]] = field(default_factory=list)
    frozen_rows: int = 0
    frozen_cols: int = 0
    hidden: bool = False
    validations: list[tuple[Rect, dict]] = field(default_factory=list)
    merges: list[Rect] = field(default_factory=list)
    protected_ranges: list[dict] = field(default_factory=list)
    notes: dict[tuple[int, int], str] = field(default_factory=dict)
    formats: dict[tuple[int, int], dict] = field(default_factory=dict)
    col_widths: dict[int, int] = field(default_factory=dict)
    row_heights: dict[int, int] = field(default_factory=dict)
    hidden_cols: set[int] = field(default_factory=set)
    hidden_rows: set[int] = field(default_factory=set)
    basic_filter: dict | None = None
    extra_props: dict[str, Any] = field(default_factory=dict)
    extra_grid_props: dict[str, Any] = field(default_factory=dict)

    # --- cells -----------------------------------------------------------
    def get(self, row: int, col: int) -> Any:
        """Out: the value at (row, col) or None."""
        if row < len(self.rows):
            line = self.rows[row]
            if col < len(line):
                return line[col]
        return None

    def set(self, row: int, col: int, value: Any) -> None:
        """Store ``value`` at (row, col); None clears the cell."""
        if value is None:
            if row < len(self.rows) and col < len(self.rows[row]):
                self.rows[row][col] = None
            return
        while len(self.rows) <= row:
            self.rows.append([])
        line = self.rows[row]
        if len(line) <= col:
            line.extend([None] * (col + 1 - len(line)))
        line[col] = value

    def iter_cells(self) -> Iterator[tuple[int, int, Any]]:
        """Out: (row, col, value) for every non-empty cell."""
        for r, line in enumerate(self.rows):
            for c, value in enumerate(line):
                if value is not None:
                    yield r, c, value

    def used_extent(self) -> tuple[int, int]:
        """Out: (rows, cols) spanned by non-empty cells."""
        max_r = max_c = 0
        for r, line in enumerate(self.rows):
            last = len(line)
            while last and line[last - 1] is None:
                last -= 1
            if last:
                max_r = r + 1
                max_c = max(max_c, last)
        return max_r, max_c

    def clear_rect(self, rect: Rect) -> None:
        """Clear values (not formats/validations) inside ``rect``."""
        box = rect.clamp(self.row_count, self.col_count)
        for r in range(box.r0, min(box.r1, len(self.rows))):
            line = self.rows[r]
            for c in range(box.c0, min(box.c1, len(line))):
                line[c] = None

    def resize(self, rows: int, cols: int) -> None:
        """Set the grid size, dropping cells and features outside it."""
        self.row_count, self.col_count = rows, cols
        del self.rows[rows:]
        for line in self.rows:
            del line[cols:]
        self.notes = {k: v for k, v in self.notes.items() if k[0] < rows and k[1] < cols}
        self.formats = {k: v for k, v in self.formats.items() if k[0] < rows and k[1] < cols}
        grid = Rect(0, rows, 0, cols)
        self.validations = [
            (inter, rule)
            for rect, rule in self.validations
            if (inter := intersect(rect, grid)) is not None
        ]
        self.merges = [m for m in self.merges if intersect(m, grid) == m]

    # --- validations ------------------------------------------------------
    def set_validation(self, rect: Rect, rule: dict | None) -> None:
        """Give every cell of ``rect`` the validation ``rule`` (None clears)."""
        kept: list[tuple[Rect, dict]] = []
        for old, old_rule in self.validations:
            kept.extend((piece, old_rule) for piece in subtract(old, rect))
        if rule is not None:
            kept.append((rect, rule))
        self.validations = kept

    def validation_at(self, row: int, col: int) -> dict | None:
        """Out: the validation rule of cell (row, col), if any."""
        for rect, rule in reversed(self.validations):
            if rect.contains(row, col):
                return rule
        return None

    # --- dimension edits ----------------------------------------------------
    def insert_lines(self, rows: bool, at: int, count: int) -> None:
        """Insert ``count`` empty rows (or columns) before index ``at``."""
        if rows:
            if at < len(self.rows):
                self.rows[at:at] = [[] for _ in range(count)]
            self.row_count += count
        else:
            for line in self.rows:
                if at < len(line):
                    line[at:at] = [None] * count
            self.col_count += count
        self._shift_features(rows, at, count)

    def delete_lines(self, rows: bool, at: int, count: int) -> None:
        """Delete ``count`` rows (or columns) starting at index ``at``."""
        if rows:
            del self.rows[at : at + count]
            self.row_count -= count
        else:
            for line in self.rows:
                del line[at : at + count]
            self.col_count -= count
        self._shift_features(rows, at, -count)

    def _shift_features(self, rows: bool, at: int, delta: int) -> None:
        def move_index(i: int) -> int | None:
            if i < at:
                return i
            if delta > 0:
                return i + delta
            return None if i < at - delta else i + delta

        self.validations = [
            (moved, rule)
            for rect, rule in self.validations
            if (moved := shift(rect, rows, at, delta)) is not None
        ]
        self.merges = [m for rect in self.merges if (m := shift(rect, rows, at, delta))]
        for pr in self.protected_ranges:
            rng = pr.get("range")
            if rng is not None:
                moved = shift(rect_from_grid_range(rng), rows, at, delta)
                if moved is not None:
                    pr["range"] = moved.to_grid_range(self.sheet_id)

        def move_cells(cells: dict[tuple[int, int], Any]) -> dict[tuple[int, int], Any]:
            out = {}
            for (r, c), item in cells.items():
                nr, nc = (move_index(r), c) if rows else (r, move_index(c))
                if nr is not None and nc is not None:
                    out[(nr, nc)] = item
            return out

        self.notes = move_cells(self.notes)
        self.formats = move_cells(self.formats)
        sizes, hidden = (
            (self.row_heights, self.hidden_rows)
            if rows
            else (
                self.col_widths,
                self.hidden_cols,
            )
        )
        moved_sizes = {m: v for i, v in sizes.items() if (m := move_index(i)) is not None}
        moved_hidden = {m for i in hidden if (m := move_index(i)) is not None}
        sizes.clear()
        sizes.update(moved_sizes)
        hidden.clear()
        hidden.update(moved_hidden)


@dataclass
class WorkbookModel:
    """A whole spreadsheet: title, locale and ordered sheets."""

    title: str = "Untitled spreadsheet"
    sheets: list[SheetModel] = field(default_factory=list)
    locale: str = DEFAULT_LOCALE
    time_zone: str = DEFAULT_TIME_ZONE
    extra_props: dict[str, Any] = field(default_factory=dict)
    next_protected_range_id: int = 0

    def sheet_by_id(self, sheet_id: int) -> SheetModel | None:
        """Out: the sheet with ``sheet_id`` or None."""
        for sheet in self.sheets:
            if sheet.sheet_id == sheet_id:
                return sheet
        return None

    def sheet_by_title(self, title: str) -> SheetModel | None:
        """Out: the sheet titled ``title`` (exact, then case-insensitive) or None."""
        for sheet in self.sheets:
            if sheet.title == title:
                return sheet
        folded = title.casefold()
        for sheet in self.sheets:
            if sheet.title.casefold() == folded:
                return sheet
        return None

    def new_sheet_id(self, seed: str) -> int:
        """Out: an unused, Google-looking (large, deterministic) sheet id."""
        used = {s.sheet_id for s in self.sheets}
        counter = 0
        while True:
            digest = hashlib.sha256(f"{seed}|{counter}".encode()).digest()
            candidate = int.from_bytes(digest[:4], "big") % 2_000_000_000 + 1
            if candidate not in used:
                return candidate
            counter += 1

    def new_protected_range_id(self) -> int:
        """Out: a fresh protected range id (Google-looking, deterministic)."""
        used = {pr.get("protectedRangeId") for s in self.sheets for pr in s.protected_ranges}
        while True:
            self.next_protected_range_id += 1
            digest = hashlib.sha256(
                f"{self.title}|pr|{self.next_protected_range_id}".encode()
            ).digest()
            candidate = int.from_bytes(digest[:4], "big") % 2_000_000_000 + 1
            if candidate not in used:
                return candidate

    def unique_title(self, base: str) -> str:
        """Out: ``base`` or ``base`` + a number so no sheet has that title."""
        titles = {s.title.casefold() for s in self.sheets}
        if base.casefold() not in titles:
            return base
        n = 2
        while f"{base} {n}".casefold() in titles:
            n += 1
        return f"{base} {n}"


def new_sheet(sheet_id: int = 0, title: str = "Sheet1") -> SheetModel:
    """Out: an empty 1000x26 sheet like Google creates."""
    return SheetModel(sheet_id=sheet_id, title=title)


def new_workbook(
    title: str = "Untitled spreadsheet",
    locale: str = DEFAULT_LOCALE,
    time_zone: str = DEFAULT_TIME_ZONE,
) -> WorkbookModel:
    """Out: a workbook with one empty sheet "Sheet1" (sheetId 0)."""
    return WorkbookModel(title=title, sheets=[new_sheet()], locale=locale, time_zone=time_zone)


def clone_sheet(sheet: SheetModel) -> SheetModel:
    """Out: an independent copy of ``sheet`` (cell values are treated as immutable)."""
    return SheetModel(
        sheet_id=sheet.sheet_id,
        title=sheet.title,
        row_count=sheet.row_count,
        col_count=sheet.col_count,
        rows=[list(line) for line in sheet.rows],
        frozen_rows=sheet.frozen_rows,
        frozen_cols=sheet.frozen_cols,
        hidden=sheet.hidden,
        validations=list(sheet.validations),
        merges=list(sheet.merges),
        protected_ranges=copy.deepcopy(sheet.protected_ranges),
        notes=dict(sheet.notes),
        formats=dict(sheet.formats),
        col_widths=dict(sheet.col_widths),
        row_heights=dict(sheet.row_heights),
        hidden_cols=set(sheet.hidden_cols),
        hidden_rows=set(sheet.hidden_rows),
        basic_filter=copy.deepcopy(sheet.basic_filter),
        extra_props=copy.deepcopy(sheet.extra_props),
        extra_grid_props=dict(sheet.extra_grid_props),
    )


def clone_workbook(model: WorkbookModel) -> WorkbookModel:
    """Out: an independent copy of ``model`` for copy-on-write edits."""
    return WorkbookModel(
        title=model.title,
        sheets=[clone_sheet(s) for s in model.sheets],
        locale=model.locale,
        time_zone=model.time_zone,
        extra_props=copy.deepcopy(model.extra_props),
        next_protected_range_id=model.next_protected_range_id,
    )
