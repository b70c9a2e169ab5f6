"""The province-wide summary ("Tổng hợp") of one period, from the marts.

Reads the marts as ``bi_reader`` (the publisher needs nothing more) and lays the summary out as
tables in Vietnamese: an overview, reporting status by unit (on time / late / missing, with
dates), reporting rates by unit type, indicator totals for the province against targets and
indicator values by unit, task progress by group, and the units' difficulties and
recommendations gathered. The tables are written twice: an .xlsx file and a spreadsheet
through gspread (Google or the emulator), both formatted for reading and sorting: the title
across the table's width in a row tall enough for it, a bold header row in Vietnamese words (a
code column has its name beside it), frozen rows, column widths, a filter on every table's
header row, dates and times as date cells (d/m/yyyy, d/m/yyyy hh:mm: they sort by date), counts
as whole numbers and money with its decimals (by the indicator's kind in the catalogue,
``dim_indicator.value_kind``), rates as percents. The .xlsx is also set for printing: A4,
landscape when the table is wider than a portrait page, as wide as one page, the title rows on
every page, the tab's name and page numbers in the footer (Sheets has no print set-up API).

Anything a unit typed is written as text, never as a formula: the spreadsheet gets it as an
explicit ``stringValue`` (so "=1+1", "+84…", "-", "@abc" stay as typed) and the .xlsx cell is
typed as a string. A cell of the .xlsx holds 32,767 characters, a cell of the spreadsheet
50,000 (what a unit's cell may hold): longer text is cut in the .xlsx only, with a mark saying
so and where the whole text is — the spreadsheet's tab and the mart it was read from
(``sheets.template.fit_xlsx_cell``).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gspread.urls import DRIVE_FILES_API_V3_URL
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.page import PageMargins

from publish.check_tab import text_lines
from publish.marts import date_vi, local_date, local_time, plain_number, query
from publish.ooxml import normalize_zip
from sheets.template import LINE_HEIGHT, MAX_ROW_HEIGHT, set_page, set_value
from sheets.writer import (
    PIXELS_PER_LINE,
    TITLE_FONT_SIZE,
    column_width_request,
    spreadsheet_settings_request,
)
from tonghop.catalogue import deadline_vi, due_date_note_vi, estimate_clause_vi
from tonghop.vn import date_to_serial

log = logging.getLogger(__name__)

SUMMARY_APP_PROPERTY = "tonghop_summary"
#: rows above the table: title, blank, then the header row
HEADER_ROW = 3
#: sheet ids of the summary's tabs (ours, stable, so one batchUpdate can add and fill a tab)
FIRST_SHEET_ID = 7100
#: how a cell of each kind is shown: (Sheets numberFormat type, pattern), the pattern also the
#: .xlsx number format. Separators are the reader's: "#,##0" is 1.234 in the vi_VN spreadsheet
#: and in a Vietnamese Excel; a date is a date cell, so it sorts by date ("1/7/2026" after
#: "10/6/2026"), not as text
NUMBER_FORMATS = {
    "int": ("NUMBER", "#,##0"),
    "decimal": ("NUMBER", "#,##0.0##"),
    "pct": ("PERCENT", "0.0%"),
    "date": ("DATE", "d/m/yyyy"),
    "datetime": ("DATE_TIME", "d/m/yyyy hh:mm"),
}
#: an indicator's figures are shown by its kind in the catalogue (``dim_indicator.value_kind``):
#: a count is a whole number ("857" buổi, never "857,0"), money (triệu đồng) keeps its decimals
INDICATOR_KINDS = {"count": "int", "money": "decimal"}
HEADER_FILL = {"red": 0.867, "green": 0.922, "blue": 0.969}  # #DDEBF7
PIXELS_PER_WIDTH = 7  # an .xlsx column width unit is about 7 pixels
DEFAULT_WIDTH = 8.43  # a column's width in Excel when none is set
#: the .xlsx's font (Excel's default, as the report template's); Sheets shows its own
FONT = "Calibri"
TITLE_LINE_HEIGHT = 20  # points per line of the 13-point title, its accents included
#: the widest table (in .xlsx width units) a portrait A4 page holds within PAGE_MARGINS; a
#: wider one is printed landscape (and any table is scaled to one page's width)
PORTRAIT_WIDTH = 95
PAGE_MARGINS = PageMargins(left=0.5, right=0.5, top=0.6, bottom=0.7, header=0.3, footer=0.3)
#: the footer of every printed page: the tab's name and "trang 2/5"
PAGE_FOOTER = "&A – trang &P/&N"


@dataclass
class SummaryTable:
    title: str  # tab title
    heading: str  # first line of the tab
    headers: list[str]
    rows: list[list[Any]]
    widths: list[int] = field(default_factory=list)  # in .xlsx width units
    #: per column: text, a key of NUMBER_FORMATS, or "row" (the row's kind, in ``row_kinds``)
    kinds: list[str] = field(default_factory=list)
    #: per row, the kind of its cells in the columns of kind "row" (an overview line, an
    #: indicator's figures)
    row_kinds: list[str] = field(default_factory=list)
    #: how many of the last rows are totals: bold, and below the filter (sorting leaves them)
    total_rows: int = 0
    source: str = ""  # the marts read (where a cut cell's whole text is)

    def kind(self, row: int, column: int) -> str:
        """The kind of cell (``row``, ``column``) of the table's rows (0-based)."""
        kind = self.kinds[column] if column < len(self.kinds) else "text"
        return self.row_kinds[row] if kind == "row" else kind

    @property
    def column_widths(self) -> list[float]:
        """Every column's width (.xlsx units), a column without one at the default width."""
        return [*self.widths, *[DEFAULT_WIDTH] * (len(self.headers) - len(self.widths))]

    @property
    def filtered_rows(self) -> int:
        """The rows under the filter: all but the totals."""
        return len(self.rows) - self.total_rows

    @property
    def is_wide(self) -> bool:
        """Wider than a portrait page: printed landscape."""
        return sum(self.column_widths) > PORTRAIT_WIDTH


