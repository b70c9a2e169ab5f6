"""Decree 30/2020/NĐ-CP, Phụ lục I, checked on a rendered PDF: what a reader of the page sees,
read back with poppler (``pdffonts``; ``pdftohtml -xml``: every line with its position, font,
size, bold and italic).

:func:`check` returns the rules a PDF breaks, in words (an empty list: none):

- one font: every font embedded is the report's (Liberation Serif 2, Times New Roman's twin);
- A4 portrait; no text in the margins (left 30 mm, right 15 mm, top and bottom 20 mm; the
  page number sits in the top margin);
- sizes: body text 13-14 pt (the size most characters have); nothing below 11 pt or above 14;
- page 1's blocks: the parent body (upright capitals, 12-13) and the issuing body (bold
  capitals, 12-13) top left; the national name (bold capitals, 12-13) and the motto (bold,
  13-14) top right; "Số:" (13) under the body and the place and date (italic, 13-14) under the
  motto, on one line; "BÁO CÁO" (bold, 13-14) centred below them and the summary line (bold)
  under it;
- page numbers: none on page 1, the number centred in the top margin of every other page;
- the signer block: "Nơi nhận:" (bold italic, 12) on the left with its lines (11); level with
  it on the right the signer's title in bold capitals (13-14), then at least 20 mm for the
  signature and seal, then the name line (bold, 13-14) centred under the title.

Run on any PDF: ``python -m testing.decree30 bao_cao.pdf``; with ``--pages docs/images`` it
also renders each page for people to look at (``report_page_<n>.png``, 60 dpi, the pages
docs/architecture.md shows).
"""

from __future__ import annotations

import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

MM = 72 / 25.4
A4_PT = (595.3, 841.9)
MARGINS_MM = {"top": 20, "bottom": 20, "left": 30, "right": 15}
#: the PostScript names of the one font (subset prefixes aside), by style
FONT_NAMES = {
    "LiberationSerif",
    "LiberationSerif-Bold",
    "LiberationSerif-Italic",
    "LiberationSerif-BoldItalic",
}
#: pdftohtml's positions are whole points: what a check forgives
SLACK = 2.0


@dataclass
class Line:
    """One line of text as poppler reads it (points from the page's top left)."""

    page: int
    top: float
    left: float
    width: float
    height: float
    size: float
    family: str
    bold: bool
    italic: bool
    text: str

    @property
    def right(self) -> float:
        return self.left + self.width

    @property
    def centre(self) -> float:
        return self.left + self.width / 2


def embedded_fonts(pdf: Path) -> list[str]:
    """The fonts the PDF embeds (``pdffonts``), subset prefixes ("BAAAAA+") dropped."""
    out = subprocess.run(["pdffonts", str(pdf)], check=True, capture_output=True, text=True)
    names = [line.split()[0] for line in out.stdout.splitlines()[2:] if line.strip()]
    return [name.split("+", 1)[-1] for name in names]


