"""What units read of the catalogue is correct Vietnamese: the scanned plan's OCR errors are
corrected in ``tasks.task_text`` (the verbatim text stays in ``task_text_source``), none of
them — nor a token no Vietnamese word is spelled like — is in any text a unit or the Sở reads,
and the sheets made from the catalogue carry the corrected text and the Sở's contact."""

from __future__ import annotations

import csv
import re
import unicodedata

import pytest

from sheets import layout
from tonghop.catalogue import CATALOGUE_DIR, Catalogue, Contact, is_placeholder

#: (the scan's error, the word of the plan), as corrected in tasks.csv
CORRECTED = [
    ("Chi đạo", "Chỉ đạo"),
    ("quản trịet", "quán triệt"),
    ("công hiến", "cống hiến"),
    ("hiệu quả qua các chủ trương", "hiệu quả các chủ trương"),
    # not an OCR error: the tone mark placed as everywhere else in the catalogue (hóa)
    ("hoá", "hóa"),
]

#: the text columns of the seeds that units or the Sở read (codes and e-mails are not words)
TEXT_COLUMNS = {
    "programmes": [
        "short_name",
        "title",
        "issuer",
        "locality",
        "consolidating_body",
        "report_recipient",
        "report_parent_body",
        "report_cc",
        "report_signer_title",
        "report_plan_name",
    ],
    "task_groups": ["group_name"],
    "tasks": ["task_text"],
    "indicators": ["indicator_name", "unit_of_measure"],
    "units": ["unit_name", "short_name", "locality"],
    "unit_types": ["unit_type_name"],
    "periods": ["period_name"],
}

_TONES = "\u0300\u0301\u0303\u0309\u0323"  # huyền, sắc, ngã, hỏi, nặng
#: after i/y, a written e is always ê (tiên, khuyên) but in gi + e (giẻ); u + o is uô or ươ
_ODD_VOWELS = re.compile(r"(?<!g)[iy]e(?!\u0302)|u[oơ](?![\u0302\u031b])|ưo(?!\u031b)", re.I)
#: a tone on the second vowel of an open oa/oe/uy (hoá, thuỷ): the catalogue writes hóa, thủy
_OLD_TONE = re.compile(r"(?<![qQ])(o[áàảãạéèẻẽẹ]|u[ýỳỷỹỵ])(?!\w)")


def odd_tokens(text: str) -> list[str]:
    """The words of ``text`` no Vietnamese word is spelled like (toneless 'trịet' → 'triet':
    no ê after i), or with the tone on the other vowel than the catalogue's style."""
    found = []
    for word in re.findall(r"\w+", unicodedata.normalize("NFC", text)):
        toneless = "".join(c for c in unicodedata.normalize("NFD", word) if c not in _TONES)
        if _ODD_VOWELS.search(unicodedata.normalize("NFD", toneless)) or _OLD_TONE.search(word):
            found.append(word)
    return found


def read(name: str) -> list[dict[str, str]]:
    with (CATALOGUE_DIR / f"{name}.csv").open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def texts() -> list[tuple[str, str]]:
    """(where, text) of every text a unit or the Sở reads."""
    return [
        (f"{name}.csv {column} row {n}", row[column])
        for name, columns in TEXT_COLUMNS.items()
        for n, row in enumerate(read(name), start=2)
        for column in columns
        if row[column]
    ]


def test_the_detector_finds_the_scan_errors_it_is_meant_to_catch():
    """The checks below can fail: the plan's verbatim text trips them."""
    sources = " ".join(row["task_text_source"] for row in read("tasks"))
    assert {"trịet", "hoá"} <= set(odd_tokens(sources))
    for typo, _ in CORRECTED:
        assert typo in sources, f"{typo!r} is not in the plan's text: nothing was corrected"
    assert odd_tokens("Tham mưu quản trịet, văn hoá, tuỳ") == ["trịet", "hoá", "tuỳ"]
    assert odd_tokens("quán triệt, khuyên, giẻ, quý, thuở, người, Huyện ủy, hoàn, hóa") == []


