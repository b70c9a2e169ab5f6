"""Cell values: Python values in the model <-> Sheets JSON.

The model keeps each cell as a plain Python value: ``str``, ``bool``,
``int``, ``float``, ``datetime.date``, ``datetime.datetime``,
``datetime.time``, a :class:`Formula` or a :class:`CellError`; ``None``
means empty.  This module renders them as Sheets ``CellData``
(userEnteredValue / effectiveValue / formattedValue), as values-API
output for each ``valueRenderOption``, and parses what clients write
(RAW / USER_ENTERED strings and ``ExtendedValue`` JSON).

Both depend on the spreadsheet's locale (:mod:`sheets_emulator.locales`) and on the cell's
``numberFormat``: "1.200" typed is 1.2 in an en_US spreadsheet and 1200 in a vi_VN one; a
cell formatted as plain text (``TEXT``, pattern ``@``) keeps what is typed as text.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from typing import Any

from .locales import (
    DATE_TYPES,
    EPOCH,
    TIME_PATTERN,
    LocaleRules,
    default_pattern,
    format_pattern,
    locale_rules,
)
from .model import DEFAULT_LOCALE

_DATE_RE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?)?$")
_ISO_DATE_RE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
ERROR_TYPES = {
    "#NULL!": "NULL_VALUE",
    "#DIV/0!": "DIVIDE_BY_ZERO",
    "#VALUE!": "VALUE",
    "#REF!": "REF",
    "#NAME?": "NAME",
    "#NUM!": "NUM",
    "#N/A": "N_A",
    "#ERROR!": "ERROR",
}


#: what one cell may hold; Google refuses a longer write with this message
MAX_CELL_CHARS = 50_000
CELL_TOO_LONG = (
    f"Your input contains more than the maximum of {MAX_CELL_CHARS} characters in a single cell."
)


def too_long(value: Any) -> bool:
    """In: a model value being written. Out: whether Google would refuse it as too long."""
    text = value.text if isinstance(value, Formula) else value
    return isinstance(text, str) and len(text) > MAX_CELL_CHARS


@dataclass
class Formula:
    """A formula cell: ``text`` starts with '='; ``cached`` is its last value or None."""

    text: str
    cached: Any = None


@dataclass
class CellError:
    """An error value such as ``#DIV/0!`` (as Excel caches it)."""

    text: str


def json_number(value: float | int) -> float | int:
    """In: a number. Out: an int when it is integral (Google prints 5, not 5.0)."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


def to_serial(value: dt.date | dt.datetime | dt.time) -> float | int:
    """In: a date, datetime or time. Out: Google serial number (days since 1899-12-30)."""
    if isinstance(value, dt.datetime):
        delta = value.replace(tzinfo=None) - EPOCH
        return json_number(delta.days + (delta.seconds + delta.microseconds / 1e6) / 86400)
    if isinstance(value, dt.date):
        return (value - EPOCH.date()).days
    seconds = value.hour * 3600 + value.minute * 60 + value.second + value.microsecond / 1e6
    return json_number(seconds / 86400)


def format_number(value: float | int, rules: LocaleRules | None = None) -> str:
    """In: a number and the locale's rules (default vi_VN). Out: Google's automatic format:
    no thousands mark, the locale's decimal mark ('5', '1,5' in vi_VN, '1.5' in en_US)."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return "#NUM!"
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        text = repr(value)
    else:
        text = str(value)
    decimal = (rules or locale_rules(DEFAULT_LOCALE)).decimal
    return text.replace(".", decimal) if decimal != "." else text


def _format_time(value: dt.time | dt.datetime) -> str:
    return f"{value.hour}:{value.minute:02d}:{value.second:02d}"


def date_format(value: Any, rules: LocaleRules) -> dict[str, str] | None:
    """Out: the ``numberFormat`` Google gives a date, date-time or time value it parsed
    (the locale's automatic pattern); None for any other value."""
    if isinstance(value, dt.datetime):
        return {"type": "DATE_TIME", "pattern": rules.date_time_pattern}
    if isinstance(value, dt.date):
        return {"type": "DATE", "pattern": rules.date_pattern}
    if isinstance(value, dt.time):
        return {"type": "TIME", "pattern": TIME_PATTERN}
    return None


