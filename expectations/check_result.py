"""What a unit reads about its report's check: the status line and one row per problem.

One presentation for every way a unit learns the result — the "Kết quả kiểm tra" tab written
into its spreadsheet after each pull (``publish.unit_feedback``) and ``tonghop check FILE.xlsx``
offline — so both say the same thing in the same words.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from expectations.runner import Issue
from sheets import layout
from sheets.layout import TabSpec
from tonghop.vn import VN_TZ, format_vi

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


def local_time(when: dt.datetime) -> str:
    """'14:05 ngày 23/11/2026' in Vietnam's time."""
    when = when.astimezone(VN_TZ)
    return f"{when:%H:%M} ngày {layout.vi_date(when.date())}"


def check_tab(
    *,
    unit_name: str,
    period_name: str,
    issues: list[Issue],
    checked_at: dt.datetime,
    version_time: dt.datetime | None,
    title: str = layout.TAB_CHECK,
) -> TabSpec:
    """The "Kết quả kiểm tra" tab: title, status, times, then the table of problems."""
    errors = sum(i.severity == "error" for i in issues)
    warnings = sum(i.severity == "warning" for i in issues)
    rows: list[list[str | None]] = [
        [f"KẾT QUẢ KIỂM TRA BÁO CÁO – {unit_name}"],
        ["Kỳ báo cáo", period_name],
        ["Kết quả", status_line(errors, warnings)],
        ["Thời điểm kiểm tra", local_time(checked_at)],
        [
            "Bản đã kiểm tra",
            "Bảng tính lúc " + local_time(version_time)
            if version_time
            else "Bảng tính đọc lúc kiểm tra",
        ],
        [
            "Trang này do hệ thống tự ghi lại sau mỗi lần tổng hợp. Sửa các ô được nêu ở các "
            "trang báo cáo (không sửa trang này); lần tổng hợp sau sẽ kiểm tra lại."
        ],
        [label for label, _ in COLUMNS],
    ]
    header_row = len(rows) - 1
    problems = problem_rows(issues)
    rows += problems or [["", "", "", "", "Không có lỗi hay cảnh báo nào."]]
    width = len(COLUMNS)
    rows = [[value or None for value in row] + [None] * (width - len(row)) for row in rows]
    return TabSpec(
        title=title,
        rows=rows,
        column_widths=[w for _, w in COLUMNS],
        frozen_rows=header_row + 1,
        header_rows=[header_row],
        title_rows=[0],
    )
