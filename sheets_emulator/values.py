"""Cell values: Python values in the model <-> Sheets JSON.

The model keeps each cell as a plain Python value: ``str``, ``bool``,
``int``, ``float``, ``datetime.date``, ``datetime.datetime``,
``datetime.time``, a :class:`Formula` or a :class:`CellError`; ``None``
means empty.  This module renders them as Sheets ``CellData``
(userEnteredValue / effectiveValue / formattedValue), as values-API
output for each ``valueRenderOption``, and parses what clients write
(RAW / USER_ENTERED strings and ``ExtendedValue`` JSON).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from typing import Any

EPOCH = dt.datetime(1899, 12, 30)
_NUMBER_RE = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
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


def format_number(value: float | int) -> str:
    """In: a number. Out: Google-like automatic format ('5', '1.5')."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return "#NUM!"
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    return str(value)


def _format_time(value: dt.time | dt.datetime) -> str:
    return f"{value.hour}:{value.minute:02d}:{value.second:02d}"


def format_value(value: Any) -> str:
    """In: a model value (not a Formula). Out: its vi_VN formattedValue."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return format_number(value)
    if isinstance(value, dt.datetime):
        return f"{value.day}/{value.month}/{value.year} {_format_time(value)}"
    if isinstance(value, dt.date):
        return f"{value.day}/{value.month}/{value.year}"
    if isinstance(value, dt.time):
        return _format_time(value)
    if isinstance(value, CellError):
        return value.text
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


def cell_data(value: Any) -> dict[str, Any]:
    """In: a model value. Out: the CellData value keys Google returns (``{}`` if empty)."""
    if value is None:
        return {}
    if isinstance(value, Formula):
        out: dict[str, Any] = {"userEnteredValue": {"formulaValue": value.text}}
        if value.cached is not None:
            out["effectiveValue"] = extended_value(value.cached)
            out["formattedValue"] = format_value(value.cached)
        return out
    ext = extended_value(value)
    return {"userEnteredValue": ext, "effectiveValue": ext, "formattedValue": format_value(value)}


def render(value: Any, option: str = "FORMATTED_VALUE", date_option: str = "SERIAL_NUMBER") -> Any:
    """Render a model value for the values API.

    In: the value, ``valueRenderOption`` and ``dateTimeRenderOption``.
    Out: a str / number / bool, or None when the cell reads as empty.
    """
    if isinstance(value, Formula):
        if option == "FORMULA":
            return value.text
        value = value.cached
    if value is None:
        return None
    if option == "FORMATTED_VALUE":
        return format_value(value)
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return json_number(value)
    if isinstance(value, (dt.date, dt.time)):
        return format_value(value) if date_option == "FORMATTED_STRING" else to_serial(value)
    if isinstance(value, CellError):
        return value.text
    return value


def parse_user_entered(text: str) -> Any:
    """In: a string typed by a user (USER_ENTERED). Out: the model value Sheets stores.

    Handles formulas, a leading apostrophe, TRUE/FALSE, plain numbers and
    dates in ``d/m/yyyy[ h:mm[:ss]]`` (vi_VN) or ``yyyy-mm-dd`` form.
    """
    if text == "":
        return None
    if text.startswith("="):
        return Formula(text)
    if text.startswith("'"):
        return text[1:] or None
    stripped = text.strip()
    upper = stripped.upper()
    if upper in ("TRUE", "FALSE"):
        return upper == "TRUE"
    if _NUMBER_RE.match(stripped):
        if re.fullmatch(r"[+-]?\d+", stripped):
            return int(stripped)
        return float(stripped)
    match = _DATE_RE.match(stripped)
    if match:
        day, month, year, hour, minute, second = match.groups()
        try:
            if hour is None:
                return dt.date(int(year), int(month), int(day))
            return dt.datetime(
                int(year), int(month), int(day), int(hour), int(minute), int(second or 0)
            )
        except ValueError:
            return text
    match = _ISO_DATE_RE.match(stripped)
    if match:
        try:
            return dt.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        except ValueError:
            return text
    return text


def parse_input(value: Any, input_option: str) -> tuple[bool, Any]:
    """Parse one JSON value from a values-API write.

    In: the JSON value and ``valueInputOption`` (RAW or USER_ENTERED).
    Out: ``(skip, model_value)``; ``skip`` is True for JSON null (leave the cell).
    """
    if value is None:
        return True, None
    if isinstance(value, bool):
        return False, value
    if isinstance(value, (int, float)):
        return False, value
    text = str(value) if not isinstance(value, str) else value
    if input_option == "RAW":
        return False, (text if text != "" else None)
    return False, parse_user_entered(text)


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
