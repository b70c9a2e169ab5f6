"""The draft report assembled: the decree's blocks (:mod:`.layout`), the sentences
(:mod:`.wording`), the tables (:mod:`.tables`) and the charts (:mod:`.charts`)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

from publish.report import wording
from publish.report.charts import draw_charts
from publish.report.data import ReportData, load_report_data
from publish.report.layout import Doc
from publish.report.pdf import render_pdf
from publish.report.tables import indicator_table, reporting_table, task_table

#: the charts' width on the page, in mm
CHART_MM = 160


def _lines(doc: Doc, lines: list[str]) -> None:
    for line in lines:
        doc.paragraph(line)


def build_docx(data: ReportData, path: Path, charts: dict[str, Path]) -> Path:
    doc = Doc()
    doc.page_numbers()
    doc.header_blocks(data.programme, data.period["due_date"].year, wording.title_lines(data))
    doc.paragraph(wording.opening(data))

    doc.heading("I. KẾT QUẢ THỰC HIỆN")
    doc.heading("1. Tình hình báo cáo của các đơn vị")
    doc.paragraph(wording.reporting_overview(data))
    doc.table(reporting_table(data))
    if "reporting_rate" in charts:
        doc.picture(charts["reporting_rate"], CHART_MM)
        doc.caption("Biểu đồ 1. Tỷ lệ đơn vị nộp báo cáo hợp lệ theo loại đơn vị", before=False)
    _lines(doc, [t for t in (wording.not_counted_by_state(data), wording.late_units(data)) if t])

    doc.heading("2. Kết quả thực hiện nhiệm vụ theo nhóm")
    doc.paragraph(wording.task_progress(data))
    doc.table(task_table(data))
    doc.note(wording.TASK_TABLE_NOTE)

    doc.heading("3. Kết quả các chỉ tiêu")
    _lines(doc, wording.indicators_intro(data))
    if data.indicators:
        doc.table(indicator_table(data))
    if "indicators" in charts:
        doc.picture(charts["indicators"], CHART_MM)
        doc.caption("Biểu đồ 2. Kết quả các chỉ tiêu so với mục tiêu", before=False)

    doc.heading("II. TỒN TẠI, HẠN CHẾ VÀ NGUYÊN NHÂN")
    doc.heading("1. Tồn tại, hạn chế")
    _lines(doc, wording.shortcomings(data) or ["Không có tồn tại, hạn chế nêu trong kỳ."])
    doc.heading("2. Nguyên nhân")
    _lines(doc, wording.causes(data))

    doc.heading("III. PHƯƠNG HƯỚNG, NHIỆM VỤ THỜI GIAN TỚI")
    _lines(doc, wording.directions(data))

    doc.heading("IV. KIẾN NGHỊ, ĐỀ XUẤT")
    _lines(doc, wording.requests(data))
    closing = doc.paragraph(wording.closing(data), keep_with_next=True)
    closing.paragraph_format.keep_together = True
    doc.signature(data.programme)

    if data.difficulties or data.recommendations:
        doc.annex_heading(wording.annex_title(data))
        for heading, lines, notes in wording.annex_parts(data):
            doc.heading(heading)
            _lines(doc, lines)
            for note in notes:
                doc.note(note)

    when = dt.datetime.combine(data.period["due_date"], dt.time(0, 0))
    return doc.save(path, when)


def write_report(conn, period_code: str, folder: Path, *, pdf: bool = True) -> dict:
    """Charts, the .docx and (with ``pdf``) the PDF of one period into ``folder``. Returns
    {"docx", "pdf", "charts": {...}, "input_row_counts": {...}, "data"}. A PDF that cannot be
    made raises :class:`~publish.report.pdf.PdfNotRendered`;
    :func:`publish.bundle.publish_period` renders it itself, after the marts' transaction, and
    publishes without it."""
    data = load_report_data(conn, period_code)
    charts = draw_charts(data, folder)
    docx_path = build_docx(data, folder / f"bao_cao_{period_code}.docx", charts)
    pdf_path = render_pdf(docx_path) if pdf else None
    return {
        "docx": docx_path,
        "pdf": pdf_path,
        "charts": charts,
        "input_row_counts": data.input_row_counts,
        "data": dataclasses.asdict(data),
    }
