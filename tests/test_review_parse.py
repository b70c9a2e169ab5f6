"""Parsing the reviewers' decisions (ingest.review.parse_decisions), offline: what is applied,
what is refused, and what the review sheet tells the reviewer (issue 24)."""

from __future__ import annotations

import unicodedata

import pytest

from ingest.review import ReviewContext, parse_decisions
from sheets import review_layout as rl

CONTEXT = ReviewContext(
    expected=frozenset({"TD-HDND", "TD-BTC", "TD-DUX-01", "TD-DUX-02"}),
    first_reviewer={
        "TD-HDND": rl.TOP,
        "TD-BTC": rl.TOP,
        "TD-DUX-01": "TD-UBND",
        "TD-DUX-02": "TD-UBND",
    },
    versions=frozenset(
        {("TD-HDND", 21), ("TD-HDND", 30), ("TD-BTC", 22), ("TD-BTC", 1234), ("TD-DUX-01", 24)}
    ),
)


def sheet(*rows: list[str], above: int = rl.HEADER_ROW) -> list[list[str]]:
    """A review tab as read: ``above`` lines of text, the header, then ``rows`` (each the
    columns A..K)."""
    return [["…"]] * above + [[label for _, label, _ in rl.COLUMNS]] + [list(r) for r in rows]


def row(unit: str, version: str, decision: str = "", reason: str = "") -> list[str]:
    return [
        "1",
        unit,
        "Tên",
        "2",
        version,
        "10:00 05/06/2025",
        "…",
        "Chờ duyệt",
        "",
        decision,
        reason,
    ]


def test_the_two_decisions_however_they_are_typed():
    assert rl.read_decision("Chấp nhận") == "chap_nhan"
    assert rl.read_decision("  chấp   NHẬN ") == "chap_nhan"
    assert rl.read_decision("Chap nhan") == "chap_nhan"
    assert rl.read_decision(unicodedata.normalize("NFD", "Trả lại")) == "tra_lai"
    # nothing else is guessed: a decision changes what counts
    for other in ("Đồng ý", "Duyệt", "OK", "x", "Không chấp nhận", ""):
        assert rl.read_decision(other) is None, other


def test_decisions_are_applied_to_the_version_on_their_row():
    parsed = parse_decisions(
        sheet(
            row("TD-HDND", "21", "Chấp nhận"),
            row("TD-BTC", "22", "Trả lại", "Số liệu chưa khớp với kỳ trước"),
            row("TD-HDND", "30"),  # no input: not a decision
        ),
        rl.TOP,
        CONTEXT,
    )
    assert [(p.row_number, p.unit_code, p.sheet_version_id, p.decision_code) for p in parsed] == [
        (7, "TD-HDND", 21, "chap_nhan"),
        (8, "TD-BTC", 22, "tra_lai"),
    ]
    assert parsed[1].reason == "Số liệu chưa khớp với kỳ trước"
    assert all(p.problem_code is None and p.message_vi is None for p in parsed)
    assert parsed[0].cell_ref == "Duyệt báo cáo!J7"


@pytest.mark.parametrize(
    ("written", "reviewer", "problem", "cell", "words"),
    [
        (row("TD-HDND", "21", "Đồng ý"), rl.TOP, "decision.unknown", "J7", "“Đồng ý”"),
        (row("TD-HDND", "21", "Trả lại"), rl.TOP, "decision.no_reason", "K7", "cần ghi lý do"),
        (row("TD-HDND", "21", "Trả lại", "   "), rl.TOP, "decision.no_reason", "K7", "lý do"),
        (row("TD-HDND", "21", "", "Sai số"), rl.TOP, "decision.missing", "J7", "chưa chọn"),
        (row("", "", "Chấp nhận"), rl.TOP, "decision.no_unit", "B7", "không có mã đơn vị"),
        (
            row("CB-XA-001", "1", "Chấp nhận"),
            rl.TOP,
            "decision.unit_not_in_period",
            "B7",
            "không phải báo cáo kỳ này",
        ),
        (row("TD-HDND", "22", "Chấp nhận"), rl.TOP, "decision.unknown_version", "E7", "TD-HDND"),
        (row("TD-HDND", "abc", "Chấp nhận"), rl.TOP, "decision.unknown_version", "E7", "E7"),
        # a district reviews its own communes only
        (
            row("TD-HDND", "21", "Chấp nhận"),
            "TD-UBND",
            "decision.not_reviewers_unit",
            "B7",
            "không do cấp này duyệt",
        ),
    ],
)
def test_a_bad_input_is_refused_with_a_message_that_names_its_cell(
    written, reviewer, problem, cell, words
):
    [parsed] = parse_decisions(sheet(written), reviewer, CONTEXT)
    assert parsed.decision_code is None
    assert parsed.problem_code == problem
    assert parsed.cell_ref == f"Duyệt báo cáo!{cell}"
    assert f"Duyệt báo cáo!{cell}" in parsed.message_vi
    assert words in parsed.message_vi
    assert unicodedata.is_normalized("NFC", parsed.message_vi)
    if problem != "decision.no_reason":
        assert "chưa được ghi nhận" in parsed.message_vi  # and nothing changes


def test_the_sở_decides_on_a_commune_its_district_passed_on():
    [parsed] = parse_decisions(sheet(row("TD-DUX-01", "24", "Chấp nhận")), rl.TOP, CONTEXT)
    assert parsed.decision_code == "chap_nhan"
    [parsed] = parse_decisions(sheet(row("TD-DUX-01", "24", "Chấp nhận")), "TD-UBND", CONTEXT)
    assert parsed.decision_code == "chap_nhan"


def test_the_table_is_found_by_its_labels_wherever_it_is():
    """Rows inserted above, the columns reordered: each cell is still read by its header."""
    order = [1, 0, 4, 3, 2, 5, 6, 7, 8, 10, 9]
    header = [rl.COLUMNS[i][1] for i in order]
    values = row("TD-BTC", "22", "Trả lại", "Thiếu số liệu")
    moved = [["…"]] * 9 + [header] + [[values[i] for i in order]]
    [parsed] = parse_decisions(moved, rl.TOP, CONTEXT)
    assert (parsed.row_number, parsed.unit_code, parsed.sheet_version_id) == (11, "TD-BTC", 22)
    assert (parsed.decision_code, parsed.reason) == ("tra_lai", "Thiếu số liệu")
    # a version shown with the vi_VN thousands separator is still that version
    [parsed] = parse_decisions(sheet(row("TD-BTC", "1.234", "Chấp nhận")), rl.TOP, CONTEXT)
    assert (parsed.sheet_version_id, parsed.decision_code) == (1234, "chap_nhan")


def test_a_sheet_without_its_table_yields_nothing():
    assert parse_decisions([["Duyệt báo cáo"], ["xóa hết"]], rl.TOP, CONTEXT) == []
    assert parse_decisions([], rl.TOP, CONTEXT) == []
