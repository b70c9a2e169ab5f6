"""The draft consolidated report (dự thảo báo cáo tổng hợp) of one period, from the marts:
what Sở VHTTDL sends UBND tỉnh, laid out as Decree 30/2020/NĐ-CP, Phụ lục I asks.

The body is what a Sở writes to UBND tỉnh: I. results (the reports received, each unit's state
as ``marts.fct_submission`` names it; tasks by group; indicators), II. shortcomings and their
causes, III. the Sở's directions, IV. its requests to UBND tỉnh — all from the figures; then
"Nơi nhận" and the signer block; then an annex with the units' own difficulties and requests,
quoted bounded and attributed. Staff fill in the number, the day and month, and sign; nothing
else is theirs to write.

One job per module:

- :mod:`.data` — what the report says, read from the marts;
- :mod:`.wording` — the sentences; :mod:`.tables` — the tables' rows;
- :mod:`.charts` — the charts that say something; :mod:`.fonts` — the one font;
- :mod:`.layout` — the decree's page and blocks (python-docx); :mod:`.document` — assembled;
- :mod:`.pdf` — LibreOffice's PDF within a budget.

The same data gives the same .docx and charts, byte for byte (fixed document dates and zip
times), so a rerun can be checked by checksum.
"""

from publish.report.document import build_docx, write_report
from publish.report.pdf import (
    PDF_BUDGET_SECONDS,
    PdfNotRendered,
    pdf_budget,
    render_pdf,
    soffice_path,
)
from publish.report.wording import (
    QUOTE_MAX_CHARS,
    QUOTED_ITEMS_MAX,
    bounded,
    quoted_feedback,
)

__all__ = [
    "PDF_BUDGET_SECONDS",
    "QUOTED_ITEMS_MAX",
    "QUOTE_MAX_CHARS",
    "PdfNotRendered",
    "bounded",
    "build_docx",
    "pdf_budget",
    "quoted_feedback",
    "render_pdf",
    "soffice_path",
    "write_report",
]
