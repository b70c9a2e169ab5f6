"""Reading a unit's report out of a spreadsheet resource.

Input: the JSON of a Sheets API ``spreadsheets.get`` call with grid data (what ingest lands in
``raw.sheet_versions.payload``; ``sheets_emulator.workbook_to_spreadsheet_resource`` gives the
same for an .xlsx file). Output: a :class:`ParsedReport` — the info block, the task, indicator
and feedback rows, each value with how it was read and the cell it came from.

Parts are found by their labels, not by position: a unit that inserts rows, adds blank lines,
moves a table or renames a tab is still read. Nothing is judged here; the rules live in the
Great Expectations suites (``expectations/``), which look at the columns this module produces.

What a unit can paste is bounded here, so that time and memory stay bounded too: only the first
:data:`MAX_ROWS_PER_TAB` rows of a tab are read and a longer cell is cut to
:data:`MAX_CELL_CHARS` (Google's own limit); both are recorded in the header for the rules
(``sheet.too_many_rows``, ``sheet.cell_too_long``), and raw keeps what was sent. Merged cells
(``merges`` of the resource) hold their value in their top-left cell only; in a table, a cell
merged with the one above it reads as that cell, as the unit sees it — except a figure, which
cannot be shared by two indicators and is read as invalid — and the merges are recorded
(``structure.merged_cells``). Every text is cleaned by one rule (``tonghop.vn.clean_text``);
the cells read and the tabs' titles that held a character changing the order of the text or
hiding part of it (``tonghop.vn.HIDDEN_CONTROLS``) are recorded (``sheet.hidden_controls``),
and the titles are used without those characters in every cell reference.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from sheets import layout
from tonghop.vn import (
    TASK_STATUS_ALIASES,
    TASK_STATUSES,
    Reading,
    cell_has_hidden_controls,
    cell_text,
    clean_text,
    fold,
    format_vi,
    read_choice,
    read_date,
    read_number,
    read_submitted,
    shorten,
    without_hidden_controls,
)

Grid = list[list[dict]]

#: rows of one tab that are read; a report needs at most a few hundred, and a pasted register
#: of 100,000 households must not cost minutes and gigabytes
MAX_ROWS_PER_TAB = 2_000
#: characters of one cell; Google Sheets refuses more, an .xlsx file does not
MAX_CELL_CHARS = 50_000
#: cells named in a message (the others are counted)
_NAMED = 3

_INFO_LABELS = {fold(label): key for key, label, _ in layout.INFO_FIELDS}


@dataclass(frozen=True)
class _Table:
    columns: list  # layout.*_COLUMNS
    headers: dict[str, str]  # folded header label -> column key
    flag: str  # header field saying the table was found


def _table(columns, flag: str) -> _Table:
    return _Table(columns, {fold(label): key for key, label, _, _ in columns}, flag)


_TABLES = {
    "tasks": _table(layout.TASK_COLUMNS, "has_task_table"),
    "indicators": _table(layout.INDICATOR_COLUMNS, "has_indicator_table"),
    "feedback": _table(layout.FEEDBACK_COLUMNS, "has_feedback_table"),
}
_MARKERS = {
    fold(layout.TABLE_MARKERS["tasks"]): "tasks",
    fold(layout.TABLE_MARKERS["indicators"]): "indicators",
}


#: the cells of a task row and of an indicator row that the unit fills in (the keys of the
#: parsed rows): a report in which all of them are blank has not been filled
TASK_INPUTS = ("status_text", "result", "completed_on_text", "evidence", "note")
INDICATOR_INPUTS = ("value_text", "note")


@dataclass
class ParsedReport:
    spreadsheet_id: str
    header: dict[str, Any]
    tasks: list[dict[str, Any]] = field(default_factory=list)
    indicators: list[dict[str, Any]] = field(default_factory=list)
    feedback: list[dict[str, Any]] = field(default_factory=list)
    #: hash of what the unit itself filled: the tabs read (its own tab in a shared file)
    part_sha256: str = ""

    @property
    def has_content(self) -> bool:
        """Whether the unit wrote anything in its task and indicator tables: a status, result,
        completion date, evidence or note of a task, a value or note of an indicator (as read:
        cleaned text, so a cell of spaces or invisible characters is blank). A report without
        is the sheet as provisioned, or as good as: it is not checked cell by cell but gets the
        one issue ``sheet.not_filled``.

        THE definition of a filled report: validation stores it per report
        (``parsed.report_headers.has_content``) and the warehouse reads that column
        (``fct_submission``: "Chưa điền"); nothing else decides it."""
        return any(row.get(key) for row in self.tasks for key in TASK_INPUTS) or any(
            row.get(key) for row in self.indicators for key in INDICATOR_INPUTS
        )


def part_sha256(sheets: list[dict]) -> str:
    """Hash of the tabs a unit filled, as read (values, merges, titles), without their
    position among the file's tabs: in a file several units share, another unit's tab added,
    removed or edited leaves it as it was, so an unchanged part is recognised as such."""

    def unplaced(sheet: dict) -> dict:
        properties = {k: v for k, v in sheet.get("properties", {}).items() if k != "index"}
        return {**sheet, "properties": properties}

    canonical = json.dumps(
        [unplaced(s) for s in sheets], sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


def sheet_grid(sheet: dict) -> Grid:
    """The cells of one tab as rows of CellData dicts (empty cells are {})."""
    grid: Grid = []
    for block in sheet.get("data", []):
        start_row, start_col = block.get("startRow", 0), block.get("startColumn", 0)
        for i, row in enumerate(block.get("rowData", [])):
            r = start_row + i
            while len(grid) <= r:
                grid.append([])
            values = row.get("values", [])
            line = grid[r]
            while len(line) < start_col + len(values):
                line.append({})
            for j, cell in enumerate(values):
                line[start_col + j] = cell or {}
    return grid


@dataclass(frozen=True)
class _Merge:
    """A merged range of a tab (0-based, ends exclusive) and where it is written."""

    r0: int
    r1: int
    c0: int
    c1: int
    title: str

    @property
    def anchor(self) -> str:
        return f"{self.title}!{layout.a1(self.r0, self.c0)}"

    @property
    def a1(self) -> str:
        return f"{self.title}!{layout.a1(self.r0, self.c0)}:{layout.a1(self.r1 - 1, self.c1 - 1)}"


def _merges(sheet: dict, title: str, rows: int) -> list[_Merge]:
    """The merged ranges of a tab over more than one cell, within the rows that are read. A
    GridRange leaves out indexes that are 0 (start) or unbounded (end)."""
    found = []
    for rng in sheet.get("merges") or []:
        merge = _Merge(
            int(rng.get("startRowIndex", 0)),
            int(rng.get("endRowIndex", rows)),
            int(rng.get("startColumnIndex", 0)),
            int(rng.get("endColumnIndex", 1 << 30)),
            title,
        )
        if merge.r0 < rows and (merge.r1 - merge.r0) * (merge.c1 - merge.c0) > 1:
            found.append(merge)
    return found


def _merged_cells(
    merges: list[_Merge], first_row: int, rows: int, columns: dict[str, int]
) -> dict[tuple[int, int], _Merge]:
    """(row, column) → its merge, for a table's columns from ``first_row`` on (bounded by the
    rows read and the table's columns, whatever the size of the merges)."""
    cells: dict[tuple[int, int], _Merge] = {}
    for merge in merges:
        if merge.r1 <= first_row:
            continue
        for c in columns.values():
            if merge.c0 <= c < merge.c1:
                for r in range(max(merge.r0, first_row), min(merge.r1, rows)):
                    cells[(r, c)] = merge
    return cells


