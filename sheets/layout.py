"""The unit's report sheet: what it contains and where, as data.

One layout serves three sides: the xlsx template writer (``sheets.template``), the Sheets
provisioner, and the parser (``ingest.parse``), which finds each part by its header labels rather
than by fixed positions — so a unit that inserts rows, moves a table or renames a tab is still
read correctly.

Each input cell carries its help, the same on both sides: a strict drop-down, or a number or
date rule (:class:`InputRule`), with a Vietnamese hint shown when the cell is selected.

Everything a unit reads is Vietnamese; keys are English.
"""

from __future__ import annotations

import datetime as dt
import zlib
from dataclasses import dataclass, field, replace
from typing import Any

from openpyxl.utils import get_column_letter

from tonghop.catalogue import (
    PERIOD_KIND_LABELS,
    ROLE_LABELS,
    TIMING_LABELS,
    Catalogue,
    Contact,
)
from tonghop.vn import ONGOING_TASK_STATUSES, TASK_WITH_END_STATUSES

TAB_GUIDE = "Hướng dẫn"
TAB_INFO = "Thông tin"
TAB_TASKS = "Nhiệm vụ"
TAB_INDICATORS = "Chỉ tiêu"
TAB_FEEDBACK = "Khó khăn, kiến nghị"

#: written by the pipeline after each check, never read back as the unit's data
TAB_CHECK = "Kết quả kiểm tra"
#: sheet ids of the check tabs we add: [CHECK_SHEET_ID_BASE, + CHECK_SHEET_ID_SPAN); a unit can
#: rename a tab but not change its id, so the puller recognises our tabs by id
CHECK_SHEET_ID_BASE = 900_000_000
CHECK_SHEET_ID_SPAN = 100_000_000

SUBMITTED_CHOICES = ["Chưa nộp", "Đã nộp"]
#: the label of the plan's title, above the info block
PLAN_LABEL = "Kế hoạch"

FEEDBACK_KINDS = {"Khó khăn": "kho_khan", "Kiến nghị": "kien_nghi"}
#: blank lines of the "Khó khăn, kiến nghị" table, all open to the unit (the parser reads every
#: line under the header, however many; blank ones are skipped)
FEEDBACK_ROWS = 30

#: (key, label, filled by the unit?)
INFO_FIELDS: list[tuple[str, str, bool]] = [
    ("unit_code", "Mã đơn vị", False),
    ("unit_name", "Tên đơn vị", False),
    ("period_code", "Mã kỳ báo cáo", False),
    ("period_name", "Kỳ báo cáo", False),
    ("data_window", "Thời gian chốt số liệu", False),
    ("due_date", "Hạn nộp", False),
    ("reporter_name", "Người báo cáo", True),
    ("reporter_position", "Chức vụ", True),
    ("reporter_phone", "Số điện thoại", True),
    ("reporter_email", "Thư điện tử", True),
    ("submitted", "Đã nộp", True),
]

#: (key, header label, filled by the unit?, width in characters)
TASK_COLUMNS: list[tuple[str, str, bool, int]] = [
    ("stt", "STT", False, 5),
    ("task_code", "Mã nhiệm vụ", False, 12),
    ("task_group", "Nhóm nhiệm vụ", False, 24),
    ("task_text", "Nội dung nhiệm vụ", False, 60),
    ("role", "Vai trò", False, 10),
    ("timing", "Thời gian thực hiện", False, 14),
    ("status", "Tình trạng", True, 18),
    ("result", "Kết quả thực hiện", True, 50),
    ("completed_on", "Ngày hoàn thành", True, 14),
    ("evidence", "Minh chứng (số văn bản, đường dẫn)", True, 30),
    ("note", "Ghi chú", True, 20),
]

#: the target column comes last and only when one of the unit's indicators has a target
#: (:func:`indicator_columns`): every other column is where this list puts it in both shapes
INDICATOR_COLUMNS: list[tuple[str, str, bool, int]] = [
    ("stt", "STT", False, 5),
    ("indicator_code", "Mã chỉ tiêu", False, 12),
    ("indicator_name", "Tên chỉ tiêu", False, 55),
    ("unit_of_measure", "Đơn vị tính", False, 14),
    ("value", "Giá trị kỳ này", True, 16),
    ("note", "Ghi chú", True, 30),
    ("target", "Chỉ tiêu kế hoạch", False, 16),
]