def read_pages(pdf: Path) -> tuple[list[tuple[float, float]], list[Line]]:
    """Each page's size and every line of text (``pdftohtml -xml``, images left out)."""
    out = subprocess.run(
        ["pdftohtml", "-xml", "-i", "-stdout", "-zoom", "1", str(pdf)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    root = ET.fromstring(out)
    fonts: dict[str, tuple[float, str]] = {}
    sizes, lines = [], []
    for page in root.iter("page"):
        number = int(page.get("number"))
        sizes.append((float(page.get("width")), float(page.get("height"))))
        for spec in page.iter("fontspec"):
            fonts[spec.get("id")] = (float(spec.get("size")), spec.get("family"))
        for text in page.iter("text"):
            content = "".join(text.itertext())
            if not content.strip():
                continue
            size, family = fonts[text.get("font")]
            lines.append(
                Line(
                    page=number,
                    top=float(text.get("top")),
                    left=float(text.get("left")),
                    width=float(text.get("width")),
                    height=float(text.get("height")),
                    size=size,
                    family=family.split("+", 1)[-1],
                    bold=text.find(".//b") is not None,
                    italic=text.find(".//i") is not None,
                    text=content,
                )
            )
    return sizes, lines


def _find(lines: list[Line], pattern: str, page: int | None = None) -> Line | None:
    rx = re.compile(pattern)
    return next((ln for ln in lines if rx.search(ln.text) and page in (None, ln.page)), None)


def check(pdf: Path) -> list[str]:
    """The rules of Decree 30/2020, Phụ lục I the PDF breaks (module docstring)."""
    problems: list[str] = []
    other = sorted({f for f in embedded_fonts(pdf) if f not in FONT_NAMES})
    if other:
        problems.append(f"fonts other than Liberation Serif embedded: {', '.join(other)}")
    sizes, lines = read_pages(pdf)
    if not lines:
        return [*problems, "no text"]
    width, height = A4_PT
    for n, (w, h) in enumerate(sizes, start=1):
        if abs(w - width) > SLACK or abs(h - height) > SLACK:
            problems.append(f"page {n} is {w:g} x {h:g} pt, not A4 portrait")

    # margins
    left, right = MARGINS_MM["left"] * MM, width - MARGINS_MM["right"] * MM
    top, bottom = MARGINS_MM["top"] * MM, height - MARGINS_MM["bottom"] * MM
    numbers = {ln.page: ln for ln in lines if ln.top < top and ln.text.strip().isdigit()}
    for ln in lines:
        if ln.page in numbers and ln is numbers[ln.page]:
            continue
        if ln.left < left - SLACK or ln.right > right + SLACK:
            problems.append(f"page {ln.page}: {ln.text[:40]!r} in the side margins")
        if ln.top < top - SLACK or ln.top + ln.height > bottom + SLACK:
            problems.append(f"page {ln.page}: {ln.text[:40]!r} in the top or bottom margin")

    # sizes
    by_size = Counter()
    for ln in lines:
        by_size[ln.size] += len(ln.text)
        if not 11 <= ln.size <= 14:
            problems.append(f"page {ln.page}: {ln.text[:40]!r} at {ln.size:g} pt")
    body = by_size.most_common(1)[0][0]
    if not 13 <= body <= 14:
        problems.append(f"body text at {body:g} pt, not 13-14")

    # page numbers
    if 1 in numbers:
        problems.append("a page number on page 1")
    for page in range(2, len(sizes) + 1):
        ln = numbers.get(page)
        if ln is None or ln.text.strip() != str(page):
            problems.append(f"page {page} has no page number in its top margin")
        elif abs(ln.centre - (left + right) / 2) > 3 * SLACK or not 13 <= ln.size <= 14:
            problems.append(f"page {page}'s number is not centred at 13-14 pt")

    problems += _first_page(lines, width)
    problems += _signer(lines, width)
    return problems


def _first_page(lines: list[Line], width: float) -> list[str]:
    problems = []
    first = [ln for ln in lines if ln.page == 1]
    half = width / 2

    def block(name, pattern, *, side, bold, sizes, italic=False, caps=False):
        ln = _find(first, pattern)
        if ln is None:
            problems.append(f"page 1: no {name}")
            return None
        where = "left" if ln.centre < half else "right"
        if side and where != side:
            problems.append(f"{name} is on the {where}, not the {side}")
        if ln.bold != bold or ln.italic != italic:
            problems.append(f"{name}: bold {ln.bold}, italic {ln.italic}")
        if not sizes[0] <= ln.size <= sizes[1]:
            problems.append(f"{name} at {ln.size:g} pt, not {sizes[0]}-{sizes[1]}")
        if caps and ln.text != ln.text.upper():
            problems.append(f"{name} not in capitals: {ln.text!r}")
        return ln

    nation = block(
        "national name",
        r"^CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM$",
        side="right",
        bold=True,
        sizes=(12, 13),
        caps=True,
    )
    motto = block(
        "motto",
        r"^Độc lập - Tự do - Hạnh phúc$",
        side="right",
        bold=True,
        sizes=(13, 14),
    )
    left_lines = sorted(
        (ln for ln in first if ln.centre < half and nation and ln.top < nation.top + 60),
        key=lambda ln: ln.top,
    )
    if len(left_lines) < 2:
        problems.append("page 1: no parent and issuing body top left")
    else:
        parent, body = left_lines[0], left_lines[1]
        if parent.bold or not 12 <= parent.size <= 13 or parent.text != parent.text.upper():
            problems.append(f"the parent body {parent.text!r}: upright capitals 12-13")
        if not body.bold or not 12 <= body.size <= 13 or body.text != body.text.upper():
            problems.append(f"the issuing body {body.text!r}: bold capitals 12-13")
        if nation and abs(parent.top - nation.top) > SLACK:
            problems.append("the parent body and the national name are not on one line")
    number = block("number", r"^Số:\s+/", side="left", bold=False, sizes=(13, 13))
    place = block(
        "place and date",
        r", ngày\s+tháng\s+năm \d{4}$",
        side="right",
        bold=False,
        italic=True,
        sizes=(13, 14),
    )
    if nation and motto and (motto.top <= nation.top or abs(motto.centre - nation.centre) > 6):
        problems.append("the motto is not centred under the national name")
    if number and place and abs(number.top - place.top) > SLACK:
        problems.append("the number and the place and date are not on one line")
    kind = block("“BÁO CÁO”", r"^BÁO CÁO$", side=None, bold=True, sizes=(13, 14))
    if kind:
        if abs(kind.centre - (MARGINS_MM["left"] * MM + width - MARGINS_MM["right"] * MM) / 2) > 6:
            problems.append("“BÁO CÁO” is not centred on the text width")
        if place and kind.top <= place.top:
            problems.append("“BÁO CÁO” is not below the header blocks")
        below = [ln for ln in first if ln.top > kind.top]
        summary = min(below, key=lambda ln: ln.top) if below else None
        if summary is None or not summary.bold or not 13 <= summary.size <= 14:
            problems.append("no summary line in bold 13-14 under “BÁO CÁO”")
    return problems


def _signer(lines: list[Line], width: float) -> list[str]:
    recipients = _find(lines, r"^Nơi nhận:$")
    if recipients is None:
        return ["no “Nơi nhận:”"]
    problems = []
    if not (recipients.bold and recipients.italic and recipients.size == 12):
        problems.append("“Nơi nhận:” is not bold italic 12 pt")
    if recipients.centre > width / 2:
        problems.append("“Nơi nhận:” is not on the left")
    page = [ln for ln in lines if ln.page == recipients.page]
    listed = [
        ln
        for ln in page
        if ln.top > recipients.top and ln.centre < width / 2 and ln.text.startswith("- ")
    ]
    if not listed or any(ln.size != 11 for ln in listed) or listed[-1].text != "- Lưu: VT.":
        problems.append("the recipients are not listed at 11 pt ending with “- Lưu: VT.”")
    right = sorted(
        (ln for ln in page if ln.top >= recipients.top - SLACK and ln.centre > width / 2),
        key=lambda ln: ln.top,
    )
    if len(right) < 2:
        return [*problems, "no signer's title and name line on the right"]
    title, name = right[0], right[-1]
    if abs(title.top - recipients.top) > SLACK:
        problems.append("the signer's title is not level with “Nơi nhận:”")
    for ln in right[:-1]:
        if not ln.bold or ln.text != ln.text.upper() or not 13 <= ln.size <= 14:
            problems.append(f"the signer's title {ln.text!r}: bold capitals 13-14")
    if not name.bold or not 13 <= name.size <= 14:
        problems.append("the signer's name line is not bold 13-14")
    if name.top - right[-2].top < 20 * MM:
        problems.append("less than 20 mm to sign between the signer's title and name")
    if abs(name.centre - title.centre) > 6:
        problems.append("the name line is not centred under the signer's title")
    return problems


def render_pages(pdf: Path, folder: Path, dpi: int = 60) -> list[Path]:
    """Each page as ``folder/report_page_<n>.png`` (poppler, then 64 colours: a page of text
    needs no more, and the repository keeps them small)."""
    import tempfile

    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    written = []
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["pdftoppm", "-r", str(dpi), "-png", str(pdf), f"{tmp}/p"], check=True)
        for page in sorted(Path(tmp).glob("p-*.png"), key=lambda p: int(p.stem.split("-")[1])):
            target = folder / f"report_page_{int(page.stem.split('-')[1])}.png"
            image = Image.open(page).convert("RGB")
            image.quantize(colors=64, method=Image.Quantize.MEDIANCUT).save(target, optimize=True)
            written.append(target)
    return written


def main(argv: list[str]) -> int:
    pages = None
    if len(argv) == 3 and argv[1] == "--pages":
        pages = Path(argv[2])
    elif len(argv) != 1:
        print("usage: python -m testing.decree30 REPORT.pdf [--pages FOLDER]", file=sys.stderr)
        return 2
    if pages is not None:
        for path in render_pages(Path(argv[0]), pages):
            print(path)
    problems = check(Path(argv[0]))
    for problem in problems:
        print(problem)
    print(
        "Decree 30/2020: " + ("no problem found" if not problems else f"{len(problems)} problems")
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
