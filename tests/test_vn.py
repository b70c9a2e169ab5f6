"""Reading Vietnamese numbers, dates and choices from cells."""

import datetime as dt
from decimal import Decimal

import pytest

from tonghop import vn


def s(text):
    return {
        "userEnteredValue": {"stringValue": text},
        "effectiveValue": {"stringValue": text},
        "formattedValue": text,
    }


def n(number, shown=None):
    return {"effectiveValue": {"numberValue": number}, "formattedValue": shown or str(number)}


@pytest.mark.parametrize(
    "cell, whole, value, kind, how",
    [
        (n(5), True, 5, "number", None),
        (n(5.0, "5"), True, 5, "number", None),
        (s("5"), True, 5, "number", None),
        (s("-3"), True, -3, "number", None),
        (s("  7 "), True, 7, "number", None),
        # Vietnamese writing: read as the convention says, without a word to the unit
        (s("2.487"), True, 2487, "number", vn.DOT_THOUSANDS),
        (s("1.200.000"), True, 1200000, "number", vn.DOT_THOUSANDS),
        (s("1.200.000"), False, 1200000, "number", vn.DOT_THOUSANDS),  # two dots: no fraction
        (s("1 200"), True, 1200, "number", vn.SPACE_THOUSANDS),
        (s("1 200"), False, 1200, "number", vn.SPACE_THOUSANDS),
        (s("2,5"), False, Decimal("2.5"), "number", vn.COMMA_DECIMAL),
        (s("5,0"), True, 5, "number", vn.COMMA_DECIMAL),
        (
            s("1.200,5"),
            False,
            Decimal("1200.5"),
            "number",
            f"{vn.DOT_THOUSANDS}, {vn.COMMA_DECIMAL}",
        ),
    ],
)
def test_numbers_read_with_certainty(cell, whole, value, kind, how):
    reading = vn.read_number(cell, whole=whole)
    assert (reading.value, reading.kind, reading.how, reading.note) == (value, kind, how, None)


@pytest.mark.parametrize(
    "cell, whole, value, said",
    [
        (s("5 buổi"), True, 5, "đã bỏ chữ “buổi”"),
        (s("200 người"), True, 200, "đã bỏ chữ “người”"),
        (s("1.200 lượt người"), True, 1200, "đã bỏ chữ “lượt người”"),
        # a fraction may be meant: "1.200" could be 1,2 written the English way
        (s("1.200"), False, 1200, f"{vn.DOT_THOUSANDS}, không phải 1,2"),
        (s("1,200.5"), False, Decimal("1200.5"), "viết theo kiểu tiếng Anh"),
    ],
)
def test_numbers_read_by_a_guess_say_what_was_read(cell, whole, value, said):
    reading = vn.read_number(cell, whole=whole)
    assert (reading.value, reading.kind) == (value, "interpreted")
    assert reading.note == f"Đã hiểu “{reading.text}” là {vn.plain_vi(value)} ({said})."


@pytest.mark.parametrize(
    "cell, whole, kind, fragment",
    [
        (s("1,200"), True, "ambiguous", "1,2 hoặc 1200"),
        (s("1.5"), False, "ambiguous", "thập phân"),
        (s("1,5"), True, "invalid", "không phải số nguyên"),
        (n(2.5), True, "invalid", "không phải số nguyên"),
        (s("nhiều"), True, "invalid", "Không đọc được số"),
        (s("5-7"), True, "invalid", "Không đọc được số"),
        (s("khoảng 5"), True, "invalid", "Không đọc được số"),
        (s("không"), True, "ambiguous", "ghi 0"),
        (
            {"effectiveValue": {"boolValue": True}, "formattedValue": "TRUE"},
            True,
            "invalid",
            "đúng/sai",
        ),
    ],
)
def test_numbers_that_cannot_be_read_say_why(cell, whole, kind, fragment):
    reading = vn.read_number(cell, whole=whole)
    assert reading.value is None and reading.kind == kind
    assert fragment in reading.note


def test_empty_cells_are_empty():
    assert vn.read_number({}).kind == "empty"
    assert vn.read_number(None).kind == "empty"
    assert vn.read_number(s("   ")).kind == "empty"


def test_format_vi():
    assert vn.format_vi(1200) == "1.200"
    assert vn.format_vi(Decimal("1200.5")) == "1.200,5"
    assert vn.format_vi(0) == "0"