# ------------------------------------------------------------------ the tables
def build_summary(conn, period_code: str) -> list[SummaryTable]:
    """The summary tables of one period, read from the marts."""
    overview = query(
        conn,
        """
        select s.*, p.period_name, p.data_from, p.data_to, p.on_time_until,
               p.previous_period_code, p.estimated_from, p.is_due_date_assumed,
               r.previous_reporting_rate, r.reporting_rate_change
        from marts.agg_province_summary s
        join marts.dim_period p using (period_code)
        left join marts.agg_reporting_rate r
            on r.period_code = s.period_code and r.unit_type = 'tat_ca'
        where s.period_code = %s""",
        (period_code,),
    )
    if not overview:
        raise LookupError(
            f"marts.agg_province_summary has no row for {period_code}; run the dbt build first"
        )
    # "(bao gồm số ước thực hiện từ … đến …)" on the indicator tables of a period with estimates
    estimates = estimate_clause_vi(overview[0]["estimated_from"], overview[0]["data_to"])
    return [
        _overview(overview[0]),
        _submissions(conn, period_code),
        _rates(conn, period_code),
        _indicator_totals(conn, period_code, estimates),
        _indicators_by_unit(conn, period_code, estimates),
        _task_groups(conn, period_code),
        _feedback(conn, period_code),
    ]