FEEDBACK_COLUMNS: list[tuple[str, str, bool, int]] = [
    ("stt", "STT", False, 5),
    ("kind", "Loại", True, 14),
    ("content", "Nội dung", True, 90),
]

#: the header label that marks the start of each table
TABLE_MARKERS = {"tasks": "Mã nhiệm vụ", "indicators": "Mã chỉ tiêu", "feedback": "Nội dung"}


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA."""
    return get_column_letter(index + 1)


def a1(row_index: int, col_index: int) -> str:
    """0-based row/column → "B7"."""
    return f"{column_letter(col_index)}{row_index + 1}"


#: rows above the first field of the "Thông tin" tab (title, programme, blank)
INFO_TITLE_ROWS = 3


def info_cell(key: str) -> str:
    """Where a field's value sits in the "Thông tin" tab: 'B14' for "submitted"."""
    return a1(INFO_TITLE_ROWS + [k for k, _, _ in INFO_FIELDS].index(key), 1)


def vi_date(day: dt.date) -> str:
    return f"{day.day}/{day.month}/{day.year}"


@dataclass(frozen=True)
class InputRule:
    """A typed rule on input cells, with the hint shown on the cell (Sheets ``inputMessage``,
    Excel's prompt) and the message when the value breaks it (Excel; Sheets shows the hint).

    ``kind``: :data:`NUMBER` (a number ≥ 0) or :data:`DATE` (a valid date). ``strict``: the
    Sheet refuses a value that breaks the rule (else marks it); how the Sheet reads what is
    typed is the spreadsheet's locale, the same for every unit of the file. ``excel_style``:
    "stop" (refuse) or "warning" (say so, let the unit keep it) in the .xlsx template, where
    what is typed is read by the unit's computer's regional settings: a refusal only where no
    setting can make a right value wrong."""

    ref: str
    kind: str
    hint: str
    error: str
    strict: bool
    excel_style: str


NUMBER = "number"
DATE = "date"
#: Excel caps a validation's title at 32 characters and its prompt and message at 255
CHOICE_ERROR_TITLE = "Giá trị không hợp lệ"
NUMBER_ERROR_TITLE = "Số liệu không hợp lệ"
DATE_ERROR_TITLE = "Ngày không hợp lệ"


@dataclass
class TabSpec:
    """One tab of a sheet, independent of how it is written (xlsx or Sheets API)."""

    title: str
    rows: list[list[Any]]
    column_widths: list[int]
    frozen_rows: int = 0
    #: 0-based row indexes rendered as headers (bold, shaded)
    header_rows: list[int] = field(default_factory=list)
    #: 0-based row indexes rendered as titles (bold, larger)
    title_rows: list[int] = field(default_factory=list)
    #: 0-based row indexes in bold (a sentence that matters most)
    bold_rows: list[int] = field(default_factory=list)
    #: A1 ranges the unit fills in; everything else is protected
    input_ranges: list[str] = field(default_factory=list)
    #: (A1 range, allowed values) drop-downs (strict: only a value of the list)
    choices: list[tuple[str, list[str]]] = field(default_factory=list)
    wrap: bool = True
    #: wrap only these rows (0-based, end exclusive) instead of the whole tab; ``wrap`` on
    wrap_rows: tuple[int, int] | None = None
    #: A1 ranges drawn as one cell (a title or a sentence across the table's width)
    merges: list[str] = field(default_factory=list)
    #: 0-based row index → height in lines of text (rows of merged, wrapped sentences, which
    #: neither Excel nor LibreOffice grow to fit by themselves)
    row_lines: dict[int, int] = field(default_factory=dict)
    #: the hint of a drop-down, by its A1 range (default: :func:`choice_hint`)
    choice_hints: dict[str, str] = field(default_factory=dict)
    #: number and date rules on input cells
    rules: list[InputRule] = field(default_factory=list)
    #: A1 ranges of input cells that hold a date (the other input cells hold text)
    date_ranges: list[str] = field(default_factory=list)


