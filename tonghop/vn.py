"""Reading what Vietnamese officials type into cells.

Pure functions, no I/O. Each reader takes a Sheets API ``CellData`` dict (or ``{}`` for an empty
cell) and returns a :class:`Reading`: the value, how certain the reading is, and — when the text
had to be interpreted or could not be read — a note in Vietnamese saying what was read.

How certain (``kind``):

- ``empty``       nothing in the cell
- ``number`` / ``date`` / ``text`` / ``choice``   read as typed, or as the conventions of
  Vietnamese writing (below) say it must be read: no one could read it otherwise, so the unit
  is not told anything (``how`` names the convention, for whoever traces a value)
- ``interpreted`` read by a guess: something was dropped or assumed ("5 buổi" → 5 without its
  word, "1.200" in a money column, where it could be 1,2 written the English way, "xong" →
  "Hoàn thành", a value taken from the first cell of a merge); the unit gets a warning saying
  what was read, and can disagree
- ``ambiguous``   two readings are possible ("1,200": 1,2 or 1200?); an error
- ``invalid``     cannot be read at all ("nhiều", "5-7"); an error

The conventions of Vietnamese writing, read silently: "." groups thousands ("2.487" is 2487 in
a count), "," marks decimals ("2,5"), a space may group thousands too ("1 200"), dates are
day/month/year ("21/3/2026", "05/03/2026", "ngày 21 tháng 3 năm 2026") — the order the
report's guide asks for, so "3/4/2026" is 3 April —, and a drop-down value typed in another
case, without diacritics or with other spacing ("hoàn thành", "hoan thanh") is that value.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

#: Vietnam's time (Asia/Ho_Chi_Minh, UTC+7, no daylight saving): dates and times people read
VN_TZ = dt.timezone(dt.timedelta(hours=7))

CellData = dict[str, Any]

SHEETS_EPOCH = dt.date(1899, 12, 30)


@dataclass(frozen=True)
class Reading:
    value: Any
    kind: str
    #: what was typed, as the unit sees it
    text: str | None = None
    #: Vietnamese note for interpreted / ambiguous / invalid readings: what the unit is told
    note: str | None = None
    #: the convention of Vietnamese writing a value was read by, when it was not typed plainly
    #: ("dấu chấm phân cách hàng nghìn", "ngày/tháng/năm", …): for whoever traces a value; the
    #: unit is told nothing about it (only the guesses, in ``note``)
    how: str | None = None


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def shorten(text: str | None, limit: int = 100) -> str | None:
    """``text`` cut to ``limit`` characters with "…" — what a message quotes of a unit's cell
    (a pasted page must not become a page-long message)."""
    if text is None or len(text) <= limit:
        return text
    return text[: limit - 1].rstrip() + "…"


#: invisible characters that come with text pasted from Word, Zalo or web pages (zero-width
#: spaces and joiners, word joiner, invisible operators, byte-order mark, soft hyphen) or from
#: other systems (control characters that are not whitespace, the deprecated format controls
#: U+206A–206F): the unit cannot see them, so they must not make "Hoàn thành" differ from
#: "Hoàn thành". Removing them changes nothing anyone sees: no warning.
_INVISIBLE = (
    "\u00ad\u200b-\u200d\u2060-\u2064\u206a-\u206f\ufeff\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f"
)
#: characters that change the ORDER or hide part of the text around them, themselves unseen:
#:
#: - the Unicode Bidi_Control characters — the embeddings, overrides and their pop
#:   (U+202A–202E: LRE, RLE, PDF, LRO, RLO), the isolates (U+2066–2069: LRI, RLI, FSI, PDI),
#:   and the marks (U+200E LRM, U+200F RLM, U+061C ALM, the Arabic letter mark). An RLO a unit
#:   pasted reverses everything after it in the same paragraph — in the report, our own words
#:   too ("(UBND xã Cô Ba)." printed backwards). The marks embed nothing, but a strong
#:   right-to-left mark still moves the punctuation and numbers next to it, and makes a cell
#:   that starts with it a right-to-left paragraph where the direction is found from the text
#:   (a browser's dir=auto); Vietnamese text needs none of them, so they go with the others.
#: - the tag characters (U+E0000–E007F): an invisible copy of ASCII, i.e. text hidden in plain
#:   sight (what the Sở reads would not be all that was sent). Emoji tag sequences (🏴 + tags
#:   + CANCEL TAG: the flags of England, Scotland and Wales) are NOT kept, unlike emoji ZWJ
#:   sequences: their tags can spell any ASCII after the flag, so keeping "well-formed"
#:   sequences would keep the hidden channel, and without its tags the flag shows as 🏴, which
#:   is what Unicode (UTS #51) has a system show for a flag it does not know. A ZWJ carries no
#:   text of its own, which is why ZWJ sequences are kept whole.
#:
#: Removed, and the unit warned (``sheet.hidden_controls``): what the Sở reads differs from
#: what the unit's screen shows. Raw keeps the text as sent.
HIDDEN_CONTROLS = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\U000e0000-\U000e007f"
_HIDDEN_CONTROLS = re.compile(f"[{HIDDEN_CONTROLS}]")
_REMOVED = re.compile(f"[{_INVISIBLE}{HIDDEN_CONTROLS}]")


def clean_text(text: str | None) -> str | None:
    """NFC, invisible characters and hidden controls (:data:`HIDDEN_CONTROLS`) removed,
    trimmed, inner runs of whitespace collapsed; None for blank. The one cleaning rule for
    every text a unit typed that is parsed and published."""
    if text is None:
        return None
    # invisible characters out first: one between a letter and its accent (NFD text pasted
    # with a zero-width space) would otherwise keep the two from composing
    text = nfc(re.sub(r"\s+", " ", _REMOVED.sub(_drop_invisible, str(text))).strip())
    return text or None


def has_hidden_controls(text: str | None) -> bool:
    """Whether cleaning ``text`` removes a character that changes the order or hides part of
    the text (:data:`HIDDEN_CONTROLS`) — what the unit is warned about."""
    return bool(text) and _HIDDEN_CONTROLS.search(text) is not None


def without_hidden_controls(text: str) -> str:
    """``text`` with only the hidden controls removed, nothing else changed: a name the unit
    gave that identifies something as typed (a tab's title)."""
    return _HIDDEN_CONTROLS.sub("", text)


def _drop_invisible(match: re.Match) -> str:
    """Drop an invisible character — except the zero-width joiner inside an emoji sequence
    ("👨‍👩‍👧" is one picture, not three)."""
    if match.group() == "\u200d" and match.start() > 0:
        before = match.string[match.start() - 1]
        if unicodedata.category(before) in ("So", "Sk") or before == "\ufe0f":
            return match.group()
    return ""


def fold(text: str) -> str:
    """Lower-case, without diacritics, for matching labels and choices ("Hoàn Thành" == "hoan thanh")."""
    text = nfc(text).replace("đ", "d").replace("Đ", "D")
    text = unicodedata.normalize("NFD", text)
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Mn")
    return re.sub(r"\s+", " ", text).strip().casefold()


def cell_text(cell: CellData | None) -> str | None:
    """What the cell shows, cleaned (formattedValue, else the typed value as text)."""
    return clean_text(shown_text(cell))


def shown_text(cell: CellData | None) -> str | None:
    """What the cell shows, as sent (formattedValue, else the typed value as text)."""
    if not cell:
        return None
    if "formattedValue" in cell:
        return cell["formattedValue"]
    typed = cell.get("effectiveValue") or cell.get("userEnteredValue") or {}
    for key in ("stringValue", "numberValue", "boolValue", "formulaValue"):
        if key in typed:
            return str(typed[key])
    return None


def cell_has_hidden_controls(cell: CellData | None) -> bool:
    """Whether any text of the cell (shown, typed, computed) holds a hidden control."""
    if not cell:
        return False
    texts = [cell.get("formattedValue")]
    for key in ("userEnteredValue", "effectiveValue"):
        texts += [v for v in (cell.get(key) or {}).values() if isinstance(v, str)]
    return any(isinstance(t, str) and has_hidden_controls(t) for t in texts)


def _typed(cell: CellData | None) -> tuple[str | None, Any]:
    """(kind, value) of the cell's effective value: ('number', 5.0), ('string', 'x'), …"""
    if not cell:
        return None, None
    typed = cell.get("effectiveValue")
    if typed is None:
        typed = cell.get("userEnteredValue") or {}
    for key, kind in (
        ("numberValue", "number"),
        ("stringValue", "string"),
        ("boolValue", "bool"),
        ("errorValue", "error"),
    ):
        if key in typed:
            return kind, typed[key]
    return None, None


# ------------------------------------------------------------------ numbers
_VI_THOUSANDS = re.compile(r"^\d{1,3}(\.\d{3})+$")  # 1.200 / 1.200.000
_COMMA_DECIMAL = re.compile(r"^\d+,\d+$")  # 12,5 (as the guide says)
_VI_THOUSANDS_DECIMAL = re.compile(r"^\d{1,3}(\.\d{3})+,\d+$")  # 1.200,5
_EN_THOUSANDS_DECIMAL = re.compile(r"^\d{1,3}(,\d{3})+\.\d+$")  # 1,200.5
_AMBIGUOUS_COMMA = re.compile(r"^\d{1,3}(,\d{3})+$")  # 1,200 (1.2 or 1200?)
_PLAIN = re.compile(r"^\d+$")
_PLAIN_DOT_DECIMAL = re.compile(r"^\d+\.\d+$")  # 1.5 (English decimal)
_SPACED_THOUSANDS = re.compile(r"^\d{1,3}( \d{3})+$")  # 1 200
_UNIT_SUFFIX = re.compile(r"^(?P<num>[-+]?[\d.,  ]*\d)\s*(?P<unit>[^\d\s.,+-][^\d]*)$")
_ZERO_WORDS = {"khong", "khong co"}
#: the largest magnitude read as a figure: far above any count or amount of a report, and
#: still exact as a float (validation computes ratios with floats; Sheets stores doubles)
MAX_ABS_NUMBER = Decimal(10) ** 15
#: more digits than this in one cell cannot be a figure (and is not worth converting)
_MAX_DIGITS = 40
_TOO_LARGE = (
    "“{text}” quá lớn để là số liệu của báo cáo (từ 16 chữ số trở lên); kiểm tra lại "
    "số liệu và đơn vị tính."
)


def _to_number(value: Decimal, whole: bool) -> int | Decimal:
    if whole and value == value.to_integral_value():
        return int(value)
    return value


def read_number(cell: CellData | None, *, whole: bool = False) -> Reading:
    """A number from a cell. ``whole=True`` for counts: a fraction is then invalid.

    Vietnamese writing is read silently (``number``, with ``how``): "2.487" and "1.200.000"
    (dots between thousands), "2,5" (decimal comma), "1.200,5", "1 200". What needs a guess is
    ``interpreted``: a word dropped ("5 buổi"), the English writing ("1,200.5"), and "1.200"
    where a fraction may be meant (not a count): 1200 by the convention, but 1,2 to whoever
    writes decimals the English way.

    Negative numbers are read as numbers; whether they are allowed is a rule, not a reading.
    """
    kind, value = _typed(cell)
    shown = cell_text(cell)
    if kind is None or (kind == "string" and clean_text(value) is None):
        return Reading(None, "empty", shown)
    if kind == "number":
        try:
            number = Decimal(str(value))
        except (InvalidOperation, ValueError):
            number = Decimal("NaN")
        if not number.is_finite():
            return Reading(None, "invalid", shown, "Ô không chứa một số hữu hạn.")
        if abs(number) >= MAX_ABS_NUMBER:
            return Reading(
                None, "invalid", shown, _TOO_LARGE.format(text=shorten(shown or plain_vi(number)))
            )
        if whole and number != number.to_integral_value():
            return Reading(
                None,
                "invalid",
                shown,
                f"Giá trị {plain_vi(number)} không phải số nguyên; chỉ tiêu này đếm số lượng.",
            )
        return Reading(_to_number(number, whole), "number", shown)
    if kind == "bool":
        return Reading(None, "invalid", shown, "Ô chứa giá trị đúng/sai, không phải số.")
    if kind == "error":
        return Reading(None, "invalid", shown, "Ô chứa lỗi công thức, không phải số.")
    return _read_number_text(clean_text(value), whole)


#: the conventions of Vietnamese writing a number may follow (``Reading.how``)
DOT_THOUSANDS = "dấu chấm phân cách hàng nghìn"
SPACE_THOUSANDS = "dấu cách phân cách hàng nghìn"
COMMA_DECIMAL = "dấu phẩy là phần thập phân"


def _read_number_text(text: str, whole: bool) -> Reading:
    quoted = shorten(text)
    if sum(ch.isdigit() for ch in text) > _MAX_DIGITS:
        return Reading(None, "invalid", text, _TOO_LARGE.format(text=quoted))
    guesses: list[str] = []  # what was assumed: the unit is told
    body = text
    sign = ""
    suffix = _UNIT_SUFFIX.match(body)
    if suffix and not _PLAIN.match(body):
        unit = suffix.group("unit").strip()
        if re.search(r"\d", unit):
            return Reading(None, "invalid", text, f"Không đọc được số từ “{quoted}”.")
        body = suffix.group("num").strip()
        guesses.append(f"đã bỏ chữ “{shorten(unit, 40)}”")
    if body[:1] in "+-":
        sign, body = ("-" if body[0] == "-" else ""), body[1:].strip()
    if fold(text) in _ZERO_WORDS:
        return Reading(
            None, "ambiguous", text, f"“{quoted}” chưa phải là số; nếu không có thì ghi 0."
        )

    def done(number: Decimal, convention: str | None = None, guess: str | None = None) -> Reading:
        if sign:
            number = -number
        if abs(number) >= MAX_ABS_NUMBER:
            return Reading(None, "invalid", text, _TOO_LARGE.format(text=quoted))
        if whole and number != number.to_integral_value():
            return Reading(
                None,
                "invalid",
                text,
                f"“{quoted}” được hiểu là {plain_vi(number)}, không phải số nguyên; "
                "chỉ tiêu này đếm số lượng.",
            )
        value = _to_number(number, whole)
        if guess:
            guesses.append(guess)
        if not guesses:
            return Reading(value, "number", text, how=convention)
        # the unit is told the guesses; the conventions it followed go without saying
        return Reading(
            value,
            "interpreted",
            text,
            f"Đã hiểu “{quoted}” là {plain_vi(value)} ({'; '.join(guesses)}).",
            how=convention,
        )

    if _PLAIN.match(body):
        return done(Decimal(body))
    if _VI_THOUSANDS.match(body):
        number = Decimal(body.replace(".", ""))
        if whole or body.count(".") > 1:
            return done(number, DOT_THOUSANDS)
        # "1.200" where a fraction may be meant: 1,2 written the English way?
        as_decimal = plain_vi(Decimal(body))
        return done(number, guess=f"{DOT_THOUSANDS}, không phải {as_decimal}")
    if _SPACED_THOUSANDS.match(body):
        return done(Decimal(body.replace(" ", "")), SPACE_THOUSANDS)
    if _AMBIGUOUS_COMMA.match(body):
        as_vi = plain_vi(Decimal(body.replace(",", ".")))
        as_en = plain_vi(Decimal(body.replace(",", "")))
        return Reading(None, "ambiguous", text, f"“{quoted}” có thể là {as_vi} hoặc {as_en}.")
    if _COMMA_DECIMAL.match(body):
        return done(Decimal(body.replace(",", ".")), COMMA_DECIMAL)
    if _VI_THOUSANDS_DECIMAL.match(body):
        return done(
            Decimal(body.replace(".", "").replace(",", ".")), f"{DOT_THOUSANDS}, {COMMA_DECIMAL}"
        )
    if _EN_THOUSANDS_DECIMAL.match(body):
        return done(Decimal(body.replace(",", "")), guess="viết theo kiểu tiếng Anh")
    if _PLAIN_DOT_DECIMAL.match(body):
        decimal = body.replace(".", ",")
        if len(body.partition(".")[2]) == 3:  # 1234.567: maybe a thousands group
            return Reading(
                None,
                "ambiguous",
                text,
                f"“{quoted}” có thể là {decimal} (thập phân) hoặc "
                f"{plain_vi(Decimal(body.replace('.', '')))} (hàng nghìn).",
            )
        # 12.5 cannot be thousands (a group has three digits): a decimal point, or a typo
        return Reading(
            None,
            "ambiguous",
            text,
            f"“{quoted}” chưa rõ: dấu chấm chỉ dùng để phân cách hàng nghìn (như "
            f"1.200), phần thập phân ghi sau dấu phẩy; nếu là số thập phân, "
            f"ghi {decimal}.",
        )
    return Reading(None, "invalid", text, f"Không đọc được số từ “{quoted}”.")


def plain_vi(value: int | float | Decimal) -> str:
    """A number as digits only, without grouping, decimal comma: 1200 → "1200", 1.5 → "1,5".
    Used in messages, where "1.200" could be misread."""
    number = Decimal(str(value))
    if number == number.to_integral_value():
        return str(int(number))
    return f"{number.normalize():f}".replace(".", ",")


def format_vi(value: int | float | Decimal | None, decimals: int | None = None) -> str:
    """The one way numbers are written for people: 1200 → "1.200", 1.5 → "1,5", -0.5 →
    "-0,5" (dot between thousands, decimal comma); "" for None. With ``decimals``, rounded
    half up to at most that many decimals (2.345 → "2,35" with 2)."""
    if value is None:
        return ""
    number = Decimal(str(value))
    if decimals is not None:
        number = number.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    sign = "-" if number < 0 else ""
    number = abs(number)
    if number == number.to_integral_value():
        return sign + f"{int(number):,}".replace(",", ".")
    integral, _, fraction = f"{number.normalize():f}".partition(".")
    return sign + f"{int(integral):,}".replace(",", ".") + "," + fraction


# ------------------------------------------------------------------ dates
_DMY = re.compile(r"^(\d{1,2})\s*[/.\-]\s*(\d{1,2})\s*[/.\-]\s*(\d{4})$")
_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_VI_WORDS = re.compile(r"^ngày\s+(\d{1,2})\s+tháng\s+(\d{1,2})\s+năm\s+(\d{4})$", re.I)
_NGAY_PREFIX = re.compile(r"^ngày\s*(?=\d)", re.I)  # "ngày 20/6/2026"
_SHOWN_AS_NUMBER = re.compile(r"^[-+]?\d+(?:[.,]\d+)?$")


def serial_to_date(serial: float) -> dt.date:
    return SHEETS_EPOCH + dt.timedelta(days=int(serial))


def date_to_serial(value: dt.date | dt.datetime) -> int | float:
    """A date (whole days) or a wall-clock date-time (a fraction of a day) as the serial number
    a Sheets date cell holds: days since 30/12/1899."""
    if isinstance(value, dt.datetime):
        since = value - dt.datetime.combine(SHEETS_EPOCH, dt.time())
        return since.days + (since.seconds + since.microseconds / 1e6) / 86400
    return (value - SHEETS_EPOCH).days


def read_date(cell: CellData | None) -> Reading:
    """A calendar date. Sheets date cells are serial numbers. A date typed as text in the
    order the guide asks for — day/month/year, "/", "-" or "." between, with or without leading
    zeros, "ngày" before it, or in words ("ngày 20 tháng 6 năm 2026") — or year-month-day
    (ISO, the year first cannot be mistaken) is read silently (``date``, with ``how``). A month
    over 12 where the day should be ("6/20/2026") is the other order: ambiguous. An incomplete
    date (no year, a two-digit year) is not read."""
    kind, value = _typed(cell)
    shown = cell_text(cell)
    if kind is None or (kind == "string" and clean_text(value) is None):
        return Reading(None, "empty", shown)
    if kind == "number":
        quoted = shorten(shown)
        if _typed_as_plain_number(value, (cell or {}).get("formattedValue")):
            # "2027" typed into a cell not formatted as a date: a number, not 19/7/1905
            return Reading(
                None,
                "invalid",
                shown,
                f"“{quoted}” là một số, không phải ngày; hãy ghi đủ ngày/tháng/năm.",
            )
        if 1 <= value < 2958466:  # up to 31/12/9999
            return Reading(serial_to_date(value), "date", shown)
        return Reading(None, "invalid", shown, f"“{quoted}” không phải là ngày.")
    if kind != "string":
        return Reading(None, "invalid", shown, f"“{shorten(shown)}” không phải là ngày.")
    text = clean_text(value)
    words = _VI_WORDS.match(text)
    if words:
        return _make_date(text, int(words[1]), int(words[2]), int(words[3]), "ngày … tháng … năm …")
    body = _NGAY_PREFIX.sub("", text)
    iso = _ISO.match(body)
    if iso:
        return _make_date(text, int(iso[3]), int(iso[2]), int(iso[1]), "năm-tháng-ngày")
    dmy = _DMY.match(body)
    if dmy:
        day, month, year = int(dmy[1]), int(dmy[2]), int(dmy[3])
        if month > 12 and day <= 12:
            return Reading(
                None,
                "ambiguous",
                text,
                f"“{text}” có vẻ ghi tháng trước ngày; hãy ghi theo ngày/tháng/năm.",
            )
        return _make_date(text, day, month, year, "ngày/tháng/năm")
    return Reading(None, "invalid", text, f"Không đọc được ngày từ “{shorten(text)}”.")


def _typed_as_plain_number(value: float, shown: str | None) -> bool:
    """A number cell that Sheets shows as that same plain number (not formatted as a date).
    Without a formattedValue nothing is known about the format: not judged."""
    shown = clean_text(shown)
    if not shown or not _SHOWN_AS_NUMBER.match(shown):
        return False
    try:
        return Decimal(shown.replace(",", ".")) == Decimal(str(value))
    except InvalidOperation:
        return False


def _make_date(text: str, day: int, month: int, year: int, how: str) -> Reading:
    try:
        value = dt.date(year, month, day)
    except ValueError:
        return Reading(None, "invalid", text, f"“{text}” không phải là một ngày có thật.")
    return Reading(value, "date", text, how=how)


# ------------------------------------------------------------------ choices
def read_choice(
    cell: CellData | None, choices: dict[str, str], aliases: dict[str, str] | None = None
) -> Reading:
    """One of a fixed set. ``choices`` maps the exact label → code; ``aliases`` maps folded
    variants → code. A label is certain, however it is typed: in another case, without its
    diacritics, with other spacing ("hoan thanh" is "Hoàn thành"; ``how`` says so). A variant
    ("xong") is a guess: interpreted. Anything else is invalid."""
    text = cell_text(cell)
    if text is None:
        return Reading(None, "empty", text)
    if text in choices:
        return Reading(choices[text], "choice", text)
    folded = fold(text)
    by_fold = {fold(label): label for label in choices}
    if folded in by_fold:
        label = by_fold[folded]
        return Reading(choices[label], "choice", text, how=f"“{label}” viết khác chữ hoa, dấu")
    code = (aliases or {}).get(folded)
    if code is not None:
        label = next(label for label, c in choices.items() if c == code)
        return Reading(code, "interpreted", text, f"Đã hiểu “{shorten(text)}” là “{label}”.")
    return Reading(
        None,
        "invalid",
        text,
        "Chỉ được chọn một trong: " + ", ".join(f"“{c}”" for c in choices) + ".",
    )


#: every status a task row may hold; the drop-down of a row offers those that fit its task's
#: timing (ONGOING_TASK_STATUSES / TASK_WITH_END_STATUSES)
TASK_STATUSES = {
    "Chưa triển khai": "chua_trien_khai",
    "Đang triển khai": "dang_trien_khai",
    "Hoàn thành": "hoan_thanh",
    "Đang thực hiện thường xuyên": "dang_thuc_hien_thuong_xuyen",
}
#: an ongoing ("Thường xuyên") task never finishes
ONGOING_TASK_STATUSES = ["Chưa triển khai", "Đang thực hiện thường xuyên"]
#: a task with an end (hằng năm, or with a deadline)
TASK_WITH_END_STATUSES = ["Chưa triển khai", "Đang triển khai", "Hoàn thành"]
TASK_STATUS_ALIASES = {
    "da hoan thanh": "hoan_thanh",
    "xong": "hoan_thanh",
    "hoan thanh 100%": "hoan_thanh",
    "dang thuc hien": "dang_trien_khai",
    "dang lam": "dang_trien_khai",
    "chua thuc hien": "chua_trien_khai",
    "chua lam": "chua_trien_khai",
    "thuong xuyen": "dang_thuc_hien_thuong_xuyen",
    "dang trien khai thuong xuyen": "dang_thuc_hien_thuong_xuyen",
}


def read_submitted(cell: CellData | None) -> Reading:
    """The "Đã nộp" switch: a checkbox (TRUE/FALSE) or the drop-down "Đã nộp" / "Chưa nộp"."""
    kind, value = _typed(cell)
    text = cell_text(cell)
    if kind == "bool":
        return Reading(bool(value), "choice", text)
    if text is None:
        return Reading(False, "empty", text)
    folded = fold(text)
    # the two labels, however typed, are certain; the other words are guesses
    if folded in {"da nop", "co", "x", "true", "roi", "nop"}:
        return Reading(True, "choice" if folded == "da nop" else "interpreted", text)
    if folded in {"chua nop", "chua", "khong", "false"}:
        return Reading(False, "choice" if folded == "chua nop" else "interpreted", text)
    return Reading(False, "invalid", text, "Chỉ chọn “Đã nộp” hoặc “Chưa nộp”.")