def _overview(o: dict) -> SummaryTable:
    # (label, value, kind): each line says how its value is shown
    rows = [
        ["Kỳ báo cáo", o["period_name"], "text"],
        [
            "Thời gian chốt số liệu",
            f"{date_vi(o['data_from'])} – {date_vi(o['data_to'])}"
            + (
                f" ({estimates})"
                if (estimates := estimate_clause_vi(o["estimated_from"], o["data_to"]))
                else ""
            ),
            "text",
        ],
        [
            "Hạn nộp",
            " ".join(
                filter(
                    None,
                    [deadline_vi(o["on_time_until"]), due_date_note_vi(o["is_due_date_assumed"])],
                )
            ),
            "text",
        ],
        ["Số liệu tính đến ngày", o["as_of_date"], "date"],
        ["Số đơn vị phải báo cáo", o["expected_reports"], "int"],
        ["Số báo cáo đã nộp (hợp lệ)", o["actual_reports"], "int"],
        ["Tỷ lệ nộp báo cáo", o["reporting_rate"], "pct"],
        ["Số báo cáo nộp đúng hạn", o["on_time_reports"], "int"],
        ["Tỷ lệ nộp đúng hạn", o["on_time_rate"], "pct"],
        ["Số báo cáo nộp trễ hạn", o["late_reports"], "int"],
        ["Số đơn vị chưa nộp báo cáo hợp lệ", o["missing_reports"], "int"],
        ["  – đã nộp nhưng còn lỗi", o["units_with_errors"], "int"],
        ["  – đã điền nhưng chưa chọn “Đã nộp”", o["not_submitted_reports"], "int"],
        ["  – chưa điền", o["not_filled_reports"], "int"],
        ["  – chưa có bảng tính", o["no_sheet_reports"], "int"],
        ["Số lượt nhiệm vụ được giao", o["tasks_assigned"], "int"],
        ["Nhiệm vụ thường xuyên: số lượt được giao", o["ongoing_tasks"], "int"],
        ["Nhiệm vụ thường xuyên: đang thực hiện thường xuyên", o["ongoing_tasks_active"], "int"],
        ["Nhiệm vụ thường xuyên: có kết quả trong kỳ", o["ongoing_tasks_with_result"], "int"],
        ["Nhiệm vụ hằng năm, có thời hạn: số lượt được giao", o["tasks_with_end"], "int"],
        ["Nhiệm vụ hằng năm, có thời hạn: số lượt hoàn thành", o["tasks_with_end_done"], "int"],
        ["Tỷ lệ hoàn thành (chỉ nhiệm vụ hằng năm, có thời hạn)", o["task_done_rate"], "pct"],
    ]
    if o.get("review_required"):
        # which figures are accepted and which still await review (fct_submission's rule)
        at = next(i for i, r in enumerate(rows) if r[0] == "Số báo cáo đã nộp (hợp lệ)")
        rows[at] = [
            "Số báo cáo đã được chấp nhận (số liệu được tổng hợp)",
            o["actual_reports"],
            "int",
        ]
        at = next(i for i, r in enumerate(rows) if r[0] == "Số đơn vị chưa nộp báo cáo hợp lệ")
        rows[at] = ["Số báo cáo chưa được tính", o["missing_reports"], "int"]
        rows[at + 1 : at + 1] = [
            [
                "  – hợp lệ, đang chờ duyệt (chưa cộng vào số liệu)",
                o["awaiting_review_reports"],
                "int",
            ],
            ["  – bị trả lại, chờ đơn vị sửa", o["returned_reports"], "int"],
        ]
        rows.insert(
            3,
            [
                "Duyệt báo cáo",
                "Kỳ này yêu cầu duyệt: số liệu chỉ gồm các báo cáo đã được chấp nhận; báo cáo "
                "chờ duyệt hoặc bị trả lại chưa được cộng",
                "text",
            ],
        )
    if o["previous_period_code"]:
        rows.append(["Tỷ lệ nộp báo cáo kỳ trước cùng loại", o["previous_reporting_rate"], "pct"])
    return SummaryTable(
        title="Tổng quan",
        heading=f"TỔNG HỢP TÌNH HÌNH BÁO CÁO – {o['period_name'].upper()}",
        headers=["Nội dung", "Giá trị"],
        widths=[52, 40],
        rows=[[label, plain_number(value)] for label, value, _ in rows],
        # one column of mixed values: each line's kind is stated above
        kinds=["text", "row"],
        row_kinds=[kind for *_, kind in rows],
        source="marts.agg_province_summary",
    )


def _submissions(conn, period_code: str) -> SummaryTable:
    rows = query(
        conn,
        """
        select s.unit_code, s.unit_name_at_period, h.unit_type_name, s.submission_state,
               s.submission_state_vi, s.received_at, s.on_time_until, s.days_late,
               s.version_count,
               s.validation_status_vi, s.latest_error_count,
               s.review_required, s.approval_state_vi, s.return_reason
        from marts.fct_submission s
        join marts.dim_unit_history h using (unit_version_key)
        where s.period_code = %s
        order by s.is_counted, s.submission_state = 'hop_le_dung_han',
                 h.unit_type_name, s.unit_name_at_period""",
        (period_code,),
    )
    table = SummaryTable(
        title="Tình hình nộp",
        heading="TÌNH HÌNH NỘP BÁO CÁO CỦA CÁC ĐƠN VỊ",
        headers=[
            "STT",
            "Mã đơn vị",
            "Đơn vị",
            "Loại đơn vị",
            "Tình trạng",
            "Thời điểm nộp",
            "Hạn nộp",
            "Số ngày quá hạn",
            "Số phiên bản",
            "Kiểm tra dữ liệu",
            "Số lỗi",
        ],
        widths=[6, 14, 34, 24, 22, 16, 11, 9, 9, 13, 7],
        kinds=[
            "int",
            "text",
            "text",
            "text",
            "text",
            "datetime",
            "date",
            "int",
            "int",
            "text",
            "int",
        ],
        source="marts.fct_submission",
        rows=[
            [
                n,
                r["unit_code"],
                r["unit_name_at_period"],
                r["unit_type_name"],
                r["submission_state_vi"],
                local_time(r["received_at"]),  # Vietnam's time, a date-time cell
                local_date(r["on_time_until"]),  # the last on-time day
                r["days_late"] or None,
                r["version_count"],
                r["validation_status_vi"],
                r["latest_error_count"] or None,
            ]
            for n, r in enumerate(rows, start=1)
        ],
    )
    if any(r["review_required"] for r in rows):
        # a period that requires review: where each report stands with its reviewers
        table.headers += ["Tình trạng duyệt", "Lý do trả lại"]
        table.widths += [22, 36]
        table.kinds += ["text", "text"]
        for row, r in zip(table.rows, rows):
            row += [r["approval_state_vi"], r["return_reason"]]
    return table


