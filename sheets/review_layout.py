"""The review sheet ("Duyệt báo cáo"): where a reviewer accepts or returns each report, as data.

A period whose catalogue row says ``review_required`` has one review spreadsheet per reviewer:
the consolidating body's (:data:`TOP`: the Sở) and one for each parent unit that reviews its
units' reports first (a district for its communes). One tab, one table: the pipeline writes
the columns up to :data:`NOTE` (which report, which version, its state and key figures, what
it recorded), the reviewer writes the last two (:data:`DECISION`, :data:`REASON`). The
publication writes it (``publish.review_sheet``), the cycle reads it (``ingest.review``); both
find the table by its header labels (:func:`find_header`), as the report parser does.

Rows are only ever added, at the end: a row keeps its place for the life of the period, so a
decision stays next to the version it was made for, and the pipeline never writes a
reviewer's cell. Each row names its version (:data:`VERSION_ID`, the warehouse's
``sheet_version_id``): a decision applies to that version, never to a later one.

Everything a reviewer reads is Vietnamese; keys are English.
"""

from __future__ import annotations

from dataclasses import dataclass

from tonghop.vn import clean_text, fold

TAB_TITLE = "Duyệt báo cáo"
#: the tab's sheet id (ours, fixed: one batchUpdate can make and fill it)
SHEET_ID = 7300
#: Drive appProperties of a review spreadsheet: the period, and whose review it is
APP_PROPERTY = "tonghop_review"
REVIEWER_PROPERTY = "tonghop_reviewer"
#: the reviewer code of the consolidating body (the Sở); a parent unit's is its unit code
TOP = "tong_hop"

#: what a reviewer may choose (label -> code), a strict drop-down in the sheet
DECISIONS = {"Chấp nhận": "chap_nhan", "Trả lại": "tra_lai"}
DECISION_LABELS = {code: label for label, code in DECISIONS.items()}

#: the table's columns: (key, header label, width in characters); the pipeline writes every
#: column before DECISION, the reviewer the last two
COLUMNS: list[tuple[str, str, int]] = [
    ("no", "STT", 5),
    ("unit_code", "Mã đơn vị", 13),
    ("unit_name", "Đơn vị", 26),
    ("version_number", "Phiên bản số", 9),
    ("sheet_version_id", "Mã bản", 9),
    ("received_at", "Nhận lúc", 17),
    ("figures", "Số liệu chính", 56),
    ("state", "Tình trạng", 16),
    ("note", "Hệ thống ghi nhận", 48),
    ("decision", "Quyết định", 14),
    ("reason", "Lý do trả lại", 40),
]
KEYS = [key for key, _, _ in COLUMNS]
LABELS = {key: label for key, label, _ in COLUMNS}
UNIT_CODE = KEYS.index("unit_code")
VERSION_ID = KEYS.index("sheet_version_id")
NOTE = KEYS.index("note")
DECISION = KEYS.index("decision")
REASON = KEYS.index("reason")
#: the columns the pipeline writes (A to the note)
OURS = NOTE + 1
#: the rows above the table: title, reviewer and deadline, how to review, the counts, blank
HEADER_ROW = 5


def column_letter(index: int) -> str:
    """0 -> 'A' (the table has fewer than 27 columns)."""
    return chr(ord("A") + index)


def cell_ref(row_index: int, column: int) -> str:
    """'Duyệt báo cáo!J8' for a 0-based row and column: what a message points the reviewer to."""
    return f"{TAB_TITLE}!{column_letter(column)}{row_index + 1}"


def find_header(rows: list[list[str]]) -> int | None:
    """The index of the table's header row: the first row holding the labels of the unit code,
    the version and the decision columns (wherever the table was moved)."""
    wanted = {fold(LABELS[k]) for k in ("unit_code", "sheet_version_id", "decision")}
    for index, row in enumerate(rows):
        if wanted <= {fold(str(cell)) for cell in row if cell}:
            return index
    return None


def column_map(header: list[str]) -> dict[str, int]:
    """key -> column index, by the header's labels (a column moved is still found)."""
    by_label = {fold(LABELS[k]): k for k in KEYS}
    return {
        by_label[fold(str(c))]: i for i, c in enumerate(header) if c and fold(str(c)) in by_label
    }


@dataclass(frozen=True)
class TableRow:
    """One row under the header, as read: its 0-based index in the tab and its cells' text."""

    row_index: int
    unit_code: str | None
    version_id: str | None
    decision: str | None
    reason: str | None
    note: str | None

    @property
    def has_input(self) -> bool:
        """The reviewer wrote something in it (a decision or a reason)."""
        return bool(self.decision or self.reason)


def table_rows(rows: list[list[str]]) -> tuple[int | None, list[TableRow]]:
    """(the header's row index, every non-empty row under it) of a tab's cells as text."""
    header = find_header(rows)
    if header is None:
        return None, []
    columns = column_map(rows[header])

    def get(row: list[str], key: str) -> str | None:
        index = columns.get(key)
        return clean_text(row[index]) if index is not None and index < len(row) else None

    out = []
    for index in range(header + 1, len(rows)):
        row = rows[index]
        if not any(clean_text(c) for c in row if c is not None):
            continue
        out.append(
            TableRow(
                index,
                get(row, "unit_code"),
                get(row, "sheet_version_id"),
                get(row, "decision"),
                get(row, "reason"),
                get(row, "note"),
            )
        )
    return header, out


def read_decision(text: str | None) -> str | None:
    """A decision cell's code ('chap_nhan' / 'tra_lai'), however the label is typed (case,
    diacritics, spacing); None for anything else. Only the two labels: a decision changes what
    counts, so nothing is guessed ("Đồng ý", "Duyệt" are refused, with a message)."""
    if not text:
        return None
    by_fold = {fold(label): code for label, code in DECISIONS.items()}
    return by_fold.get(fold(text))


def reviewer_title(period_name: str, reviewer_name: str) -> str:
    """The spreadsheet's name in Drive."""
    return f"Duyệt báo cáo – {period_name} – {reviewer_name}"
