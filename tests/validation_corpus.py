"""A corpus of malformed unit reports: what officials really type, and what the checks must say.

Each :class:`Case` is one unit's report for :data:`CORPUS_PERIOD`, first filled correctly (by
:func:`fill_valid`, deterministic, zero issues) and then spoiled the way a unit spoils it —
"5 buổi" in a count, a status without diacritics, a deleted row, a renamed tab, the unit code
overwritten… Its :class:`Expected` issues name the rule, the severity, the exact cell (tab!A1)
and a fragment of the Vietnamese message the unit will read.

Every case belongs to a different expected unit of the period, and :data:`CLEAN_UNITS` are
well-filled reports, so the whole corpus can be loaded as one spreadsheet per unit into a
pipeline run. Data and builders only; the tests are in ``test_validation_corpus.py``.

Cell references below are literal on purpose (they are what the unit is told): for a commune
or ward (CB-XA-…, CB-PH-…) the template lays out

- Thông tin: B4 Mã đơn vị, B6 Mã kỳ báo cáo, B10 Người báo cáo, B12 Số điện thoại, B14 Đã nộp
- Nhiệm vụ: rows 2–9 = CB.1.2, CB.2.3, CB.2.4, CB.2.5, CB.2.6, CB.2.8, CB.2.9, CB.3.4;
  columns B Mã nhiệm vụ, G Tình trạng, H Kết quả, I Ngày hoàn thành, J Minh chứng, K Ghi chú
- Chỉ tiêu: rows 2–6 = CB.CT01 (buổi), CB.CT02 (lượt người), CB.CT06 (câu lạc bộ),
  CB.CT07 (cuộc), CB.CT09 (triệu đồng, money); column B Mã chỉ tiêu, F Giá trị kỳ này
- Khó khăn, kiến nghị: rows 2–9, B Loại, C Nội dung; :func:`fill_valid` fills rows 2 and 3

and for a provincial department (CB-SO-…) the same tabs with one task (CB.1.1, row 2) and two
indicators (CB.CT01 row 2, CB.CT02 row 3, both counts; G Ghi chú).

A problem with a whole table (a missing row, a missing or renamed column) is shown at the first
cell of the table's header line ("Nhiệm vụ!A1"); a missing tab or table has no cell, only the
tab it should be in.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from openpyxl import Workbook
from openpyxl.cell.cell import Cell

from sheets import layout
from sheets.template import set_value, write_workbook
from tonghop.catalogue import Catalogue

CORPUS_PERIOD = "CB-2027-6T"
#: well-filled reports validated in the same batch as the cases
CLEAN_UNITS = ("CB-SO-VHTTDL", "CB-HOI-VHNT", "CB-SO-TC", "CB-PH-003")

_INFO_LABELS = {key: label for key, label, _ in layout.INFO_FIELDS}
_TABLES = {
    layout.TAB_TASKS: (layout.TASK_COLUMNS, "task_code"),
    layout.TAB_INDICATORS: (layout.INDICATOR_COLUMNS, "indicator_code"),
    layout.TAB_FEEDBACK: (layout.FEEDBACK_COLUMNS, None),
}


@dataclass(frozen=True)
class Expected:
    rule_code: str  # e.g. "indicator.value_readable"
    severity: str  # "error" | "warning"
    cell_ref: str | None  # exact A1 with tab, e.g. "Chỉ tiêu!E3"; None: whole-report problem
    message_contains: str  # a distinctive fragment of the Vietnamese message
    blocks_version: bool = False  # the whole version is rejected (identity, columns)
    fix_contains: str | None = None  # a fragment of the fix ("Cách sửa"), when it matters
    value_found: str | None = None  # the value shown to the unit, exactly, when it matters
    tab_title: str | None = None  # the tab named, for a problem without a cell


@dataclass(frozen=True)
class CaseContext:
    """What a mutation knows: whose report it spoils, and where things are in it."""

    catalogue: Catalogue
    unit_code: str
    period_code: str

    @property
    def period(self):
        return self.catalogue.period(self.period_code)

    # ---------------------------------------------------------------- locating cells
    @staticmethod
    def col(tab: str, key: str) -> int:
        """1-based column of ``key`` in a table tab as the template lays it out."""
        return layout.column_index(_TABLES[tab][0], key) + 1

    def row_of(self, workbook: Workbook, tab: str, code: str) -> int:
        """1-based row whose code column holds ``code`` (first match)."""
        ws = workbook[tab]
        col = self.col(tab, _TABLES[tab][1])
        for r in range(1, ws.max_row + 1):
            if ws.cell(row=r, column=col).value == code:
                return r
        raise KeyError(f"{code} not found in {tab}")

    def task_cell(self, workbook: Workbook, task_code: str, key: str) -> Cell:
        row = self.row_of(workbook, layout.TAB_TASKS, task_code)
        return workbook[layout.TAB_TASKS].cell(row=row, column=self.col(layout.TAB_TASKS, key))

    def indicator_cell(self, workbook: Workbook, indicator_code: str, key: str = "value") -> Cell:
        row = self.row_of(workbook, layout.TAB_INDICATORS, indicator_code)
        return workbook[layout.TAB_INDICATORS].cell(
            row=row, column=self.col(layout.TAB_INDICATORS, key)
        )

    def info_cell(self, workbook: Workbook, key: str) -> Cell:
        ws = workbook[layout.TAB_INFO]
        for r in range(1, ws.max_row + 1):
            if ws.cell(row=r, column=1).value == _INFO_LABELS[key]:
                return ws.cell(row=r, column=2)
        raise KeyError(key)

    def feedback_cell(self, workbook: Workbook, n: int, key: str) -> Cell:
        """The ``key`` cell of the n-th (1-based) feedback line."""
        return workbook[layout.TAB_FEEDBACK].cell(
            row=1 + n, column=self.col(layout.TAB_FEEDBACK, key)
        )


Mutation = Callable[[Workbook, CaseContext], None]


@dataclass(frozen=True)
class Case:
    name: str  # short slug, used as pytest id
    unit_code: str
    what_the_unit_did: str  # one line, English
    mutate: Mutation  # applied to a valid, filled report
    expected: tuple[Expected, ...]


# ------------------------------------------------------------------ a valid, filled report
RESULTS = [
    "Đã tổ chức 3 hội nghị quán triệt, thu hút 240 lượt cán bộ, đảng viên tham gia.",
    "Ban hành Kế hoạch số 45/KH-UBND triển khai thực hiện; phân công cụ thể cho các bộ phận.",
    "Phối hợp tổ chức 6 buổi tuyên truyền lưu động tại các thôn, bản, tổ dân phố.",
    "Duy trì hoạt động thường xuyên; lồng ghép nội dung vào sinh hoạt chi bộ định kỳ.",
]
COUNT_VALUES = {
    "buổi": 12,
    "lượt người": 860,
    "câu lạc bộ": 4,
    "cuộc": 2,
    "tác phẩm": 15,
    "người": 6,
    "lớp": 2,
    "trại": 1,
}


def fill_valid(
    workbook: Workbook, catalogue: Catalogue, unit_code: str, period_code: str
) -> Workbook:
    """Fill a blank report the way a careful official does: every cell readable, every value
    inside the rules, "Đã nộp" chosen. Deterministic; validates with zero issues."""
    ctx = CaseContext(catalogue, unit_code, period_code)
    period = ctx.period

    info = {
        "reporter_name": "Nông Thị Lan",
        "reporter_position": "Chuyên viên",
        "reporter_phone": "0912 345 678",
        "reporter_email": f"baocao.{unit_code.lower()}@example.gov.vn",
        "submitted": "Đã nộp",
    }
    for key, value in info.items():
        set_value(ctx.info_cell(workbook, key), value)

    ws = workbook[layout.TAB_TASKS]
    code_col = ctx.col(layout.TAB_TASKS, "task_code")
    rows = [r for r in range(2, ws.max_row + 1) if ws.cell(row=r, column=code_col).value]
    for n, r in enumerate(rows):
        cell = lambda key, r=r: ws.cell(row=r, column=ctx.col(layout.TAB_TASKS, key))  # noqa: E731
        # the statuses the row's drop-down offers: an ongoing task is never "Hoàn thành"
        task = catalogue.tasks[ws.cell(row=r, column=code_col).value]
        status = (
            "Đang thực hiện thường xuyên"
            if task.is_ongoing
            else "Hoàn thành"
            if n % 2 == 0
            else "Đang triển khai"
        )
        set_value(cell("status"), status)
        set_value(cell("result"), RESULTS[n % len(RESULTS)])
        set_value(cell("evidence"), f"Báo cáo số {10 + n}/BC-UBND ngày 10/6/{period.year}")
        if status == "Hoàn thành":
            done = period.data_from + dt.timedelta(days=30 + 7 * n)
            cell("completed_on").value = done
            cell("completed_on").number_format = "d/m/yyyy"

    ws = workbook[layout.TAB_INDICATORS]
    code_col = ctx.col(layout.TAB_INDICATORS, "indicator_code")
    value_col = ctx.col(layout.TAB_INDICATORS, "value")
    for r in range(2, ws.max_row + 1):
        code = ws.cell(row=r, column=code_col).value
        if not code:
            continue
        indicator = catalogue.indicators[code]
        value = (
            125.5
            if indicator.value_kind == "money"
            else COUNT_VALUES.get(indicator.unit_of_measure, 3)
        )
        ws.cell(row=r, column=value_col).value = value

    feedback = [
        ("Khó khăn", "Kinh phí bố trí cho hoạt động văn học, nghệ thuật ở cơ sở còn hạn hẹp."),
        (
            "Kiến nghị",
            "Đề nghị Sở Văn hóa, Thể thao và Du lịch mở lớp tập huấn nghiệp "
            "vụ cho cán bộ văn hóa cơ sở.",
        ),
    ]
    for n, (kind, content) in enumerate(feedback, start=1):
        set_value(ctx.feedback_cell(workbook, n, "kind"), kind)
        set_value(ctx.feedback_cell(workbook, n, "content"), content)
    return workbook


def build_clean_workbook(
    unit_code: str, catalogue: Catalogue, period_code: str = CORPUS_PERIOD
) -> Workbook:
    workbook = write_workbook(layout.report_tabs(catalogue, unit_code, period_code))
    return fill_valid(workbook, catalogue, unit_code, period_code)


def build_case_workbook(
    case: Case, catalogue: Catalogue, period_code: str = CORPUS_PERIOD
) -> Workbook:
    workbook = build_clean_workbook(case.unit_code, catalogue, period_code)
    case.mutate(workbook, CaseContext(catalogue, case.unit_code, period_code))
    return workbook


# ------------------------------------------------------------------ mutation builders
def set_indicator(code: str, value: Any) -> Mutation:
    def mutate(wb: Workbook, ctx: CaseContext) -> None:
        set_value(ctx.indicator_cell(wb, code), value)

    return mutate


def set_task(code: str, **values: Any) -> Mutation:
    """Overwrite some cells of a task's row (``None`` empties a cell)."""

    def mutate(wb: Workbook, ctx: CaseContext) -> None:
        for key, value in values.items():
            cell = ctx.task_cell(wb, code, key)
            set_value(cell, value)
            if isinstance(value, dt.date):
                cell.number_format = "d/m/yyyy"

    return mutate