def spreadsheet_title(catalogue: Catalogue, unit_code: str, period_code: str) -> str:
    """The Drive name of a unit's report: '<period name> – <unit name>'."""
    return f"{catalogue.period(period_code).period_name} – {catalogue.unit(unit_code).unit_name}"


def check_tab_title(registry_tab_title: str = "") -> str:
    """'Kết quả kiểm tra', or 'Kết quả kiểm tra – <unit tab>' when units share a spreadsheet."""
    return f"{TAB_CHECK} – {registry_tab_title}"[:100] if registry_tab_title else TAB_CHECK


def check_sheet_id(unit_code: str) -> int:
    """The sheet id of the unit's check tab (stable, inside the reserved range)."""
    return CHECK_SHEET_ID_BASE + zlib.crc32(unit_code.encode("utf-8")) % CHECK_SHEET_ID_SPAN


def is_check_sheet_id(sheet_id: int | None) -> bool:
    return (
        sheet_id is not None
        and CHECK_SHEET_ID_BASE <= sheet_id < CHECK_SHEET_ID_BASE + CHECK_SHEET_ID_SPAN
    )


#: every spreadsheet we make reads and shows numbers and dates the Vietnamese way ("1.200" is
#: 1200, "1,5" is 1.5, "1/4/2026" is 1 April) on Vietnam's time (docs/architecture.md)
SPREADSHEET_LOCALE = "vi_VN"
SPREADSHEET_TIME_ZONE = "Asia/Ho_Chi_Minh"
#: the Drive appProperty of a spreadsheet made with those settings (provisioning gives them to
#: a registered spreadsheet without it: one made before it did)
SETTINGS_APP_PROPERTY = {"tonghop_locale": SPREADSHEET_LOCALE}


def app_properties(unit_code: str, period_code: str) -> dict[str, str]:
    """Drive appProperties that mark a unit's report (set by us; units cannot edit them)."""
    return {"tonghop_unit": unit_code, "tonghop_period": period_code, **SETTINGS_APP_PROPERTY}


