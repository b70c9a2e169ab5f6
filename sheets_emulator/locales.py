"""A spreadsheet's locale: how typed text is read and how numbers and dates are shown.

Google reads what is typed (``valueInputOption=USER_ENTERED``, and the browser) by the
spreadsheet's ``properties.locale``, and writes ``formattedValue`` in that locale's notation:

============  =========  ==========  ======================  =========================
locale        decimal    thousands   a typed "1/4/2026"      a date is shown as
============  =========  ==========  ======================  =========================
``en_US``     ``.``      ``,``       4 January 2026 (M/D/Y)  ``M/d/yyyy`` (1/4/2026)
``en_GB``     ``.``      ``,``       1 April 2026 (D/M/Y)    ``dd/MM/yyyy`` (01/04/2026)
``vi_VN``     ``,``      ``.``       1 April 2026 (D/M/Y)    ``d/M/yyyy`` (1/4/2026)
============  =========  ==========  ======================  =========================

Any other locale is read by its language ("vi" → vi_VN, anything else → en_US rules);
Google knows some seventy. Number-format patterns (``NumberFormat.pattern``) are always
written with "," for thousands and "." for decimals, and shown with the locale's marks.

:func:`format_pattern` renders a value by a pattern: digits (``0 # ?``), thousands and
decimal marks, ``%``, quoted and escaped literals, and the date/time tokens ``d dd M MM m mm
yy yyyy h hh H HH s ss``. Anything else (month and weekday names, AM/PM, elapsed time, colours,
conditions, fractions, scientific notation) gives None, and the caller shows the value
in the automatic format instead — a simplification (Google would render it).

Where a spreadsheet's settings come from: ``spreadsheets.create`` takes them from
``properties``; without them, and for Drive's ``files.create``, a new spreadsheet gets the
store's ``new_locale`` / ``new_time_zone`` — en_US and America/Los_Angeles by default, what
Google gives a file a service account (or any account left as it came) creates. An .xlsx
placed in the store has no locale: it is read as vi_VN, Asia/Ho_Chi_Minh. ``files.copy``
keeps the source's; ``updateSpreadsheetProperties`` changes them.

What typing does (:func:`sheets_emulator.values.parse_user_entered`), and what is simplified:

- a cell formatted as plain text (``TEXT``) keeps the text as typed, formula-like text and a
  leading apostrophe included; a JSON number sent stays a number;
- numbers: digits with the locale's decimal mark, thousands marks in groups of three (the
  cell gets ``#,##0`` or ``#,##0.00``), a sign, an exponent, a trailing ``%`` (the value is
  divided by 100; the cell gets ``0%`` or ``0.00%``). Not read as numbers, unlike Google:
  currency symbols, negatives in parentheses, fractions ("1 1/2");
- dates: ``d/m/yyyy`` (day first, vi_VN and en_GB) or ``m/d/yyyy`` (en_US) with an optional
  ``h:mm[:ss]``, and ``yyyy-mm-dd``; an impossible date ("20/6/2026" in en_US) stays text.
  Not read as dates, unlike Google: a date without its year ("1/4", which Google completes
  with the current year in the spreadsheet's time zone), other separators ("1-4-2026",
  "1.4.2026"), month names, two-digit years, a time alone;
- a typed date or time is stored as a date and reported with the locale's pattern (vi_VN's
  taken as ``d/M/yyyy``: Google's own may write the day and month with two digits); a date
  typed into a cell with a non-date number format drops that format. The date format is tied
  to the value: a number typed later over a typed date shows as a number (Google keeps the
  date format the cell took);
- times are shown ``H:mm:ss`` in every locale (Google's en_US writes ``h:mm:ss AM``), TRUE
  and FALSE are the booleans in every locale; the time zone is stored and returned, and
  nothing else uses it (no formula is computed).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

EPOCH = dt.datetime(1899, 12, 30)
DATE_TYPES = ("DATE", "TIME", "DATE_TIME")


@dataclass(frozen=True)
class LocaleRules:
    """What a locale changes: its code, decimal and thousands marks, whether a typed date is
    day first, and the automatic pattern of a date (a date-time adds `` H:mm:ss``)."""

    code: str
    decimal: str
    group: str
    day_first: bool
    date_pattern: str

    @property
    def date_time_pattern(self) -> str:
        return f"{self.date_pattern} H:mm:ss"


LOCALES = {
    "en_US": LocaleRules("en_US", ".", ",", False, "M/d/yyyy"),
    "en_GB": LocaleRules("en_GB", ".", ",", True, "dd/MM/yyyy"),
    "vi_VN": LocaleRules("vi_VN", ",", ".", True, "d/M/yyyy"),
}
_BY_LANGUAGE = {"vi": "vi_VN", "en": "en_US"}
TIME_PATTERN = "H:mm:ss"


@lru_cache(maxsize=64)
def locale_rules(locale: str | None) -> LocaleRules:
    """In: a spreadsheet's locale ("vi_VN", "en", "de_DE"). Out: the rules it is read by."""
    code = (locale or "").replace("-", "_")
    if code in LOCALES:
        return LOCALES[code]
    fallback = LOCALES[_BY_LANGUAGE.get(code.split("_")[0].lower(), "en_US")]
    return LocaleRules(
        code or fallback.code,
        fallback.decimal,
        fallback.group,
        fallback.day_first,
        fallback.date_pattern,
    )


