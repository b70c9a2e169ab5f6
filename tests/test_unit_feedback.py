"""The malformed-report corpus through the real pipeline, and what each unit is told.

Every corpus case and the clean units are one spreadsheet each in an emulator; one pull lands
them, one validation run checks them all, and each unit's spreadsheet gets its "Kết quả kiểm
tra" tab. The previous 6-month period is landed first, so that a figure far out of line with
it is flagged. Everything runs in its own warehouse database (``tonghop_feedback``), so the
periods used here do not collide with the other tests.
"""

from __future__ import annotations

import urllib.parse
from collections import defaultdict
from pathlib import Path

import pytest
from validation_corpus import (
    CASES,
    CLEAN_UNITS,
    CORPUS_PERIOD,
    CaseContext,
    build_case_workbook,
    build_clean_workbook,
)

from tests.conftest import api_calls, query

DATABASE = "tonghop_feedback"
PREVIOUS = "CB-2026-6T"
OFFICIAL = "vanhoa@caobang.gov.vn"  # units edit as themselves, not as the pipeline
INDICATOR = "CB.CT02"  # "lượt người": the corpus fills 860
CHECK_HEADER_ROW = 7  # 1-based row of the problems table's header


def _free_units(catalogue, count: int) -> list[str]:
    used = {c.unit_code for c in CASES} | set(CLEAN_UNITS)
    previous = {u.unit_code for u in catalogue.expected_units(PREVIOUS)}
    free = [
        u.unit_code
        for u in catalogue.expected_units(CORPUS_PERIOD)
        if u.unit_code not in used
        and u.unit_code in previous
        and INDICATOR
        in {i.indicator_code for i in catalogue.indicators_for("CB-KH84", u.unit_code)}
    ]
    assert len(free) >= count, "not enough units left for the out-of-line cases"
    return free[:count]


@pytest.fixture(scope="module")
def world(settings, catalogue, tmp_path_factory):
    """An emulator holding the corpus (current period) and last year's reports of some units;
    a warehouse database of its own; everything registered."""
    import psycopg2

    from ingest.registry import RegistryEntry, register
    from sheets.layout import app_properties, spreadsheet_title
    from sheets_emulator import EmulatorServer
    from tooling import localdb
    from tooling.demo_setup import demo_spreadsheet_id

    localdb.ensure_warehouse(DATABASE)
    server = EmulatorServer(
        tmp_path_factory.mktemp("feedback_emulator"), host="127.0.0.1", port=0
    ).start()
    own = settings.for_database(DATABASE).with_overrides(emulator_url=server.url)
    jumped, explained = _free_units(catalogue, 2)

    books: dict[tuple[str, str], object] = {}
    for case in CASES:
        books[(CORPUS_PERIOD, case.unit_code)] = build_case_workbook(case, catalogue)
    for unit in (*CLEAN_UNITS, jumped, explained):
        books[(CORPUS_PERIOD, unit)] = build_clean_workbook(unit, catalogue)
    ctx = CaseContext(catalogue, explained, CORPUS_PERIOD)
    ctx.indicator_cell(
        books[(CORPUS_PERIOD, explained)], INDICATOR, "note"
    ).value = "Năm nay tổ chức Liên hoan cấp tỉnh tại địa phương"
    # last year's six months: the same figures for the clean units, far fewer for the others
    for unit in (*CLEAN_UNITS, jumped, explained):
        book = build_clean_workbook(unit, catalogue, PREVIOUS)
        if unit in (jumped, explained):
            CaseContext(catalogue, unit, PREVIOUS).indicator_cell(book, INDICATOR).value = 40
        books[(PREVIOUS, unit)] = book

    entries, ids = [], {}
    with server.store.batch():
        for (period, unit), book in books.items():
            sid = server.store.put_workbook(
                demo_spreadsheet_id(period, unit),
                book,
                name=spreadsheet_title(catalogue, unit, period),
                app_properties=app_properties(unit, period),
            )
            ids[(period, unit)] = sid
            entries.append(RegistryEntry(sid, "CB-KH84", period, unit))
    conn = psycopg2.connect(own.dsn("loader"))
    try:
        register(conn, entries)
    finally:
        conn.close()
    yield own, server, ids, {"jumped": jumped, "explained": explained}
    server.stop()