def set_info(key: str, value: Any) -> Mutation:
    def mutate(wb: Workbook, ctx: CaseContext) -> None:
        set_value(ctx.info_cell(wb, key), value)

    return mutate


def set_feedback(n: int, kind: Any, content: Any) -> Mutation:
    def mutate(wb: Workbook, ctx: CaseContext) -> None:
        set_value(ctx.feedback_cell(wb, n, "kind"), kind)
        set_value(ctx.feedback_cell(wb, n, "content"), content)

    return mutate


def steps(*mutations: Mutation) -> Mutation:
    def mutate(wb: Workbook, ctx: CaseContext) -> None:
        for m in mutations:
            m(wb, ctx)

    return mutate


def _append_row(tab: str, values: dict[str, Any]) -> Mutation:
    """A row typed by the unit right under the table's last row."""

    def mutate(wb: Workbook, ctx: CaseContext) -> None:
        ws = wb[tab]
        row = ws.max_row + 1
        for key, value in values.items():
            cell = ws.cell(row=row, column=ctx.col(tab, key))
            set_value(cell, value)
            if isinstance(value, dt.date):
                cell.number_format = "d/m/yyyy"

    return mutate


def append_task_row(**values: Any) -> Mutation:
    return _append_row(layout.TAB_TASKS, values)