def report_tabs(catalogue: Catalogue, unit_code: str, period_code: str) -> list[TabSpec]:
    """The tabs of one unit's blank report for one period."""
    unit = catalogue.unit(unit_code)
    period = catalogue.period(period_code)
    programme = catalogue.programmes[period.programme_code]
    tasks = catalogue.tasks_for(period.programme_code, unit_code)
    indicators = catalogue.indicators_for(period.programme_code, unit_code)
    if not tasks:
        raise ValueError(f"Unit {unit_code} has no task in programme {period.programme_code}")

    guide = TabSpec(
        title=TAB_GUIDE,
        rows=[[line] for line in guide_lines(programme, period)],
        column_widths=[110],
        title_rows=[0],
    )

    info_values = {
        "unit_code": unit.unit_code,
        "unit_name": unit.unit_name,
        "period_code": period.period_code,
        "period_name": f"{period.period_name} ({PERIOD_KIND_LABELS[period.period_kind]})",
        "data_window": data_window_vi(period),
        # the catalogue's last on-time moment, worded once (tonghop.catalogue.deadline_vi),
        # and "(giả định: …)" when the plan gives no due date
        "due_date": _capitalised(period.deadline_with_basis_vi),
        "submitted": "Chưa nộp",
    }
    info_rows: list[list[Any]] = [
        ["BÁO CÁO KẾT QUẢ THỰC HIỆN KẾ HOẠCH", None],
        # the plan's title beside a label, in the wide column (column A is narrow)
        [PLAN_LABEL, programme["title"]],
        [None, None],
    ]
    assert len(info_rows) == INFO_TITLE_ROWS  # info_cell() counts on it
    info_inputs, info_choices = [], []
    for key, label, is_input in INFO_FIELDS:
        info_rows.append([label, info_values.get(key)])
        if is_input:
            info_inputs.append(a1(len(info_rows) - 1, 1))
        if key == "submitted":
            info_choices.append((a1(len(info_rows) - 1, 1), SUBMITTED_CHOICES))
    info = TabSpec(
        title=TAB_INFO,
        rows=info_rows,
        column_widths=[26, 70],
        title_rows=[0],
        input_ranges=info_inputs,
        choices=info_choices,
    )

    task_rows: list[list[Any]] = [[h for _, h, _, _ in TASK_COLUMNS]]
    for n, (task, role) in enumerate(tasks, start=1):
        group = catalogue.task_groups[task.task_group_code]["group_name"]
        values = {
            "stt": n,
            "task_code": task.task_code,
            "task_group": group,
            "task_text": task.task_text,
            "role": ROLE_LABELS[role],
            "timing": TIMING_LABELS[task.timing],
        }
        task_rows.append([values.get(key) for key, _, _, _ in TASK_COLUMNS])
    tasks_tab = TabSpec(
        title=TAB_TASKS,
        rows=task_rows,
        column_widths=[w for *_, w in TASK_COLUMNS],
        frozen_rows=1,
        header_rows=[0],
        input_ranges=_input_columns(TASK_COLUMNS, 1, len(task_rows) - 1),
        choices=_status_choices([task for task, _ in tasks]),
        rules=_runs(
            TASK_COLUMNS,
            "completed_on",
            [completion_date_rule(task, period) for task, _ in tasks],
        ),
        date_ranges=[_column_range(TASK_COLUMNS, "completed_on", 1, len(task_rows) - 1)],
    )

    columns = indicator_columns(indicators)
    indicator_rows: list[list[Any]] = [[h for _, h, _, _ in columns]]
    for n, ind in enumerate(indicators, start=1):
        values = {
            "stt": n,
            "indicator_code": ind.indicator_code,
            "indicator_name": ind.indicator_name,
            "unit_of_measure": ind.unit_of_measure,
            "target": ind.target_label or None,
        }
        indicator_rows.append([values.get(key) for key, _, _, _ in columns])
    indicators_tab = TabSpec(
        title=TAB_INDICATORS,
        rows=indicator_rows,
        column_widths=[w for *_, w in columns],
        frozen_rows=1,
        header_rows=[0],
        input_ranges=_input_columns(columns, 1, max(len(indicator_rows) - 1, 1)),
        rules=_runs(columns, "value", [value_rule(ind) for ind in indicators]),
    )

    feedback_rows: list[list[Any]] = [[h for _, h, _, _ in FEEDBACK_COLUMNS]]
    feedback_rows += [[n, None, None] for n in range(1, FEEDBACK_ROWS + 1)]
    kind_range = _column_range(FEEDBACK_COLUMNS, "kind", 1, FEEDBACK_ROWS)
    feedback_tab = TabSpec(
        title=TAB_FEEDBACK,
        rows=feedback_rows,
        column_widths=[w for *_, w in FEEDBACK_COLUMNS],
        frozen_rows=1,
        header_rows=[0],
        input_ranges=_input_columns(FEEDBACK_COLUMNS, 1, FEEDBACK_ROWS),
        choices=[(kind_range, list(FEEDBACK_KINDS))],
        choice_hints={kind_range: FEEDBACK_KIND_HINT},
    )
    return [guide, info, tasks_tab, indicators_tab, feedback_tab]


def indicator_columns(indicators) -> list[tuple[str, str, bool, int]]:
    """The indicator table's columns for these indicators: without "Chỉ tiêu kế hoạch" when
    none has a target (an empty locked column tells the unit nothing). The target column is
    the last one, so every other column is where :data:`INDICATOR_COLUMNS` puts it."""
    if any(ind.target_value is not None for ind in indicators):
        return list(INDICATOR_COLUMNS)
    return [c for c in INDICATOR_COLUMNS if c[0] != "target"]


# ------------------------------------------------------------------ hints and rules
FEEDBACK_KIND_HINT = (
    f"Chọn “Khó khăn” hoặc “Kiến nghị”, rồi ghi nội dung ở cột bên cạnh; mỗi ý một dòng "
    f"(có {FEEDBACK_ROWS} dòng để ghi)."
)


def choice_hint(options: list[str]) -> str:
    """The hint of a drop-down: 'Chọn trong danh sách: Chưa nộp, Đã nộp.'"""
    return f"Chọn trong danh sách: {', '.join(options)}."


