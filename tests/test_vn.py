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
    "cell, whole, value, kind",
    [
        (n(5), True, 5, "number"),
        (n(5.0, "5"), True, 5, "number"),
        (s("5"), True, 5, "number"),
        (s("1.200"), True, 1200, "interpreted"),
        (s("1.200.000"), True, 1200000, "interpreted"),
        (s("1 200"), True, 1200, "interpreted"),
        (s("5 buổi"), True, 5, "interpreted"),
        (s("1.200 lượt người"), True, 1200, "interpreted"),
        (s("1,5"), False, Decimal("1.5"), "interpreted"),
        (s("1.200,5"), False, Decimal("1200.5"), "interpreted"),
        (s("1,200.5"), False, Decimal("1200.5"), "interpreted"),
        (s("-3"), True, -3, "number"),
        (s("  7 "), True, 7, "number"),
    ],
)
def test_numbers_read_with_certainty(cell, whole, value, kind):
    reading = vn.read_number(cell, whole=whole)
    assert (reading.value, reading.kind) == (value, kind)
    if kind == "interpreted":
        assert f"là {vn.plain_vi(value)} (" in reading.note


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
        (s("20/6/2026"), dt.date(2026, 6, 20), "interpreted"),
        (s("20-06-2026"), dt.date(2026, 6, 20), "interpreted"),
        (s("2026-06-20"), dt.date(2026, 6, 20), "interpreted"),
        (s("ngày 20 tháng 6 năm 2026"), dt.date(2026, 6, 20), "interpreted"),
        (s("6/20/2026"), None, "ambiguous"),
        (s("31/2/2026"), None, "invalid"),
        (s("tháng 6"), None, "invalid"),
    ],
)
def test_dates(cell, value, kind):
    reading = vn.read_date(cell)
    assert (reading.value, reading.kind) == (value, kind)


def test_status_choice():
    def read(t):
        return vn.read_choice(s(t), vn.TASK_STATUSES, vn.TASK_STATUS_ALIASES)

    assert (read("Hoàn thành").value, read("Hoàn thành").kind) == ("hoan_thanh", "choice")
    assert (read("hoàn  THÀNH").value, read("hoàn  THÀNH").kind) == ("hoan_thanh", "interpreted")
    assert read("Đã hoàn thành").value == "hoan_thanh"
    assert read("xong rồi mà").kind == "invalid"
    # NFD input (decomposed diacritics) is the same text
    import unicodedata

    assert read(unicodedata.normalize("NFD", "Đang triển khai")).value == "dang_trien_khai"


def test_submitted_switch():
    assert vn.read_submitted({"effectiveValue": {"boolValue": True}}).value is True
    assert vn.read_submitted(s("Đã nộp")).value is True
    assert vn.read_submitted(s("da nop")).kind == "interpreted"
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