def append_indicator_row(**values: Any) -> Mutation:
    return _append_row(layout.TAB_INDICATORS, values)


def _copy_row_to_end(tab: str, code: str) -> Mutation:
    def mutate(wb: Workbook, ctx: CaseContext) -> None:
        ws = wb[tab]
        src = ctx.row_of(wb, tab, code)
        dst = ws.max_row + 1
        for c in range(1, ws.max_column + 1):
            source = ws.cell(row=src, column=c)
            if source.value is not None:
                set_value(ws.cell(row=dst, column=c), source.value)
                ws.cell(row=dst, column=c).number_format = source.number_format

    return mutate


def _delete_row(tab: str, code: str) -> Mutation:
    def mutate(wb: Workbook, ctx: CaseContext) -> None:
        wb[tab].delete_rows(ctx.row_of(wb, tab, code))

    return mutate


def insert_rows(tab: str, before_row: int, amount: int) -> Mutation:
    def mutate(wb: Workbook, ctx: CaseContext) -> None:
        wb[tab].insert_rows(before_row, amount=amount)

    return mutate


def rename_tab(old: str, new: str) -> Mutation:
    def mutate(wb: Workbook, ctx: CaseContext) -> None:
        wb[old].title = new

    return mutate


def delete_tab(title: str) -> Mutation:
    def mutate(wb: Workbook, ctx: CaseContext) -> None:
        wb.remove(wb[title])

    return mutate


def delete_column(tab: str, key: str) -> Mutation:
    def mutate(wb: Workbook, ctx: CaseContext) -> None:
        wb[tab].delete_cols(ctx.col(tab, key))

    return mutate


def set_header(tab: str, key: str, label: str) -> Mutation:
    """The unit retyped a column's header."""

    def mutate(wb: Workbook, ctx: CaseContext) -> None:
        set_value(wb[tab].cell(row=1, column=ctx.col(tab, key)), label)

    return mutate


def set_indicator_note(code: str, value: Any) -> Mutation:
    def mutate(wb: Workbook, ctx: CaseContext) -> None:
        set_value(ctx.indicator_cell(wb, code, "note"), value)

    return mutate


def delete_header_row(tab: str) -> Mutation:
    """The unit pasted its table from another file without the header line."""

    def mutate(wb: Workbook, ctx: CaseContext) -> None:
        wb[tab].delete_rows(1)

    return mutate


def set_indicator_in(tab: str, code: str, value: Any) -> Mutation:
    """Like :func:`set_indicator`, on an indicator tab the unit renamed."""

    def mutate(wb: Workbook, ctx: CaseContext) -> None:
        ws = wb[tab]
        code_col = ctx.col(layout.TAB_INDICATORS, "indicator_code")
        row = next(
            r for r in range(1, ws.max_row + 1) if ws.cell(row=r, column=code_col).value == code
        )
        set_value(ws.cell(row=row, column=ctx.col(layout.TAB_INDICATORS, "value")), value)

    return mutate


def paste_last_years_info_block(wb: Workbook, ctx: CaseContext) -> None:
    ws = wb[layout.TAB_INFO]
    start = ws.max_row + 3
    last_year = {
        "unit_code": ctx.unit_code,
        "period_code": "CB-2026-6T",
        "reporter_name": "Hoàng Văn Minh",
        "submitted": "Đã nộp",
    }
    for offset, (key, label, _) in enumerate(layout.INFO_FIELDS):
        set_value(ws.cell(row=start + offset, column=1), label)
        if key in last_year:
            set_value(ws.cell(row=start + offset, column=2), last_year[key])


def to_nfd(wb: Workbook, ctx: CaseContext) -> None:
    """Every text cell decomposed (NFD), as some Vietnamese keyboards / macOS copy-paste give."""
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, str):
                    set_value(cell, unicodedata.normalize("NFD", cell.value))


# ------------------------------------------------------------------ the cases
IND = f"{layout.TAB_INDICATORS}!"
T = f"{layout.TAB_TASKS}!"
F = f"{layout.TAB_FEEDBACK}!"
INFO = f"{layout.TAB_INFO}!"

E, W = "error", "warning"
#: the fixes of a number, by the indicator's kind
COUNT_FIX = "Ghi số nguyên, chỉ bằng chữ số (ví dụ 1200)"
MONEY_FIX = "Ghi số, phần thập phân dùng dấu phẩy (ví dụ 12,5)"
COUNT_AGAIN = "ghi lại là số nguyên, chỉ bằng chữ số (ví dụ 1200)"
MONEY_AGAIN = "phần thập phân dùng dấu phẩy (ví dụ 12,5)"
RESTORE_HEADER = "Khôi phục dòng tiêu đề từ mẫu"

