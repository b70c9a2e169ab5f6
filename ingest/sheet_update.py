"""A catalogue change written into sheets already provisioned, in place.

When a task is renamed, a due date moves or the guide changes, the units' sheets must say so —
without touching a cell a unit typed. Provisioning (``ingest.provision``) renders the unit's tabs
again (:func:`sheets.layout.report_tabs`) and, when they differ from what it last wrote (a hash
kept in ``ops.sheet_registry.content_sha256``), reads the sheet once and writes, in one
``spreadsheets.batchUpdate``, only the cells the pipeline owns that now read differently:

- the guide tab, line by line (it holds nothing of the unit's);
- the info block's prefilled values (unit, period, data window, due date) and its titles;
- in the task and indicator tables, the protected columns (group, task text, role, timing;
  indicator name, unit of measure, target) of each row, found by its code;
- the drop-downs and the number and date rules of the rows found (rules, not values).

Rows and columns are found as the parser finds them — by header labels and codes, not by
position — so a sheet provisioned with an older layout (the target column elsewhere, 8 lines
of difficulties) is updated where its cells are. Nothing is added or removed: a task newly
assigned to the unit, or an indicator column the sheet lacks, is reported in the notes (a new
period's sheets carry it); a row of a task no longer assigned stays as the unit filled it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any

from openpyxl.utils.cell import range_boundaries

from sheets import layout
from sheets.layout import TabSpec
from sheets.writer import cell_value, choice_rule, grid_range, input_rule
from tonghop.vn import cell_text, fold

_INFO = {fold(label): (key, is_input) for key, label, is_input in layout.INFO_FIELDS}
_INFO_INPUT = {key: is_input for key, _, is_input in layout.INFO_FIELDS}
_TABLE_COLUMNS = {
    "tasks": layout.TASK_COLUMNS,
    "indicators": layout.INDICATOR_COLUMNS,
    "feedback": layout.FEEDBACK_COLUMNS,
}
_LABELS = {
    kind: {fold(label): key for key, label, _, _ in columns}
    for kind, columns in _TABLE_COLUMNS.items()
}
_CODE = {"tasks": "task_code", "indicators": "indicator_code"}
#: the columns of a table row the pipeline writes (not the unit's, not the row's own code
#: nor its number)
_OWNED = {
    kind: {key for key, _, is_input, _ in columns if not is_input} - {"stt", _CODE.get(kind)}
    for kind, columns in _TABLE_COLUMNS.items()
}


def content_sha256(tabs: list[TabSpec], title: str) -> str:
    """Hash of what provisioning writes in a unit's sheet: the file's title and the tabs."""
    canonical = json.dumps(
        {"title": title, "tabs": [asdict(t) for t in tabs]},
        sort_keys=True,
        ensure_ascii=False,
        default=str,
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass
class Update:
    """The requests that bring a sheet up to date, and what could not be done in place."""

    requests: list[dict] = field(default_factory=list)
    #: cells rewritten, as "<tab>!B7"
    cells: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def grid_rows(sheet: dict) -> list[list[dict]]:
    """The cells of one tab of a spreadsheets.get answer, as rows of CellData ({} if empty)."""
    rows: list[list[dict]] = []
    for block in sheet.get("data", []):
        r0, c0 = block.get("startRow", 0), block.get("startColumn", 0)
        for i, row in enumerate(block.get("rowData", [])):
            while len(rows) <= r0 + i:
                rows.append([])
            line = rows[r0 + i]
            values = row.get("values", [])
            while len(line) < c0 + len(values):
                line.append({})
            for j, cell in enumerate(values):
                line[c0 + j] = cell or {}
    return rows


def _text(value: Any) -> str:
    if isinstance(value, dict):
        return cell_text(value) or ""
    return "" if value is None else str(value).strip()


def anchors(rows: list[list[Any]]) -> dict[tuple, tuple[int, dict[str, int]]]:
    """Where each part of a report is in ``rows`` (a TabSpec's values or a tab's CellData):
    key → (row, {column key: column}).

    Keys: ("info", key) for a row of the info block (its value in column B), ("title", 0/1)
    for the report's two title lines above it, ("header", kind) for a table's header line,
    ("row", kind, code) for a task or indicator row, ("line", n) for the n-th line of the
    feedback table. The first of each wins, as in the parser."""
    found: dict[tuple, tuple[int, dict[str, int]]] = {}
    table, columns, line = None, {}, 0
    for r, row in enumerate(rows):
        texts = [_text(v) for v in row]
        info = _INFO.get(fold(texts[0])) if texts and texts[0] else None
        if info is not None:
            found.setdefault(("info", info[0]), (r, {"value": 1}))
            if info[0] == "unit_code" and r >= 3:
                found.setdefault(("title", 0), (r - 3, {"text": 0}))
                found.setdefault(("title", 1), (r - 2, {"text": 0, "value": 1}))
            table = None
            continue
        kind = _header_kind(texts)
        if kind is not None:
            table, line = kind, 0
            columns = {}
            for c, text in enumerate(texts):
                key = _LABELS[kind].get(fold(text)) if text else None
                if key is not None:
                    columns.setdefault(key, c)
            found.setdefault(("header", kind), (r, columns))
            continue
        if table == "feedback":
            line += 1
            found.setdefault(("line", line), (r, columns))
        elif table in _CODE and _CODE[table] in columns:
            c = columns[_CODE[table]]
            code = texts[c].upper().replace(" ", "") if c < len(texts) else ""
            if code:
                found.setdefault(("row", table, code), (r, columns))
    return found


def _header_kind(texts: list[str]) -> str | None:
    folded = {fold(t) for t in texts if t}
    for kind in ("tasks", "indicators"):
        if fold(layout.TABLE_MARKERS[kind]) in folded:
            return kind
    labels = _LABELS["feedback"]
    if {labels.get(t) for t in folded} >= {"kind", "content"}:
        return "feedback"
    return None


def _cell_validations(tab: TabSpec) -> dict[tuple[int, int], dict]:
    """(row, column) of the TabSpec → the data validation rule of that cell."""
    out: dict[tuple[int, int], dict] = {}

    def each(ref: str):
        c0, r0, c1, r1 = range_boundaries(ref)
        for r in range(r0 - 1, r1):
            for c in range(c0 - 1, c1):
                yield r, c

    for ref, options in tab.choices:
        rule = choice_rule(options, tab.choice_hints.get(ref) or layout.choice_hint(options))
        for cell in each(ref):
            out[cell] = rule
    for input_ in tab.rules:
        for cell in each(input_.ref):
            out[cell] = input_rule(input_)
    return out


def tab_update(tab: TabSpec, sheet: dict, update: Update) -> None:
    """Add to ``update`` what brings ``sheet`` (a tab of a spreadsheets.get answer) to the
    owned content of ``tab``: prefilled cells found by label or code, their rules."""
    sheet_id = sheet["properties"]["sheetId"]
    title = sheet["properties"]["title"]
    grid = grid_rows(sheet)
    want, have = anchors(tab.rows), anchors(grid)
    validations = _cell_validations(tab)
    for key, (r, want_columns) in want.items():
        if key not in have:
            if key[0] == "row":
                update.notes.append(
                    f"{title}: {'task' if key[1] == 'tasks' else 'indicator'} {key[2]} is not "
                    f"in the sheet (not added in place)"
                )
            continue
        gr, have_columns = have[key]
        for col_key, c in want_columns.items():
            gc = have_columns.get(col_key)
            if gc is None:
                if key[0] == "row" and col_key in _OWNED[key[1]] and _at(tab.rows, r, c):
                    update.notes.append(
                        f"{title}: column “{_label(key[1], col_key)}” is not in the sheet "
                        f"({key[2]}: {_at(tab.rows, r, c)} not shown)"
                    )
                continue
            if _owned(key, col_key):
                _write(update, sheet_id, title, grid, gr, gc, _at(tab.rows, r, c))
            rule = validations.get((r, c))
            if rule is not None:
                update.requests.append(
                    {
                        "setDataValidation": {
                            "range": grid_range(sheet_id, layout.a1(gr, gc)),
                            "rule": rule,
                        }
                    }
                )
    for key in have:
        if key[0] == "row" and key not in want:
            update.notes.append(
                f"{title}: row of {key[2]} kept as filled (no longer in the catalogue for "
                f"this unit)"
            )


def _owned(key: tuple, col_key: str) -> bool:
    """Is this cell the pipeline's to write (never a cell the unit fills)?"""
    if key[0] == "info":
        return not _INFO_INPUT[key[1]]
    if key[0] == "title":
        return True
    if key[0] == "row":
        return col_key in _OWNED[key[1]]
    return False  # headers stay, feedback lines are the unit's