def _rates(conn, period_code: str) -> SummaryTable:
    rows = query(
        conn,
        """
        select * from marts.agg_reporting_rate where period_code = %s
        order by unit_type = 'tat_ca', unit_type_name""",
        (period_code,),
    )
    return SummaryTable(
        title="Tỷ lệ theo loại đơn vị",
        heading="TỶ LỆ NỘP BÁO CÁO THEO LOẠI ĐƠN VỊ",
        headers=[
            "Loại đơn vị",
            "Phải nộp",
            "Đã nộp",
            "Tỷ lệ nộp",
            "Đúng hạn",
            "Tỷ lệ đúng hạn",
            "Trễ hạn",
            "Chưa nộp",
            "Tỷ lệ nộp kỳ trước",
        ],
        widths=[34, 10, 10, 11, 10, 12, 10, 10, 14],
        kinds=["text", "int", "int", "pct", "int", "pct", "int", "int", "pct"],
        source="marts.agg_reporting_rate",
        # all unit types together, the last row
        total_rows=sum(r["unit_type"] == "tat_ca" for r in rows),
        rows=[
            [
                r["unit_type_name"],
                r["expected_reports"],
                r["actual_reports"],
                r["reporting_rate"],
                r["on_time_reports"],
                r["on_time_rate"],
                r["late_reports"],
                r["missing_reports"],
                r["previous_reporting_rate"],
            ]
            for r in rows
        ],
    )


def _indicator_totals(conn, period_code: str, estimates: str = "") -> SummaryTable:
    rows = query(
        conn,
        """
        select t.*, i.target_text_vi, i.value_kind
        from marts.agg_indicator_totals t join marts.dim_indicator i using (indicator_code)
        where t.period_code = %s order by t.indicator_code""",
        (period_code,),
    )
    return SummaryTable(
        title="Chỉ tiêu toàn tỉnh",
        heading="KẾT QUẢ CÁC CHỈ TIÊU TOÀN TỈNH SO VỚI MỤC TIÊU"
        + (f" ({estimates})" if estimates else ""),
        headers=[
            "Mã chỉ tiêu",
            "Chỉ tiêu",
            "Đơn vị tính",
            "Tổng số",
            "Số đơn vị báo cáo",
            "Số đơn vị được giao",
            "Mục tiêu",
            "Đánh giá",
            "Mức đạt",
            "Kỳ trước",
            "Thay đổi",
        ],
        widths=[10, 50, 11, 11, 10, 10, 18, 18, 9, 11, 9],
        # the totals (this period's and the previous one's) by the indicator's kind
        kinds=["text", "text", "text", "row", "int", "int", "text", "text", "pct", "row", "pct"],
        row_kinds=[INDICATOR_KINDS[r["value_kind"]] for r in rows],
        source="marts.agg_indicator_totals",
        rows=[
            [
                r["indicator_code"],
                r["indicator_name"],
                r["unit_of_measure"],
                r["total_value"],
                r["reporting_units"],
                r["expected_units"],
                r["target_text_vi"] or "",
                r["achievement_vi"],
                r["achievement_rate"],
                r["previous_total_value"],
                r["change_rate"],
            ]
            for r in rows
        ],
    )


def _indicators_by_unit(conn, period_code: str, estimates: str = "") -> SummaryTable:
    """Units down, indicators across (headed by their names and units); the last row is the
    province total."""
    indicators = query(
        conn,
        """
        select t.indicator_code, t.total_value, i.indicator_name, i.unit_of_measure, i.value_kind
        from marts.agg_indicator_totals t join marts.dim_indicator i using (indicator_code)
        where t.period_code = %s
        order by t.indicator_code""",
        (period_code,),
    )
    codes = [i["indicator_code"] for i in indicators]
    values = query(
        conn,
        """
        select unit_code, indicator_code, value_number
        from marts.fct_indicator_value where period_code = %s""",
        (period_code,),
    )
    units = query(
        conn,
        """
        select unit_code, unit_name_at_period from marts.fct_submission
        where period_code = %s order by unit_code""",
        (period_code,),
    )
    by_unit: dict[str, dict[str, Any]] = {}
    for v in values:
        by_unit.setdefault(v["unit_code"], {})[v["indicator_code"]] = v["value_number"]
    rows = [
        [
            u["unit_code"],
            u["unit_name_at_period"],
            *[by_unit.get(u["unit_code"], {}).get(code) for code in codes],
        ]
        for u in units
    ]
    rows.append(["", "Tổng cộng toàn tỉnh", *[i["total_value"] for i in indicators]])
    return SummaryTable(
        title="Chỉ tiêu theo đơn vị",
        heading="SỐ LIỆU CHỈ TIÊU THEO ĐƠN VỊ" + (f" ({estimates})" if estimates else ""),
        headers=[
            "Mã đơn vị",
            "Đơn vị",
            *[f"{i['indicator_name']} ({i['unit_of_measure']})" for i in indicators],
        ],
        widths=[14, 32, *[13] * len(codes)],
        kinds=["text", "text", *[INDICATOR_KINDS[i["value_kind"]] for i in indicators]],
        rows=rows,
        total_rows=1,
        source="marts.fct_indicator_value",
    )


