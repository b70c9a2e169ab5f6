"""Cell formats: ``userEnteredFormat`` JSON <-> model <-> openpyxl styles.

The model keeps a formatted cell's ``userEnteredFormat`` as canonical JSON
(only these ``CellFormat`` fields; colours without zero components, as
Google prints them; ``*ColorStyle.rgbColor`` is taken as the plain colour):

    numberFormat {type, pattern?}, backgroundColor {red, green, blue, alpha?},
    textFormat {bold, italic, underline, strikethrough, fontSize, fontFamily,
    foregroundColor}, horizontalAlignment, verticalAlignment, wrapStrategy

Other fields (borders, padding, textRotation, links, theme colours, ...)
raise :class:`FormatError` (a 400).  ``update_format`` applies a batchUpdate
field mask; ``write_style`` / ``read_style`` map a format onto an openpyxl
cell and back; ``response_format`` / ``effective_format`` give what
``spreadsheets.get`` returns.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
from typing import Any

from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.styles.numbers import is_date_format

from .values import Formula, json_number

Mask = dict[str, Any] | None
NUMBER_TYPES = ("TEXT", "NUMBER", "PERCENT", "CURRENCY", "DATE", "TIME", "DATE_TIME", "SCIENTIFIC")
DEFAULT_PATTERNS = {  # what the xlsx gets for a numberFormat without a pattern (vi_VN-like)
    "TEXT": "@",
    "NUMBER": "#,##0.00",
    "PERCENT": "0.00%",
    "CURRENCY": '#,##0 "₫"',
    "DATE": "d/m/yyyy",
    "TIME": "h:mm:ss",
    "DATE_TIME": "d/m/yyyy h:mm:ss",
    "SCIENTIFIC": "0.00E+00",
}
ENUMS = {
    "horizontalAlignment": ("LEFT", "CENTER", "RIGHT"),
    "verticalAlignment": ("TOP", "MIDDLE", "BOTTOM"),
    "wrapStrategy": ("OVERFLOW_CELL", "LEGACY_WRAP", "CLIP", "WRAP"),
}
_H_TO_XL = {"LEFT": "left", "CENTER": "center", "RIGHT": "right"}
_V_TO_XL = {"TOP": "top", "MIDDLE": "center", "BOTTOM": "bottom"}
_XL_TO_H = {v: k for k, v in _H_TO_XL.items()} | {"centerContinuous": "CENTER"}
_XL_TO_V = {v: k for k, v in _V_TO_XL.items()}
TEXT_FLAGS = ("bold", "italic", "strikethrough", "underline")
CELL_FORMAT_FIELDS = {
    "numberFormat",
    "backgroundColor",
    "backgroundColorStyle",
    "borders",
    "padding",
    "horizontalAlignment",
    "verticalAlignment",
    "wrapStrategy",
    "textDirection",
    "textFormat",
    "hyperlinkDisplayType",
    "textRotation",
}
TEXT_FORMAT_FIELDS = {
    "foregroundColor",
    "foregroundColorStyle",
    "fontFamily",
    "fontSize",
    *TEXT_FLAGS,
    "link",
}
STYLE_ALIASES = {
    "backgroundColorStyle": "backgroundColor",
    "foregroundColorStyle": "foregroundColor",
}
_QUOTED = re.compile(r'"[^"]*"|\\.')
_CURRENCY = re.compile(r"[$€£¥₫]|\[\$")
_WHITE = {"red": 1, "green": 1, "blue": 1}
DEFAULT_EFFECTIVE = {  # Google's default CellFormat (vi_VN spreadsheet, Arial 10)
    "backgroundColor": _WHITE,
    "padding": {"top": 2, "right": 3, "bottom": 2, "left": 3},
    "verticalAlignment": "BOTTOM",
    "wrapStrategy": "OVERFLOW_CELL",
    "textFormat": {
        "foregroundColor": {},
        "fontFamily": "Arial",
        "fontSize": 10,
        "bold": False,
        "italic": False,
        "strikethrough": False,
        "underline": False,
    },
    "hyperlinkDisplayType": "PLAIN_TEXT",
}


class FormatError(ValueError):
    """A ``userEnteredFormat`` the emulator refuses (unknown or unsupported field/value)."""


# ------------------------------------------------------------------ canonical JSON
def _color(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise FormatError(f"{where} must be a Color object")
    if set(value) - {"red", "green", "blue", "alpha"}:
        raise FormatError(
            f"{where}: unknown field(s) {sorted(set(value) - {'red', 'green', 'blue', 'alpha'})}"
        )
    out = {}
    for key in ("red", "green", "blue", "alpha"):
        if value.get(key) is not None:
            number = min(max(float(value[key]), 0.0), 1.0)
            if number or key == "alpha":
                out[key] = json_number(number)
    return out


def _number_format(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict) or set(value) - {"type", "pattern"}:
        raise FormatError("numberFormat takes only 'type' and 'pattern'")
    if value.get("type") not in NUMBER_TYPES:
        raise FormatError(
            f"numberFormat.type must be one of {list(NUMBER_TYPES)}, got {value.get('type')!r}"
        )
    out = {"type": value["type"]}
    if value.get("pattern"):
        out["pattern"] = str(value["pattern"])
    return out


def _text_format(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise FormatError("textFormat must be an object")
    out: dict[str, Any] = {}
    for key, item in value.items():
        if item is None:
            continue
        if key in TEXT_FLAGS:
            if not isinstance(item, bool):
                raise FormatError(f"textFormat.{key} must be true or false")
            if item:
                out[key] = True
        elif key == "fontSize":
            if int(item) < 0:
                raise FormatError("textFormat.fontSize must not be negative")
            if int(item):
                out[key] = int(item)
        elif key == "fontFamily":
            if item:
                out[key] = str(item)
        elif key == "foregroundColor":
            out[key] = _color(item, "textFormat.foregroundColor")
        else:
            raise FormatError(f"textFormat.{key} is not supported by sheets_emulator")
    return out


def normalize_format(fmt: Any) -> dict[str, Any]:
    """In: CellFormat JSON. Out: its canonical stored form (``{}`` = default); FormatError if unsupported."""
    try:
        return _normalize(fmt)
    except FormatError:
        raise
    except (TypeError, ValueError) as exc:  # e.g. a colour or font size that is no number
        raise FormatError(f"Invalid userEnteredFormat: {exc}") from None


def _normalize(fmt: Any) -> dict[str, Any]:
    if fmt is None:
        return {}
    if not isinstance(fmt, dict):
        raise FormatError("userEnteredFormat must be an object")
    out: dict[str, Any] = {}
    for key, value in _canonical(fmt).items():
        if value is None:
            continue
        if key == "numberFormat":
            out[key] = _number_format(value)
        elif key == "backgroundColor":
            out[key] = _color(value, key)
        elif key == "textFormat":
            text = _text_format(value)
            if text:
                out[key] = text
        elif key in ENUMS:
            if value not in ENUMS[key] and not str(value).endswith("_UNSPECIFIED"):
                raise FormatError(f"Invalid value at 'userEnteredFormat.{key}', {value!r}")
            if value in ENUMS[key]:
                out[key] = value
        else:
            raise FormatError(f"userEnteredFormat.{key} is not supported by sheets_emulator")
    return out


def _canonical(data: Any) -> Any:
    """Out: ``data`` with ``*ColorStyle`` keys (``{"rgbColor": c}``) turned into the plain colour keys."""
    if not isinstance(data, dict):
        return data
    out = {k: _canonical(v) for k, v in data.items() if k not in STYLE_ALIASES}
    for key, plain in STYLE_ALIASES.items():
        if key in data:
            value = data[key]
            if isinstance(value, dict) and "rgbColor" in value:
                value = value["rgbColor"]
            elif value:
                raise FormatError(
                    f"{key}: only rgbColor is supported by sheets_emulator (no theme colours)"
                )
            out[plain] = value  # the style takes precedence over the deprecated plain colour
    return out


def _masked(old: dict, new: dict, mask: Mask) -> dict:
    if mask is None or "*" in mask:
        return copy.deepcopy(new)
    out = dict(old)
    for key, sub in mask.items():
        if sub is None or not isinstance(old.get(key, {}), dict):
            if new.get(key) is None:
                out.pop(key, None)
            else:
                out[key] = copy.deepcopy(new[key])
        else:
            inner = _masked(old.get(key) or {}, new.get(key) or {}, sub)
            if inner or key.endswith("Color"):
                out[key] = inner
            else:
                out.pop(key, None)
    return out


def update_format(old: dict | None, new: Any, mask: Mask) -> dict | None:
    """Apply a batchUpdate to one cell's format.

    In: the stored format (or None), the request's ``userEnteredFormat`` and
    the field-mask tree under ``userEnteredFormat`` (None = the whole format).
    Out: the new stored format, None when it is back to default.
    """
    if new is not None and not isinstance(new, dict):
        raise FormatError("userEnteredFormat must be an object")
    if not new and (mask is None or "*" in mask):
        return None
    merged = _masked(old or {}, _canonical(new or {}), _canonical(mask))
    return normalize_format(merged) or None


def check_mask(mask: Mask) -> None:
    """Raise FormatError when a ``userEnteredFormat`` sub-mask names no CellFormat field.

    Known fields the emulator does not store (borders, ...) may be cleared;
    giving them a value fails in :func:`normalize_format`.
    """
    if not mask or "*" in mask:
        return
    unknown = [k for k in mask if k not in CELL_FORMAT_FIELDS]
    unknown += [
        f"textFormat.{k}"
        for k in (mask.get("textFormat") or {})
        if k not in TEXT_FORMAT_FIELDS | {"*"}
    ]
    if unknown:
        raise FormatError(
            f"Invalid field mask: userEnteredFormat.{unknown[0]} is not a CellFormat field"
        )


# ------------------------------------------------------------------ responses
def _with_styles(fmt: dict[str, Any]) -> dict[str, Any]:
    out = dict(fmt)
    if "backgroundColor" in out:
        out["backgroundColorStyle"] = {"rgbColor": out["backgroundColor"]}
    if "foregroundColor" in out.get("textFormat", {}):
        out["textFormat"] = {
            **out["textFormat"],
            "foregroundColorStyle": {"rgbColor": out["textFormat"]["foregroundColor"]},
        }
    return out


def response_format(fmt: dict[str, Any]) -> dict[str, Any]:
    """Out: the ``userEnteredFormat`` JSON Google returns (colours also as ``*ColorStyle``)."""
    return _with_styles(copy.deepcopy(fmt))


def effective_format(fmt: dict[str, Any], value: Any) -> dict[str, Any]:
    """Out: ``effectiveFormat``: Google's defaults overlaid with ``fmt`` (alignment by value type)."""
    out = copy.deepcopy(DEFAULT_EFFECTIVE)
    shown = value.cached if isinstance(value, Formula) else value
    if isinstance(shown, bool):
        out["horizontalAlignment"] = "CENTER"
    elif isinstance(shown, (int, float, dt.date, dt.time)):
        out["horizontalAlignment"] = "RIGHT"
    else:
        out["horizontalAlignment"] = "LEFT"
    for key, item in fmt.items():
        out[key] = {**out["textFormat"], **item} if key == "textFormat" else copy.deepcopy(item)
    return _with_styles(out)


