"""A1 notation and rectangle helpers.

A :class:`Rect` is a 0-based, end-exclusive block of cells where any bound
may be ``None`` (unbounded), exactly like a Sheets ``GridRange`` without
the sheet id.  Functions here turn A1 text into ``(sheet title, Rect)``
and back, and do the small rectangle algebra the batchUpdate handlers need
(intersection, subtraction, shifting).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_CELL_RE = re.compile(r"^\$?([A-Za-z]{0,3})\$?([0-9]{0,7})$")
_SIMPLE_TITLE_RE = re.compile(r"^[^\W\d]\w*$")  # letters (any script), digits, _
_LOOKS_LIKE_CELL_RE = re.compile(r"^([A-Za-z]{1,3}[0-9]+|[Rr][0-9]+[Cc][0-9]+)$")


class A1ParseError(ValueError):
    """Raised when a text is not valid A1 notation."""


@dataclass(frozen=True)
class Rect:
    """A block of cells: rows ``[r0, r1)`` and columns ``[c0, c1)``; ``None`` = open."""

    r0: int | None = None
    r1: int | None = None
    c0: int | None = None
    c1: int | None = None

    def clamp(self, rows: int, cols: int) -> Rect:
        """In: grid size. Out: a fully bounded rect limited to the grid."""
        r0 = min(self.r0 or 0, rows)
        c0 = min(self.c0 or 0, cols)
        r1 = rows if self.r1 is None else min(self.r1, rows)
        c1 = cols if self.c1 is None else min(self.c1, cols)
        return Rect(r0, max(r0, r1), c0, max(c0, c1))

    def is_empty(self) -> bool:
        """Out: True when the rect (bounded parts) covers no cell."""
        return (self.r1 is not None and self.r1 <= (self.r0 or 0)) or (
            self.c1 is not None and self.c1 <= (self.c0 or 0)
        )

    def contains(self, row: int, col: int) -> bool:
        """Out: whether cell (row, col) lies inside."""
        return (
            (self.r0 or 0) <= row
            and (self.r1 is None or row < self.r1)
            and (self.c0 or 0) <= col
            and (self.c1 is None or col < self.c1)
        )

    def to_grid_range(self, sheet_id: int) -> dict[str, int]:
        """Out: the Sheets GridRange JSON for this rect on ``sheet_id``."""
        out: dict[str, int] = {"sheetId": sheet_id}
        for key, value in (
            ("startRowIndex", self.r0),
            ("endRowIndex", self.r1),
            ("startColumnIndex", self.c0),
            ("endColumnIndex", self.c1),
        ):
            if value is not None:
                out[key] = value
        return out


def rect_from_grid_range(grid_range: dict[str, Any]) -> Rect:
    """In: GridRange JSON. Out: the Rect (sheet id is read separately)."""

    def get(key: str) -> int | None:
        value = grid_range.get(key)
        return None if value is None else int(value)

    r0, r1, c0, c1 = (
        get("startRowIndex"),
        get("endRowIndex"),
        get("startColumnIndex"),
        get("endColumnIndex"),
    )
    for value in (r0, r1, c0, c1):
        if value is not None and value < 0:
            raise A1ParseError("GridRange indexes must be non-negative")
    return Rect(r0 or 0, r1, c0 or 0, c1)


def column_letters(index: int) -> str:
    """In: 0-based column index. Out: its letters (0 -> 'A', 26 -> 'AA')."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def column_index(letters: str) -> int:
    """In: column letters. Out: 0-based column index ('A' -> 0)."""
    value = 0
    for char in letters.upper():
        value = value * 26 + ord(char) - 64
    return value - 1


def quote_sheet_title(title: str) -> str:
    """In: a tab title. Out: the title as Google writes it in a range (quoted if needed)."""
    if _SIMPLE_TITLE_RE.match(title) and not _LOOKS_LIKE_CELL_RE.match(title):
        return title
    return "'" + title.replace("'", "''") + "'"


def split_range(text: str) -> tuple[str | None, str | None]:
    """In: range text like ``'Tab 1'!A1:B2``, ``Tab!A:A``, ``A1`` or ``Tab``.

    Out: ``(sheet title or None, A1 part or None)``.  A bare word comes back
    as ``(None, word)``; the caller decides whether it is a tab title.
    """
    text = text.strip()
    if text.startswith("'"):
        i, title = 1, []
        while i < len(text):
            char = text[i]
            if char == "'":
                if i + 1 < len(text) and text[i + 1] == "'":
                    title.append("'")
                    i += 2
                    continue
                break
            title.append(char)
            i += 1
        else:
            raise A1ParseError(text)
        rest = text[i + 1 :]
        if not rest:
            return "".join(title), None
        if not rest.startswith("!"):
            raise A1ParseError(text)
        return "".join(title), rest[1:] or None
    if "!" in text:
        title, _, part = text.rpartition("!")
        return title, part or None
    return None, text