def choice_error(options: list[str]) -> str:
    """Why a value was refused by a drop-down (Excel; at most 255 characters)."""
    text = f"Chỉ chọn một giá trị trong danh sách: {', '.join(options)}."
    return text if len(text) <= 255 else "Chỉ chọn một giá trị trong danh sách."


def value_rule(indicator) -> InputRule:
    """A figure is a number ≥ 0 written with digits; the hint says how, per kind. Refused when
    it is not (“5 buổi”, “nhiều”, “-3”) — except in Excel for money, whose decimal comma
    (12,5) an English-set computer reads as text: there, a warning."""
    if indicator.value_kind == "money":
        hint = (
            f"Ghi số {indicator.unit_of_measure} bằng chữ số, phần thập phân dùng dấu phẩy, "
            f"ví dụ 12,5; nếu không có, ghi 0."
        )
    else:
        hint = (
            f"Ghi số {indicator.unit_of_measure} bằng chữ số, không kèm chữ, ví dụ 1200 "
            f"(không ghi “12 {indicator.unit_of_measure}”); nếu không có, ghi 0."
        )
    return InputRule(
        ref="",
        kind=NUMBER,
        hint=hint,
        error="Ô này chỉ nhận một số không âm viết bằng chữ số (ví dụ 1200 hoặc 12,5), "
        "không kèm chữ; nếu không có, ghi 0.",
        strict=True,
        excel_style="warning" if indicator.value_kind == "money" else "stop",
    )


def completion_date_rule(task, period) -> InputRule:
    """The completion date: a date, day first; an ongoing task has none. Marked, not
    refused, when it is not a date: "20/6/2026" typed as text is still read (with a warning)
    and a computer set to month-first dates would refuse the very form the hint asks for."""
    example = vi_date(period.data_to)
    if task.is_ongoing:
        hint = "Nhiệm vụ thường xuyên không có ngày hoàn thành: để trống ô này."
    else:
        hint = f"Ghi ngày hoàn thành dạng ngày/tháng/năm, ví dụ {example}."
    return InputRule(
        ref="",
        kind=DATE,
        hint=hint,
        error=f"Ô này chỉ nhận một ngày, ghi dạng ngày/tháng/năm, ví dụ {example}.",
        strict=False,
        excel_style="warning",
    )


def _runs(columns, key: str, rules: list[InputRule]) -> list[InputRule]:
    """One rule per run of consecutive table rows (from row 2) with the same rule, on the
    ``key`` column."""
    col = column_index(columns, key)
    out: list[InputRule] = []
    start = 0
    for n in range(1, len(rules) + 1):
        if n == len(rules) or rules[n] != rules[start]:
            ref = f"{a1(1 + start, col)}:{a1(n, col)}"
            out.append(replace(rules[start], ref=ref))
            start = n
    return out


def task_status_choices(task) -> list[str]:
    """The statuses a task's row offers: an ongoing task (Thường xuyên, no deadline) never
    finishes, so "Đang thực hiện thường xuyên" instead of "Đang triển khai" / "Hoàn thành"."""
    return list(ONGOING_TASK_STATUSES if task.is_ongoing else TASK_WITH_END_STATUSES)


def _status_choices(tasks: list) -> list[tuple[str, list[str]]]:
    """One drop-down per run of consecutive task rows offering the same statuses."""
    col = column_index(TASK_COLUMNS, "status")
    result: list[tuple[str, list[str]]] = []
    start = 0
    for n in range(1, len(tasks) + 1):
        if n == len(tasks) or task_status_choices(tasks[n]) != task_status_choices(tasks[start]):
            result.append((f"{a1(1 + start, col)}:{a1(n, col)}", task_status_choices(tasks[start])))
            start = n
    return result


def data_window_vi(period) -> str:
    """'15/12/2025 – 14/12/2026 (số liệu từ 01/12/2026 đến 14/12/2026 là số ước thực hiện)'."""
    window = f"{vi_date(period.data_from)} – {vi_date(period.data_to)}"
    note = period.estimate_note_vi
    return f"{window} ({note[:1].lower()}{note[1:]})" if note else window