def _has_content(row: list[dict]) -> bool:
    return any(cell and cell_text(cell) for cell in row)


def _bounded(grid: Grid, title: str, header: dict) -> Grid:
    """The rows of a tab that are read, long cells cut; what was left out goes in the header."""
    if len(grid) > MAX_ROWS_PER_TAB:
        last = next(
            (r for r in range(len(grid) - 1, MAX_ROWS_PER_TAB - 1, -1) if _has_content(grid[r])),
            None,
        )
        if last is not None:
            header.setdefault("_rows_over", []).append((title, last + 1))
        grid = grid[:MAX_ROWS_PER_TAB]
    for r, row in enumerate(grid):
        for c, cell in enumerate(row):
            if cell and _longest(cell) > MAX_CELL_CHARS:
                header.setdefault("_too_long", []).append(
                    (f"{title}!{layout.a1(r, c)}", len(cell_text(cell) or ""))
                )
                row[c] = _cut(cell)
    return grid


def _longest(cell: dict) -> int:
    longest = len(cell.get("formattedValue") or "")
    for key in ("userEnteredValue", "effectiveValue"):
        for value in (cell.get(key) or {}).values():
            if isinstance(value, str):
                longest = max(longest, len(value))
    return longest


def _cut(cell: dict) -> dict:
    def cut(value):
        return value[:MAX_CELL_CHARS] if isinstance(value, str) else value

    out = {
        k: v
        for k, v in cell.items()
        if k not in ("userEnteredValue", "effectiveValue", "formattedValue")
    }
    for key in ("userEnteredValue", "effectiveValue"):
        if key in cell:
            out[key] = {k: cut(v) for k, v in (cell[key] or {}).items()}
    if "formattedValue" in cell:
        out["formattedValue"] = cut(cell["formattedValue"])
    return out


