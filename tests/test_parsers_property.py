"""Property-based tests (hypothesis) of the cell readers in ``tonghop.vn``, which ``ingest.parse``
applies to every cell a unit fills.

What must hold for ANY cell a unit (or a broken client) can produce — text in any script,
emoji, invisible characters, lone surrogates, numbers that are huge, negative, NaN or infinite,
booleans, formula errors, cells with only a formula:

- no reader raises; each returns a :class:`Reading` of a known kind, whose value is set exactly
  when the kind says it was read, and whose note is there exactly when the unit must be told;
- everything the unit will read (the text as typed, the note) is NFC, and a number read is
  finite and below the project's cap (it goes into a float column, PostgreSQL and Sheets);
- cleaned text, over the whole Unicode range, holds no character that reorders or hides text
  (bidirectional controls, direction marks, tags) nor an invisible one (a joiner only inside
  an emoji), is NFC and is the same cleaned again; the unit is warned exactly when such a
  character was there;
- round trips: what the template asks for, written the Vietnamese way (1.200, 1,5, 20/6/2027,
  12,5 %, "ngày 20 tháng 6 năm 2027"), reads back as the same value; Unicode normalisation,
  case and stray whitespace never change a choice.

Deterministic: derandomized, no example database, a fixed number of examples.
"""

from __future__ import annotations

import datetime as dt
import math
import unicodedata
from decimal import Decimal

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tonghop import vn

FAST = settings(
    derandomize=True,
    database=None,
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
NUMBER_KINDS = {"empty", "number", "interpreted", "ambiguous", "invalid"}
DATE_KINDS = {"empty", "date", "interpreted", "ambiguous", "invalid"}
READ = {"number", "interpreted", "date", "choice"}


def nfc(text: str) -> bool:
    return text == unicodedata.normalize("NFC", text)


def text_cell(text: str) -> dict:
    return {
        "userEnteredValue": {"stringValue": text},
        "effectiveValue": {"stringValue": text},
        "formattedValue": text,
    }


def number_cell(number, shown: str | None = None) -> dict:
    cell = {"userEnteredValue": {"numberValue": number}, "effectiveValue": {"numberValue": number}}
    if shown is not None:
        cell["formattedValue"] = shown
    return cell


# ------------------------------------------------------------------ what a cell can hold
#: the characters officials type into number and date cells, and what comes with them
NUMBERISH = st.lists(
    st.sampled_from(
        list("0123456789") * 4
        + list(".,  -+/%")
        + [
            "buổi",
            "lượt",
            "người",
            "khoảng",
            "ngày",
            "tháng",
            "năm",
            "triệu",
            "đ",
            "\u200b",
            "\ufeff",
            "🎉",
            "e",
            "E",
            "١",
            "５",
        ]
    ),
    max_size=40,
).map("".join)
#: any text at all, including surrogates (a cell cut in the middle of an emoji), controls,
#: combining marks, right-to-left marks
ANY_TEXT = st.one_of(
    st.text(max_size=60),
    st.text(alphabet=st.characters(codec=None, categories=None), max_size=30),
    st.text(
        alphabet=st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), min_size=1, max_size=3
    ),
    NUMBERISH,
)
NUMBERS = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(
        allow_nan=False, allow_infinity=False, places=3, min_value=-(10**9), max_value=10**9
    ).map(float),
)


@st.composite
def any_cell(draw) -> dict:
    """A Sheets CellData as the API may return it (or {} for an empty cell)."""
    kind = draw(
        st.sampled_from(
            ["empty", "text", "number", "bool", "error", "formula", "shown_only", "mismatch"]
        )
    )
    if kind == "empty":
        return {}
    if kind == "text":
        return text_cell(draw(ANY_TEXT))
    if kind == "number":
        number = draw(NUMBERS)
        shown = draw(st.one_of(st.none(), st.just(str(number)), ANY_TEXT))
        return number_cell(number, shown)
    if kind == "bool":
        value = draw(st.booleans())
        return {"effectiveValue": {"boolValue": value}, "formattedValue": str(value).upper()}
    if kind == "error":
        return {
            "effectiveValue": {"errorValue": {"type": "REF", "message": "#REF!"}},
            "formattedValue": "#REF!",
        }
    if kind == "formula":  # a formula whose value was never computed
        return {"userEnteredValue": {"formulaValue": "=" + draw(ANY_TEXT)}}
    if kind == "shown_only":
        return {"formattedValue": draw(ANY_TEXT)}
    # typed and shown disagree (a number formatted as text, a date shown as a number…)
    return {
        "userEnteredValue": {"stringValue": draw(ANY_TEXT)},
        "effectiveValue": {"numberValue": draw(NUMBERS)},
        "formattedValue": draw(ANY_TEXT),
    }