def column_index(columns, key: str) -> int:
    """0-based position of ``key`` in TASK_COLUMNS, INDICATOR_COLUMNS or FEEDBACK_COLUMNS."""
    return [k for k, *_ in columns].index(key)


def _column_range(columns, key: str, first_row: int, count: int) -> str:
    col = column_index(columns, key)
    return f"{a1(first_row, col)}:{a1(first_row + count - 1, col)}"


def _input_columns(columns, first_row: int, count: int) -> list[str]:
    return [
        _column_range(columns, key, first_row, count) for key, _, is_input, _ in columns if is_input
    ]


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def guide_lines(programme: dict, period) -> list[str]:
    period_line = (
        f"Kỳ báo cáo: {period.period_name}. Thời gian chốt số liệu: "
        f"{vi_date(period.data_from)} – {vi_date(period.data_to)}. "
        f"Hạn nộp: {period.deadline_vi} (giờ Việt Nam"
        + (f"; {period.due_date_note_vi[1:]}." if period.due_date_note_vi else ").")
    )
    if period.has_estimate:
        # the window ends after the due date: the last weeks' figures do not exist yet
        period_line += (
            f" {period.estimate_note_vi}: hạn nộp trước ngày chốt số liệu, nên số "
            f"liệu, kết quả của những ngày này ghi theo ước tính đến hết ngày "
            f"{vi_date(period.data_to)} (ước thực hiện)."
        )
    lines = ["HƯỚNG DẪN ĐIỀN BÁO CÁO", f"Kế hoạch: {programme['title']}", period_line]
    return (
        lines
        + [
            "",
            "1. Trang “Thông tin”: ghi họ tên, chức vụ, số điện thoại, thư điện tử của người báo cáo.",
            "2. Trang “Nhiệm vụ”: với mỗi nhiệm vụ, chọn Tình trạng trong danh sách, ghi Kết quả "
            "thực hiện, Ngày hoàn thành (ngày/tháng/năm) và Minh chứng. Nhiệm vụ thời gian thực "
            "hiện “Thường xuyên” không có thời điểm hoàn thành: chọn “Đang thực hiện thường xuyên” "
            "(hoặc “Chưa triển khai”) và ghi kết quả đã làm trong kỳ, không ghi Ngày hoàn thành. "
            "Nhiệm vụ “Hằng năm” hoặc có thời hạn: chọn Chưa triển khai, Đang triển khai hoặc "
            "Hoàn thành. Không thêm, xóa dòng hoặc sửa các cột có sẵn.",
            "3. Trang “Chỉ tiêu”: ghi số liệu của kỳ báo cáo vào cột “Giá trị kỳ này” bằng chữ số, "
            "không kèm chữ (ghi 5, không ghi “5 buổi”); số lớn ghi liền hoặc có dấu chấm phân cách "
            "hàng nghìn (1200 hoặc 1.200); kinh phí ghi theo triệu đồng, phần thập phân dùng dấu phẩy (ví dụ 12,5). "
            "Nếu không có, ghi 0. Cột “Chỉ tiêu kế hoạch” (khi kế hoạch đặt chỉ tiêu) ghi mức "
            "phải đạt, để đối chiếu.",
            f"4. Trang “Khó khăn, kiến nghị”: mỗi ý một dòng, chọn Loại rồi ghi Nội dung; có sẵn "
            f"{FEEDBACK_ROWS} dòng, dòng để trống được bỏ qua.",
            "5. Khi chọn một ô cần điền (nền vàng nhạt), bảng tính hiện gợi ý cách ghi. Giá trị "
            "ngoài danh sách chọn hoặc chữ ghi vào ô số liệu bị từ chối; ngày ghi sai dạng được "
            "đánh dấu để sửa.",
            "6. Khi đã điền xong, tại trang “Thông tin” chọn “Đã nộp”. Báo cáo được tính là đã nộp "
            "khi chọn “Đã nộp” và không còn lỗi.",
            "7. Sau mỗi lần tổng hợp, trang “Kết quả kiểm tra” cho biết báo cáo đã được tính "
            "chưa (đúng hạn hay trễ hạn), ô nào cần sửa và sửa thế nào.",
        ]
        + ([f"8. {contact}"] if (contact := Contact.of(programme).line_vi()) else [])
    )