@pytest.fixture(scope="module")
def cycle(world, catalogue):
    """Last period pulled and checked, then this period: pull, check, tell the units."""
    from expectations.landed import validate_landed
    from ingest.pull import pull_period
    from publish.unit_feedback import write_feedback

    settings, server, ids, units = world
    pull_period(settings, catalogue, PREVIOUS)
    validate_landed(settings, catalogue, PREVIOUS)
    pulled = pull_period(settings, catalogue, CORPUS_PERIOD)
    validated = validate_landed(settings, catalogue, CORPUS_PERIOD, pulled.pull_run_id)
    server.reset_stats()
    told = write_feedback(settings, catalogue, CORPUS_PERIOD)
    return {
        "pulled": pulled,
        "validated": validated,
        "told": told,
        "feedback_calls": api_calls(server),
    }


def issues_by_unit(settings, run_id: int) -> dict[str, set[tuple[str, str | None]]]:
    out: dict[str, set] = defaultdict(set)
    for unit, rule, cell in query(
        settings.dsn("admin"),
        """
            select unit_code, rule_code, cell_ref from quality.validation_issues
            where validation_run_id = %s""",
        (run_id,),
    ):
        out[unit].add((rule, cell))
    return out


def check_tab_values(server, spreadsheet_id: str) -> list[list[str]]:
    from sheets_emulator import emulator_client

    sheet = emulator_client(server.url, user=OFFICIAL).open_by_key(spreadsheet_id)
    return sheet.worksheet("Kết quả kiểm tra").get_all_values()


def test_every_case_is_found_by_the_pipeline_with_its_rule_and_cell(world, cycle):
    settings = world[0]
    found = issues_by_unit(settings, cycle["validated"].validation_run_id)
    assert cycle["pulled"].new_versions == len(CASES) + len(CLEAN_UNITS) + 2
    wrong = {}
    for case in CASES:
        expected = {(e.rule_code, e.cell_ref) for e in case.expected}
        if found.get(case.unit_code, set()) != expected:
            wrong[case.name] = (expected, found.get(case.unit_code, set()))
    assert not wrong


def test_well_formed_units_in_the_same_run_are_unaffected(world, cycle):
    settings = world[0]
    found = issues_by_unit(settings, cycle["validated"].validation_run_id)
    for unit in CLEAN_UNITS:
        assert unit not in found
    [(quarantined,)] = query(
        settings.dsn("admin"),
        """
        select count(*) from quality.quarantined_rows where unit_code = any(%s)""",
        (list(CLEAN_UNITS),),
    )
    assert quarantined == 0


def test_each_unit_gets_its_check_tab_with_status_cells_and_fixes(world, cycle):
    from validation_corpus import CASES as cases

    settings, server, ids, _ = world
    told = cycle["told"]
    reports = len(CASES) + len(CLEAN_UNITS) + 2
    assert (told.tabs_written, told.failed) == (reports, 0)
    # one batchUpdate per spreadsheet, nothing else
    assert cycle["feedback_calls"] == {"sheets.spreadsheets.batchUpdate": reports}

    clean = check_tab_values(server, ids[(CORPUS_PERIOD, CLEAN_UNITS[0])])
    assert clean[2][:2] == ["Kết quả", "Hợp lệ"]
    assert clean[3][0] == "Thời điểm kiểm tra" and " ngày " in clean[3][1]
    assert len(clean) == CHECK_HEADER_ROW + 1 and "Không có lỗi" in clean[-1][4]

    for case in cases:
        values = check_tab_values(server, ids[(CORPUS_PERIOD, case.unit_code)])
        errors = sum(e.severity == "error" for e in case.expected)
        warnings = len(case.expected) - errors
        status = values[2][1]
        if errors:
            assert status == f"Có lỗi: {errors} lỗi, {warnings} cảnh báo", case.name
        else:
            assert status.startswith("Hợp lệ"), case.name
        header, problems = values[CHECK_HEADER_ROW - 1], values[CHECK_HEADER_ROW:]
        assert header == [
            "STT",
            "Mức độ",
            "Trang",
            "Ô",
            "Vấn đề",
            "Giá trị hiện có",
            "Yêu cầu",
            "Cách sửa",
        ]
        if not case.expected:
            assert len(problems) == 1 and "Không có lỗi" in problems[0][4], case.name
            continue
        assert len(problems) == len(case.expected), case.name
        for expected in case.expected:
            tab, _, cell = (expected.cell_ref or "").rpartition("!")
            match = [
                p
                for p in problems
                if p[3] == cell and (not tab or p[2] == tab) and expected.message_contains in p[4]
            ]
            assert match, (case.name, expected)
            assert match[0][1] == {"error": "Lỗi", "warning": "Cảnh báo"}[expected.severity]
            assert match[0][7], f"{case.name}: no fix given"