def check_reading(reading: vn.Reading, kinds: set[str]) -> None:
    assert isinstance(reading, vn.Reading)
    assert reading.kind in kinds, reading
    assert (reading.value is not None) == (reading.kind in READ), reading
    # the unit is told exactly when the reading was a guess or failed; a convention of
    # Vietnamese writing (``how``) is read without a word
    assert (reading.note is not None) == (
        reading.kind in {"interpreted", "ambiguous", "invalid"}
    ), reading
    assert reading.how is None or reading.kind in READ, reading
    for text in (reading.text, reading.note, reading.how):
        if text is not None:
            assert nfc(text), reading
            assert text.strip() == text and text, reading


# ------------------------------------------------------------------ never raises, always says
@FAST
@given(cell=any_cell(), whole=st.booleans())
@example(cell=text_cell("9" * 400), whole=True)  # over a float
@example(cell=text_cell("1." + ".".join(["000"] * 1500)), whole=True)
@example(cell=text_cell("1," + ",".join(["000"] * 1500)), whole=True)
@example(cell=text_cell("1234." + "5" * 5000), whole=False)
@example(cell=number_cell(float("nan"), "NaN"), whole=False)
@example(cell=number_cell(float("inf")), whole=True)
@example(cell=number_cell(1e308, "1E+308"), whole=False)
@example(cell=number_cell(10**40), whole=True)
def test_read_number_never_raises_and_reads_a_bounded_number(cell, whole):
    reading = vn.read_number(cell, whole=whole)
    check_reading(reading, NUMBER_KINDS)
    if reading.value is not None:
        value = Decimal(reading.value)
        assert value.is_finite() and abs(value) < vn.MAX_ABS_NUMBER
        assert math.isfinite(float(reading.value))  # what validation computes with
        if whole:
            assert isinstance(reading.value, int)


@FAST
@given(cell=any_cell())
@example(cell=number_cell(float("nan")))
@example(cell=number_cell(-1))
@example(cell=number_cell(10**12, "1000000000000"))
@example(cell=text_cell("ngày 31 tháng 2 năm 2027"))
@example(cell=text_cell("0/0/0000"))
def test_read_date_never_raises(cell):
    reading = vn.read_date(cell)
    check_reading(reading, DATE_KINDS)
    if reading.value is not None:
        assert isinstance(reading.value, dt.date)


@FAST
@given(cell=any_cell())
def test_choices_text_and_the_submitted_switch_never_raise(cell):
    check_reading(
        vn.read_choice(cell, vn.TASK_STATUSES, vn.TASK_STATUS_ALIASES),
        {"empty", "choice", "interpreted", "invalid"},
    )
    submitted = vn.read_submitted(cell)
    assert submitted.kind in {"empty", "choice", "interpreted", "invalid"}
    assert isinstance(submitted.value, bool)
    text = vn.cell_text(cell)
    assert text is None or (text and nfc(text) and text == text.strip())