def _limits(header: dict) -> None:
    """What the rules about the size of a report read: None when within the limits."""
    over = header.pop("_rows_over", [])
    header["rows_over_limit"] = (
        "; ".join(f"trang “{title}” có nội dung đến dòng {format_vi(last)}" for title, last in over)
        or None
    )
    header["rows_over_limit_cell"] = (
        f"{over[0][0]}!{layout.a1(MAX_ROWS_PER_TAB, 0)}" if over else None
    )
    header["rows_limit"] = format_vi(MAX_ROWS_PER_TAB)
    header["rows_over_from"] = format_vi(MAX_ROWS_PER_TAB + 1)
    long = header.pop("_too_long", [])
    named = ", ".join(f"{ref} ({format_vi(n)} ký tự)" for ref, n in long[:_NAMED])
    if len(long) > _NAMED:
        named += f" và {len(long) - _NAMED} ô khác"
    header["cells_too_long"] = named or None
    header["cells_too_long_cell"] = long[0][0] if long else None
    header["cell_chars_limit"] = format_vi(MAX_CELL_CHARS)
    merged = list(header.pop("_merged", {}))
    header["merged_ranges"] = ", ".join(m.a1 for m in merged) or None
    header["merged_ranges_cell"] = merged[0].anchor if merged else None
    hidden = list(header.pop("_hidden", {}))  # (what is named, its cell)
    named = ", ".join(name for name, _ in hidden[:_NAMED])
    if len(hidden) > _NAMED:
        named += f" và {len(hidden) - _NAMED} chỗ khác"
    header["hidden_controls"] = named or None
    header["hidden_controls_cell"] = hidden[0][1] if hidden else None


def _hidden_in(header: dict, cell: dict, ref: str) -> None:
    """Record a cell read whose text holds a hidden control (removed when read)."""
    if cell and cell_has_hidden_controls(cell):
        header.setdefault("_hidden", {})[(ref, ref)] = None


def _tab_title(raw: str, header: dict) -> str:
    """A tab's title as used in cell references and row keys: without hidden controls (an RLO
    in a title would reverse every message naming a cell of the tab); recorded if it had any."""
    title = without_hidden_controls(raw)
    if title != raw:
        title = title or "(không tên)"
        header.setdefault("_hidden", {})[(f"tên trang “{title}”", f"{title}!A1")] = None
    return title


