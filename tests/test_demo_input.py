"""Warnings only where a person could disagree: the demo province through the real stages.

The demo province of ``tonghop demo`` (CB-2026-6T, its default seed) is generated into a Sheets
emulator, pulled through gspread and checked by the Great Expectations suites
(``validate_landed``), in a warehouse database of its own (``tonghop_demo_input``). The
generator's correct-input scenarios write what careful officials write, Vietnamese notation
included — "2.487" in a count, "12,5" million đồng, a status in lower case or without
diacritics, a completion date typed as text —, and their reports must get no warning at all
(and no error but the one a scenario makes on purpose); the deliberately wrong scenarios still
get their errors and warnings. The oracle is the generator's manifest (which scenario each
unit played, which values it wrote), not the checks' own output.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from decimal import Decimal

import pytest

from tests.conftest import query
from tooling.demo import CORRECT_INPUT_SCENARIOS

DATABASE = "tonghop_demo_input"
PERIOD = "CB-2026-6T"  # what `tonghop demo` runs
SEED = 2026  # its default seed
VI_THOUSANDS = re.compile(r"^\d{1,3}(\.\d{3})+$")
COMMA_DECIMAL = re.compile(r"^\d+,\d+$")
#: the drop-down's labels, as the template offers them (written out here, not imported)
STATUS_LABELS = {
    "Chưa triển khai",
    "Đang triển khai",
    "Hoàn thành",
    "Đang thực hiện thường xuyên",
}


@pytest.fixture(scope="module")
def landed(settings, catalogue, tmp_path_factory):
    """The demo province pulled and checked; returns (settings, manifest, issues by unit)."""
    from testing.province import demo_province, land, own_warehouse, register_entries

    with own_warehouse(settings, DATABASE, tmp_path_factory.mktemp("demo_input")) as (own, server):
        manifest, entries = demo_province(server, PERIOD, seed=SEED)
        register_entries(own, entries)
        pulled, _ = land(own, catalogue, PERIOD)
        assert pulled.new_versions == len(entries)
    issues = defaultdict(list)
    for unit, rule, severity, cell, message in query(
        own.dsn("admin"),
        """
        select unit_code, rule_code, severity, cell_ref, message_vi
        from quality.validation_issues where period_code = %s""",
        (PERIOD,),
    ):
        issues[unit].append((rule, severity, cell, message))
    return own, manifest, issues


def _count(issues, severity: str) -> int:
    return sum(1 for _, s, _, _ in issues if s == severity)


def test_every_scenario_of_the_demo_is_in_the_province(landed):
    _, manifest, _ = landed
    assert set(manifest.scenarios.values()) == {
        "on_time",
        "late",
        "draft",
        "untouched",
        "errors",
        "wrong_unit",
    }


def test_correct_input_gets_no_warning(landed):
    """Goal of issue 21: zero warnings on correct input, over the whole demo province."""
    _, manifest, issues = landed
    units = manifest.units_with(*CORRECT_INPUT_SCENARIOS)
    assert len(units) > 20
    warned = {u: [i for i in issues[u] if i[1] == "warning"] for u in units}
    assert {u: w for u, w in warned.items() if w} == {}


def test_correct_input_gets_no_error_but_the_one_made_on_purpose(landed):
    _, manifest, issues = landed
    for unit in manifest.units_with("on_time", "late"):
        assert issues[unit] == [], unit
    for unit in manifest.units_with("wrong_unit"):
        assert [(rule, severity) for rule, severity, _, _ in issues[unit]] == [
            ("identity.unit", "error")
        ], unit


def test_vietnamese_notation_was_written_and_read_as_the_unit_meant(landed, catalogue):
    """The correct reports do carry the notation that used to be warned about — so the test
    above could fail — and every figure read from them is the one the generator wrote."""
    settings, manifest, _ = landed
    units = manifest.units_with(*CORRECT_INPUT_SCENARIOS)
    rows = query(
        settings.dsn("admin"),
        """
        select unit_code, indicator_code, value_text, value_number, value_reading
        from parsed.indicator_rows where period_code = %s and unit_code = any(%s)""",
        (PERIOD, units),
    )
    written = Counter()
    for unit, code, text, number, reading in rows:
        assert reading == "number", (unit, code, text)
        assert number == manifest.valid_values[unit][code], (unit, code, text)
        kind = catalogue.indicators[code].value_kind
        written["dot thousands"] += kind == "count" and bool(VI_THOUSANDS.match(text))
        written["decimal comma"] += kind == "money" and bool(COMMA_DECIMAL.match(text))
    assert len(rows) == sum(len(manifest.valid_values[u]) for u in units)
    statuses = query(
        settings.dsn("admin"),
        """
        select status_text, status_code from parsed.task_rows
        where period_code = %s and unit_code = any(%s)""",
        (PERIOD, units),
    )
    assert all(code is not None for _, code in statuses)
    for text, _ in statuses:
        if text not in STATUS_LABELS:
            written["status typed"] += 1
            assert text.lower() == text  # lower case, or without diacritics (also lower)
    assert written["dot thousands"] >= 3 and written["decimal comma"] >= 3, written
    assert written["status typed"] >= 3, written


def test_deliberately_wrong_reports_still_get_their_errors_and_warnings(landed, catalogue):
    _, manifest, issues = landed
    programme = manifest.programme_code
    for unit in manifest.units_with("errors"):
        # a status outside the list and an unreadable or negative figure
        assert _count(issues[unit], "error") >= 1, unit
        counts = [i for i in catalogue.indicators_for(programme, unit) if i.value_kind == "count"]
        guessed = [i for i in issues[unit] if i[0] == "indicator.value_interpreted"]
        # "5 buổi": read as 5 by dropping the word, which the unit is asked to confirm
        if len(counts) >= 2:
            assert len(guessed) == 1 and "(đã bỏ chữ “" in guessed[0][3], unit
    for unit in manifest.units_with("draft"):
        blank = manifest.valid_values[unit]
        rules = Counter(rule for rule, _, _, _ in issues[unit])
        # a blank figure is an error: "để trống nghĩa là chưa báo cáo"
        assert rules["indicator.value_missing"] == sum(v is None for v in blank.values()), unit
        assert all(severity == "error" for _, severity, _, _ in issues[unit]), unit
        for rule, _, cell, message in issues[unit]:
            if rule == "indicator.value_missing":
                assert f"(ô {cell.rsplit('!', 1)[1]} đang để trống)" in message
                assert "để trống nghĩa là chưa báo cáo: ghi 0 nếu không có" in message


def test_a_sheet_nobody_opened_gets_one_issue(landed):
    settings, manifest, issues = landed
    untouched = manifest.units_with("untouched")
    assert untouched
    for unit in untouched:
        [(rule, severity, cell, message)] = issues[unit]
        assert (rule, severity, cell) == ("sheet.not_filled", "error", "Nhiệm vụ!G2"), unit
        assert message.startswith("Chưa điền báo cáo")
    flags = dict(
        query(
            settings.dsn("admin"),
            """
            select unit_code, has_content from parsed.report_headers where period_code = %s""",
            (PERIOD,),
        )
    )
    assert flags == {unit: unit not in untouched for unit in manifest.scenarios}


def test_blank_figures_never_reach_a_counted_report(landed):
    """Every figure of a report that may count ("Đã nộp", no error) is there: a blank value
    is an error, so a report with blank figures is not valid."""
    settings, manifest, issues = landed
    clean_submitted = [
        unit
        for unit, scenario in manifest.scenarios.items()
        if scenario not in ("draft", "untouched") and _count(issues[unit], "error") == 0
    ]
    assert clean_submitted
    [(blank,)] = query(
        settings.dsn("admin"),
        """
        select count(*) from parsed.indicator_rows
        where period_code = %s and unit_code = any(%s) and value_reading = 'empty'""",
        (PERIOD, clean_submitted),
    )
    assert blank == 0
    assert all(
        value is not None
        for unit in clean_submitted
        for value in manifest.valid_values[unit].values()
    )
    assert Decimal(0) <= min(
        v for unit in clean_submitted for v in manifest.valid_values[unit].values()
    )