# ------------------------------------------------------------------ round trips: numbers
@FAST
@given(n=st.integers(min_value=0, max_value=10**12))
def test_whole_numbers_written_the_vietnamese_way_read_back(n):
    plain = vn.read_number(text_cell(str(n)), whole=True)
    assert (plain.value, plain.kind) == (n, "number")
    # "2.487" in a count: the Vietnamese writing, read as typed, without a word
    grouped = vn.read_number(text_cell(vn.format_vi(n)), whole=True)
    assert (grouped.value, grouped.kind, grouped.note) == (n, "number", None)
    assert grouped.how == (None if n < 1000 else vn.DOT_THOUSANDS)
    spaced = vn.read_number(text_cell(f"{n:,}".replace(",", " ")), whole=True)
    assert (spaced.value, spaced.kind) == (n, "number")
    # where a fraction may be meant, one dot is a guess (1,2 written the English way?), two
    # dots cannot be a fraction
    fractional = vn.read_number(text_cell(vn.format_vi(n)))
    assert fractional.value == n
    assert fractional.kind == ("interpreted" if 1000 <= n < 10**6 else "number")
    with_unit = vn.read_number(text_cell(f"{vn.format_vi(n)} lượt người"), whole=True)
    assert (with_unit.value, with_unit.kind) == (n, "interpreted")
    assert "đã bỏ chữ “lượt người”" in with_unit.note
    negative = vn.read_number(text_cell(f"-{n}"), whole=True)
    assert negative.value == -n
    as_number = vn.read_number(number_cell(n, str(n)), whole=True)
    assert (as_number.value, as_number.kind) == (n, "number")


@FAST
@given(d=st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False, allow_infinity=False))
def test_decimals_written_with_a_comma_read_back(d):
    for text in (vn.format_vi(d), vn.plain_vi(d)):
        reading = vn.read_number(text_cell(text))
        assert reading.value == d, (text, reading)
    # as the money column asks: digits and a decimal comma is the documented writing
    documented = vn.read_number(text_cell(vn.plain_vi(d)))
    assert (documented.kind, documented.note) == ("number", None)
    if d != d.to_integral_value():
        assert documented.how == vn.COMMA_DECIMAL
        if d >= 1000:  # "1.200,5": both conventions, no guess
            grouped = vn.read_number(text_cell(vn.format_vi(d)))
            assert (grouped.kind, grouped.note) == ("number", None)
    # where a count is asked, a fraction is refused, never rounded
    counted = vn.read_number(text_cell(vn.plain_vi(d)), whole=True)
    if d == d.to_integral_value():
        assert counted.value == int(d)
    else:
        assert counted.kind == "invalid" and "không phải số nguyên" in counted.note


@FAST
@given(d=st.decimals(min_value=0, max_value=1000, places=1, allow_nan=False, allow_infinity=False))
def test_percentages_read_as_the_number_with_the_sign_dropped(d):
    for text in (f"{vn.plain_vi(d)}%", f"{vn.plain_vi(d)} %"):
        reading = vn.read_number(text_cell(text))
        assert (reading.value, reading.kind) == (d, "interpreted"), text
        assert "“%”" in reading.note


@FAST
@given(x=st.floats(min_value=-1e14, max_value=1e14, allow_nan=False, allow_infinity=False))
def test_number_cells_are_read_exactly(x):
    reading = vn.read_number(number_cell(x, repr(x)))
    assert (reading.value, reading.kind) == (Decimal(str(x)), "number")


@FAST
@given(text=st.text(max_size=30))
def test_a_comma_between_thousands_is_never_guessed(text):
    """ "1,200" is 1,2 or 1200: whatever else is in the cell, such a number is never read as a
    certain value."""
    digits = "".join(ch for ch in text if ch in "0123456789")[:3] or "1"
    reading = vn.read_number(text_cell(f"{int(digits)},200"), whole=True)
    assert reading.value is None and reading.kind == "ambiguous"


# ------------------------------------------------------------------ round trips: dates
DATES = st.dates(min_value=dt.date(1900, 3, 1), max_value=dt.date(9999, 12, 31))


@FAST
@given(day=DATES, sep=st.sampled_from(["/", "-", ".", " / "]), pad=st.booleans())
def test_dates_written_day_month_year_read_back(day, sep, pad):
    d, m = (f"{day.day:02d}", f"{day.month:02d}") if pad else (str(day.day), str(day.month))
    for text in (
        f"{d}{sep}{m}{sep}{day.year}",
        f"ngày {d}{sep}{m}{sep}{day.year}",
        f"ngày {day.day} tháng {day.month} năm {day.year}",
        day.isoformat(),
    ):
        reading = vn.read_date(text_cell(text))
        # the guide's order (or the year first): certain, read without a word
        assert (reading.value, reading.kind, reading.note) == (day, "date", None), text
        assert reading.how, text


