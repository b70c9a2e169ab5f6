"""The draft consolidated report (dự thảo báo cáo tổng hợp) of one period, from the marts.

Laid out as Decree 30/2020/NĐ-CP, Phụ lục I asks of an administrative document: A4 portrait,
margins top/bottom 20 mm, left 30 mm, right 15 mm; Times New Roman; the header blocks (the
issuing body and its parent on the left, the national name and motto on the right, the number
and the place and date below them); "BÁO CÁO" and its summary line; the body; the signature
block and "Nơi nhận". The body is what a Vietnamese progress report holds: results by task
group with figures, the reporting situation, indicators against targets, shortcomings (the
units' difficulties), directions for the next period, recommendations - with tables and two
charts (reporting rate by unit type; indicators against targets).

Staff finish and sign it: the number, the day and month, and the signer's name are left blank.
The same data gives the same file, byte for byte (fixed document dates, fixed zip entry times),
so a rerun can be checked by checksum. A PDF is rendered with LibreOffice within a budget
(:data:`PDF_BUDGET_SECONDS`). What units typed is quoted bounded (:data:`QUOTE_MAX_CHARS`,
:data:`QUOTED_ITEMS_MAX`); the full text is in the marts and the summary workbook.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from publish.marts import date_vi, number_vi, pct_vi, query
from publish.ooxml import normalize_zip
from tonghop.catalogue import deadline_vi, due_date_note_vi, estimate_clause_vi

log = logging.getLogger(__name__)

FONT = "Times New Roman"
#: Decree 30/2020 Phụ lục I: top and bottom 20-25 mm, left 30-35 mm, right 15-20 mm
MARGINS_MM = {"top": 20, "bottom": 20, "left": 30, "right": 15}
PAGE_MM = (210, 297)


# ------------------------------------------------------------------ data
@dataclass
class ReportData:
    """Everything the report says, read from the marts (as bi_reader)."""

    programme: dict
    period: dict
    summary: dict
    next_period: dict | None
    rates: list[dict]
    groups: list[dict]
    indicators: list[dict]
    missing_units: list[dict]
    late_units: list[dict]
    difficulties: list[dict]  # {"content", "units": [names]}
    recommendations: list[dict]
    input_row_counts: dict[str, int] = field(default_factory=dict)


def _grouped_feedback(rows: list[dict], kind: str) -> list[dict]:
    """Identical texts from several units become one line naming them all, in order of how
    many units raised it."""
    by_text: OrderedDict[str, list[str]] = OrderedDict()
    for row in rows:
        if row["feedback_kind"] != kind:
            continue
        text = " ".join(row["content_text"].split())
        by_text.setdefault(text, [])
        if row["unit_name"] not in by_text[text]:
            by_text[text].append(row["unit_name"])
    items = [{"content": text, "units": units} for text, units in by_text.items()]
    return sorted(items, key=lambda item: (-len(item["units"]), item["content"]))


def load_report_data(conn, period_code: str) -> ReportData:
    period = query(conn, "select * from marts.dim_period where period_code = %s", (period_code,))
    if not period:
        raise LookupError(f"marts.dim_period has no period {period_code}; run the dbt build")
    period = period[0]
    programme = query(
        conn,
        "select * from marts.dim_programme where programme_code = %s",
        (period["programme_code"],),
    )[0]
    summary = query(
        conn, "select * from marts.agg_province_summary where period_code = %s", (period_code,)
    )
    if not summary:
        raise LookupError(f"marts.agg_province_summary has no row for {period_code}")
    next_period = query(
        conn,
        """
        select * from marts.dim_period
        where programme_code = %s and due_date > %s
        order by due_date limit 1""",
        (period["programme_code"], period["due_date"]),
    )
    rates = query(
        conn,
        """
        select * from marts.agg_reporting_rate where period_code = %s
        order by unit_type = 'tat_ca', unit_type_name""",
        (period_code,),
    )
    groups = query(
        conn,
        """
        select * from marts.agg_task_group_summary where period_code = %s
        order by task_group_code""",
        (period_code,),
    )
    indicators = query(
        conn,
        """
        select t.*, i.target_text_vi, i.value_kind
        from marts.agg_indicator_totals t join marts.dim_indicator i using (indicator_code)
        where t.period_code = %s order by t.indicator_code""",
        (period_code,),
    )
    submissions = query(
        conn,
        """
        select unit_code, unit_name_at_period as unit_name, submission_state,
               submission_state_vi, is_counted, received_at, days_late
        from marts.fct_submission where period_code = %s
        order by unit_code""",
        (period_code,),
    )
    feedback = query(
        conn,
        """
        select f.feedback_kind, f.content_text, s.unit_name_at_period as unit_name
        from marts.fct_feedback f
        join marts.fct_submission s using (period_code, unit_code)
        where f.period_code = %s
        order by f.unit_code, f.row_number""",
        (period_code,),
    )
    return ReportData(
        programme=programme,
        period=period,
        summary=summary[0],
        next_period=next_period[0] if next_period else None,
        rates=rates,
        groups=groups,
        indicators=indicators,
        # fct_submission's one rule: a report not counted is missing, whatever its state
        missing_units=[s for s in submissions if not s["is_counted"]],
        late_units=[s for s in submissions if s["submission_state"] == "hop_le_tre_han"],
        difficulties=_grouped_feedback(feedback, "kho_khan"),
        recommendations=_grouped_feedback(feedback, "kien_nghi"),
        input_row_counts={
            "dim_period": 1,
            "dim_programme": 1,
            "agg_province_summary": 1,
            "agg_reporting_rate": len(rates),
            "agg_task_group_summary": len(groups),
            "agg_indicator_totals": len(indicators),
            "fct_submission": len(submissions),
            "fct_feedback": len(feedback),
        },
    )


# ------------------------------------------------------------------ charts
def _chart_reporting_rate(data: ReportData, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    rows = [r for r in data.rates if r["unit_type"] != "tat_ca"]
    labels = [r["unit_type_name"] for r in rows]
    rate = [float(r["reporting_rate"] or 0) * 100 for r in rows]
    on_time = [float(r["on_time_rate"] or 0) * 100 for r in rows]
    fig, ax = plt.subplots(figsize=(6.3, 0.55 * len(rows) + 1.2), dpi=150)
    y = range(len(rows))
    ax.barh([i + 0.2 for i in y], rate, height=0.4, color="#2F5597", label="Tỷ lệ nộp")
    ax.barh([i - 0.2 for i in y], on_time, height=0.4, color="#9DC3E6", label="Tỷ lệ nộp đúng hạn")
    ax.set_yticks(list(y), labels, fontsize=8)
    ax.set_xlim(0, 100)
    ax.set_xlabel("%", fontsize=8)
    ax.tick_params(axis="x", labelsize=8)
    ax.legend(fontsize=8, loc="lower right")
    ax.set_title("Tỷ lệ nộp báo cáo theo loại đơn vị", fontsize=9)
    fig.tight_layout()
    return _save(fig, path)


def _chart_indicators(data: ReportData, path: Path) -> Path | None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    rows = [r for r in data.indicators if r["achievement_rate"] is not None]
    if rows:
        values = [float(r["achievement_rate"]) * 100 for r in rows]
        title, target_line = "Mức đạt mục tiêu của các chỉ tiêu (% mục tiêu)", 100
    else:
        # no target applies in this period: how many expected units reported each indicator
        rows = [r for r in data.indicators if r["expected_units"]]
        if not rows:
            return None
        values = [100 * float(r["reporting_units"]) / float(r["expected_units"]) for r in rows]
        title, target_line = "Tỷ lệ đơn vị báo cáo số liệu từng chỉ tiêu (%)", None
    labels = [f"{r['indicator_code']}" for r in rows]
    fig, ax = plt.subplots(figsize=(6.3, 0.45 * len(rows) + 1.2), dpi=150)
    colors = ["#548235" if (target_line is None or v >= target_line) else "#C55A11" for v in values]
    if target_line is None:
        ax.set_xlim(0, 100)
    ax.barh(range(len(rows)), values, color=colors)
    ax.set_yticks(range(len(rows)), labels, fontsize=8)
    if target_line:
        ax.axvline(target_line, color="black", linewidth=0.8, linestyle="--")
    ax.tick_params(axis="x", labelsize=8)
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    return _save(fig, path)


def _save(fig, path: Path) -> Path:
    from matplotlib import pyplot as plt

    path.parent.mkdir(parents=True, exist_ok=True)
    # no "Software"/date metadata: the same data gives the same bytes
    fig.savefig(path, format="png", metadata={"Software": None})
    plt.close(fig)
    return path


# ------------------------------------------------------------------ the document
class _Doc:
    """A thin layer over python-docx with the decree's typography."""

    def __init__(self):
        from docx import Document
        from docx.shared import Mm, Pt

        self.Pt, self.Mm = Pt, Mm
        self.document = Document()
        section = self.document.sections[0]
        section.page_width, section.page_height = Mm(PAGE_MM[0]), Mm(PAGE_MM[1])
        section.top_margin = Mm(MARGINS_MM["top"])
        section.bottom_margin = Mm(MARGINS_MM["bottom"])
        section.left_margin = Mm(MARGINS_MM["left"])
        section.right_margin = Mm(MARGINS_MM["right"])
        section.header_distance = Mm(10)
        section.different_first_page_header_footer = True
        style = self.document.styles["Normal"]
        style.font.name = FONT
        style.font.size = Pt(14)
        style.element.rPr.rFonts.set(self._qn("w:eastAsia"), FONT)
        style.paragraph_format.space_after = Pt(6)
        style.paragraph_format.line_spacing = 1.15

    @staticmethod
    def _qn(name):
        from docx.oxml.ns import qn

        return qn(name)

    @property
    def width_mm(self) -> float:
        return PAGE_MM[0] - MARGINS_MM["left"] - MARGINS_MM["right"]

    def paragraph(
        self,
        text: str = "",
        *,
        size: float = 14,
        bold=False,
        italic=False,
        align: str = "justify",
        indent: bool = True,
        container=None,
        space_after: float | None = None,
        keep_with_next=False,
    ):
        from docx.enum.text import WD_ALIGN_PARAGRAPH

        target = container if container is not None else self.document
        p = target.add_paragraph()
        p.alignment = {
            "justify": WD_ALIGN_PARAGRAPH.JUSTIFY,
            "center": WD_ALIGN_PARAGRAPH.CENTER,
            "left": WD_ALIGN_PARAGRAPH.LEFT,
            "right": WD_ALIGN_PARAGRAPH.RIGHT,
        }[align]
        if indent and align == "justify":
            p.paragraph_format.first_line_indent = self.Mm(12.7)
        if space_after is not None:
            p.paragraph_format.space_after = self.Pt(space_after)
        p.paragraph_format.keep_with_next = keep_with_next
        if text:
            self.run(p, text, size=size, bold=bold, italic=italic)
        return p

    def run(
        self, paragraph, text: str, *, size: float = 14, bold=False, italic=False, underline=False
    ):
        r = paragraph.add_run(text)
        r.font.name = FONT
        r.font.size = self.Pt(size)
        r.bold, r.italic, r.underline = bold, italic, underline
        r._element.rPr.rFonts.set(self._qn("w:eastAsia"), FONT)
        return r

    def heading(self, text: str):
        return self.paragraph(text, bold=True, align="justify", indent=True, keep_with_next=True)

    def rule(self, container, width_mm: float, length_mm: float):
        """A short centred line (the decree's line under the motto, under the issuing body and
        under the summary line): an empty paragraph, indented so that its bottom border is
        ``length_mm`` long in a space ``width_mm`` wide."""
        from docx.oxml import OxmlElement

        p = self.paragraph(align="center", indent=False, container=container, space_after=0)
        side = max((width_mm - length_mm) / 2, 0)
        p.paragraph_format.left_indent = self.Mm(side)
        p.paragraph_format.right_indent = self.Mm(side)
        p.paragraph_format.line_spacing = self.Pt(2)
        p_pr = p._p.get_or_add_pPr()
        borders = OxmlElement("w:pBdr")
        bottom = OxmlElement("w:bottom")
        for key, value in (
            ("w:val", "single"),
            ("w:sz", "6"),
            ("w:space", "1"),
            ("w:color", "000000"),
        ):
            bottom.set(self._qn(key), value)
        borders.append(bottom)
        p_pr.append(borders)
        return p

    @staticmethod
    def fix_widths(table, widths_mm: list[float], mm) -> None:
        """Column widths that Word and LibreOffice both keep (grid and cells, no autofit)."""
        table.autofit = False
        for column, width in zip(table.columns, widths_mm):
            column.width = mm(width)
        for row in table.rows:
            for cell, width in zip(row.cells, widths_mm):
                cell.width = mm(width)

    def table(
        self, headers: list[str], rows: list[list[Any]], widths_mm: list[float], *, size: float = 12
    ):
        from docx.enum.table import WD_TABLE_ALIGNMENT

        table = self.document.add_table(rows=1, cols=len(headers))
        table.style = "Table Grid"
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        for cell, text in zip(table.rows[0].cells, headers):
            cell.text = ""
            self.run(cell.paragraphs[0], text, size=size, bold=True)
            cell.paragraphs[0].alignment = 1
        for row in rows:
            cells = table.add_row().cells
            for cell, value in zip(cells, row):
                cell.text = ""
                self.run(cell.paragraphs[0], "" if value is None else str(value), size=size)
                if isinstance(value, str) and value and value[0].isdigit():
                    cell.paragraphs[0].alignment = 2
        self.fix_widths(table, widths_mm, self.Mm)
        self.paragraph(space_after=0)
        return table

    def picture(self, path: Path, width_mm: float):
        self.document.add_picture(str(path), width=self.Mm(width_mm))
        self.document.paragraphs[-1].alignment = 1

    def page_numbers(self):
        """Page numbers centred in the header, from page 2 (the decree: not on page 1)."""
        from docx.oxml import OxmlElement

        header = self.document.sections[0].header
        p = header.paragraphs[0]
        p.alignment = 1
        run = self.run(p, "", size=13)
        for kind, text in (("begin", None), (None, "PAGE"), ("end", None)):
            if kind:
                element = OxmlElement("w:fldChar")
                element.set(self._qn("w:fldCharType"), kind)
            else:
                element = OxmlElement("w:instrText")
                element.set(self._qn("xml:space"), "preserve")
                element.text = text
            run._r.append(element)

    def save(self, path: Path, when: dt.datetime) -> Path:
        props = self.document.core_properties
        props.author = props.last_modified_by = "tonghop"
        props.created = props.modified = when
        props.revision = 1
        path.parent.mkdir(parents=True, exist_ok=True)
        self.document.save(str(path))
        normalize_zip(path)
        return path


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _header_blocks(doc: _Doc, data: ReportData) -> None:
    """Quốc hiệu – Tiêu ngữ on the right, the issuing body on the left, in a borderless table;
    number below the body, place and date below the motto (Decree 30/2020, Phụ lục I, mục II)."""
    from docx.oxml import OxmlElement

    programme, period = data.programme, data.period
    table = doc.document.add_table(rows=2, cols=2)
    left_w, right_w = 67, doc.width_mm - 67
    doc.fix_widths(table, [left_w, right_w], doc.Mm)
    # no borders
    tbl_pr = table._tbl.tblPr
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        element = OxmlElement(f"w:{edge}")
        element.set(doc._qn("w:val"), "nil")
        borders.append(element)
    tbl_pr.append(borders)

    body, parent = table.cell(0, 0), table.cell(0, 1)
    body.text, parent.text = "", ""
    p = body.paragraphs[0]
    p.alignment = 1
    doc.run(p, programme["report_parent_body"].upper(), size=12.5)
    p2 = doc.paragraph(align="center", indent=False, container=body, space_after=0)
    doc.run(p2, programme["consolidating_body"].upper(), size=12.5, bold=True)
    doc.rule(body, left_w, 25)
    p = parent.paragraphs[0]
    p.alignment = 1
    p.paragraph_format.space_after = doc.Pt(0)
    doc.run(p, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", size=12.5, bold=True)
    p2 = doc.paragraph(align="center", indent=False, container=parent, space_after=0)
    doc.run(p2, "Độc lập - Tự do - Hạnh phúc", size=13.5, bold=True)
    doc.rule(parent, right_w, 62)

    number, place = table.cell(1, 0), table.cell(1, 1)
    number.text, place.text = "", ""
    p = number.paragraphs[0]
    p.alignment = 1
    doc.run(p, f"Số:        /{programme['report_symbol']}", size=13)
    p = place.paragraphs[0]
    p.alignment = 1
    doc.run(
        p,
        f"{programme['report_place']}, ngày      tháng      năm {period['due_date'].year}",
        size=13.5,
        italic=True,
    )

    doc.paragraph(space_after=6)
    doc.paragraph("BÁO CÁO", size=14, bold=True, align="center", indent=False, space_after=0)
    title = doc.paragraph(align="center", indent=False, space_after=0)
    doc.run(title, f"Kết quả thực hiện {programme['programme_short_name']}", size=14, bold=True)
    line = doc.paragraph(align="center", indent=False, space_after=0)
    doc.run(line, f"({period['period_name']})", size=14, bold=True)
    doc.rule(None, doc.width_mm, 40)
    doc.paragraph(space_after=6)


def _task_progress_vi(s: dict) -> str:
    """The province's task progress in words: ongoing tasks by what was done, completion only
    over tasks with an end."""
    text = (
        f"Nhiệm vụ thường xuyên (không có thời điểm hoàn thành): "
        f"{number_vi(s['ongoing_tasks'])} lượt được giao, "
        f"{number_vi(s['ongoing_tasks_active'])} lượt đang thực hiện thường xuyên, trong đó "
        f"{number_vi(s['ongoing_tasks_with_result'])} lượt có kết quả cụ thể trong kỳ. "
    )
    if s["tasks_with_end"]:
        text += (
            f"Nhiệm vụ hằng năm, có thời hạn: hoàn thành "
            f"{number_vi(s['tasks_with_end_done'])}/{number_vi(s['tasks_with_end'])} lượt "
            f"(tỷ lệ {pct_vi(s['task_done_rate'])}), đang triển khai "
            f"{number_vi(s['tasks_in_progress'])} lượt. "
        )
    else:
        text += "Kỳ này không có nhiệm vụ hằng năm, có thời hạn để tính tỷ lệ hoàn thành. "
    return text + f"Chưa triển khai: {number_vi(s['tasks_not_started'])} lượt."


def _of(part: int, whole: int) -> str:
    """'43/73'; '–' when the group has no such task."""
    return f"{number_vi(part)}/{number_vi(whole)}" if whole else "–"


def _group_progress_vi(g: dict) -> str:
    parts = []
    if g["ongoing_tasks"]:
        parts.append(
            f"đang thực hiện thường xuyên {number_vi(g['ongoing_tasks_active'])}/"
            f"{number_vi(g['ongoing_tasks'])} lượt nhiệm vụ thường xuyên"
        )
    if g["tasks_with_end"]:
        parts.append(
            f"hoàn thành {number_vi(g['tasks_with_end_done'])}/"
            f"{number_vi(g['tasks_with_end'])} lượt nhiệm vụ hằng năm, có thời hạn "
            f"({pct_vi(g['task_done_rate'])})"
        )
    parts.append(f"chưa triển khai {number_vi(g['tasks_not_started'])}")
    return "; ".join(parts) + "."


def _by_state(units: list[dict]) -> str:
    """The units not counted, grouped by their state ("đã nộp nhưng còn lỗi: A, B; chưa điền:
    C"), states in the order of fct_submission's rule."""
    order = ["con_loi", "chua_chon_da_nop", "chua_dien", "chua_co_bang"]
    groups: dict[str, list[str]] = {}
    labels: dict[str, str] = {}
    for unit in units:
        groups.setdefault(unit["submission_state"], []).append(unit["unit_name"])
        labels[unit["submission_state"]] = unit["submission_state_vi"]
    states = sorted(groups, key=lambda s: order.index(s) if s in order else len(order))
    return "; ".join(
        f"{_lower_first(labels[state])}: {', '.join(groups[state])}" for state in states
    )


def _results_section(doc: _Doc, data: ReportData, charts: dict[str, Path]) -> None:
    s = data.summary
    doc.heading("I. KẾT QUẢ THỰC HIỆN")
    doc.heading("1. Tình hình báo cáo của các đơn vị")
    doc.paragraph(
        f"Tổng số đơn vị phải báo cáo: {number_vi(s['expected_reports'])}; đã nộp báo cáo hợp lệ: "
        f"{number_vi(s['actual_reports'])} đơn vị (tỷ lệ {pct_vi(s['reporting_rate'])}), trong đó "
        f"đúng hạn {number_vi(s['on_time_reports'])} đơn vị (tỷ lệ {pct_vi(s['on_time_rate'])}), "
        f"trễ hạn {number_vi(s['late_reports'])} đơn vị; chưa nộp: "
        f"{number_vi(s['missing_reports'])} đơn vị."
    )
    rows = [
        [
            r["unit_type_name"],
            number_vi(r["expected_reports"]),
            number_vi(r["actual_reports"]),
            pct_vi(r["reporting_rate"]),
            number_vi(r["on_time_reports"]),
            pct_vi(r["on_time_rate"]),
        ]
        for r in data.rates
    ]
    doc.paragraph(
        "Bảng 1. Tình hình nộp báo cáo theo loại đơn vị",
        size=13,
        italic=True,
        align="center",
        indent=False,
        keep_with_next=True,
    )
    doc.table(
        ["Loại đơn vị", "Phải nộp", "Đã nộp", "Tỷ lệ", "Đúng hạn", "Tỷ lệ đúng hạn"],
        rows,
        [55, 22, 22, 22, 22, 22],
    )
    if "reporting_rate" in charts:
        doc.picture(charts["reporting_rate"], 150)
        doc.paragraph(
            "Biểu đồ 1. Tỷ lệ nộp báo cáo theo loại đơn vị",
            size=13,
            italic=True,
            align="center",
            indent=False,
        )
    if data.missing_units:
        doc.paragraph(
            f"Các đơn vị chưa nộp báo cáo hợp lệ ({len(data.missing_units)}): "
            f"{_by_state(data.missing_units)}."
        )
    if data.late_units:
        names = ", ".join(f"{u['unit_name']} (trễ {u['days_late']} ngày)" for u in data.late_units)
        doc.paragraph(f"Các đơn vị nộp trễ hạn ({len(data.late_units)}): {names}.")

    doc.heading("2. Kết quả thực hiện nhiệm vụ theo nhóm")
    doc.paragraph(
        f"Các đơn vị đã báo cáo {number_vi(s['tasks_reported'])}/{number_vi(s['tasks_assigned'])} "
        f"lượt nhiệm vụ được giao. {_task_progress_vi(s)}"
    )
    for g in data.groups:
        p = doc.paragraph()
        doc.run(
            p, f"- Nhóm {g['task_group_no']}. {g['task_group_name']}: ", bold=False, italic=True
        )
        doc.run(p, _group_progress_vi(g))
    doc.paragraph(
        "Bảng 2. Tiến độ thực hiện nhiệm vụ theo nhóm",
        size=13,
        italic=True,
        align="center",
        indent=False,
        keep_with_next=True,
    )
    doc.table(
        [
            "Nhóm",
            "Được giao",
            "Đã báo cáo",
            "Thường xuyên: đang thực hiện",
            "Hằng năm, có thời hạn: hoàn thành",
            "Tỷ lệ hoàn thành",
            "Chưa triển khai",
        ],
        [
            [
                g["task_group_no"],
                number_vi(g["tasks_assigned"]),
                number_vi(g["tasks_reported"]),
                _of(g["ongoing_tasks_active"], g["ongoing_tasks"]),
                _of(g["tasks_with_end_done"], g["tasks_with_end"]),
                pct_vi(g["task_done_rate"]) if g["tasks_with_end"] else "–",
                number_vi(g["tasks_not_started"]),
            ]
            for g in data.groups
        ],
        [16, 22, 22, 30, 30, 22, 24],
    )
    doc.paragraph(
        "Nhiệm vụ thường xuyên không có thời điểm hoàn thành nên không tính tỷ lệ hoàn "
        "thành; tỷ lệ hoàn thành chỉ tính trên nhiệm vụ hằng năm, có thời hạn.",
        size=13,
        italic=True,
    )

    doc.heading("3. Kết quả các chỉ tiêu")
    rows = []
    for i in data.indicators:
        change = ""
        if i["change_rate"] is not None:
            sign = "+" if i["change_rate"] >= 0 else ""
            change = f"{sign}{pct_vi(i['change_rate'])}"
        rows.append(
            [
                i["indicator_code"],
                i["indicator_name"],
                i["unit_of_measure"],
                number_vi(i["total_value"]),
                i["target_text_vi"] or "",
                i["achievement_vi"],
                change,
            ]
        )
    estimates = estimate_clause_vi(data.period["estimated_from"], data.period["data_to"])
    if estimates:
        doc.paragraph(
            f"Số liệu các chỉ tiêu kỳ này {estimates}, do hạn nộp báo cáo trước ngày chốt số liệu."
        )
    doc.paragraph(
        "Bảng 3. Kết quả các chỉ tiêu so với mục tiêu và kỳ trước"
        + (f" ({estimates})" if estimates else ""),
        size=13,
        italic=True,
        align="center",
        indent=False,
        keep_with_next=True,
    )
    doc.table(
        ["Mã", "Chỉ tiêu", "Đơn vị tính", "Kết quả", "Mục tiêu", "Đánh giá", "So với kỳ trước"],
        rows,
        [20, 48, 17, 22, 22, 20, 16],
        size=10.5,
    )
    if "indicators" in charts:
        doc.picture(charts["indicators"], 150)
        caption = (
            "Biểu đồ 2. Các chỉ tiêu so với mục tiêu"
            if any(i["achievement_rate"] is not None for i in data.indicators)
            else "Biểu đồ 2. Tỷ lệ đơn vị báo cáo số liệu từng chỉ tiêu "
            "(kỳ này không có chỉ tiêu nào có mục tiêu)"
        )
        doc.paragraph(caption, size=13, italic=True, align="center", indent=False)


#: characters of one unit's difficulty or recommendation quoted in the report. A unit may type
#: 50,000 characters in a cell and 200 rows of them: quoted whole, a report of that size takes
#: LibreOffice longer than the PDF budget and is unreadable anyway. The full text is in the
#: marts and in the summary workbook's "Khó khăn, kiến nghị" tab.
QUOTE_MAX_CHARS = 400
#: items quoted per section (difficulties, recommendations); the rest are counted and pointed
#: to in the summary workbook
QUOTED_ITEMS_MAX = 30
#: where the full text is, as the report says it
FULL_TEXT_WHERE = "xem bảng tổng hợp, trang \u201cKhó khăn, kiến nghị\u201d"


def bounded(text: str, limit: int = QUOTE_MAX_CHARS) -> str:
    """``text`` cut to at most ``limit`` characters, at a word boundary where there is one near
    the end, with "…" marking the cut; unchanged when it fits."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space >= limit * 3 // 4:
        cut = cut[:space]
    return cut.rstrip(" ,;:.-") + "…"


def quoted_feedback(
    items: list[dict], *, limit: int = QUOTED_ITEMS_MAX, chars: int = QUOTE_MAX_CHARS
) -> tuple[list[str], int, int]:
    """The lines the report quotes of grouped feedback (at most ``limit``, each text bounded to
    ``chars``), how many items are left unquoted and how many quoted ones were cut."""
    lines, cut = [], 0
    for item in items[:limit]:
        cut += len(item["content"]) > chars
        units = item["units"]
        who = (
            ", ".join(units)
            if len(units) <= 3
            else f"{', '.join(units[:3])} và {len(units) - 3} đơn vị khác"
        )
        lines.append(f"- {bounded(item['content'], chars).rstrip('.')} ({who}).")
    return lines, max(len(items) - limit, 0), cut


def _feedback_lines(doc: _Doc, items: list[dict], empty: str) -> None:
    if not items:
        doc.paragraph(empty)
        return
    lines, rest, cut = quoted_feedback(items)
    for line in lines:
        doc.paragraph(line)
    if rest:
        doc.paragraph(f"- Và {number_vi(rest)} ý kiến khác ({FULL_TEXT_WHERE}).")
    if cut:
        doc.paragraph(
            f"(Ý kiến dài được trích tối đa {number_vi(QUOTE_MAX_CHARS)} ký tự; toàn "
            f"văn: {FULL_TEXT_WHERE}.)",
            size=13,
            italic=True,
        )


def build_docx(data: ReportData, path: Path, charts: dict[str, Path]) -> Path:
    doc = _Doc()
    doc.page_numbers()
    _header_blocks(doc, data)
    programme, period = data.programme, data.period
    estimates = estimate_clause_vi(period["estimated_from"], period["data_to"])
    deadline = " ".join(
        filter(
            None,
            [deadline_vi(period["on_time_until"]), due_date_note_vi(period["is_due_date_assumed"])],
        )
    )
    doc.paragraph(
        f"Thực hiện {programme['programme_title']}; {programme['consolidating_body']} tổng hợp "
        f"báo cáo của các đơn vị (số liệu từ ngày {date_vi(period['data_from'])} đến ngày "
        f"{date_vi(period['data_to'])}"
        + (f", {estimates}" if estimates else "")
        + f"; hạn nộp {deadline}) và báo cáo kết quả như sau:"
    )
    _results_section(doc, data, charts)

    doc.heading("II. TỒN TẠI, HẠN CHẾ VÀ NGUYÊN NHÂN")
    _feedback_lines(
        doc, data.difficulties, "Các đơn vị không báo cáo khó khăn, vướng mắc trong kỳ."
    )
    if data.missing_units:
        doc.paragraph(
            f"- Còn {len(data.missing_units)} đơn vị chưa nộp báo cáo hợp lệ đúng "
            "yêu cầu, ảnh hưởng đến việc tổng hợp chung của tỉnh."
        )

    doc.heading("III. PHƯƠNG HƯỚNG, NHIỆM VỤ THỜI GIAN TỚI")
    slow = sorted(
        (g for g in data.groups if g["task_done_rate"] is not None),
        key=lambda g: g["task_done_rate"],
    )
    if slow:
        g = slow[0]
        doc.paragraph(
            f"- Tập trung đẩy nhanh tiến độ các nhiệm vụ hằng năm, có thời hạn thuộc "
            f"Nhóm {g['task_group_no']} ({g['task_group_name']}), hiện mới hoàn thành "
            f"{pct_vi(g['task_done_rate'])}."
        )
    unmet = [i for i in data.indicators if i["achievement_status"] == "chua_dat"]
    if unmet:
        doc.paragraph(
            "- Phấn đấu hoàn thành các chỉ tiêu chưa đạt: "
            + "; ".join(f"{i['indicator_name']} ({i['target_text_vi']})" for i in unmet)
            + "."
        )
    if data.missing_units:
        doc.paragraph(
            "- Đôn đốc các đơn vị chưa nộp hoàn thành báo cáo; các đơn vị có lỗi sửa "
            "theo trang \u201cKết quả kiểm tra\u201d trong bảng tính của đơn vị."
        )
    if data.next_period:
        n = data.next_period
        doc.paragraph(
            f"- Chuẩn bị {_lower_first(n['period_name'])}: số liệu tính từ ngày "
            f"{date_vi(n['data_from'])} đến ngày {date_vi(n['data_to'])}, hạn nộp "
            + " ".join(
                filter(
                    None,
                    [deadline_vi(n["on_time_until"]), due_date_note_vi(n["is_due_date_assumed"])],
                )
            )
            + "."
        )

    doc.heading("IV. KIẾN NGHỊ, ĐỀ XUẤT")
    _feedback_lines(doc, data.recommendations, "Các đơn vị không có kiến nghị, đề xuất trong kỳ.")
    doc.paragraph(
        f"Trên đây là {_lower_first(period['period_name'])} của "
        f"{programme['consolidating_body']}./."
    )
    _signature(doc, data)
    when = dt.datetime.combine(period["due_date"], dt.time(0, 0))
    return doc.save(path, when)


def _signature(doc: _Doc, data: ReportData) -> None:
    programme = data.programme
    table = doc.document.add_table(rows=1, cols=2)
    left, right = table.rows[0].cells
    doc.fix_widths(table, [80, doc.width_mm - 80], doc.Mm)
    # the signature block is never split over two pages
    from docx.oxml import OxmlElement

    table.rows[0]._tr.get_or_add_trPr().append(OxmlElement("w:cantSplit"))
    left.text, right.text = "", ""
    p = left.paragraphs[0]
    doc.run(p, "Nơi nhận:", size=12, bold=True, italic=True)
    p.paragraph_format.space_after = doc.Pt(0)
    for recipient in [r.strip() for r in programme["report_cc"].split(";") if r.strip()]:
        q = doc.paragraph(align="left", indent=False, container=left, space_after=0)
        doc.run(q, f"- {recipient};", size=11)
    q = doc.paragraph(align="left", indent=False, container=left, space_after=0)
    doc.run(q, "- Lưu: VT.", size=11)
    p = right.paragraphs[0]
    p.alignment = 1
    doc.run(p, programme["report_signer_title"].upper(), size=14, bold=True)
    for _ in range(4):
        doc.paragraph(align="center", indent=False, container=right, space_after=0)
    q = doc.paragraph(align="center", indent=False, container=right, space_after=0)
    doc.run(q, "(Ký, ghi rõ họ tên và đóng dấu)", size=12, italic=True)


# ------------------------------------------------------------------ PDF
def soffice_path() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


#: seconds LibreOffice may take to turn the draft report into a PDF. The report of a province
#: renders in 5-15 s on one core (a fresh profile included); its quoted text is bounded
#: (:data:`QUOTE_MAX_CHARS`), so a render past two minutes is stuck, not busy, and waiting longer
#: would eat the publish stage's budget (tonghop/alerts.py STAGE_BUDGETS["publish"]).
#: Override with TONGHOP_PDF_BUDGET_SECONDS.
PDF_BUDGET_SECONDS = 120.0
#: after SIGTERM, seconds LibreOffice gets to exit before its process group is killed
PDF_KILL_GRACE_SECONDS = 5.0


def pdf_budget() -> float:
    """The PDF render's budget in seconds: ``TONGHOP_PDF_BUDGET_SECONDS`` or the default."""
    return float(os.environ.get("TONGHOP_PDF_BUDGET_SECONDS") or PDF_BUDGET_SECONDS)


class PdfNotRendered(RuntimeError):
    """No PDF: ``reason_code`` (English, for logs and the manifest) says why —
    ``soffice_missing``, ``over_budget``, ``soffice_failed``, ``no_output``."""

    def __init__(self, reason_code: str, message: str):
        super().__init__(message)
        self.reason_code = reason_code


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def _end_group(process: subprocess.Popen, grace: float = PDF_KILL_GRACE_SECONDS) -> None:
    """SIGTERM to the process's whole group (soffice and the soffice.bin it starts), SIGKILL to
    what is left of it after ``grace`` seconds; the child is reaped."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        process.poll()  # a leader that exited is reaped, not counted as alive
        if not _group_alive(process.pid):
            break
        time.sleep(0.05)
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()


def render_pdf(docx_path: Path, budget: float | None = None) -> Path:
    """The PDF next to the .docx, through LibreOffice, within ``budget`` seconds
    (:func:`pdf_budget`). Raises :class:`PdfNotRendered` when there is none: LibreOffice is not
    installed, failed, or ran over its budget — then its whole process group is ended, so no
    ``soffice.bin`` is left behind."""
    soffice = soffice_path()
    if soffice is None:
        raise PdfNotRendered("soffice_missing", "LibreOffice (soffice) is not installed")
    budget = pdf_budget() if budget is None else budget
    pdf = docx_path.with_suffix(".pdf")
    with tempfile.TemporaryDirectory(prefix="tonghop-lo-") as profile:
        # a profile of its own (two renders at once do not share one), and a session of its
        # own: on overrun the whole group is ended, soffice.bin with it
        process = subprocess.Popen(
            [
                soffice,
                f"-env:UserInstallation=file://{profile}",
                "--headless",
                "--norestore",
                "--convert-to",
                "pdf",
                "--outdir",
                str(docx_path.parent),
                str(docx_path),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            output, _ = process.communicate(timeout=budget)
        except subprocess.TimeoutExpired:
            _end_group(process)
            pdf.unlink(missing_ok=True)
            raise PdfNotRendered(
                "over_budget",
                f"LibreOffice ran past its budget of {budget:g} s on "
                f"{docx_path.name} and was stopped",
            ) from None
        except BaseException:
            _end_group(process)
            raise
        try:  # soffice has exited; a child it left in the group has no reason to stay
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    if process.returncode != 0:
        pdf.unlink(missing_ok=True)
        tail = " ".join(output.decode(errors="replace").split())[-300:]
        raise PdfNotRendered(
            "soffice_failed",
            f"LibreOffice exited with {process.returncode} on {docx_path.name}: {tail}",
        )
    if not pdf.exists():
        raise PdfNotRendered("no_output", f"LibreOffice did not write {pdf.name}")
    return pdf


def write_report(conn, period_code: str, folder: Path, *, pdf: bool = True) -> dict:
    """Charts, the .docx and (with ``pdf``) the PDF of one period into ``folder``. Returns
    {"docx", "pdf", "charts": {...}, "input_row_counts": {...}, "data"}. A PDF that cannot be
    made raises :class:`PdfNotRendered`; :func:`publish.bundle.publish_period` renders it
    itself, after the marts' transaction, and publishes without it."""
    data = load_report_data(conn, period_code)
    charts = {"reporting_rate": _chart_reporting_rate(data, folder / "bieu_do_ty_le_nop.png")}
    indicator_chart = _chart_indicators(data, folder / "bieu_do_chi_tieu.png")
    if indicator_chart:
        charts["indicators"] = indicator_chart
    docx_path = build_docx(data, folder / f"bao_cao_{period_code}.docx", charts)
    pdf_path = render_pdf(docx_path) if pdf else None
    return {
        "docx": docx_path,
        "pdf": pdf_path,
        "charts": charts,
        "input_row_counts": data.input_row_counts,
        "data": dataclasses.asdict(data),
    }