def parse_a1(part: str) -> Rect:
    """In: the A1 part of a range (``A1``, ``A1:C3``, ``A:C``, ``2:5``, ``A2:C``).

    Out: the Rect.  Raises :class:`A1ParseError` when it is not A1 notation.
    """
    start, sep, end = part.partition(":")
    m1 = _CELL_RE.match(start)
    m2 = _CELL_RE.match(end) if sep else m1
    if not m1 or not m2:
        raise A1ParseError(part)
    col_a, row_a = m1.group(1), m1.group(2)
    col_b, row_b = m2.group(1), m2.group(2)
    if not sep and not (col_a and row_a):
        raise A1ParseError(part)  # a lone "A" or "3" is a named range, not A1
    if not (col_a or row_a) or not (col_b or row_b):
        raise A1ParseError(part)
    if (row_a and int(row_a) == 0) or (row_b and int(row_b) == 0):
        raise A1ParseError(part)
    c0 = column_index(col_a) if col_a else None
    c1 = column_index(col_b) if col_b else None
    r0 = int(row_a) - 1 if row_a else None
    r1 = int(row_b) - 1 if row_b else None
    if c0 is not None and c1 is not None and c0 > c1:
        c0, c1 = c1, c0
    if r0 is not None and r1 is not None and r0 > r1:
        r0, r1 = r1, r0
    return Rect(
        r0 if r0 is not None else 0,
        None if r1 is None else r1 + 1,
        c0 if c0 is not None else 0,
        None if c1 is None else c1 + 1,
    )


def format_a1(rect: Rect) -> str:
    """In: a bounded Rect. Out: its A1 text (single cell as ``B3``)."""
    r0, r1, c0, c1 = rect.r0 or 0, rect.r1, rect.c0 or 0, rect.c1
    assert r1 is not None and c1 is not None
    start = f"{column_letters(c0)}{r0 + 1}"
    if r1 - r0 <= 1 and c1 - c0 <= 1:
        return start
    return f"{start}:{column_letters(max(c0, c1 - 1))}{max(r0, r1 - 1) + 1}"


def format_range(title: str, rect: Rect) -> str:
    """In: tab title and bounded Rect. Out: ``Title!A1:B2`` as Google prints it."""
    return f"{quote_sheet_title(title)}!{format_a1(rect)}"


def intersect(a: Rect, b: Rect) -> Rect | None:
    """Out: the overlap of two rects, or None when they do not overlap."""

    def lo(x: int | None, y: int | None) -> int:
        return max(x or 0, y or 0)

    def hi(x: int | None, y: int | None) -> int | None:
        if x is None:
            return y
        if y is None:
            return x
        return min(x, y)

    out = Rect(lo(a.r0, b.r0), hi(a.r1, b.r1), lo(a.c0, b.c0), hi(a.c1, b.c1))
    return None if out.is_empty() else out


def subtract(a: Rect, b: Rect) -> list[Rect]:
    """Out: up to four rects covering ``a`` minus ``b``."""
    inter = intersect(a, b)
    if inter is None:
        return [a]
    pieces = []
    if (inter.r0 or 0) > (a.r0 or 0):
        pieces.append(Rect(a.r0, inter.r0, a.c0, a.c1))
    if inter.r1 is not None and (a.r1 is None or inter.r1 < a.r1):
        pieces.append(Rect(inter.r1, a.r1, a.c0, a.c1))
    if (inter.c0 or 0) > (a.c0 or 0):
        pieces.append(Rect(inter.r0, inter.r1, a.c0, inter.c0))
    if inter.c1 is not None and (a.c1 is None or inter.c1 < a.c1):
        pieces.append(Rect(inter.r0, inter.r1, inter.c1, a.c1))
    return [p for p in pieces if not p.is_empty()]


def shift(rect: Rect, rows: bool, at: int, delta: int) -> Rect | None:
    """Adjust ``rect`` after inserting (delta > 0) or deleting (delta < 0) lines.

    In: ``rows`` (True for rows, False for columns), the first line index
    ``at`` affected and ``delta``.  Out: the moved rect, or None if deleted.
    """
    lo, hi = (rect.r0, rect.r1) if rows else (rect.c0, rect.c1)
    lo = lo or 0
    if delta > 0:
        new_lo = lo + delta if lo >= at else lo
        new_hi = None if hi is None else (hi + delta if hi > at else hi)
    else:
        end = at - delta

        def squeeze(x: int) -> int:
            return x if x <= at else (x + delta if x >= end else at)

        new_lo = squeeze(lo)
        new_hi = None if hi is None else squeeze(hi)
    if new_hi is not None and new_hi <= new_lo:
        return None
    if rows:
        return Rect(new_lo, new_hi, rect.c0, rect.c1)
    return Rect(rect.r0, rect.r1, new_lo, new_hi)
