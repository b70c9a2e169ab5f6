"""Nothing cut without a mark: an .xlsx cell holds 32,767 characters (Google Sheets 50,000), and
text longer than that is cut with a Vietnamese mark saying how long the cell was and where
the whole text is — by the one rule every .xlsx writer uses (``sheets.template.set_value``).
At the limit, one over, and a 40,000-character difficulty; read back with openpyxl."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook

from publish.summary import SummaryTable, full_text_at, write_xlsx
from sheets.template import XLSX_CELL_CHARS, fit_xlsx_cell, set_value

LIMIT = 32_767
DIFFICULTY = "Thiếu kinh phí tổ chức Hội diễn văn nghệ quần chúng cấp xã 🎶. "


def utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def long_text(n: int) -> str:
    return (DIFFICULTY * (n // len(DIFFICULTY) + 1))[:n]


def test_the_limit_is_excels():
    assert XLSX_CELL_CHARS == LIMIT


def test_at_the_limit_nothing_changes():
    text = "đ" * LIMIT
    assert fit_xlsx_cell(text, "trong kho dữ liệu") == text
    assert fit_xlsx_cell("🎉" * (LIMIT // 2)) == "🎉" * (LIMIT // 2)  # 32,766 units


@pytest.mark.parametrize("length", [LIMIT + 1, 40_000, 50_000])
def test_over_the_limit_the_cell_says_it_was_cut_and_where_the_whole_text_is(length):
    text = "đ" * length
    cut = fit_xlsx_cell(text, "trong kho dữ liệu, bảng marts.fct_feedback")
    assert utf16(cut) <= LIMIT and len(cut) > LIMIT - 200
    shown = f"{length:,}".replace(",", ".")  # 40.000: dots group thousands
    assert cut.endswith(
        f" … [đã cắt: ô gốc dài {shown} ký tự; toàn văn trong kho dữ liệu, bảng marts.fct_feedback]"
    )
    assert text.startswith(cut[: cut.index(" … [đã cắt")])
    assert unicodedata.is_normalized("NFC", cut)


def test_without_a_place_the_mark_names_the_limit():
    assert fit_xlsx_cell("a" * 40_000).endswith(
        "[đã cắt: ô gốc dài 40.000 ký tự; một ô của tệp Excel chỉ chứa được 32.767 ký tự]"
    )


def test_emoji_count_as_excel_counts_them_and_are_not_split():
    family = "👨\u200d👩\u200d👧"
    text = family * 6_000  # 30,000 characters, 48,000 UTF-16 units
    cut = fit_xlsx_cell(text)
    assert len(text) < LIMIT < utf16(text)
    assert utf16(cut) <= LIMIT and "đã cắt: ô gốc dài 30.000 ký tự" in cut
    assert cut[: cut.index(" … [")].endswith(family)
    accents = unicodedata.normalize("NFD", "ệ") * 20_000  # a letter and two accents
    kept = fit_xlsx_cell(accents)
    body = kept[: kept.index(" … [")]
    assert unicodedata.category(body[-1]) == "Mn" and len(body) % 3 == 0


@settings(derandomize=True, database=None, max_examples=40, deadline=None)
@given(
    length=st.integers(min_value=LIMIT - 5, max_value=60_000),
    piece=st.sampled_from(["a", "đ", "🎉", "ệ", "👏🏽", "Cô Ba "]),
)
def test_any_text_fits_and_is_kept_whole_when_it_fits(length, piece):
    text = (piece * (length // len(piece) + 1))[:length]
    cut = fit_xlsx_cell(text, "trên trang “Khó khăn, kiến nghị” của bảng tính Tổng hợp")
    assert utf16(cut) <= LIMIT
    assert (cut == text) == (utf16(text) <= LIMIT)


def test_set_value_cuts_and_openpyxl_reads_it_back(tmp_path):
    workbook = Workbook()
    ws = workbook.active
    for row, length in enumerate((LIMIT, LIMIT + 1, 40_000), start=1):
        set_value(
            ws.cell(row=row, column=1), "=" + "x" * (length - 1), full_text_at="trong kho dữ liệu"
        )
    workbook.save(tmp_path / "cells.xlsx")
    back = load_workbook(tmp_path / "cells.xlsx").active
    assert back["A1"].value == "=" + "x" * (LIMIT - 1) and back["A1"].data_type == "s"
    for ref, length in (("A2", LIMIT + 1), ("A3", 40_000)):
        value = back[ref].value
        assert back[ref].data_type == "s" and utf16(value) <= LIMIT
        assert value.endswith(
            f"[đã cắt: ô gốc dài {length:,} ký tự; toàn văn trong kho dữ liệu]".replace(",", ".")
        )


def test_the_summary_workbook_marks_a_cut_difficulty_with_its_tab_and_mart(tmp_path):
    text = long_text(40_000)
    table = SummaryTable(
        title="Khó khăn, kiến nghị",
        heading="KHÓ KHĂN",
        headers=["STT", "Nội dung"],
        kinds=["int", "text"],
        rows=[[1, text], [2, "x" * LIMIT]],
        source="marts.fct_feedback",
    )
    path = write_xlsx([table], tmp_path / "tong_hop.xlsx")
    ws = load_workbook(path)["Khó khăn, kiến nghị"]
    cut, whole = ws["B4"].value, ws["B5"].value
    assert whole == "x" * LIMIT
    assert utf16(cut) <= LIMIT and text.startswith(cut[: cut.index(" … [")])
    assert cut.endswith(
        "[đã cắt: ô gốc dài 40.000 ký tự; toàn văn trên trang “Khó khăn, kiến "
        "nghị” của bảng tính Tổng hợp và trong kho dữ liệu, bảng "
        "marts.fct_feedback]"
    )
    assert full_text_at(table) in cut