def default_pattern(number_format: dict[str, Any], rules: LocaleRules) -> str | None:
    """Out: the pattern a ``numberFormat`` stands for (its own, else the type's default in the
    locale); None for TEXT and the types shown automatically here (CURRENCY, SCIENTIFIC)."""
    pattern = number_format.get("pattern")
    if pattern:
        return pattern
    return {
        "NUMBER": "#,##0.00",
        "PERCENT": "0.00%",
        "DATE": rules.date_pattern,
        "TIME": TIME_PATTERN,
        "DATE_TIME": rules.date_time_pattern,
    }.get(number_format.get("type", ""))


# ------------------------------------------------------------------ patterns
_TOKEN = re.compile(
    r'"[^"]*"|\\.|yyyy|yy|dd|d|MM|M|mm|m|HH|H|hh|h|ss|s|[0#?]|[.,%]|.',
    re.IGNORECASE,
)
_DATE_TOKENS = {"yyyy", "yy", "dd", "d", "mm", "m", "hh", "h", "ss", "s"}
_UNSUPPORTED = re.compile(r"\[|am/pm|a/p|ddd|mmm|[eE][+-]|\?/|\*|@", re.IGNORECASE)


def _section(pattern: str, negative: bool) -> tuple[str, bool]:
    """(the pattern's section for the sign, whether a "-" must be written)."""
    parts, quoted, start = [], False, 0
    for i, ch in enumerate(pattern):
        if ch == '"':
            quoted = not quoted
        elif ch == ";" and not quoted:
            parts.append(pattern[start:i])
            start = i + 1
    parts.append(pattern[start:])
    if negative and len(parts) > 1:
        return parts[1], False
    return parts[0], negative


def _literal(token: str) -> str:
    if token.startswith('"'):
        return token[1:-1]
    if token.startswith("\\"):
        return token[1:]
    return token


def format_pattern(value: Any, pattern: str, rules: LocaleRules) -> str | None:
    """In: a number, date, datetime or time, a Sheets pattern and the locale's rules.
    Out: the text Google shows, or None when the pattern is beyond this emulator."""
    if not pattern or _UNSUPPORTED.search(re.sub(r'"[^"]*"', "", pattern)):
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float, dt.date, dt.time)):
        return None
    section_probe = re.sub(r'"[^"]*"|\\.', "", pattern).lower()
    if any(ch in section_probe for ch in "dyhs") or re.search(r"[mM]", section_probe):
        return _format_date(value, pattern, rules)
    return _format_number(value, pattern, rules)