def _task_groups(conn, period_code: str) -> SummaryTable:
    rows = query(
        conn,
        """
        select * from marts.agg_task_group_summary where period_code = %s
        order by task_group_code""",
        (period_code,),
    )
    return SummaryTable(
        title="Nhiệm vụ",
        heading="TIẾN ĐỘ THỰC HIỆN NHIỆM VỤ THEO NHÓM (nhiệm vụ thường xuyên "
        "không có thời điểm hoàn thành; tỷ lệ hoàn thành chỉ tính "
        "nhiệm vụ hằng năm, có thời hạn)",
        # ongoing tasks by what was done; completion only over tasks with an end
        headers=[
            "Nhóm",
            "Nhóm nhiệm vụ",
            "Số lượt được giao",
            "Đã báo cáo",
            "Thường xuyên: được giao",
            "Thường xuyên: đang thực hiện",
            "Thường xuyên: có kết quả",
            "Hằng năm, có thời hạn: được giao",
            "Hoàn thành",
            "Đang triển khai",
            "Tỷ lệ hoàn thành",
            "Chưa triển khai",
        ],
        widths=[7, 50, 10, 10, 12, 12, 12, 13, 11, 11, 11, 11],
        kinds=[
            "text",
            "text",
            "int",
            "int",
            "int",
            "int",
            "int",
            "int",
            "int",
            "int",
            "pct",
            "int",
        ],
        source="marts.agg_task_group_summary",
        rows=[
            [
                r["task_group_no"],
                r["task_group_name"],
                r["tasks_assigned"],
                r["tasks_reported"],
                r["ongoing_tasks"],
                r["ongoing_tasks_active"],
                r["ongoing_tasks_with_result"],
                r["tasks_with_end"],
                r["tasks_with_end_done"],
                r["tasks_in_progress"],
                r["task_done_rate"],
                r["tasks_not_started"],
            ]
            for r in rows
        ],
    )


def _feedback(conn, period_code: str) -> SummaryTable:
    rows = query(
        conn,
        """
        select f.unit_code, s.unit_name_at_period, f.feedback_kind_vi, f.content_text
        from marts.fct_feedback f
        join marts.fct_submission s using (period_code, unit_code)
        where f.period_code = %s
        order by f.feedback_kind, f.unit_code, f.row_number""",
        (period_code,),
    )
    return SummaryTable(
        title="Khó khăn, kiến nghị",
        heading="KHÓ KHĂN, VƯỚNG MẮC VÀ KIẾN NGHỊ CỦA CÁC ĐƠN VỊ",
        headers=["STT", "Mã đơn vị", "Đơn vị", "Loại", "Nội dung"],
        widths=[6, 14, 32, 20, 84],
        kinds=["int", "text", "text", "text", "text"],
        source="marts.fct_feedback",
        rows=[
            [n, r["unit_code"], r["unit_name_at_period"], r["feedback_kind_vi"], r["content_text"]]
            for n, r in enumerate(rows, start=1)
        ],
    )


# ------------------------------------------------------------------ layout, both writers
#: letters per width unit of a column, wrapped: body text, the bold header, the 13-point bold
#: title in capitals. Measured on LibreOffice's pages, which draw Calibri with the wider DejaVu
#: Sans where Calibri is missing (DejaVu Sans fits about 1.15 body letters a unit; Excel's
#: Calibri more): a row is never shorter than its text, at worst a line taller
BODY_LETTERS, HEADER_LETTERS, TITLE_LETTERS = 1.1, 1.0, 0.8


def title_lines(table: SummaryTable) -> int:
    """Lines of the title, wrapped across the table's width."""
    return text_lines(table.heading, int(sum(table.column_widths) * TITLE_LETTERS))