@FAST
@given(day=DATES)
def test_date_cells_read_back(day):
    serial = (day - vn.SHEETS_EPOCH).days
    reading = vn.read_date(number_cell(serial, f"{day.day}/{day.month}/{day.year}"))
    assert (reading.value, reading.kind) == (day, "date")


@FAST
@given(year=st.integers(min_value=1000, max_value=9999))
def test_a_year_alone_is_not_a_date(year):
    reading = vn.read_date(number_cell(year, str(year)))
    assert reading.kind == "invalid" and "không phải ngày" in reading.note


# ------------------------------------------------------------------ text and choices
@FAST
@given(text=ANY_TEXT)
@example(text="Ho\u0300a\u0300n tha\u0300nh 🎉")
@example(text="\ufeff  Đang\u200b triển khai \u00ad")
@example(text="Hoa\u200b\u0300n thanh")  # NFD pasted with a zero-width space in the accent
@example(text="Hoàn thành\x00\x07")  # control characters from another system
def test_clean_text_is_nfc_trimmed_visible_and_idempotent(text):
    cleaned = vn.clean_text(text)
    if cleaned is None:
        return
    assert nfc(cleaned) and cleaned == cleaned.strip()
    assert not any(ch in cleaned for ch in "\u200b\u200c\u200d\u2060\ufeff\u00ad\x00\x07\x7f")
    assert "  " not in cleaned
    assert vn.clean_text(cleaned) == cleaned
    assert vn.clean_text(unicodedata.normalize("NFD", text)) == cleaned
    assert vn.fold(vn.fold(cleaned)) == vn.fold(cleaned)


@FAST
@given(
    words=st.lists(
        st.sampled_from(
            ["Hoàn", "thành", "xuất", "sắc", "🎉", "👏🏽", "👨‍👩‍👧", "🇻🇳", "❤️", "🧑‍🎤"]
        ),
        min_size=1,
        max_size=6,
    )
)
def test_emoji_are_kept_whole(words):
    """Emoji are the unit's text like any other: kept, whole — a ZWJ family or a flag is not
    split into its parts — while zero-width junk between letters goes."""
    text = " ".join(words)
    assert vn.clean_text(text) == text
    assert vn.clean_text(text.replace("Hoàn", "Ho\u200dàn")) == text


@FAST
@given(
    label=st.sampled_from(sorted(vn.TASK_STATUSES)),
    form=st.sampled_from(["NFC", "NFD"]),
    case=st.sampled_from([str, str.upper, str.lower, str.title]),
    before=st.sampled_from(["", " ", "\u200b", "\ufeff", "  \t"]),
    after=st.sampled_from(["", " ", "\u200b", "\n", "\u00ad"]),
)
def test_a_status_is_the_same_status_however_it_is_encoded(label, form, case, before, after):
    typed = before + unicodedata.normalize(form, case(label)) + after
    reading = vn.read_choice(text_cell(typed), vn.TASK_STATUSES, vn.TASK_STATUS_ALIASES)
    assert reading.value == vn.TASK_STATUSES[label], typed
    # another case or encoding of the label is the label: no guess, nothing to tell the unit
    assert (reading.kind, reading.note) == ("choice", None), typed
    assert (reading.how is None) == (case(label) == label), typed
    unaccented = vn.read_choice(text_cell(vn.fold(typed)), vn.TASK_STATUSES)
    assert (unaccented.value, unaccented.kind) == (vn.TASK_STATUSES[label], "choice")


@FAST
@given(
    label=st.sampled_from(sorted(vn.TASK_STATUSES)),
    noise=st.sampled_from(["✅", "🎉", "'; DROP TABLE parsed.task_rows; --", "=1+1", "<script>"]),
)
def test_a_status_with_anything_more_is_not_guessed(label, noise):
    reading = vn.read_choice(
        text_cell(f"{label} {noise}"), vn.TASK_STATUSES, vn.TASK_STATUS_ALIASES
    )
    assert reading.value is None and reading.kind == "invalid"
    assert "Chỉ được chọn một trong" in reading.note