def test_every_rule_on_every_report_is_kept_per_run(world, cycle):
    settings = world[0]
    from expectations.runner import load_suites

    run_id = cycle["validated"].validation_run_id
    all_rules = {
        e["meta"]["rule"] for suite in load_suites().values() for e in suite["expectations"]
    }
    rows = query(
        settings.dsn("admin"),
        """
        select unit_code, rule_code, rows_checked, rows_failed from quality.rule_results
        where validation_run_id = %s""",
        (run_id,),
    )
    by_unit = defaultdict(dict)
    for unit, rule, checked, failed in rows:
        by_unit[unit][rule] = (checked, failed)
    for unit in CLEAN_UNITS:  # rows in every part: every rule ran, none failed
        assert set(by_unit[unit]) == all_rules
        assert all(failed == 0 and checked > 0 for checked, failed in by_unit[unit].values())
    found = issues_by_unit(settings, run_id)
    for unit, issues in found.items():
        for rule, _ in issues:
            assert by_unit[unit][rule][1] >= 1, (unit, rule)
    # what engineers query: failures per rule over the run equal the issues stored
    per_rule = dict(
        query(
            settings.dsn("admin"),
            """
        select rule_code, sum(rows_failed) from quality.rule_results
        where validation_run_id = %s group by rule_code having sum(rows_failed) > 0""",
            (run_id,),
        )
    )
    issues = dict(
        query(
            settings.dsn("admin"),
            """
        select rule_code, count(distinct (sheet_version_id, unit_code, coalesce(row_key, cell_ref)))
        from quality.validation_issues where validation_run_id = %s group by rule_code""",
            (run_id,),
        )
    )
    assert per_rule == issues


def test_rows_with_errors_are_quarantined_as_read(world, cycle):
    settings = world[0]
    run_id = cycle["validated"].validation_run_id
    errors = query(
        settings.dsn("admin"),
        """
        select distinct i.unit_code, i.part, i.row_key, i.rule_code
        from quality.validation_issues i
        where i.validation_run_id = %s and i.severity = 'error' and i.row_key is not null
          and not i.blocks_version""",
        (run_id,),
    )
    assert errors
    quarantined = {
        (u, p, k): set(rules)
        for u, p, k, rules in query(
            settings.dsn("admin"),
            """
        select unit_code, part, row_key, rule_codes from quality.quarantined_rows
        where validation_run_id = %s""",
            (run_id,),
        )
    }
    for unit, part, key, rule in errors:
        assert rule in quarantined[(unit, part, key)]
    # a version rejected as a whole: every one of its rows is kept aside
    wrong_unit = next(c for c in CASES if any(e.blocks_version for e in c.expected))
    [(rows, in_quarantine)] = query(
        settings.dsn("admin"),
        """
        select (select count(*) from parsed.task_rows where unit_code = %(u)s
                  and period_code = %(p)s)
             + (select count(*) from parsed.indicator_rows where unit_code = %(u)s
                  and period_code = %(p)s)
             + (select count(*) from parsed.feedback_rows where unit_code = %(u)s
                  and period_code = %(p)s),
               (select count(*) from quality.quarantined_rows where unit_code = %(u)s
                  and period_code = %(p)s)""",
        {"u": wrong_unit.unit_code, "p": CORPUS_PERIOD},
    )
    assert rows > 0 and in_quarantine == rows