def header_lines(table: SummaryTable) -> int:
    return max(
        (
            text_lines(h, int(w * HEADER_LETTERS))
            for h, w in zip(table.headers, table.column_widths)
        ),
        default=1,
    )


def row_lines(table: SummaryTable, row: list[Any]) -> int:
    """Lines of a row of the table: its longest wrapped text (numbers and dates do not wrap)."""
    return max(
        (
            text_lines(value, int(width * BODY_LETTERS))
            for value, width in zip(row, table.column_widths)
            if isinstance(value, str)
        ),
        default=1,
    )


def _is_figure(value: Any) -> bool:
    return isinstance(value, (int, float, dt.date)) and not isinstance(value, bool)


# ------------------------------------------------------------------ xlsx
def full_text_at(table: SummaryTable) -> str:
    """Where the whole text of a cut cell of ``table`` is, as its mark says."""
    sheet = f"trên trang “{table.title}” của bảng tính Tổng hợp"
    return f"{sheet} và trong kho dữ liệu, bảng {table.source}" if table.source else sheet


def write_xlsx(tables: list[SummaryTable], path: Path) -> Path:
    workbook = Workbook()
    workbook.remove(workbook.active)
    for table in tables:
        _write_tab(workbook.create_sheet(table.title), table)
    # fixed document dates and zip times: the same data gives the same bytes
    workbook.properties.created = workbook.properties.modified = dt.datetime(2000, 1, 1)
    workbook.properties.creator = "tonghop"
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)
    normalize_zip(path)
    return path


def _write_tab(ws, table: SummaryTable) -> None:
    whole = full_text_at(table)
    last = get_column_letter(max(len(table.headers), 1))
    body, bold = Font(name=FONT, size=11), Font(name=FONT, size=11, bold=True)
    # the title across the table's width, in a row tall enough for its lines and accents
    title = ws.cell(row=1, column=1)
    set_value(title, table.heading)
    title.font = Font(name=FONT, size=TITLE_FONT_SIZE, bold=True)
    title.alignment = Alignment(wrap_text=True, vertical="center")
    if last != "A":
        ws.merge_cells(f"A1:{last}1")
    ws.row_dimensions[1].height = TITLE_LINE_HEIGHT * title_lines(table) + 4
    for c, header in enumerate(table.headers, start=1):
        cell = ws.cell(row=HEADER_ROW, column=c)
        set_value(cell, header)
        cell.font = bold
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
        cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
    ws.row_dimensions[HEADER_ROW].height = LINE_HEIGHT * header_lines(table) + 3
    for i, row in enumerate(table.rows):
        r = HEADER_ROW + 1 + i
        total = i >= table.filtered_rows
        for c, value in enumerate(row, start=1):
            value = plain_number(value)
            if value is None:
                continue
            cell = ws.cell(row=r, column=c)
            set_value(cell, value, full_text_at=whole)
            cell.font = bold if total else body
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            kind = table.kind(i, c - 1)
            if kind in NUMBER_FORMATS and _is_figure(value):
                cell.number_format = NUMBER_FORMATS[kind][1]
        lines = row_lines(table, row)
        if lines > 1:
            ws.row_dimensions[r].height = min(LINE_HEIGHT * lines + 3, MAX_ROW_HEIGHT)
    for c, width in enumerate(table.widths, start=1):
        ws.column_dimensions[get_column_letter(c)].width = width
    ws.freeze_panes = f"A{HEADER_ROW + 1}"
    # a filter on the header row, over the rows (the totals below it stay where they are)
    ws.auto_filter.ref = f"A{HEADER_ROW}:{last}{HEADER_ROW + table.filtered_rows}"
    # printing: A4, landscape when wider than a portrait page, one page wide, the title and
    # header on every page, the tab's name and the page number at the foot
    set_page(ws, landscape=table.is_wide, title_rows=HEADER_ROW)
    ws.page_margins = PAGE_MARGINS
    ws.oddFooter.center.text = PAGE_FOOTER
    ws.oddFooter.center.size = 9


# ------------------------------------------------------------------ Google Sheets
#: pixels per line of the spreadsheet's 13-point title (Sheets' 10-point line is 21 pixels)
TITLE_PIXELS_PER_LINE = round(PIXELS_PER_LINE * TITLE_FONT_SIZE / 10)