def _as_datetime(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)
    if isinstance(value, dt.time):
        return dt.datetime.combine(EPOCH.date(), value)
    try:
        moment = EPOCH + dt.timedelta(days=float(value))
    except (OverflowError, ValueError):
        return None
    return (
        moment.replace(microsecond=0)
        if moment.microsecond < 500_000
        else (moment.replace(microsecond=0) + dt.timedelta(seconds=1))
    )


def _format_date(value: Any, pattern: str, rules: LocaleRules) -> str | None:
    moment = _as_datetime(value)
    if moment is None:
        return None
    section, _ = _section(pattern, False)
    tokens = _TOKEN.findall(section)
    kinds = [t.lower() if t.lower() in _DATE_TOKENS else None for t in tokens]
    out = []
    for i, token in enumerate(tokens):
        kind = kinds[i]
        if kind is None:
            if token in "0#?%":
                return None
            out.append(_literal(token))
            continue
        if kind in ("m", "mm"):
            before = next((k for k in reversed(kinds[:i]) if k), None)
            after = next((k for k in kinds[i + 1 :] if k), None)
            is_minute = token in ("m", "mm") and (
                (before or "").startswith("h") or (after or "").startswith("s")
            )
            number = moment.minute if is_minute else moment.month
            out.append(f"{number:02d}" if kind == "mm" else str(number))
        elif kind == "yyyy":
            out.append(f"{moment.year:04d}")
        elif kind == "yy":
            out.append(f"{moment.year % 100:02d}")
        elif kind in ("d", "dd"):
            out.append(f"{moment.day:02d}" if kind == "dd" else str(moment.day))
        elif kind in ("h", "hh"):
            out.append(f"{moment.hour:02d}" if kind == "hh" else str(moment.hour))
        else:  # s, ss
            out.append(f"{moment.second:02d}" if kind == "ss" else str(moment.second))
    return "".join(out)


def _format_number(value: Any, pattern: str, rules: LocaleRules) -> str | None:
    if isinstance(value, (dt.date, dt.time)):  # a date shown by a number pattern: its serial
        moment = _as_datetime(value)
        value = (moment - EPOCH).total_seconds() / 86400
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    if not number.is_finite():
        return None
    section, minus = _section(pattern, number < 0)
    number = abs(number)
    tokens = _TOKEN.findall(section)
    places = [i for i, t in enumerate(tokens) if t in "0#?"]
    if not places:
        return None
    first, last = places[0], places[-1]
    core = tokens[first : last + 1]
    if any(t not in "0#?,." for t in core) or core.count(".") > 1:
        return None
    number *= Decimal(100) ** sum(t == "%" for t in tokens)
    point = core.index(".") if "." in core else len(core)
    whole, fraction = core[:point], [t for t in core[point + 1 :] if t in "0#?"]
    grouped = "," in whole
    min_whole = sum(t == "0" for t in whole)
    min_fraction = sum(t == "0" for t in fraction)
    rounded = number.quantize(Decimal(1).scaleb(-len(fraction)), rounding=ROUND_HALF_UP)
    whole_text, _, fraction_text = f"{rounded:f}".partition(".")
    whole_text = whole_text.lstrip("0").rjust(min_whole, "0")
    if grouped and whole_text:
        whole_text = f"{int(whole_text):,}".replace(",", rules.group)
    fraction_text = fraction_text[: len(fraction)]
    while len(fraction_text) > min_fraction and fraction_text.endswith("0"):
        fraction_text = fraction_text[:-1]
    shown = whole_text + (rules.decimal + fraction_text if "." in core else "")
    prefix = "".join(_literal(t) for t in tokens[:first])
    suffix = "".join(_literal(t) for t in tokens[last + 1 :])
    negative = minus and (rounded != 0)
    return ("-" if negative else "") + prefix + shown + suffix
