"""The report's page: python-docx with the typography of Decree 30/2020/NĐ-CP, Phụ lục I.

A4 portrait; margins top and bottom 20 mm, left 30 mm, right 15 mm; Times New Roman
(:mod:`publish.report.fonts`); body 14 pt, justified, first line indented 12.7 mm, 6 pt after
a paragraph, line spacing 1.15. The blocks, with the sizes the appendix gives:

- top left, centred: the parent body (upright capitals, 13) over the issuing body (bold
  capitals, 13), a short rule below; under them "Số:   /BC-…" (13);
- top right, centred: the national name (bold capitals, 12) over the motto (bold, 13), a rule
  under the motto; under them the place and date (italic, 14);
- "BÁO CÁO" (bold capitals, 14) and the summary line (bold, 14), a rule below;
- the signer block on the right: the authority and title (bold capitals, 14), space for the
  signature and seal, the full name (bold, 14) — a dotted line for the Sở to fill in; "Nơi
  nhận:" on the left (bold italic, 12) and its lines (11);
- page numbers centred in the header (13), from page 2.

Document numbers never break across lines: a hyphen between capitals or digits ("QĐ-TTg",
"84-KL/TW", "BC-SVHTTDL") is written as Word's non-breaking hyphen.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from publish.ooxml import normalize_zip
from publish.report.fonts import FONT
from publish.report.tables import TEXT_WIDTH_MM, Table

#: Decree 30/2020 Phụ lục I: top and bottom 20-25 mm, left 30-35 mm, right 15-20 mm
MARGINS_MM = {"top": 20, "bottom": 20, "left": 30, "right": 15}
PAGE_MM = (210, 297)
BODY_PT = 14
CAPTION_PT = 13
#: the left header block's width; the right one has the rest of the text width
LEFT_BLOCK_MM = 67
#: where the signer's full name goes until the Sở writes it
NAME_LINE = "\u2026" * 12
#: a hyphen inside a document number: between two capitals or digits
_NUMBER_HYPHEN = re.compile(r"(?<=[0-9A-ZĐ])-(?=[0-9A-ZĐ])")
_XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"


class Doc:
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
        style.font.size = Pt(BODY_PT)
        style.element.rPr.rFonts.set(self._qn("w:eastAsia"), FONT)
        style.element.rPr.rFonts.set(self._qn("w:cs"), FONT)
        style.paragraph_format.space_after = Pt(6)
        style.paragraph_format.line_spacing = 1.15

    @staticmethod
    def _qn(name):
        from docx.oxml.ns import qn

        return qn(name)

    @property
    def width_mm(self) -> float:
        return TEXT_WIDTH_MM

    # -------------------------------------------------------------- text
    def paragraph(
        self,
        text: str = "",
        *,
        size: float = BODY_PT,
        bold=False,
        italic=False,
        align: str = "justify",
        indent: bool = True,
        container=None,
        space_after: float | None = None,
        space_before: float | None = None,
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
        if space_before is not None:
            p.paragraph_format.space_before = self.Pt(space_before)
        p.paragraph_format.keep_with_next = keep_with_next
        if text:
            self.run(p, text, size=size, bold=bold, italic=italic)
        return p

    def run(self, paragraph, text: str, *, size: float = BODY_PT, bold=False, italic=False):
        """A run of ``text``; a hyphen inside a document number becomes a non-breaking one."""
        from docx.oxml import OxmlElement

        pieces = _NUMBER_HYPHEN.split(text)
        r = paragraph.add_run(pieces[0])
        for piece in pieces[1:]:
            r._r.append(OxmlElement("w:noBreakHyphen"))
            if piece:
                t = OxmlElement("w:t")
                t.text = piece
                t.set(_XML_SPACE, "preserve")
                r._r.append(t)
        r.font.name = FONT
        r.font.size = self.Pt(size)
        r.bold, r.italic = bold, italic
        r._element.rPr.rFonts.set(self._qn("w:eastAsia"), FONT)
        r._element.rPr.rFonts.set(self._qn("w:cs"), FONT)
        return r

    def heading(self, text: str):
        return self.paragraph(text, bold=True, keep_with_next=True)

    def caption(self, text: str, *, before: bool = True):
        """A table's caption (above it, kept with it) or a chart's (below it)."""
        return self.paragraph(
            text,
            size=CAPTION_PT,
            italic=True,
            align="center",
            indent=False,
            keep_with_next=before,
        )

    def note(self, text: str):
        return self.paragraph(text, size=CAPTION_PT, italic=True)

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
        p._p.get_or_add_pPr().append(borders)
        return p

    # -------------------------------------------------------------- tables, pictures
    def fix_widths(self, table, widths_mm: list[float]) -> None:
        """Column widths that Word and LibreOffice both keep (grid and cells, no autofit)."""
        table.autofit = False
        for column, width in zip(table.columns, widths_mm):
            column.width = self.Mm(width)
        for row in table.rows:
            for cell, width in zip(row.cells, widths_mm):
                cell.width = self.Mm(width)

    def _borderless(self, table) -> None:
        from docx.oxml import OxmlElement

        borders = OxmlElement("w:tblBorders")
        for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
            element = OxmlElement(f"w:{edge}")
            element.set(self._qn("w:val"), "nil")
            borders.append(element)
        table._tbl.tblPr.append(borders)

    @staticmethod
    def _keep_row_together(row, *, header: bool = False) -> None:
        from docx.oxml import OxmlElement

        tr_pr = row._tr.get_or_add_trPr()
        tr_pr.append(OxmlElement("w:cantSplit"))
        if header:  # repeated at the top of every page the table runs onto
            tr_pr.append(OxmlElement("w:tblHeader"))

    def table(self, spec: Table):
        from docx.enum.table import WD_CELL_VERTICAL_ALIGNMENT, WD_TABLE_ALIGNMENT
        from docx.enum.text import WD_ALIGN_PARAGRAPH

        self.caption(spec.caption)
        table = self.document.add_table(rows=1, cols=len(spec.headers))
        table.style = "Table Grid"
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        self._keep_row_together(table.rows[0], header=True)
        for cell, text in zip(table.rows[0].cells, spec.headers):
            cell.text = ""
            cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
            p = cell.paragraphs[0]
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
            p.paragraph_format.space_after = self.Pt(0)
            self.run(p, text, size=spec.size, bold=True)
        for n, values in enumerate(spec.rows):
            row = table.add_row()
            self._keep_row_together(row)
            for k, (cell, value) in enumerate(zip(row.cells, values)):
                cell.text = ""
                cell.vertical_alignment = WD_CELL_VERTICAL_ALIGNMENT.CENTER
                p = cell.paragraphs[0]
                p.paragraph_format.space_after = self.Pt(0)
                p.alignment = (
                    WD_ALIGN_PARAGRAPH.LEFT if k in spec.text_columns else WD_ALIGN_PARAGRAPH.CENTER
                )
                self.run(p, value, size=spec.size, bold=n in spec.bold_rows)
        self.fix_widths(table, spec.widths_mm)
        if spec.note:
            self.note(spec.note)
        else:
            self.paragraph(space_after=0)
        return table

    def picture(self, path: Path, width_mm: float):
        self.document.add_picture(str(path), width=self.Mm(width_mm))
        p = self.document.paragraphs[-1]
        p.alignment = 1
        p.paragraph_format.keep_with_next = True  # with its caption

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

    # -------------------------------------------------------------- the decree's blocks
    def header_blocks(self, programme: dict, year: int, title: list[str]) -> None:
        """Quốc hiệu – Tiêu ngữ on the right, the issuing body on the left, in a borderless
        table; number below the body, place and date below the motto; then "BÁO CÁO" and the
        summary line ``title`` (Decree 30/2020, Phụ lục I, mục II)."""
        table = self.document.add_table(rows=2, cols=2)
        right_w = self.width_mm - LEFT_BLOCK_MM
        self.fix_widths(table, [LEFT_BLOCK_MM, right_w])
        self._borderless(table)

        body, nation = table.cell(0, 0), table.cell(0, 1)
        body.text, nation.text = "", ""
        p = body.paragraphs[0]
        p.alignment = 1
        p.paragraph_format.space_after = self.Pt(0)
        self.run(p, programme["report_parent_body"].upper(), size=13)
        p = self.paragraph(align="center", indent=False, container=body, space_after=0)
        self.run(p, programme["consolidating_body"].upper(), size=13, bold=True)
        self.rule(body, LEFT_BLOCK_MM, 25)
        p = nation.paragraphs[0]
        p.alignment = 1
        p.paragraph_format.space_after = self.Pt(0)
        self.run(p, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", size=12, bold=True)
        p = self.paragraph(align="center", indent=False, container=nation, space_after=0)
        self.run(p, "Độc lập - Tự do - Hạnh phúc", size=13, bold=True)
        self.rule(nation, right_w, 58)

        number, place = table.cell(1, 0), table.cell(1, 1)
        number.text, place.text = "", ""
        for cell in (number, place):
            cell.paragraphs[0].paragraph_format.space_before = self.Pt(6)
            cell.paragraphs[0].alignment = 1
        self.run(number.paragraphs[0], f"Số:        /{programme['report_symbol']}", size=13)
        self.run(
            place.paragraphs[0],
            f"{programme['report_place']}, ngày      tháng      năm {year}",
            size=14,
            italic=True,
        )

        self.paragraph(space_after=6)
        self.paragraph("BÁO CÁO", bold=True, align="center", indent=False, space_after=0)
        for line in title:
            p = self.paragraph(align="center", indent=False, space_after=0)
            self.run(p, line, bold=True)
        self.rule(None, self.width_mm, 45)
        self.paragraph(space_after=6)

    def signature(self, programme: dict) -> None:
        """“Nơi nhận” on the left; on the right the signer's authority and title (one line
        each, ``report_signer_title`` split at ";": "KT. Giám đốc;Phó Giám đốc"), the space
        to sign and seal, and the line for the full name. Never split over two pages."""
        table = self.document.add_table(rows=1, cols=2)
        self._borderless(table)
        left, right = table.rows[0].cells
        self.fix_widths(table, [80, self.width_mm - 80])
        self._keep_row_together(table.rows[0])
        left.text, right.text = "", ""
        p = left.paragraphs[0]
        p.paragraph_format.space_after = self.Pt(0)
        self.run(p, "Nơi nhận:", size=12, bold=True, italic=True)
        recipients = [r.strip() for r in programme["report_cc"].split(";") if r.strip()]
        for recipient in [*[f"- {r};" for r in recipients], "- Lưu: VT."]:
            q = self.paragraph(align="left", indent=False, container=left, space_after=0)
            self.run(q, recipient, size=11)
        titles = [t.strip() for t in programme["report_signer_title"].split(";") if t.strip()]
        first = True
        for line in titles:
            p = (
                right.paragraphs[0]
                if first
                else self.paragraph(align="center", indent=False, container=right, space_after=0)
            )
            first = False
            p.alignment = 1
            p.paragraph_format.space_after = self.Pt(0)
            self.run(p, line.upper(), bold=True)
        for _ in range(5):  # the signature and the seal
            self.paragraph(align="center", indent=False, container=right, space_after=0)
        p = self.paragraph(align="center", indent=False, container=right, space_after=0)
        self.run(p, NAME_LINE, bold=True)

    def annex_heading(self, lines: list[str], symbol_width_mm: float = 60) -> None:
        """“Phụ lục”, its title and the document it goes with, a rule below (Decree 30/2020,
        Phụ lục I: an annex starts on a page of its own)."""
        word, *titles, attached = lines
        p = self.paragraph(word, bold=True, align="center", indent=False, space_after=0)
        p.paragraph_format.page_break_before = True
        for title in titles:
            self.paragraph(title, bold=True, align="center", indent=False, space_after=0)
        self.paragraph(attached, italic=True, align="center", indent=False, space_after=0)
        self.rule(None, self.width_mm, symbol_width_mm)
        self.paragraph(space_after=6)

    def save(self, path: Path, when: dt.datetime) -> Path:
        props = self.document.core_properties
        props.author = props.last_modified_by = "tonghop"
        props.created = props.modified = when
        props.revision = 1
        path.parent.mkdir(parents=True, exist_ok=True)
        self.document.save(str(path))
        normalize_zip(path)
        return path