CASES: list[Case] = [
    # ----------------------------------------------------------- numbers (Chỉ tiêu)
    Case(
        "count_with_unit_word",
        "CB-XA-001",
        'typed "5 buổi" as the number of sessions',
        set_indicator("CB.CT01", "5 buổi"),
        (
            Expected(
                "indicator.value_interpreted",
                W,
                IND + "E2",
                "Đã hiểu “5 buổi” là 5 (đã bỏ chữ “buổi”)",
                fix_contains=COUNT_AGAIN,
                value_found="5 buổi",
            ),
        ),
    ),
    # "1.200" attendees is 1200, as Vietnamese is written (a dot between thousands): read
    # without a word. In money (million đồng), where a fraction is possible, "1.200" may also
    # be 1,2 written the English way: read as 1200, and the unit is asked to check
    Case(
        "count_thousands_dot",
        "CB-XA-002",
        'typed "1.200" attendees (dot groups thousands), and "1.200" million đồng in CB.CT09',
        steps(set_indicator("CB.CT02", "1.200"), set_indicator("CB.CT09", "1.200")),
        (
            Expected(
                "indicator.value_interpreted",
                W,
                IND + "E6",
                "Đã hiểu “1.200” là 1200 (dấu chấm phân cách hàng nghìn, không phải 1,2)",
                fix_contains=MONEY_AGAIN,
            ),
        ),
    ),
    Case(
        "count_thousands_comma",
        "CB-XA-003",
        'typed "1,200" attendees (1,2 or 1200?)',
        set_indicator("CB.CT02", "1,200"),
        (
            Expected(
                "indicator.value_readable",
                E,
                IND + "E3",
                "“1,200” có thể là 1,2 hoặc 1200",
                fix_contains=COUNT_FIX,
            ),
        ),
    ),
    Case(
        "count_fraction",
        "CB-XA-004",
        'typed "1,5" as a number of clubs',
        set_indicator("CB.CT06", "1,5"),
        (
            Expected(
                "indicator.value_readable",
                E,
                IND + "E4",
                "“1,5” được hiểu là 1,5, không phải số nguyên",
                fix_contains=COUNT_FIX,
            ),
        ),
    ),
    Case(
        "money_decimal_comma",
        "CB-XA-005",
        'typed "1,5" (million đồng) as text in CB.CT09, the decimal comma the guide asks for',
        set_indicator("CB.CT09", "1,5"),
        (),
    ),
    Case(
        "money_with_unit_word",
        "CB-XA-041",
        'typed "12,5 triệu" in CB.CT09 (million đồng)',
        set_indicator("CB.CT09", "12,5 triệu"),
        (
            Expected(
                "indicator.value_interpreted",
                W,
                IND + "E6",
                "Đã hiểu “12,5 triệu” là 12,5 (đã bỏ chữ “triệu”)",
                fix_contains=MONEY_AGAIN,
                value_found="12,5 triệu",
            ),
        ),
    ),
    Case(
        "money_dot_decimal",
        "CB-XA-006",
        'typed "12.5" (English decimal point) in CB.CT09',
        set_indicator("CB.CT09", "12.5"),
        (
            Expected(
                "indicator.value_readable",
                E,
                IND + "E6",
                "“12.5” chưa rõ: dấu chấm chỉ dùng để phân cách hàng nghìn",
                fix_contains=MONEY_FIX,
                value_found="12.5",
            ),
        ),
    ),
    Case(
        "count_fraction_number",
        "CB-XA-053",
        "typed the number 2.5 (a real number cell) as a count of clubs",
        set_indicator("CB.CT06", 2.5),
        (
            Expected(
                "indicator.value_readable",
                E,
                IND + "E4",
                "Giá trị 2,5 không phải số nguyên; chỉ tiêu này đếm số lượng",
                fix_contains=COUNT_FIX,
            ),
        ),
    ),
    Case(
        "value_in_words",
        "CB-XA-007",
        'typed "nhiều" (many) instead of a number',
        set_indicator("CB.CT07", "nhiều"),
        (Expected("indicator.value_readable", E, IND + "E5", "Không đọc được số từ “nhiều”"),),
    ),
    Case(
        "value_approximate",
        "CB-XA-008",
        'typed "khoảng 10" (about 10)',
        set_indicator("CB.CT01", "khoảng 10"),
        (Expected("indicator.value_readable", E, IND + "E2", "Không đọc được số từ “khoảng 10”"),),
    ),
    Case(
        "value_range",
        "CB-XA-009",
        'typed a range "5-7" as a count',
        set_indicator("CB.CT07", "5-7"),
        (Expected("indicator.value_readable", E, IND + "E5", "Không đọc được số từ “5-7”"),),
    ),
    Case(
        "value_negative",
        "CB-XA-010",
        'typed "-3" sessions',
        set_indicator("CB.CT01", "-3"),
        (Expected("indicator.value_non_negative", E, IND + "E2", "Số liệu “-3” là số âm"),),
    ),
    Case(
        "value_garbled_separators",
        "CB-XA-011",
        'typed "1.234,5.6" in the money indicator',
        set_indicator("CB.CT09", "1.234,5.6"),
        (
            Expected(
                "indicator.value_readable",
                E,
                IND + "E6",
                "Không đọc được số từ “1.234,5.6”",
                fix_contains=MONEY_FIX,
            ),
        ),
    ),
    Case(
        "value_word_none",
        "CB-XA-012",
        'typed "không" (none) instead of 0',
        set_indicator("CB.CT06", "không"),
        (
            Expected(
                "indicator.value_readable",
                E,
                IND + "E4",
                "“không” chưa phải là số; nếu không có thì ghi 0",
            ),
        ),
    ),
    Case(
        "value_zero_with_word",
        "CB-XA-050",
        'typed "0 (không)" (0, none) as a count',
        set_indicator("CB.CT07", "0 (không)"),
        (
            Expected(
                "indicator.value_interpreted",
                W,
                IND + "E5",
                "Đã hiểu “0 (không)” là 0 (đã bỏ chữ “(không)”)",
            ),
        ),
    ),
    Case(
        "value_empty",
        "CB-XA-013",
        "left the value of CB.CT07 empty (a blank is not a zero: the report is not complete)",
        set_indicator("CB.CT07", None),
        (
            Expected(
                "indicator.value_missing",
                E,
                IND + "E5",
                "Chưa ghi số liệu cho chỉ tiêu “CB.CT07” (ô E5 đang để trống); để trống nghĩa "
                "là chưa báo cáo: ghi 0 nếu không có.",
                fix_contains="Ghi số liệu của kỳ vào ô E5; nếu trong kỳ không có thì ghi 0",
            ),
        ),
    ),
    Case(
        "indicator_note_is_a_number",
        "CB-SO-BQLKKT",
        'typed a number (15) in the "Ghi chú" column of CB.CT01: a note, not a figure',
        set_indicator_note("CB.CT01", 15),
        (),
    ),
    # ----------------------------------------------------------- statuses (Nhiệm vụ)
    Case(
        "status_outside_list",
        "CB-XA-014",
        'typed "Đang làm dở" as the status',
        set_task("CB.2.3", status="Đang làm dở"),
        (Expected("task.status_allowed", E, T + "G3", "Tình trạng “Đang làm dở” không hợp lệ"),),
    ),
    Case(
        "status_empty",
        "CB-XA-015",
        "left the status of task CB.2.4 empty",
        set_task("CB.2.4", status=None),
        (
            Expected(
                "task.status_required",
                E,
                T + "G4",
                "Chưa chọn Tình trạng của nhiệm vụ “CB.2.4” (ô G4 đang để trống)",
                fix_contains="Chọn Tình trạng ở ô G4",
            ),
        ),
    ),
    # CB.2.5 and CB.2.6 are ongoing ("Thường xuyên"): "Hoàn thành" is read, and does not fit
    # a status typed without diacritics or in another case is that status, without a word;
    # only the misfit of "Hoàn thành" on an ongoing task is told
    Case(
        "status_without_diacritics",
        "CB-XA-016",
        'typed "hoan thanh" without diacritics, "đang thực hiện thường xuyên" in lower case, '
        '"dang thuc hien thuong xuyen" without diacritics',
        steps(
            set_task("CB.2.5", status="hoan thanh"),
            set_task("CB.2.6", status="đang thực hiện thường xuyên"),
            set_task("CB.2.8", status="dang thuc hien thuong xuyen"),
        ),
        (
            Expected(
                "task.status_timing",
                W,
                T + "G5",
                "Nhiệm vụ “CB.2.5” thực hiện thường xuyên, không có thời điểm hoàn thành",
            ),
        ),
    ),
    Case(
        "status_colloquial",
        "CB-XA-017",
        'typed "xong" (done) as the status',
        set_task("CB.2.6", status="xong"),
        (
            Expected("task.status_interpreted", W, T + "G6", "Đã hiểu “xong” là “Hoàn thành”"),
            Expected("task.status_timing", W, T + "G6", "nhưng ô G6 ghi “Hoàn thành”"),
        ),
    ),
    Case(
        "ongoing_task_marked_done",
        "CB-SO-XD",
        'picked "Hoàn thành" for an ongoing task (CB.1.1, "Thường xuyên"), typed over the '
        "drop-down that does not offer it",
        set_task("CB.1.1", status="Hoàn thành"),
        (
            Expected(
                "task.status_timing",
                W,
                T + "G2",
                "Nhiệm vụ “CB.1.1” thực hiện thường xuyên, không có thời điểm hoàn thành, "
                "nhưng ô G2 ghi “Hoàn thành”",
                fix_contains="Tại ô G2, chọn “Đang thực hiện thường xuyên”",
                value_found="Hoàn thành",
            ),
        ),
    ),
    Case(
        "ongoing_without_result",
        "CB-XA-018",
        '"Đang thực hiện thường xuyên" with the result cell left empty',
        set_task("CB.1.2", result=None),
        (
            Expected(
                "task.done_without_result",
                W,
                T + "H2",
                "Nhiệm vụ “CB.1.2” ghi “Đang thực hiện thường xuyên” nhưng chưa ghi Kết quả "
                "thực hiện",
            ),
        ),
    ),
    # ----------------------------------------------------------- dates (Nhiệm vụ, column I)
    Case(
        "date_text_due_day",
        "CB-XA-019",
        'typed the due day "20/6/2027" as text (after the data cut-off 14/6)',
        set_task("CB.2.4", completed_on="20/6/2027"),
        (
            Expected(
                "task.date_in_window",
                W,
                T + "I4",
                "Ngày hoàn thành 20/6/2027 nằm ngoài thời gian chốt số liệu của kỳ "
                "(15/12/2026 – 14/6/2027)",
            ),
        ),
    ),
    # a date typed as text in the guide's order (day/month/year) is that date: no word
    Case(
        "date_text_in_window",
        "CB-XA-020",
        'typed "5/3/2027" and "05/03/2027" as text',
        steps(
            set_task("CB.2.4", completed_on="5/3/2027"),
            set_task("CB.2.3", completed_on="05/03/2027"),
        ),
        (),
    ),
    Case(
        "date_impossible",
        "CB-XA-021",
        'typed "32/13/2027" as the completion date',
        set_task("CB.2.5", completed_on="32/13/2027"),
        (
            Expected(
                "task.date_readable", E, T + "I5", "“32/13/2027” không phải là một ngày có thật"
            ),
        ),
    ),
    Case(
        "date_month_first",
        "CB-XA-022",
        'typed "5/20/2027" (month first, US style)',
        set_task("CB.1.2", completed_on="5/20/2027"),
        (Expected("task.date_readable", E, T + "I2", "“5/20/2027” có vẻ ghi tháng trước ngày"),),
    ),
    Case(
        "date_with_ngay",
        "CB-XA-051",
        'typed "ngày 20/5/2027" (with the word "ngày")',
        set_task("CB.3.4", completed_on="ngày 20/5/2027"),
        (),
    ),
    # in a cell already formatted as a date, 2027 would show as 19/7/1905 (as in Sheets): the
    # case uses the date cell of a task not yet done, which has no date format
    Case(
        "date_year_only",
        "CB-XA-052",
        "typed only the year 2027 (a number) as the date",
        set_task("CB.2.3", completed_on=2027),
        (
            Expected(
                "task.date_readable",
                E,
                T + "I3",
                "“2027” là một số, không phải ngày; hãy ghi đủ ngày/tháng/năm",
            ),
        ),
    ),
    Case(
        "date_outside_window",
        "CB-XA-023",
        "completion date 5/10/2026, before the period",
        set_task("CB.2.5", completed_on=dt.date(2026, 10, 5)),
        (
            Expected(
                "task.date_in_window",
                W,
                T + "I5",
                "Ngày hoàn thành 5/10/2026 nằm ngoài thời gian chốt số liệu",
            ),
        ),
    ),
    # ----------------------------------------------------------- rows (Nhiệm vụ / Chỉ tiêu)
    Case(
        "inserted_blank_rows",
        "CB-XA-024",
        "inserted 3 blank rows in the task table, then typed a wrong status below them",
        steps(insert_rows(layout.TAB_TASKS, 4, 3), set_task("CB.2.5", status="Tạm dừng")),
        (Expected("task.status_allowed", E, T + "G8", "Tình trạng “Tạm dừng” không hợp lệ"),),
    ),
    Case(
        "extra_task_row_without_code",
        "CB-XA-025",
        "added a row under the tasks for extra work, with no task code",
        append_task_row(
            task_text="Tổ chức Ngày hội văn hóa các dân tộc của xã",
            status="Hoàn thành",
            result="Thu hút 1.500 lượt người tham gia.",
            completed_on=dt.date(2027, 4, 2),
        ),
        (
            Expected(
                "task.code_required", E, T + "A10", "Dòng 10 có nội dung nhưng không có mã nhiệm vụ"
            ),
        ),
    ),
    Case(
        "task_row_text_only",
        "CB-SO-CT",
        "typed a line of text under the task table (no code, no status)",
        append_task_row(task_text="Ngoài ra, Sở đã phối hợp tổ chức 2 hội nghị chuyên đề."),
        (
            Expected(
                "task.code_required", E, T + "A3", "Dòng 3 có nội dung nhưng không có mã nhiệm vụ"
            ),
        ),
    ),
    Case(
        "indicator_row_text_only",
        "CB-SO-DTTG",
        "typed an explanation under the indicator table (no code, no figure)",
        append_indicator_row(
            indicator_name="Số liệu ước tính đến ngày 10/6", note="Số liệu chính thức sẽ gửi sau."
        ),
        (
            Expected(
                "indicator.code_required",
                E,
                IND + "A4",
                "Dòng 4 có nội dung nhưng không có mã chỉ tiêu",
            ),
        ),
    ),
    Case(
        "task_code_typo",
        "CB-XA-026",
        'overwrote task code CB.2.4 with "cb 2.14"',
        set_task("CB.2.4", task_code="cb 2.14"),
        (
            Expected(
                "task.code_known",
                E,
                T + "B4",
                "Mã nhiệm vụ “cb 2.14” không có trong Kế hoạch",
                value_found="cb 2.14",
            ),
            Expected("structure.missing_tasks", E, T + "A1", "Thiếu dòng của nhiệm vụ: CB.2.4"),
        ),
    ),
    Case(
        "task_not_assigned",
        "CB-XA-027",
        "added a row for CB.1.1, a task of the provincial departments, not of the commune",
        append_task_row(
            task_code="CB.1.1",
            status="Đang triển khai",
            result="Phối hợp tuyên truyền trên loa truyền thanh xã.",
        ),
        (
            Expected(
                "task.assigned", E, T + "B10", "Nhiệm vụ “CB.1.1” không được giao cho đơn vị này"
            ),
        ),
    ),
    Case(
        "task_row_duplicated",
        "CB-XA-028",
        "copied the row of CB.2.5 below the table",
        _copy_row_to_end(layout.TAB_TASKS, "CB.2.5"),
        (
            Expected("task.duplicate", E, T + "B5", "Nhiệm vụ “CB.2.5” có nhiều hơn một dòng"),
            Expected("task.duplicate", E, T + "B10", "Nhiệm vụ “CB.2.5” có nhiều hơn một dòng"),
        ),
    ),
    Case(
        "task_row_deleted",
        "CB-XA-029",
        "deleted the row of task CB.2.6",
        _delete_row(layout.TAB_TASKS, "CB.2.6"),
        (Expected("structure.missing_tasks", E, T + "A1", "Thiếu dòng của nhiệm vụ: CB.2.6"),),
    ),
    Case(
        "indicator_not_assigned",
        "CB-XA-030",
        "added a row for CB.CT03 (an indicator of the arts association)",
        append_indicator_row(indicator_code="CB.CT03", value=2),
        (
            Expected(
                "indicator.assigned",
                E,
                IND + "B7",
                "Chỉ tiêu “CB.CT03” không được giao cho đơn vị này",
            ),
        ),
    ),
    Case(
        "indicator_code_unknown",
        "CB-XA-031",
        'added a row with a made-up code "CB.CT15"',
        append_indicator_row(indicator_code="CB.CT15", indicator_name="Số đội văn nghệ", value=3),
        (
            Expected(
                "indicator.code_known",
                E,
                IND + "B7",
                "Mã chỉ tiêu “CB.CT15” không có trong Kế hoạch",
            ),
        ),
    ),
    Case(
        "indicator_row_duplicated",
        "CB-XA-032",
        "copied the row of CB.CT01 below the table",
        _copy_row_to_end(layout.TAB_INDICATORS, "CB.CT01"),
        (
            Expected(
                "indicator.duplicate", E, IND + "B2", "Chỉ tiêu “CB.CT01” có nhiều hơn một dòng"
            ),
            Expected(
                "indicator.duplicate", E, IND + "B7", "Chỉ tiêu “CB.CT01” có nhiều hơn một dòng"
            ),
        ),
    ),
    Case(
        "indicator_row_deleted",
        "CB-XA-033",
        "deleted the row of indicator CB.CT07",
        _delete_row(layout.TAB_INDICATORS, "CB.CT07"),
        (
            Expected(
                "structure.missing_indicators", E, IND + "A1", "Thiếu dòng của chỉ tiêu: CB.CT07"
            ),
        ),
    ),
    Case(
        "indicator_total_row",
        "CB-XA-034",
        'added a "Tổng cộng" row with a sum and no code',
        append_indicator_row(indicator_name="Tổng cộng", value=878),
        (
            Expected(
                "indicator.code_required",
                E,
                IND + "A7",
                "Dòng 7 có số liệu nhưng không có mã chỉ tiêu",
            ),
        ),
    ),
    # ----------------------------------------------------------- tabs and tables
    Case(
        "renamed_tab",
        "CB-XA-035",
        'renamed "Chỉ tiêu" to "CT 6 tháng" and typed "nhiều"',
        steps(
            rename_tab(layout.TAB_INDICATORS, "CT 6 tháng"),
            set_indicator_in("CT 6 tháng", "CB.CT02", "nhiều"),
        ),
        (Expected("indicator.value_readable", E, "CT 6 tháng!E3", "Không đọc được số từ “nhiều”"),),
    ),
    Case(
        "indicator_tab_deleted",
        "CB-XA-036",
        'deleted the "Chỉ tiêu" tab',
        delete_tab(layout.TAB_INDICATORS),
        (
            Expected(
                "structure.indicator_table",
                E,
                None,
                "Không tìm thấy bảng chỉ tiêu",
                tab_title=layout.TAB_INDICATORS,
            ),
        ),
    ),
    Case(
        "task_tab_deleted",
        "CB-XA-037",
        'deleted the "Nhiệm vụ" tab',
        delete_tab(layout.TAB_TASKS),
        (
            Expected(
                "structure.task_table",
                E,
                None,
                "Không tìm thấy bảng nhiệm vụ",
                tab_title=layout.TAB_TASKS,
            ),
        ),
    ),
    Case(
        "task_table_without_header",
        "CB-XA-038",
        "pasted the task rows from another file, losing the header line",
        delete_header_row(layout.TAB_TASKS),
        (
            Expected(
                "structure.task_table",
                E,
                None,
                "Không tìm thấy bảng nhiệm vụ (cột tiêu đề “Mã nhiệm vụ”)",
                tab_title=layout.TAB_TASKS,
            ),
        ),
    ),
    Case(
        "task_column_deleted",
        "CB-XA-039",
        'deleted the "Minh chứng" column of the tasks',
        delete_column(layout.TAB_TASKS, "evidence"),
        (
            Expected(
                "structure.columns",
                E,
                T + "A1",
                "Dòng tiêu đề của bảng nhiệm vụ (trang “Nhiệm vụ”, dòng 1) thiếu cột "
                "“Minh chứng (số văn bản, đường dẫn)”",
                blocks_version=True,
                fix_contains=RESTORE_HEADER,
            ),
        ),
    ),
    Case(
        "status_column_deleted",
        "CB-SO-GDDT",
        'deleted the "Tình trạng" column of the tasks',
        delete_column(layout.TAB_TASKS, "status"),
        (
            Expected(
                "structure.columns",
                E,
                T + "A1",
                "bảng nhiệm vụ (trang “Nhiệm vụ”, dòng 1) thiếu cột “Tình trạng”",
                blocks_version=True,
                fix_contains=RESTORE_HEADER,
            ),
        ),
    ),
    Case(
        "value_header_renamed",
        "CB-SO-KHCN",
        'retyped the header "Giá trị kỳ này" as "Số liệu kỳ này"',
        set_header(layout.TAB_INDICATORS, "value", "Số liệu kỳ này"),
        (
            Expected(
                "structure.columns",
                E,
                IND + "A1",
                "bảng chỉ tiêu (trang “Chỉ tiêu”, dòng 1) thiếu cột “Giá trị kỳ này”",
                blocks_version=True,
                fix_contains=RESTORE_HEADER,
            ),
        ),
    ),
    Case(
        "feedback_tab_deleted",
        "CB-SO-NNMT",
        'deleted the "Khó khăn, kiến nghị" tab',
        delete_tab(layout.TAB_FEEDBACK),
        (
            Expected(
                "structure.feedback_table",
                W,
                None,
                "Không tìm thấy bảng khó khăn, kiến nghị (dòng tiêu đề có cột “Loại” và "
                "“Nội dung”): các khó khăn, kiến nghị của đơn vị chưa được đọc",
                tab_title=layout.TAB_FEEDBACK,
            ),
        ),
    ),
    Case(
        "feedback_header_deleted",
        "CB-SO-NV",
        "deleted the header line of the feedback table (its two lines are still there)",
        delete_header_row(layout.TAB_FEEDBACK),
        (
            Expected(
                "structure.feedback_table",
                W,
                None,
                "Không tìm thấy bảng khó khăn, kiến nghị",
                tab_title=layout.TAB_FEEDBACK,
            ),
        ),
    ),
    # ----------------------------------------------------------- the info block (Thông tin)
    Case(
        "wrong_unit_code",
        "CB-XA-040",
        "overwrote Mã đơn vị with a neighbouring commune's",
        set_info("unit_code", "CB-XA-041"),
        (
            Expected(
                "identity.unit",
                E,
                INFO + "B4",
                "Bảng tính ghi mã đơn vị “CB-XA-041”, nhưng bảng này được cấp cho đơn vị "
                "“CB-XA-040”",
                blocks_version=True,
                value_found="CB-XA-041",
            ),
        ),
    ),
    Case(
        "identity_codes_emptied",
        "CB-SO-TP",
        "cleared the Mã đơn vị and Mã kỳ báo cáo cells",
        steps(set_info("unit_code", None), set_info("period_code", None)),
        (
            Expected(
                "identity.unit",
                E,
                INFO + "B4",
                "Ô Mã đơn vị đang trống, nhưng bảng này được cấp cho đơn vị “CB-SO-TP”",
                blocks_version=True,
                fix_contains="Ghi lại mã “CB-SO-TP” vào ô Mã đơn vị",
            ),
            Expected(
                "identity.period",
                E,
                INFO + "B6",
                "Ô Mã kỳ báo cáo đang trống, nhưng bảng này dùng cho kỳ “CB-2027-6T”",
                blocks_version=True,
            ),
        ),
    ),
    Case(
        "info_tab_deleted",
        "CB-SO-TTR",
        'deleted the "Thông tin" tab',
        delete_tab(layout.TAB_INFO),
        (
            Expected(
                "structure.info_block",
                E,
                None,
                "Không tìm thấy phần Thông tin của báo cáo",
                tab_title=layout.TAB_INFO,
                fix_contains="Khôi phục trang “Thông tin” từ mẫu",
            ),
        ),
    ),
    Case(
        "wrong_period_code",
        "CB-XA-042",
        "reused last year's sheet: Mã kỳ says CB-2026-6T",
        set_info("period_code", "CB-2026-6T"),
        (
            Expected(
                "identity.period",
                E,
                INFO + "B6",
                "Bảng tính ghi kỳ báo cáo “CB-2026-6T”, nhưng bảng này dùng cho kỳ “CB-2027-6T”",
                blocks_version=True,
            ),
        ),
    ),
    Case(
        "submitted_unreadable",
        "CB-XA-043",
        'typed "Đã gửi" (sent) in the Đã nộp cell',
        set_info("submitted", "Đã gửi"),
        (
            Expected(
                "info.submitted",
                W,
                INFO + "B14",
                "Ô “Đã nộp” ghi “Đã gửi”; báo cáo được coi là chưa nộp",
            ),
        ),
    ),
    Case(
        "reporter_empty",
        "CB-XA-044",
        "left Người báo cáo empty",
        set_info("reporter_name", None),
        (Expected("info.reporter_required", W, INFO + "B10", "Chưa ghi họ tên người báo cáo"),),
    ),
    # ----------------------------------------------------------- feedback
    Case(
        "feedback_kind_outside_list",
        "CB-XA-045",
        'typed "Đề xuất" as the kind',
        set_feedback(3, "Đề xuất", "Đề xuất hỗ trợ trang phục biểu diễn cho đội văn nghệ."),
        (Expected("feedback.kind_allowed", E, F + "B4", "Loại “Đề xuất” không hợp lệ"),),
    ),
    Case(
        "feedback_kind_without_content",
        "CB-XA-046",
        'chose "Kiến nghị" and wrote nothing',
        set_feedback(3, "Kiến nghị", None),
        (
            Expected(
                "feedback.content_required",
                W,
                F + "C4",
                "Đã chọn Loại nhưng chưa ghi Nội dung ở dòng 4",
            ),
        ),
    ),
    Case(
        "feedback_content_without_kind",
        "CB-XA-047",
        "wrote a difficulty without its kind",
        set_feedback(3, None, "Thiếu nhạc cụ dân tộc cho câu lạc bộ."),
        (Expected("feedback.kind_required", E, F + "B4", "Chưa chọn Loại cho nội dung ở dòng 4"),),
    ),
    # ----------------------------------------------------------- text that must stay text
    Case(
        "info_block_pasted_twice",
        "CB-PH-002",
        "pasted last year's filled info block (Mã kỳ CB-2026-6T) under this one: the first "
        "block is the report's",
        paste_last_years_info_block,
        (),
    ),
    Case(
        "status_with_invisible_characters",
        "CB-PH-001",
        "pasted a status, a value and a feedback kind from Zalo/Word with zero-width spaces "
        "and a BOM",
        steps(
            set_task("CB.2.3", status="Đang thực hiện thường xuyên\u200b"),
            set_task("CB.2.4", status="\ufeffĐang thực hiện thường xuyên"),
            set_indicator("CB.CT01", "12\u200b"),
            set_feedback(1, "Khó khăn\u200b", "Thiếu kinh phí.\u200b"),
        ),
        (),
    ),
    Case(
        "formula_looking_text",
        "CB-XA-048",
        'typed "=SUM(A1)", "+84 912 345 678" and "- Kế hoạch…" as plain text',
        steps(
            set_task("CB.2.3", result="=SUM(A1)"),
            set_task("CB.2.4", evidence="- Kế hoạch số 12/KH-UBND; - Báo cáo số 30/BC-UBND"),
            set_info("reporter_phone", "+84 912 345 678"),
            set_feedback(3, "Kiến nghị", "=> Đề nghị bổ sung kinh phí"),
        ),
        (),
    ),
    Case(
        "nfd_text",
        "CB-XA-049",
        "every text cell in decomposed Unicode (NFD), statuses and labels included",
        to_nfd,
        (),
    ),
]