@pytest.mark.parametrize(
    "cell, value, kind",
    [
        (n(46193, "20/6/2026"), dt.date(2026, 6, 20), "date"),
        # the order the guide asks for, however separated or padded: read without a word
        (s("20/6/2026"), dt.date(2026, 6, 20), "date"),
        (s("21/3/2026"), dt.date(2026, 3, 21), "date"),
        (s("05/03/2026"), dt.date(2026, 3, 5), "date"),
        (s("3/4/2026"), dt.date(2026, 4, 3), "date"),  # day first, as the guide says
        (s("20-06-2026"), dt.date(2026, 6, 20), "date"),
        (s("2026-06-20"), dt.date(2026, 6, 20), "date"),
        (s("ngày 20/6/2026"), dt.date(2026, 6, 20), "date"),
        (s("ngày 20 tháng 6 năm 2026"), dt.date(2026, 6, 20), "date"),
        # the other order, or incomplete: not guessed
        (s("6/20/2026"), None, "ambiguous"),
        (s("31/2/2026"), None, "invalid"),
        (s("20/6"), None, "invalid"),
        (s("20/6/26"), None, "invalid"),
        (s("tháng 6"), None, "invalid"),
    ],
)
def test_dates(cell, value, kind):
    reading = vn.read_date(cell)
    assert (reading.value, reading.kind) == (value, kind)
    assert (reading.note is None) == (kind == "date")


def test_status_choice():
    def read(t):
        return vn.read_choice(s(t), vn.TASK_STATUSES, vn.TASK_STATUS_ALIASES)

    assert (read("Hoàn thành").value, read("Hoàn thành").kind) == ("hoan_thanh", "choice")
    # the label in another case, without diacritics, other spacing: the same choice, no word
    for typed in ("hoàn thành", "hoàn  THÀNH", "hoan thanh", "Hoan Thanh"):
        reading = read(typed)
        assert (reading.value, reading.kind, reading.note) == ("hoan_thanh", "choice", None)
        assert reading.how
    # another word for it is a guess
    assert (read("Đã hoàn thành").value, read("Đã hoàn thành").kind) == (
        "hoan_thanh",
        "interpreted",
    )
    assert read("xong").note == "Đã hiểu “xong” là “Hoàn thành”."
    assert read("xong rồi mà").kind == "invalid"
    # NFD input (decomposed diacritics) is the same text
    import unicodedata

    assert read(unicodedata.normalize("NFD", "Đang triển khai")).value == "dang_trien_khai"


def test_submitted_switch():
    assert vn.read_submitted({"effectiveValue": {"boolValue": True}}).value is True
    assert vn.read_submitted(s("Đã nộp")).value is True
    assert vn.read_submitted(s("da nop")).kind == "choice"
    assert vn.read_submitted(s("x")).kind == "interpreted"
    assert vn.read_submitted(s("Chưa nộp")).value is False
    assert vn.read_submitted({}).value is False
    assert vn.read_submitted(s("có lẽ")).kind == "invalid"


@pytest.mark.parametrize(
    "typed, cleaned, warned",
    [
        # an RLO left open would reverse what follows it in the report, our own words included
        ("Thiếu nhạc cụ dân tộc\u202e", "Thiếu nhạc cụ dân tộc", True),
        ("\u202eThiếu kinh phí\u202c", "Thiếu kinh phí", True),
        ("\u2066Hội diễn\u2069 \u2067văn nghệ\u2069 \u2068x\u2069", "Hội diễn văn nghệ x", True),
        ("\u202aA\u202c \u202bB\u202c \u202dC\u202c", "A B C", True),
        ("Kinh phí\u200f 12\u200e triệu\u061c", "Kinh phí 12 triệu", True),
        # tags: hidden ASCII; a subdivision flag shows as the black flag without them
        ("Kiến nghị\U000e0041\U000e0042\U000e0043", "Kiến nghị", True),
        ("Cờ 🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f", "Cờ 🏴", True),
        # zero-width characters go without a word: nothing anyone sees changes
        ("\ufeffHoàn\u200b thành\u00ad", "Hoàn thành", False),
        ("a\u2062b\u206a", "ab", False),
        # emoji sequences stay whole
        ("👨\u200d👩\u200d👧 🧑\u200d🎤 ❤️ 🇻🇳", "👨\u200d👩\u200d👧 🧑\u200d🎤 ❤️ 🇻🇳", False),
    ],
)
def test_hidden_controls_are_removed_and_told(typed, cleaned, warned):
    assert vn.clean_text(typed) == cleaned
    assert vn.has_hidden_controls(typed) is warned
    assert vn.cell_has_hidden_controls(s(typed)) is warned
    assert vn.cell_text(s(typed)) == cleaned


def test_only_hidden_controls_leave_a_title():
    assert vn.without_hidden_controls("Nhiệm vụ\u202e  (2)\u200b") == "Nhiệm vụ  (2)\u200b"
    assert vn.without_hidden_controls("\u2067\u2069") == ""