# ------------------------------------------------------------------ hidden controls
#: what no cleaned text may hold, listed here from the Unicode standard (not from tonghop.vn):
#: the Bidi_Control characters (ALM, LRM, RLM, LRE…RLO, LRI…PDI) and the tag characters
HIDDEN = {
    0x061C,
    0x200E,
    0x200F,
    *range(0x202A, 0x202F),
    *range(0x2066, 0x206A),
    *range(0xE0000, 0xE0080),
}
#: and the invisible characters dropped without a word (the joiner is kept inside an emoji)
INVISIBLE = {0x00AD, 0x200B, 0x200C, 0x2060, 0xFEFF, *range(0x00, 0x09), 0x7F}
CONTROL_CHARACTERS = st.one_of(
    st.sampled_from(sorted(chr(c) for c in HIDDEN if c < 0xE0000)),
    st.characters(min_codepoint=0x202A, max_codepoint=0x202E),
    st.characters(min_codepoint=0x2066, max_codepoint=0x2069),
    st.characters(min_codepoint=0xE0000, max_codepoint=0xE007F),
)
#: anything at all (every plane, surrogates, unassigned code points) with hidden controls and
#: the pieces of emoji sequences (base, joiner, variation selector, skin tone, black flag)
#: mixed in, and Vietnamese words with combining accents
HOSTILE_TEXT = st.lists(
    st.one_of(
        st.characters(codec=None, categories=None),
        CONTROL_CHARACTERS,
        st.sampled_from(
            [
                "🏴",
                "👨",
                "🎉",
                "\u200d",
                "\ufe0f",
                "🏽",
                "\u200b",
                "Hoàn",
                "thành",
                "\u0300",
                " ",
                "(UBND xã Cô Ba).",
                "\U000e007f",
            ]
        ),
    ),
    max_size=40,
).map("".join)
SCOTLAND = "🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f"


@FAST
@given(text=st.one_of(HOSTILE_TEXT, ANY_TEXT))
@example(text="Thiếu nhạc cụ dân tộc\u202e")  # an RLO left open
@example(text="\u2067Kinh phí\u2069 \u202aHội diễn\u202c \u200f\u061c")
@example(text=f"Cờ {SCOTLAND} và ẩn\U000e0041\U000e0042")  # a flag, hidden "AB"
@example(text="🎉\u202e\u200d👩")  # a joiner after a control
def test_no_hidden_or_invisible_character_survives_cleaning(text):
    cleaned = vn.clean_text(text)
    assert vn.has_hidden_controls(text) == any(ord(ch) in HIDDEN for ch in text)
    if cleaned is None:
        return
    assert not [hex(ord(ch)) for ch in cleaned if ord(ch) in HIDDEN | INVISIBLE]
    assert not vn.has_hidden_controls(cleaned)
    assert nfc(cleaned) and cleaned == cleaned.strip()
    assert vn.clean_text(cleaned) == cleaned
    # a joiner is left only inside an emoji sequence
    for i, ch in enumerate(cleaned):
        if ch == "\u200d":
            before = cleaned[i - 1] if i else ""
            assert before == "\ufe0f" or unicodedata.category(before) in ("So", "Sk"), text


@FAST
@given(text=HOSTILE_TEXT, cell=st.sampled_from(["text", "shown_only", "typed_only"]))
def test_no_reading_quotes_a_hidden_control(text, cell):
    """What the unit and the Sở read of a cell — the text as typed, the note — never holds a
    hidden control, whichever reader read it."""
    data = {
        "text": text_cell(text),
        "shown_only": {"formattedValue": text},
        "typed_only": {"userEnteredValue": {"stringValue": text}},
    }[cell]
    assert vn.cell_has_hidden_controls(data) == any(ord(ch) in HIDDEN for ch in text)
    readings = [
        vn.read_number(data),
        vn.read_number(data, whole=True),
        vn.read_date(data),
        vn.read_choice(data, vn.TASK_STATUSES, vn.TASK_STATUS_ALIASES),
        vn.read_submitted(data),
    ]
    for reading in readings:
        for said in (reading.text, reading.note):
            assert said is None or not any(ord(ch) in HIDDEN for ch in said), reading
    shown = vn.cell_text(data)
    assert shown is None or not any(ord(ch) in HIDDEN | INVISIBLE for ch in shown)