def _cell(grid: Grid, r: int, c: int) -> dict:
    if r < len(grid) and c < len(grid[r]):
        return grid[r][c]
    return {}


def text_fields(name: str, cell: dict, ref: str) -> dict[str, Any]:
    return {name: cell_text(cell), f"{name}_cell": ref}


def reading_fields(name: str, reading: Reading, ref: str) -> dict[str, Any]:
    return {
        name: reading.value,
        f"{name}_text": reading.text,
        f"{name}_reading": reading.kind,
        f"{name}_note": reading.note,
        f"{name}_how": reading.how,
        f"{name}_cell": ref,
    }


#: every row of every tab is looked at for a table's header, so the same labels, choices and
#: long texts are folded again and again: folding was 80% of parsing a report (28 ms) before
#: it was remembered (fold is a pure function of the text)
_folded = lru_cache(maxsize=16384)(fold)


def _header_map(row: list[dict], labels: dict[str, str]) -> dict[str, int]:
    found = {}
    for c, cell in enumerate(row):
        text = cell_text(cell)
        key = labels.get(_folded(text)) if text else None
        if key is not None:
            found.setdefault(key, c)
    return found


def _is_feedback_header(row: list[dict]) -> bool:
    keys = _header_map(row, _TABLES["feedback"].headers)
    return "kind" in keys and "content" in keys


def _table_kind(row: list[dict]) -> str | None:
    for cell in row:
        text = cell_text(cell)
        kind = _MARKERS.get(_folded(text)) if text else None
        if kind is not None:
            return kind
    return "feedback" if _is_feedback_header(row) else None


def parse_report(
    resource: dict,
    *,
    tab_title: str | None = None,
    value_kind_of: Callable[[str], str | None] | None = None,
) -> ParsedReport:
    """Parse one unit's report.

    ``tab_title`` restricts parsing to one tab (the per-period layout, one tab per unit).
    ``value_kind_of(indicator_code)`` gives 'count' or 'money' so counts are read as whole
    numbers (where "1.200" can only be 1200); money and unknown codes are read as numbers
    that may have a fraction.
    """
    value_kind_of = value_kind_of or (lambda code: None)
    sheets = resource.get("sheets", [])
    if tab_title:
        sheets = [s for s in sheets if s.get("properties", {}).get("title") == tab_title]
    header: dict[str, Any] = {
        "has_info_block": False,
        "has_task_table": False,
        "has_indicator_table": False,
        "has_feedback_table": False,
        "tab_found": bool(sheets),
        "tab_titles": [s["properties"]["title"] for s in resource.get("sheets", [])],
    }
    report = ParsedReport(
        spreadsheet_id=resource.get("spreadsheetId", ""),
        header=header,
        part_sha256=part_sha256(sheets),
    )
    for sheet in sheets:
        title = _tab_title(sheet["properties"]["title"], header)
        grid = _bounded(sheet_grid(sheet), title, header)
        merges = _merges(sheet, title, len(grid))
        _parse_info(grid, title, header)
        r = 0
        while r < len(grid):
            kind = _table_kind(grid[r])
            if kind is None:
                r += 1
                continue
            r = _parse_table(grid, r, title, kind, report, value_kind_of, merges)
    _fill_missing_info(header)
    _limits(header)
    return report