# ------------------------------------------------------------------ openpyxl
def _hex(color: dict[str, Any]) -> str:
    return "FF" + "".join(
        f"{round(float(color.get(k, 0)) * 255):02X}" for k in ("red", "green", "blue")
    )


def _from_hex(rgb: Any) -> dict[str, Any] | None:
    if not isinstance(rgb, str) or not re.fullmatch(r"[0-9A-Fa-f]{8}", rgb):
        return None
    parts = {k: int(rgb[i : i + 2], 16) for k, i in (("red", 2), ("green", 4), ("blue", 6))}
    return {k: json_number(v / 255) for k, v in parts.items() if v}


def number_type(pattern: str) -> str:
    """In: an xlsx / Sheets number pattern. Out: the NumberFormat type it suggests."""
    bare = _QUOTED.sub("", pattern)
    if "@" in bare:
        return "TEXT"
    if is_date_format(pattern):
        lowered = re.sub(r"\[(?![hms]+\])[^\]]*\]", "", bare).lower()
        has_date, has_time = bool(re.search(r"[dy]", lowered)), bool(re.search(r"[hs]", lowered))
        return "DATE_TIME" if has_date and has_time else "TIME" if has_time else "DATE"
    if "%" in bare:
        return "PERCENT"
    if re.search(r"[eE][+-]", bare):
        return "SCIENTIFIC"
    return "CURRENCY" if _CURRENCY.search(pattern) else "NUMBER"