def test_a_figure_far_from_last_period_is_a_warning_unless_explained(world, cycle):
    settings, server, ids, units = world
    found = issues_by_unit(settings, cycle["validated"].validation_run_id)
    out_of_line = {
        unit
        for unit, issues in found.items()
        for rule, _ in issues
        if rule == "indicator.out_of_line"
    }
    assert out_of_line == {units["jumped"]}
    [(cell, message, fix)] = query(
        settings.dsn("admin"),
        """
        select cell_ref, message_vi, fix_vi from quality.validation_issues
        where unit_code = %s and rule_code = 'indicator.out_of_line'""",
        (units["jumped"],),
    )
    assert cell.startswith("Chỉ tiêu!E")
    assert message == (
        "Số liệu “860” khác xa kỳ trước: Báo cáo 6 tháng đầu năm 2026 đơn vị báo cáo 40."
    )
    assert "Ghi chú" in fix


def test_a_run_with_nothing_new_is_recorded_too(world, cycle, catalogue):
    from expectations.landed import validate_landed

    settings = world[0]
    again = validate_landed(settings, catalogue, CORPUS_PERIOD)
    assert again.reports == 0 and again.validation_run_id is not None
    [(reports, period)] = query(
        settings.dsn("admin"),
        """
        select reports, period_code from quality.validation_runs
        where validation_run_id = %s""",
        (again.validation_run_id,),
    )
    assert (reports, period) == (0, CORPUS_PERIOD)


def test_data_docs_are_built_for_engineers(cycle):
    url = cycle["validated"].data_docs_path
    assert url and url.startswith("file://")
    index = Path(urllib.parse.unquote(urllib.parse.urlparse(url).path))
    assert index.name == "index.html" and index.exists()
    html = index.read_text(encoding="utf-8")
    for part in ("headers", "tasks", "indicators", "feedback"):
        assert f"unit_report_{part}" in html


def test_our_own_tab_is_not_read_back_and_a_fix_is_answered(world, cycle, catalogue):
    """After the tabs are written, a pull reads nothing (the only change is ours); when a unit
    fixes its cell, only that sheet is read, checked and answered, and its tab is redrawn."""
    from expectations.landed import validate_landed
    from ingest.pull import pull_period
    from publish.unit_feedback import write_feedback
    from sheets_emulator import emulator_client

    settings, server, ids, _ = world
    server.reset_stats()
    quiet = pull_period(settings, catalogue, CORPUS_PERIOD)
    assert quiet.mode == "changed"
    assert (quiet.fetched, quiet.skipped_own_writes) == (0, cycle["told"].tabs_written)
    assert api_calls(server) == {"drive.files.list": 1}

    case = next(c for c in CASES if c.name == "status_outside_list")
    [expected] = case.expected
    tab, cell = expected.cell_ref.split("!")
    sid = ids[(CORPUS_PERIOD, case.unit_code)]
    emulator_client(server.url, user=OFFICIAL).http_client.values_update(
        sid,
        f"'{tab}'!{cell}",
        params={"valueInputOption": "RAW"},
        body={"values": [["Đang triển khai"]]},
    )
    server.reset_stats()
    fixed = pull_period(settings, catalogue, CORPUS_PERIOD)
    assert (fixed.fetched, fixed.new_versions) == (1, 1)
    checked = validate_landed(settings, catalogue, CORPUS_PERIOD, fixed.pull_run_id)
    assert (checked.reports, checked.errors) == (1, 0)
    told = write_feedback(settings, catalogue, CORPUS_PERIOD)
    assert (told.spreadsheets, told.tabs_written) == (1, 1)
    assert api_calls(server) == {
        "drive.files.list": 1,
        "sheets.spreadsheets.get": 1,
        "drive.files.get": 1,
        "sheets.spreadsheets.batchUpdate": 1,
    }
    values = check_tab_values(server, sid)
    assert values[2][1] == "Hợp lệ"
    assert len(values) == CHECK_HEADER_ROW + 1  # the old problem row is gone
    # and the raw version of the fixed sheet holds the unit's tabs only
    [(titles,)] = query(
        settings.dsn("admin"),
        """
        select array_agg(s -> 'properties' ->> 'title') from raw.sheet_versions v,
               jsonb_array_elements(v.payload -> 'sheets') s
        where v.sheet_version_id = (select max(sheet_version_id) from raw.sheet_versions
                                    where spreadsheet_id = %s)""",
        (sid,),
    )
    assert "Kết quả kiểm tra" not in titles