def _sheet_cell(value: Any, kind: str, *, title=False, header=False, total=False) -> dict:
    """One CellData: the value typed explicitly (a string is never parsed as a formula, a date
    is a serial number) and its format."""
    value = plain_number(value)
    cell: dict[str, Any] = {}
    if isinstance(value, bool):
        cell["userEnteredValue"] = {"boolValue": value}
    elif isinstance(value, (int, float)):
        cell["userEnteredValue"] = {"numberValue": value}
    elif isinstance(value, dt.date):
        cell["userEnteredValue"] = {"numberValue": date_to_serial(value)}
    elif value is not None and value != "":
        cell["userEnteredValue"] = {"stringValue": str(value)}
    fmt: dict[str, Any] = {"verticalAlignment": "TOP", "wrapStrategy": "WRAP"}
    if header:
        fmt.update(
            textFormat={"bold": True},
            backgroundColor=HEADER_FILL,
            horizontalAlignment="CENTER",
            verticalAlignment="MIDDLE",
        )
    elif title:
        fmt.update(
            textFormat={"bold": True, "fontSize": TITLE_FONT_SIZE}, verticalAlignment="MIDDLE"
        )
    elif total:
        fmt.update(textFormat={"bold": True})
    if kind in NUMBER_FORMATS and _is_figure(value):
        kind_name, pattern = NUMBER_FORMATS[kind]
        fmt["numberFormat"] = {"type": kind_name, "pattern": pattern}
    cell["userEnteredFormat"] = fmt
    return cell


def _table_requests(table: SummaryTable, sheet_id: int, index: int, exists: bool) -> list[dict]:
    n_rows = HEADER_ROW + len(table.rows)
    n_cols = max(len(table.headers), 2)
    grid = {"rowCount": max(n_rows + 5, 20), "columnCount": n_cols, "frozenRowCount": HEADER_ROW}
    whole = {"sheetId": sheet_id}
    requests: list[dict] = []
    if exists:
        requests.append(
            {
                "updateSheetProperties": {
                    "properties": {"sheetId": sheet_id, "index": index, "gridProperties": grid},
                    "fields": "index,gridProperties.rowCount,gridProperties.columnCount,"
                    "gridProperties.frozenRowCount",
                }
            }
        )
        # clear what the last run wrote (values, formats, the title's merge) before writing again
        requests.append(
            {"updateCells": {"range": whole, "fields": "userEnteredValue,userEnteredFormat"}}
        )
        requests.append({"unmergeCells": {"range": whole}})
    else:
        requests.append(
            {
                "addSheet": {
                    "properties": {
                        "sheetId": sheet_id,
                        "title": table.title,
                        "index": index,
                        "gridProperties": grid,
                    }
                }
            }
        )
    rows = [
        {"values": [_sheet_cell(table.heading, "text", title=True)]},
        {"values": []},
        {"values": [_sheet_cell(h, "text", header=True) for h in table.headers]},
    ]
    rows += [
        {
            "values": [
                _sheet_cell(v, table.kind(i, c), total=i >= table.filtered_rows)
                for c, v in enumerate(row)
            ]
        }
        for i, row in enumerate(table.rows)
    ]
    requests.append(
        {
            "updateCells": {
                "start": {"sheetId": sheet_id, "rowIndex": 0, "columnIndex": 0},
                "rows": rows,
                "fields": "userEnteredValue,userEnteredFormat",
            }
        }
    )
    # the title across the table's width, its row as tall as its lines (Sheets does not fit a
    # merged cell's row); the other rows Sheets fits to their wrapped text itself, better than
    # an estimate would
    requests.append(
        {
            "mergeCells": {
                "range": {
                    **whole,
                    "startRowIndex": 0,
                    "endRowIndex": 1,
                    "startColumnIndex": 0,
                    "endColumnIndex": n_cols,
                },
                "mergeType": "MERGE_ALL",
            }
        }
    )
    requests.append(
        {
            "updateDimensionProperties": {
                "range": {**whole, "dimension": "ROWS", "startIndex": 0, "endIndex": 1},
                "properties": {"pixelSize": TITLE_PIXELS_PER_LINE * title_lines(table) + 8},
                "fields": "pixelSize",
            }
        }
    )
    # a filter on the header row, over the rows (not the totals below them)
    requests.append(
        {
            "setBasicFilter": {
                "filter": {
                    "range": {
                        **whole,
                        "startRowIndex": HEADER_ROW - 1,
                        "endRowIndex": HEADER_ROW + table.filtered_rows,
                        "startColumnIndex": 0,
                        "endColumnIndex": n_cols,
                    }
                }
            }
        }
    )
    for c, width in enumerate(table.widths):
        requests.append(column_width_request(sheet_id, c, int(width * PIXELS_PER_WIDTH)))
    return requests