def _parse_info(grid: Grid, title: str, header: dict) -> None:
    for r, _row in enumerate(grid):
        label = cell_text(_cell(grid, r, 0))
        if not label or _folded(label) not in _INFO_LABELS:
            continue
        key = _INFO_LABELS[_folded(label)]
        stored = f"claimed_{key}" if key in ("unit_code", "period_code") else key
        if stored in header:  # the first occurrence wins (codes are stored as claimed_*)
            continue
        header["has_info_block"] = True
        header["info_tab"] = title
        value_cell = _cell(grid, r, 1)
        ref = f"{title}!{layout.a1(r, 1)}"
        _hidden_in(header, value_cell, ref)
        if key == "submitted":
            header.update(reading_fields("submitted", read_submitted(value_cell), ref))
        elif key in ("unit_code", "period_code"):
            code = cell_text(value_cell)
            header.update(
                {
                    f"claimed_{key}": code.upper() if code else None,
                    f"claimed_{key}_text": code,
                    f"claimed_{key}_cell": ref,
                }
            )
        else:
            header.update(text_fields(key, value_cell, ref))


def _fill_missing_info(header: dict) -> None:
    for key, _, _ in layout.INFO_FIELDS:
        if key == "submitted":
            if "submitted" not in header:
                header.update(reading_fields("submitted", Reading(False, "empty"), None))
        elif key in ("unit_code", "period_code"):
            header.setdefault(f"claimed_{key}", None)
            header.setdefault(f"claimed_{key}_text", None)
            header.setdefault(f"claimed_{key}_cell", None)
        else:
            header.setdefault(key, None)
            header.setdefault(f"{key}_cell", None)


def _parse_table(
    grid: Grid,
    header_row: int,
    title: str,
    kind: str,
    report: ParsedReport,
    value_kind_of,
    merges: list[_Merge] | None = None,
) -> int:
    table = _TABLES[kind]
    columns = _header_map(grid[header_row], table.headers)
    header = report.header
    header[table.flag] = True
    # the first cell of the table's header line: where a problem with the whole table is shown
    header_cell = f"{title}!{layout.a1(header_row, 0)}"
    header.setdefault(f"{kind}_header_cell", header_cell)
    missing = [
        label
        for key, label, is_input, _ in table.columns
        if key not in columns and (is_input or key.endswith("_code"))
    ]
    # the first table of the kind with a missing column is the one reported
    if missing and not header.get(f"{kind}_columns_missing"):
        header[f"{kind}_columns_missing"] = ", ".join(missing)
        header[f"{kind}_columns_missing_labels"] = missing
        header[f"{kind}_columns_cell"] = header_cell
    else:
        header.setdefault(f"{kind}_columns_missing", "")
        header.setdefault(f"{kind}_columns_missing_labels", [])
        header.setdefault(f"{kind}_columns_cell", None)
    merged_cells = _merged_cells(merges or [], header_row + 1, len(grid), columns)
    merged_here = header.setdefault("_merged", {})  # an ordered set
    r = header_row + 1
    while r < len(grid) and _table_kind(grid[r]) is None:
        cells, merged = {}, {}
        for key, c in columns.items():
            cells[key] = (_cell(grid, r, c), f"{title}!{layout.a1(r, c)}")
            merge = merged_cells.get((r, c))
            if merge is None or merge.r0 <= header_row:
                continue
            merged_here[merge] = None
            if merge.r1 - merge.r0 > 1 and c == merge.c0:
                # a cell merged with the ones above reads as the merge's first cell, as the
                # unit sees it; a cell merged sideways is empty (the unit sees nothing there)
                merged[key] = merge
                if r > merge.r0:
                    cells[key] = (_cell(grid, merge.r0, c), cells[key][1])
        if any(cell_text(cell) for cell, _ in cells.values() if cell) and not _is_blank_row(
            kind, cells
        ):
            base = {"row_key": f"{title}!{r + 1}", "tab_title": title, "row_number": r + 1}
            for key, c in columns.items():  # each cell as it is, not through its merge
                _hidden_in(header, _cell(grid, r, c), cells[key][1])
            if kind == "tasks":
                report.tasks.append(base | _task_row(cells, merged))
            elif kind == "indicators":
                report.indicators.append(base | _indicator_row(cells, value_kind_of, merged))
            else:
                report.feedback.append(base | _feedback_row(cells))
        r += 1
    return r