def _label(kind: str, col_key: str) -> str:
    return next(label for key, label, _, _ in _TABLE_COLUMNS[kind] if key == col_key)


def _at(rows: list[list[Any]], r: int, c: int) -> Any:
    return rows[r][c] if r < len(rows) and c < len(rows[r]) else None


def _write(update: Update, sheet_id: int, title: str, grid, r: int, c: int, value: Any) -> None:
    """Write ``value`` at (r, c) when the cell holds something else."""
    wanted = cell_value(value).get("userEnteredValue")
    if (_at(grid, r, c) or {}).get("userEnteredValue") == wanted:
        return
    update.requests.append(
        {
            "updateCells": {
                "start": {"sheetId": sheet_id, "rowIndex": r, "columnIndex": c},
                "rows": [{"values": [cell_value(value)]}],
                "fields": "userEnteredValue",
            }
        }
    )
    update.cells.append(f"{title}!{layout.a1(r, c)}")


def guide_update(tab: TabSpec, sheet: dict, update: Update) -> None:
    """The guide tab holds only the pipeline's lines: rewrite those that differ, clear the
    rest, and grow the tab when the guide is longer."""
    sheet_id = sheet["properties"]["sheetId"]
    title = sheet["properties"]["title"]
    grid = grid_rows(sheet)
    if _text(_at(grid, 0, 0)) != _text(_at(tab.rows, 0, 0)):
        # not a guide this layout made (its first line is the guide's title): leave it
        update.notes.append(f"{title}: not the guide tab (first line differs); left as it is")
        return
    rows = max(len(tab.rows), len(grid))
    row_count = (sheet["properties"].get("gridProperties") or {}).get("rowCount", len(grid))
    if len(tab.rows) > row_count:
        update.requests.append(
            {
                "updateSheetProperties": {
                    "properties": {"sheetId": sheet_id, "gridProperties": {"rowCount": rows}},
                    "fields": "gridProperties.rowCount",
                }
            }
        )
    for r in range(rows):
        _write(update, sheet_id, title, grid, r, 0, _at(tab.rows, r, 0))


def title_update(resource: dict, title: str, update: Update) -> None:
    """The file's name, when the catalogue's (period or unit name) changed."""
    if (resource.get("properties") or {}).get("title") != title:
        update.requests.append(
            {"updateSpreadsheetProperties": {"properties": {"title": title}, "fields": "title"}}
        )
        update.cells.append("(tên bảng tính)")