def find_summary_spreadsheets(client, period_code: str) -> list[dict]:
    """The period's summary spreadsheets (normally one), the most recently modified first."""
    query_ = (
        f"appProperties has {{ key='{SUMMARY_APP_PROPERTY}' and value='{period_code}' }}"
        " and trashed=false"
    )
    body = client.http_client.request(
        "get",
        DRIVE_FILES_API_V3_URL,
        params={"q": query_, "fields": "files(id,name,modifiedTime)", "pageSize": 100},
    ).json()
    return sorted(
        body.get("files", []), key=lambda f: (f.get("modifiedTime", ""), f["id"]), reverse=True
    )


def _create_summary(client, period_code: str, title: str) -> str:
    """A new spreadsheet, marked as the period's summary in the same call: a create that
    Google carried out but whose answer was lost (a timeout; the client tries again) leaves a
    marked duplicate, which the next publish finds and trashes, never an unmarked orphan."""
    body = client.http_client.request(
        "post",
        DRIVE_FILES_API_V3_URL,
        params={"supportsAllDrives": True},
        json={
            "name": title,
            "mimeType": "application/vnd.google-apps.spreadsheet",
            "appProperties": {SUMMARY_APP_PROPERTY: period_code},
        },
    ).json()
    return body["id"]


def _has_our_tabs(client, spreadsheet_id: str) -> bool:
    meta = client.http_client.fetch_sheet_metadata(
        spreadsheet_id, params={"fields": "sheets.properties.sheetId"}
    )
    return any(s["properties"]["sheetId"] == FIRST_SHEET_ID for s in meta.get("sheets", []))


def write_spreadsheet(client, tables: list[SummaryTable], period_code: str, title: str) -> str:
    """Create (first time) or rewrite the period's summary spreadsheet; returns its id.

    Besides finding (and the first time creating) the file, it is one read of the tab list
    and one batchUpdate that sets the spreadsheet's locale and time zone (vi_VN,
    Asia/Ho_Chi_Minh), adds or resets every tab, writes its cells with their formats,
    sets the column widths and frozen rows, and removes tabs that are no longer ours. Should the
    period have several (a create carried out by Google but retried after its answer was lost),
    the one already written is kept (else the most recently modified) and the others are
    trashed.
    """
    found = find_summary_spreadsheets(client, period_code)
    if len(found) > 1:
        # the one already written (it has our first tab) is kept, so its address stays
        found.sort(key=lambda f: not _has_our_tabs(client, f["id"]))
    for duplicate in found[1:]:
        log.warning(
            "summary of %s: trashing duplicate spreadsheet %s (keeping %s)",
            period_code,
            duplicate["id"],
            found[0]["id"],
        )
        client.http_client.request(
            "patch",
            f"{DRIVE_FILES_API_V3_URL}/{duplicate['id']}",
            params={"supportsAllDrives": True},
            json={"trashed": True},
        )
    spreadsheet_id = found[0]["id"] if found else _create_summary(client, period_code, title)
    # straight through the HTTP client: gspread's open_by_key would read the metadata once
    # more before this read of the tab list
    meta = client.http_client.fetch_sheet_metadata(
        spreadsheet_id, params={"fields": "sheets.properties(sheetId,title)"}
    )
    existing = {s["properties"]["sheetId"]: s["properties"]["title"] for s in meta["sheets"]}
    wanted = {FIRST_SHEET_ID + i: t.title for i, t in enumerate(tables)}
    # Vietnamese notation (1.234,5; 20/6/2026) and Vietnam's time, whoever created the file
    requests: list[dict] = [spreadsheet_settings_request()]
    # a tab of ours whose title changed, or someone else's tab holding one of our titles,
    # is removed first so that titles never clash
    for sheet_id, sheet_title in existing.items():
        if sheet_id in wanted and wanted[sheet_id] == sheet_title:
            continue
        if sheet_id in wanted or sheet_title in wanted.values():
            requests.append({"deleteSheet": {"sheetId": sheet_id}})
    kept = {sid for sid, t in existing.items() if wanted.get(sid) == t}
    for index, table in enumerate(tables):
        sheet_id = FIRST_SHEET_ID + index
        requests += _table_requests(table, sheet_id, index, exists=sheet_id in kept)
    # anything else (the "Sheet1" a new spreadsheet comes with, old tabs) goes last, once
    # our tabs exist, so the spreadsheet is never left without a sheet
    for sheet_id, sheet_title in existing.items():
        if sheet_id not in wanted and sheet_title not in wanted.values():
            requests.append({"deleteSheet": {"sheetId": sheet_id}})
    client.http_client.batch_update(spreadsheet_id, {"requests": requests})
    return spreadsheet_id
