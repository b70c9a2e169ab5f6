"""The report's one font: Times New Roman in the .docx, Liberation Serif 2 wherever we render.

Decree 30/2020/NĐ-CP asks for Times New Roman (Unicode, TCVN 6909:2001). The .docx names it,
so Word on the Sở's computers uses the real one. On our servers (Debian, the Docker image)
LibreOffice and matplotlib render with its metric twin, Liberation Serif, which fontconfig and
LibreOffice's own replacement table pick for "Times New Roman".

Which Liberation matters. Debian's ``fonts-liberation`` (1.07) has no Ơ, Ư and none of the
letters with a dot below or a hook (ạ, ả, ế, ộ, ừ …: 92 of the 134 Vietnamese letters):
LibreOffice then draws those from DejaVu Serif, so "Kết", "của", "quả" change weight inside a
word. ``fonts-liberation2`` (2.1.5 in bookworm) has every Vietnamese letter, upper and lower
case (:data:`VIETNAMESE_LETTERS`, checked by the tests over the installed files). With both
packages installed, fontconfig prefers the newer version, so LibreOffice embeds only Liberation
Serif 2. Croscore's Tinos has the same letters, but LibreOffice's replacement table names
Liberation Serif before it: with fonts-liberation 1.07 present, a Tinos install still mixes the
two. ``scripts/bootstrap.sh`` and the ``Dockerfile`` install fonts-liberation2.

The charts (matplotlib PNGs) are drawn with the same files, named by path: matplotlib's own
font lookup would take whichever "Liberation Serif" it indexed first.
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path

log = logging.getLogger(__name__)

#: the font the .docx names (Decree 30/2020)
FONT = "Times New Roman"
#: its metric twin with every Vietnamese letter: the family LibreOffice embeds in the PDF
RENDER_FAMILY = "Liberation Serif"
#: where Debian's fonts-liberation2 puts it
RENDER_FONT_DIR = Path("/usr/share/fonts/truetype/liberation2")
RENDER_FONT_FILES = {
    (False, False): "LiberationSerif-Regular.ttf",
    (True, False): "LiberationSerif-Bold.ttf",
    (False, True): "LiberationSerif-Italic.ttf",
    (True, True): "LiberationSerif-BoldItalic.ttf",
}
#: the PostScript names LibreOffice embeds for it (a PDF names each style apart)
RENDER_POSTSCRIPT_NAMES = frozenset(
    name.removesuffix(".ttf").replace("-Regular", "") for name in RENDER_FONT_FILES.values()
)

#: every precomposed Vietnamese letter, lower and upper case (NFC): the vowels with their five
#: tones, ă â ê ô ơ ư and đ
VIETNAMESE_LETTERS = "".join(
    sorted(
        set("ÀÁÂÃÈÉÊÌÍÒÓÔÕÙÚÝàáâãèéêìíòóôõùúýĂăĐđĨĩŨũƠơƯư")
        | {chr(c) for c in range(0x1EA0, 0x1EFA)}  # Ạ … ỹ
    )
)
#: the other characters the report's own words use beyond ASCII
REPORT_PUNCTUATION = "“”‘’–…"


def render_font_file(*, bold: bool = False, italic: bool = False) -> Path | None:
    """The Liberation Serif 2 file of a style, or None when fonts-liberation2 is missing."""
    path = RENDER_FONT_DIR / RENDER_FONT_FILES[(bold, italic)]
    return path if path.exists() else None


def missing_glyphs(path: Path, text: str) -> str:
    """The characters of ``text`` (spaces aside) that the font file has no glyph for."""
    from fontTools.ttLib import TTFont

    with TTFont(str(path), lazy=True) as font:
        cmap = font.getBestCmap()
    return "".join(sorted({ch for ch in text if not ch.isspace() and ord(ch) not in cmap}))


def chart_font(size: float, *, bold: bool = False):
    """A matplotlib FontProperties for the charts: the report's font file at ``size`` points,
    or matplotlib's default font when fonts-liberation2 is not installed (logged once: the
    charts then differ from the text around them)."""
    from matplotlib.font_manager import FontProperties

    path = render_font_file(bold=bold)
    if path is None:
        _warn_missing()
        return FontProperties(size=size, weight="bold" if bold else "normal")
    return FontProperties(fname=str(path), size=size)


@functools.cache
def _warn_missing() -> None:
    log.warning(
        "report charts: no %s (install fonts-liberation2: scripts/bootstrap.sh); drawing them "
        "in matplotlib's default font",
        RENDER_FONT_DIR / RENDER_FONT_FILES[(False, False)],
    )