@pytest.mark.parametrize("typo,word", CORRECTED)
def test_no_corrected_error_is_in_any_text_units_read(typo, word):
    found = [where for where, text in texts() if typo in text]
    assert found == [], f"“{typo}” (should be “{word}”) in {found}"


def test_no_odd_token_in_any_text_units_read():
    found = {where: odd_tokens(text) for where, text in texts() if odd_tokens(text)}
    assert found == {}


def test_every_text_is_nfc_without_stray_spaces():
    for where, text in texts():
        assert unicodedata.is_normalized("NFC", text), where
        assert text == " ".join(text.split()), where


def test_the_corrected_text_is_the_verbatim_text_with_exactly_these_corrections():
    """task_text_source is the plan's text; task_text differs from it by the listed
    corrections only (a task text changed by hand would show here)."""
    rows = read("tasks")
    changed = set()
    for row in rows:
        corrected = row["task_text_source"]
        for typo, word in CORRECTED:
            corrected = corrected.replace(typo, word)
        assert row["task_text"] == corrected, row["task_code"]
        if row["task_text"] != row["task_text_source"]:
            changed.add(row["task_code"])
    assert changed == {"TD.II.1", "TD.II.5", "TD.II.8", "TD.II.9", "TD.II.10", "TD.IV.1", "CB.2.8"}
    catalogue = Catalogue()
    task = catalogue.tasks["TD.II.5"]
    assert task.task_text.startswith("Chỉ đạo hằng năm") and task.task_text_source.startswith(
        "Chi đạo hằng năm"
    )


def test_the_sheets_units_get_carry_the_corrected_text():
    """Every expected unit's report, of every period: its task texts are the corrected ones."""
    catalogue = Catalogue()
    seen = 0
    for period_code in catalogue.periods:
        for unit in catalogue.expected_units(period_code):
            tabs = {t.title: t for t in layout.report_tabs(catalogue, unit.unit_code, period_code)}
            col = layout.column_index(layout.TASK_COLUMNS, "task_text")
            for row in tabs[layout.TAB_TASKS].rows[1:]:
                assert odd_tokens(row[col]) == [] and not any(t in row[col] for t, _ in CORRECTED)
                seen += 1
    assert seen > 300


# ------------------------------------------------------------------ the Sở's contact
def test_the_guide_gives_the_consolidating_body_s_contact_and_never_a_placeholder():
    catalogue = Catalogue()
    period = catalogue.period("CB-2026-6T")
    programme = catalogue.programmes["CB-KH84"]
    assert is_placeholder(programme["contact_phone"])  # the plan gives no phone number
    assert catalogue.placeholders("CB-KH84") == [
        "programmes.csv CB-KH84 contact_office",
        "programmes.csv CB-KH84 contact_phone",
    ]
    lines = layout.guide_lines(programme, period)
    assert lines[-1] == (
        "8. Liên hệ khi cần hỗ trợ: Sở Văn hóa, Thể thao và Du lịch; "
        "thư điện tử vhttdl@caobang.example.gov.vn."
    )
    assert not any("CẦN BỔ SUNG" in line.upper() for line in lines)


def test_a_filled_contact_is_shown_whole():
    programme = {
        "consolidating_body": "Sở Văn hóa, Thể thao và Du lịch",
        "contact_office": "Phòng Quản lý văn hóa, gia đình",
        "contact_phone": "0206 3852 000",
        "contact_email": "vhttdl@caobang.example.gov.vn",
    }
    assert Contact.of(programme).line_vi() == (
        "Liên hệ khi cần hỗ trợ: Sở Văn hóa, Thể thao và Du lịch, Phòng Quản lý văn hóa, gia "
        "đình; điện thoại 0206 3852 000; thư điện tử vhttdl@caobang.example.gov.vn."
    )
    assert Contact.of({"consolidating_body": ""}).line_vi() == ""