def write_style(cell: Any, fmt: dict[str, Any], base_font: Font) -> None:
    """Give openpyxl ``cell`` the styles of stored format ``fmt`` (``base_font``: the workbook's default)."""
    number = fmt.get("numberFormat")
    if number:
        cell.number_format = number.get("pattern") or DEFAULT_PATTERNS[number["type"]]
    text = fmt.get("textFormat")
    if text:
        family = text.get("fontFamily")
        cell.font = Font(
            name=family or base_font.name,
            sz=text.get("fontSize") or base_font.sz,
            family=None if family else base_font.family,
            scheme=None if family else base_font.scheme,
            b=text.get("bold", False),
            i=text.get("italic", False),
            strike=text.get("strikethrough"),
            u="single" if text.get("underline") else None,
            color=_hex(text["foregroundColor"]) if "foregroundColor" in text else None,
        )
    if "backgroundColor" in fmt:
        cell.fill = PatternFill(fill_type="solid", fgColor=_hex(fmt["backgroundColor"]))
    horizontal, vertical = fmt.get("horizontalAlignment"), fmt.get("verticalAlignment")
    wrap = fmt.get("wrapStrategy") == "WRAP"
    if horizontal or vertical or wrap:
        cell.alignment = Alignment(
            horizontal=_H_TO_XL.get(horizontal or ""),
            vertical=_V_TO_XL.get(vertical or ""),
            wrap_text=wrap or None,
        )