def format_value(
    value: Any, locale: str | None = DEFAULT_LOCALE, number_format: dict | None = None
) -> str:
    """In: a model value (not a Formula), the spreadsheet's locale and the cell's
    ``numberFormat`` (None: automatic). Out: its formattedValue."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, CellError):
        return value.text
    if isinstance(value, str):
        return value
    rules = locale_rules(locale)
    shown = number_format or date_format(value, rules)
    pattern = default_pattern(shown, rules) if shown else None
    if pattern:
        text = format_pattern(value, pattern, rules)
        if text is not None:
            return text
    if isinstance(value, (int, float)):
        return format_number(value, rules)
    if isinstance(value, dt.datetime):
        return format_pattern(value, rules.date_time_pattern, rules) or str(value)
    if isinstance(value, dt.date):
        return format_pattern(value, rules.date_pattern, rules) or str(value)
    if isinstance(value, dt.time):
        return _format_time(value)
    return str(value)


def extended_value(value: Any) -> dict[str, Any] | None:
    """In: a plain model value. Out: Sheets ``ExtendedValue`` JSON, or None if empty."""
    if value is None:
        return None
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, (int, float)):
        return {"numberValue": json_number(value)}
    if isinstance(value, (dt.date, dt.time)):
        return {"numberValue": to_serial(value)}
    if isinstance(value, CellError):
        kind = ERROR_TYPES.get(value.text, "ERROR")
        return {"errorValue": {"type": kind, "message": value.text}}
    if isinstance(value, Formula):
        return {"formulaValue": value.text}
    return {"stringValue": str(value)}


def cell_data(
    value: Any, locale: str | None = DEFAULT_LOCALE, number_format: dict | None = None
) -> dict[str, Any]:
    """In: a model value, the spreadsheet's locale, the cell's ``numberFormat``.
    Out: the CellData value keys Google returns (``{}`` if empty)."""
    if value is None:
        return {}
    if isinstance(value, Formula):
        out: dict[str, Any] = {"userEnteredValue": {"formulaValue": value.text}}
        if value.cached is not None:
            out["effectiveValue"] = extended_value(value.cached)
            out["formattedValue"] = format_value(value.cached, locale, number_format)
        return out
    ext = extended_value(value)
    return {
        "userEnteredValue": ext,
        "effectiveValue": ext,
        "formattedValue": format_value(value, locale, number_format),
    }


def render(
    value: Any,
    option: str = "FORMATTED_VALUE",
    date_option: str = "SERIAL_NUMBER",
    locale: str | None = DEFAULT_LOCALE,
    number_format: dict | None = None,
) -> Any:
    """Render a model value for the values API.

    In: the value, ``valueRenderOption``, ``dateTimeRenderOption``, the spreadsheet's locale
    and the cell's ``numberFormat``. Out: a str / number / bool, or None when the cell reads as
    empty.
    """
    if isinstance(value, Formula):
        if option == "FORMULA":
            return value.text
        value = value.cached
    if value is None:
        return None
    if option == "FORMATTED_VALUE":
        return format_value(value, locale, number_format)
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return json_number(value)
    if isinstance(value, (dt.date, dt.time)):
        if date_option == "FORMATTED_STRING":
            return format_value(value, locale, number_format)
        return to_serial(value)
    if isinstance(value, CellError):
        return value.text
    return value


def _number_re(rules: LocaleRules) -> tuple[re.Pattern, re.Pattern]:
    """(a plain number in the locale's notation, one with thousands marks)."""
    d, g = re.escape(rules.decimal), re.escape(rules.group)
    plain = re.compile(rf"^(\d+(?:{d}\d*)?|{d}\d+)(?:[eE][+-]?\d+)?$")
    grouped = re.compile(rf"^\d{{1,3}}(?:{g}\d{{3}})+(?:{d}\d*)?$")
    return plain, grouped


def _parse_number(text: str, rules: LocaleRules) -> tuple[Any, dict | None] | None:
    """A number typed in the locale's notation: (value, the numberFormat Google gives it or
    None), or None when ``text`` is no such number."""
    body, percent = text, text.endswith("%")
    if percent:
        body = body[:-1].rstrip()
    sign = ""
    if body[:1] in "+-":
        sign, body = body[0], body[1:]
    plain, grouped = _number_re(rules)
    is_grouped = bool(grouped.match(body))
    if not is_grouped and not plain.match(body):
        return None
    canonical = body.replace(rules.group, "") if is_grouped else body
    canonical = canonical.replace(rules.decimal, ".")
    has_fraction = "." in canonical and not canonical.endswith(".")
    if re.fullmatch(r"\d+", canonical) and not percent:
        value: Any = int(sign + canonical)
    else:
        value = float(sign + canonical)
    if percent:
        pattern = "0.00%" if has_fraction else "0%"
        return json_number(value / 100), {"type": "PERCENT", "pattern": pattern}
    if is_grouped:
        return value, {"type": "NUMBER", "pattern": "#,##0.00" if has_fraction else "#,##0"}
    return value, None


def _parse_date(text: str, rules: LocaleRules) -> Any:
    """A date (and time) typed in the locale's order, or ISO; None when ``text`` is none."""
    match = _DATE_RE.match(text)
    if match:
        first, second, year, hour, minute, second_s = match.groups()
        day, month = (first, second) if rules.day_first else (second, first)
        try:
            if hour is None:
                return dt.date(int(year), int(month), int(day))
            return dt.datetime(
                int(year), int(month), int(day), int(hour), int(minute), int(second_s or 0)
            )
        except ValueError:
            return None
    match = _ISO_DATE_RE.match(text)
    if match:
        try:
            return dt.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        except ValueError:
            return None
    return None


def parse_user_entered(
    text: str, locale: str | None = DEFAULT_LOCALE, number_format: dict | None = None
) -> tuple[Any, dict | None]:
    """In: a string typed by a user (USER_ENTERED), the spreadsheet's locale and the cell's
    ``numberFormat``. Out: (the model value Sheets stores, the ``numberFormat`` it gives the
    cell or None).

    A cell formatted as plain text (TEXT) keeps the text. Otherwise: formulas, a leading
    apostrophe, TRUE/FALSE, numbers in the locale's notation ("1.200" is 1.2 in en_US and
    1200 in vi_VN; thousands marks give the cell "#,##0"), percentages ("5%" → 0.05, "0%"),
    dates in the locale's order (``d/m/yyyy[ h:mm[:ss]]`` in vi_VN, ``m/d/yyyy`` in en_US) or
    ``yyyy-mm-dd``; anything else stays text.
    """
    if text == "":
        return None, None
    if (number_format or {}).get("type") == "TEXT":
        return text, None
    if text.startswith("="):
        return Formula(text), None
    if text.startswith("'"):
        return (text[1:] or None), None
    stripped = text.strip()
    upper = stripped.upper()
    if upper in ("TRUE", "FALSE"):
        return upper == "TRUE", None
    rules = locale_rules(locale)
    number = _parse_number(stripped, rules)
    if number is not None:
        return number
    date = _parse_date(stripped, rules)
    if date is not None:
        return date, None
    return text, None


def parse_input(
    value: Any,
    input_option: str,
    locale: str | None = DEFAULT_LOCALE,
    number_format: dict | None = None,
) -> tuple[bool, Any, dict | None]:
    """Parse one JSON value from a values-API write.

    In: the JSON value, ``valueInputOption`` (RAW or USER_ENTERED), the spreadsheet's locale
    and the cell's ``numberFormat``. Out: ``(skip, model_value, number_format)``; ``skip`` is
    True for JSON null (leave the cell); ``number_format`` is what Google gives the cell for
    what was typed (a percentage, thousands marks), else None.
    """
    if value is None:
        return True, None, None
    if isinstance(value, bool):
        return False, value, None
    if isinstance(value, (int, float)):
        return False, value, None
    text = str(value) if not isinstance(value, str) else value
    if input_option == "RAW":
        return False, (text if text != "" else None), None
    parsed, fmt = parse_user_entered(text, locale, number_format)
    return False, parsed, fmt


def is_date_type(number_format: dict | None) -> bool:
    """Whether a ``numberFormat`` shows a date or time."""
    return (number_format or {}).get("type") in DATE_TYPES


def from_extended_value(ext: dict[str, Any] | None) -> Any:
    """In: Sheets ``ExtendedValue`` JSON (or None). Out: the model value."""
    if not ext:
        return None
    if "formulaValue" in ext:
        return Formula(str(ext["formulaValue"]))
    if "stringValue" in ext:
        return ext["stringValue"] if ext["stringValue"] != "" else None
    if "numberValue" in ext:
        number = ext["numberValue"]
        return number if isinstance(number, (int, float)) else float(number)
    if "boolValue" in ext:
        return bool(ext["boolValue"])
    if "errorValue" in ext:
        return CellError(str(ext["errorValue"].get("message") or "#ERROR!"))
    return None
