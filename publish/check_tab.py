"""The "Kết quả kiểm tra" tab: what a unit reads about its report — whether it counts, and one
row per problem with its cell and how to fix it.

One presentation for every way a unit learns the result — the tab written into its spreadsheet
after each build (``publish.unit_feedback``) and ``tonghop check FILE.xlsx`` offline
(``tooling.check``) — so both say the same thing in the same words. The sentence on whether the
report counts is ``publish.unit_state``'s.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from expectations.runner import Issue
from publish.unit_state import local_time
from sheets import layout
from sheets.layout import TabSpec
from tonghop.vn import format_vi

SEVERITY_VI = {"error": "Lỗi", "warning": "Cảnh báo"}
#: problems listed in the tab; a report with more (a pasted register of thousands of rows)
#: gets the first ones and a line saying how many more — fixing those is the next step anyway
MAX_PROBLEMS_SHOWN = 200
COLUMNS: list[tuple[str, int]] = [
    ("STT", 5),
    ("Mức độ", 10),
    ("Trang", 16),
    ("Ô", 8),
    ("Vấn đề", 50),
    ("Giá trị hiện có", 20),
    ("Yêu cầu", 30),
    ("Cách sửa", 50),
]


def status_line(errors: int, warnings: int) -> str:
    """'Hợp lệ', 'Hợp lệ (2 cảnh báo)' or 'Có lỗi: 3 lỗi, 2 cảnh báo'."""
    if errors:
        return f"Có lỗi: {errors} lỗi, {warnings} cảnh báo"
    if warnings:
        return f"Hợp lệ ({warnings} cảnh báo)"
    return "Hợp lệ"


def split_cell(cell_ref: str | None) -> tuple[str | None, str | None]:
    """'Nhiệm vụ!G5' → ('Nhiệm vụ', 'G5'); a bare 'G5' → (None, 'G5')."""
    if not cell_ref:
        return None, None
    if "!" in cell_ref:
        tab, cell = cell_ref.rsplit("!", 1)
        return tab, cell
    return None, cell_ref


def ordered(issues: Iterable[Issue]) -> list[Issue]:
    """Errors first — those that keep the whole report out first of all —, then by tab and
    position in the sheet (row, then column)."""

    def key(issue: Issue):
        tab, cell = split_cell(issue.cell_ref)
        letters = "".join(ch for ch in (cell or "") if ch.isalpha())
        digits = "".join(ch for ch in (cell or "") if ch.isdigit())
        return (
            issue.severity != "error",
            not issue.blocks_version,
            tab or issue.tab_title or "",
            int(digits) if digits else 0,
            len(letters),
            letters,
            issue.rule_code,
        )

    return sorted(issues, key=key)


def problem_rows(issues: Iterable[Issue], limit: int = MAX_PROBLEMS_SHOWN) -> list[list[str]]:
    """One row per problem: STT, severity, tab, cell, problem, value found, expected, fix; past
    ``limit`` problems, one line saying how many more there are."""
    rows = []
    issues = ordered(issues)
    if len(issues) > limit:
        more = len(issues) - limit
        issues = issues[:limit]
    else:
        more = 0
    for n, issue in enumerate(issues, start=1):
        tab, cell = split_cell(issue.cell_ref)
        rows.append(
            [
                str(n),
                SEVERITY_VI[issue.severity],
                tab or issue.tab_title or "",
                cell or "",
                issue.message_vi,
                issue.value_found or "",
                issue.expected_vi or "",
                issue.fix_vi or "",
            ]
        )
    if more:
        rows.append(
            [
                "",
                "",
                "",
                "",
                f"… và {format_vi(more)} vấn đề khác, chưa liệt kê ở đây.",
                "",
                "",
                "Sửa các vấn đề trên; lần kiểm tra sau sẽ liệt kê tiếp.",
            ]
        )
    return rows


def text_lines(text: str, width: int) -> int:
    """How many lines ``text`` takes wrapped in a cell ``width`` characters wide (whole words
    moved to the next line, as Sheets, Excel and LibreOffice do), for the row's height."""
    lines, used = 1, 0
    for word in text.split():
        if used and used + 1 + len(word) > width:
            lines, used = lines + 1, len(word)
        else:
            used += (1 if used else 0) + len(word)
    return lines


def check_tab(
    *,
    unit_name: str,
    period_name: str,
    state_sentence: str,
    issues: list[Issue],
    checked_at: dt.datetime | None,
    version_time: dt.datetime | None,
    list_problems: bool = True,
    title: str = layout.TAB_CHECK,
) -> TabSpec:
    """The "Kết quả kiểm tra" tab, laid out for people: the title, the one sentence saying
    whether the report counts (``publish.unit_state``), one line of details, then the table of
    problems — the title and sentences in cells merged across the table's width (so they read
    as lines of text, not a strip in column A), wrap only in the table, and only the rows down
    to the table's header frozen. ``list_problems`` off (a sheet nobody has filled yet): the
    sentence says it all, no table."""
    width = len(COLUMNS)
    total_chars = sum(w for _, w in COLUMNS)
    errors = sum(i.severity == "error" for i in issues)
    warnings = sum(i.severity == "warning" for i in issues)
    when = []
    if checked_at:
        when.append(f"Kiểm tra lúc {local_time(checked_at)}")
    if version_time:
        when.append(f"bản bảng tính lúc {local_time(version_time)}")
    details = " · ".join(
        filter(
            None,
            [
                f"Kỳ báo cáo: {period_name}",
                ", ".join(when),
                f"Kết quả kiểm tra: {status_line(errors, warnings)}" if list_problems else "",
            ],
        )
    )
    note = (
        "Trang này do hệ thống tự ghi lại sau mỗi lần tổng hợp: sửa các ô được nêu ở các trang "
        "báo cáo (không sửa trang này); lần tổng hợp sau sẽ kiểm tra lại."
    )
    top = [
        f"KẾT QUẢ KIỂM TRA BÁO CÁO – {unit_name}",
        state_sentence,
        f"{details}. {note}",
    ]
    rows: list[list[str | None]] = [[line] for line in top]
    row_lines = {r: text_lines(line, int(total_chars * 0.95)) for r, line in enumerate(top) if r}
    if list_problems:
        rows.append([label for label, _ in COLUMNS])
        header_row = len(rows) - 1
        problems = problem_rows(issues)
        rows += problems or [["", "", "", "", "Không có lỗi hay cảnh báo nào."]]
    rows = [[value or None for value in row] + [None] * (width - len(row)) for row in rows]
    # the table's rows as tall as their longest cell needs (with a margin for fonts wider than
    # the estimate): Excel and LibreOffice do not always grow a wrapped row to fit
    for r in range(len(top), len(rows)):
        row_lines[r] = max(
            text_lines(str(value), int(w * 0.85)) if value else 1
            for value, (_, w) in zip(rows[r], COLUMNS, strict=True)
        )
    last = layout.column_letter(width - 1)
    return TabSpec(
        title=title,
        rows=rows,
        column_widths=[w for _, w in COLUMNS],
        frozen_rows=header_row + 1 if list_problems else 0,
        header_rows=[header_row] if list_problems else [],
        title_rows=[0],
        bold_rows=[1],
        merges=[f"A{r + 1}:{last}{r + 1}" for r in range(len(top))],
        row_lines=row_lines,
        wrap=list_problems,
        wrap_rows=(len(top), len(rows)),
    )