def read_style(cell: Any, dated: bool, base_font: Font) -> dict[str, Any]:
    """In: an openpyxl cell, whether its value reads as a date/time, the default font.

    Out: the stored format its styles stand for (``{}`` when default).  Date
    patterns on date-valued cells are how dates are typed, not formats.
    """
    if not cell.has_style:
        return {}
    fmt: dict[str, Any] = {}
    pattern = cell.number_format
    if pattern and pattern != "General":
        kind = number_type(pattern)
        if not (dated and kind in ("DATE", "TIME", "DATE_TIME")):
            fmt["numberFormat"] = {"type": kind, "pattern": pattern}
    font = cell.font
    text: dict[str, Any] = {}
    for key, attr in (
        ("bold", "b"),
        ("italic", "i"),
        ("strikethrough", "strike"),
        ("underline", "u"),
    ):
        if getattr(font, attr):
            text[key] = True
    if font.sz and font.sz != base_font.sz:
        text["fontSize"] = json_number(float(font.sz))
    if font.name and font.name != base_font.name:
        text["fontFamily"] = font.name
    if (
        font.color is not None
        and font.color.type == "rgb"
        and font.color.rgb not in ("FF000000", "00000000")
    ):
        color = _from_hex(font.color.rgb)
        if color is not None:
            text["foregroundColor"] = color
    if text:
        fmt["textFormat"] = text
    fill = cell.fill
    if (
        fill is not None
        and fill.fill_type == "solid"
        and fill.fgColor is not None
        and fill.fgColor.type == "rgb"
    ):
        color = _from_hex(fill.fgColor.rgb)
        if color is not None:
            fmt["backgroundColor"] = color
    align = cell.alignment
    if align.horizontal in _XL_TO_H:
        fmt["horizontalAlignment"] = _XL_TO_H[align.horizontal]
    if align.vertical in _XL_TO_V:
        fmt["verticalAlignment"] = _XL_TO_V[align.vertical]
    if align.wrap_text:
        fmt["wrapStrategy"] = "WRAP"
    return fmt


def format_diff(wanted: dict[str, Any], got: dict[str, Any]) -> dict[str, Any]:
    """Out: the top-level fields to set on ``got`` (None = remove) so it equals ``wanted``."""
    return {k: wanted.get(k) for k in sorted(set(wanted) | set(got)) if wanted.get(k) != got.get(k)}


def patch_format(fmt: dict[str, Any], diff: dict[str, Any]) -> dict[str, Any]:
    """Out: ``fmt`` with ``diff`` (from :func:`format_diff`) applied."""
    out = {k: v for k, v in fmt.items() if k not in diff}
    out.update({k: v for k, v in diff.items() if v is not None})
    return out