def _is_blank_row(kind: str, cells: dict) -> bool:
    """A row with nothing but the prefilled numbering (STT) is not a row of data."""
    meaningful = [k for k in cells if k != "stt"]
    return not any(cell_text(cells[k][0]) for k in meaningful)


def _get(cells: dict, key: str) -> tuple[dict, str | None]:
    return cells.get(key, ({}, None))


def _code(cells: dict, key: str) -> dict[str, Any]:
    cell, ref = _get(cells, key)
    text = cell_text(cell)
    return {
        key: text.upper().replace(" ", "") if text else None,
        f"{key}_text": text,
        f"{key}_cell": ref,
    }


def _as_merged(reading: Reading, merge: _Merge | None, ref: str | None, shown: str) -> Reading:
    """A reading taken from the first cell of a merge the cell belongs to: interpreted, and the
    unit told where the value came from."""
    if (
        merge is None
        or ref == merge.anchor
        or reading.kind not in ("choice", "date", "interpreted")
    ):
        return reading
    cell = ref.rsplit("!", 1)[-1] if ref else ""
    return Reading(
        reading.value,
        "interpreted",
        reading.text,
        f"Ô {cell} nằm trong vùng ô gộp {merge.a1.rsplit('!', 1)[-1]}; đã hiểu là "
        f"{shown} như ô {merge.anchor.rsplit('!', 1)[-1]}.",
    )


def _task_row(cells: dict, merged: dict | None = None) -> dict[str, Any]:
    merged = merged or {}
    row = _code(cells, "task_code")
    status_cell, status_ref = _get(cells, "status")
    status = read_choice(status_cell, TASK_STATUSES, TASK_STATUS_ALIASES)
    label = next((k for k, v in TASK_STATUSES.items() if v == status.value), None)
    status = _as_merged(status, merged.get("status"), status_ref, f"“{label}”")
    row |= reading_fields("status", status, status_ref)
    row["status_code"] = row.pop("status")
    row["status_cell"] = status_ref
    row |= text_fields("result", *_get(cells, "result"))
    date_cell, date_ref = _get(cells, "completed_on")
    date = read_date(date_cell)
    if date.value is not None:
        date = _as_merged(
            date, merged.get("completed_on"), date_ref, f"ngày {layout.vi_date(date.value)}"
        )
    row |= reading_fields("completed_on", date, date_ref)
    row |= text_fields("evidence", *_get(cells, "evidence"))
    row |= text_fields("note", *_get(cells, "note"))
    return row


def _indicator_row(cells: dict, value_kind_of, merged: dict | None = None) -> dict[str, Any]:
    row = _code(cells, "indicator_code")
    kind = value_kind_of(row["indicator_code"] or "")
    value_cell, value_ref = _get(cells, "value")
    value = read_number(value_cell, whole=kind == "count")
    merge = (merged or {}).get("value")
    if merge is not None and value.kind != "empty":
        # one figure shown across several indicators' rows: whose is it, or is it a total?
        here = (value_ref or "").rsplit("!", 1)[-1]
        value = Reading(
            None,
            "invalid",
            value.text,
            f"Ô {here} nằm trong vùng ô gộp {merge.a1.rsplit('!', 1)[-1]}: không rõ "
            f"số liệu “{shorten(value.text)}” là của chỉ tiêu nào; hãy hủy gộp ô và "
            f"ghi số liệu của từng chỉ tiêu vào ô riêng.",
        )
    row |= reading_fields("value", value, value_ref)
    row |= text_fields("note", *_get(cells, "note"))
    return row


def _feedback_row(cells: dict) -> dict[str, Any]:
    kind_cell, kind_ref = _get(cells, "kind")
    row = reading_fields("kind", read_choice(kind_cell, layout.FEEDBACK_KINDS), kind_ref)
    content_cell, content_ref = _get(cells, "content")
    row |= {"content": clean_text(cell_text(content_cell)), "content_cell": content_ref}
    return row
