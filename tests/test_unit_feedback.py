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
YEAR = "CB-2027-NAM"  # the "Đã nộp" trap and a sheet nobody opened
OFFICIAL = "vanhoa@caobang.gov.vn"  # units edit as themselves, not as the pipeline
INDICATOR = "CB.CT02"  # "lượt người": the corpus fills 860
CHECK_HEADER_ROW = 4  # 1-based row of the problems table's header
TABLE_HEADER = ["STT", "Mức độ", "Trang", "Ô", "Vấn đề", "Giá trị hiện có", "Yêu cầu", "Cách sửa"]


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
    from sheets.layout import report_tabs
    from sheets.template import write_workbook
    from testing.province import own_warehouse, put_workbooks, register_entries

    jumped, explained = _free_units(catalogue, 2)
    # the corpus uses every unit of its period: these two report for the year's period
    trap, blank = [u.unit_code for u in catalogue.expected_units(YEAR)][:2]

    books: dict[tuple[str, str], object] = {}
    for case in CASES:
        books[(CORPUS_PERIOD, case.unit_code)] = build_case_workbook(case, catalogue)
    for unit in (*CLEAN_UNITS, jumped, explained):
        books[(CORPUS_PERIOD, unit)] = build_clean_workbook(unit, catalogue)
    # the "Đã nộp" trap: a valid report left at "Chưa nộp"
    books[(YEAR, trap)] = build_clean_workbook(trap, catalogue, YEAR)
    CaseContext(catalogue, trap, YEAR).info_cell(
        books[(YEAR, trap)], "submitted"
    ).value = "Chưa nộp"
    # a sheet as provisioned, never opened
    books[(YEAR, blank)] = write_workbook(report_tabs(catalogue, blank, YEAR))
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

    folder = tmp_path_factory.mktemp("feedback")
    with own_warehouse(settings, DATABASE, folder) as (own, server):
        ids = {}
        for period in {p for p, _ in books}:
            of_period = {u: book for (p, u), book in books.items() if p == period}
            entries = put_workbooks(server, catalogue, period, of_period, "CB-KH84")
            register_entries(own, entries.values())
            ids |= {(period, u): e.spreadsheet_id for u, e in entries.items()}
        yield (
            own,
            server,
            ids,
            {"jumped": jumped, "explained": explained, "trap": trap, "blank": blank},
        )


@pytest.fixture(scope="module")
def cycle(world, catalogue):
    """Last period pulled and checked, then this period: pull, check, build the units' states,
    tell the units."""
    from expectations.landed import validate_landed
    from ingest.pull import pull_period
    from publish.unit_feedback import write_feedback
    from testing.marts import build_submission_states

    settings, server, ids, units = world
    pull_period(settings, catalogue, PREVIOUS)
    validate_landed(settings, catalogue, PREVIOUS)
    pulled = pull_period(settings, catalogue, CORPUS_PERIOD)
    validated = validate_landed(settings, catalogue, CORPUS_PERIOD, pulled.pull_run_id)
    pull_period(settings, catalogue, YEAR)
    validate_landed(settings, catalogue, YEAR)
    build_submission_states(settings)
    write_feedback(settings, catalogue, YEAR)
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


def expected_sentence(
    catalogue, *, submitted: bool, blocked: bool, errors: int, period_code: str = CORPUS_PERIOD
) -> str:
    """What the tab's second line must say, from the scenario alone: every report here is
    received now, before its period's deadline."""
    import datetime as dt

    period = catalogue.period(period_code)
    assert dt.datetime.now(dt.UTC) < period.on_time_until  # so "đúng hạn", not yet overdue
    deadline = f"hạn nộp {period.deadline_vi}"
    if submitted and not blocked and not errors:
        return f"Báo cáo đã được tính: nộp hợp lệ, đúng hạn (nhận lúc |; {deadline})."
    if submitted and blocked:
        return (
            f"Báo cáo chưa được tính: còn {errors} lỗi cần sửa, trong đó có lỗi khiến cả bảng "
            f"tính không được nhận (xem bảng các vấn đề); {deadline}."
        )
    if submitted:
        return (
            f"Báo cáo chưa được tính: còn {errors} lỗi cần sửa (xem bảng các vấn đề); {deadline}."
        )
    also = f", và sửa {errors} lỗi" if errors else ""
    return (
        "Báo cáo chưa được tính: đã điền nhưng chưa chọn “Đã nộp” tại ô Thông tin!B14"
        f"{also}; {deadline}."
    )


def chose_submitted(book) -> bool:
    """Whether the unit chose "Đã nộp" in the workbook as it sent it (a deleted "Thông tin"
    tab, or another word in the cell: not)."""
    import unicodedata

    from sheets import layout

    if layout.TAB_INFO not in book.sheetnames:
        return False
    ws = book[layout.TAB_INFO]
    for label, value in ws.iter_rows(min_col=1, max_col=2, values_only=True):
        if unicodedata.normalize("NFC", str(label or "")) == "Đã nộp":
            return unicodedata.normalize("NFC", str(value or "")).strip().casefold() == "đã nộp"
    return False


def assert_says(line: str, expected: str, name: str) -> None:
    """``line`` is ``expected``, where ``|`` in ``expected`` stands for any text."""
    import re

    pattern = ".*".join(re.escape(part) for part in expected.split("|"))
    assert re.fullmatch(pattern, line), (name, line, expected)


def test_each_unit_gets_its_check_tab_with_state_cells_and_fixes(world, cycle, catalogue):
    from validation_corpus import CASES as cases

    settings, server, ids, units = world
    told = cycle["told"]
    reports = len(CASES) + len(CLEAN_UNITS) + 2
    assert (told.tabs_written, told.failed, told.awaiting_build) == (reports, 0, 0)
    # one batchUpdate per spreadsheet, nothing else
    assert cycle["feedback_calls"] == {"sheets.spreadsheets.batchUpdate": reports}

    clean = check_tab_values(server, ids[(CORPUS_PERIOD, CLEAN_UNITS[0])])
    unit_name = catalogue.unit(CLEAN_UNITS[0]).unit_name
    assert clean[0][0] == f"KẾT QUẢ KIỂM TRA BÁO CÁO – {unit_name}"
    assert_says(
        clean[1][0], expected_sentence(catalogue, submitted=True, blocked=False, errors=0), "clean"
    )
    assert clean[2][0].startswith("Kỳ báo cáo: ") and "Kết quả kiểm tra: Hợp lệ" in clean[2][0]
    assert "Kiểm tra lúc " in clean[2][0] and " ngày " in clean[2][0]
    assert clean[CHECK_HEADER_ROW - 1] == TABLE_HEADER
    assert len(clean) == CHECK_HEADER_ROW + 1 and "Không có lỗi" in clean[-1][4]

    for case in cases:
        values = check_tab_values(server, ids[(CORPUS_PERIOD, case.unit_code)])
        errors = sum(e.severity == "error" for e in case.expected)
        warnings = len(case.expected) - errors
        submitted = chose_submitted(build_case_workbook(case, catalogue))
        blocked = any(e.blocks_version for e in case.expected)
        assert_says(
            values[1][0],
            expected_sentence(catalogue, submitted=submitted, blocked=blocked, errors=errors),
            case.name,
        )
        if errors:
            assert f"Kết quả kiểm tra: Có lỗi: {errors} lỗi, {warnings} cảnh báo" in values[2][0]
        else:
            assert "Kết quả kiểm tra: Hợp lệ" in values[2][0], case.name
        header, problems = values[CHECK_HEADER_ROW - 1], values[CHECK_HEADER_ROW:]
        assert header == TABLE_HEADER
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


def test_the_da_nop_trap_and_an_untouched_sheet_are_named_first(world, cycle, catalogue):
    """A valid report left at "Chưa nộp" is told where to choose "Đã nộp"; a sheet nobody
    filled is told so in one sentence, without a list of problems."""
    settings, server, ids, units = world
    trap = check_tab_values(server, ids[(YEAR, units["trap"])])
    assert_says(
        trap[1][0],
        expected_sentence(catalogue, submitted=False, blocked=False, errors=0, period_code=YEAR),
        "trap",
    )
    blank = check_tab_values(server, ids[(YEAR, units["blank"])])
    period = catalogue.period(YEAR)
    assert blank[1][0] == (
        "Báo cáo chưa được tính: chưa điền báo cáo — điền các trang báo cáo rồi chọn “Đã nộp” "
        f"tại ô Thông tin!B14; hạn nộp {period.deadline_vi}."
    )
    assert len(blank) == 3 and "Kết quả kiểm tra" not in blank[2][0]  # no table of errors
    [(state_trap,), (state_blank,)] = [
        query(
            settings.dsn("admin"),
            "select submission_state from marts.fct_submission "
            "where period_code = %s and unit_code = %s",
            (YEAR, unit),
        )[0]
        for unit in (units["trap"], units["blank"])
    ]
    assert (state_trap, state_blank) == ("chua_chon_da_nop", "chua_dien")


def test_the_offline_wording_of_a_version_agrees_with_the_marts(world, cycle):
    """``tonghop check`` says what a file would be without the marts (publish.unit_state
    .version_state); on every report here it agrees with fct_submission's rule."""
    from publish.unit_state import version_state

    settings = world[0]
    rows = query(
        settings.dsn("admin"),
        """
        select unit_code, submission_state, latest_has_content, latest_is_submitted,
               latest_is_blocked, latest_error_count
        from marts.fct_submission
        where period_code in (%s, %s) and latest_sheet_version_id is not null""",
        (CORPUS_PERIOD, YEAR),
    )
    assert len(rows) == len(CASES) + len(CLEAN_UNITS) + 2 + 2
    disagree = {
        unit: (state, would)
        for unit, state, content, submitted, blocked, errors in rows
        if (
            would := version_state(
                has_content=content,
                is_submitted=submitted,
                is_blocked=blocked,
                error_count=errors,
            )
        )
        != ("hop_le" if state in ("hop_le_dung_han", "hop_le_tre_han") else state)
    }
    assert not disagree
    assert {r[1] for r in rows} >= {"hop_le_dung_han", "con_loi", "chua_chon_da_nop", "chua_dien"}


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
    from testing.marts import build_submission_states

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
    build_submission_states(settings)
    told = write_feedback(settings, catalogue, CORPUS_PERIOD)
    assert (told.spreadsheets, told.tabs_written) == (1, 1)
    assert api_calls(server) == {
        "drive.files.list": 1,
        "sheets.spreadsheets.get": 1,
        "drive.files.get": 1,
        "sheets.spreadsheets.batchUpdate": 1,
    }
    values = check_tab_values(server, sid)
    assert values[1][0].startswith("Báo cáo đã được tính: nộp hợp lệ, đúng hạn")
    assert "Kết quả kiểm tra: Hợp lệ" in values[2][0]
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


def test_a_tab_is_written_again_when_only_the_state_changes(world, cycle, catalogue):
    """Nothing new in any sheet, but the deadline has passed on the build's day: the units
    whose report does not count are told it is overdue; the counted ones are left alone."""
    import datetime as dt

    from publish.unit_feedback import write_feedback
    from testing.marts import build_submission_states

    settings, server, ids, units = world
    period = catalogue.period(YEAR)
    after = period.on_time_until.date() + dt.timedelta(days=2)
    build_submission_states(settings, as_of_date=after)
    server.reset_stats()
    told = write_feedback(settings, catalogue, YEAR)
    # both of the year's reports do not count (the trap, the blank sheet): both told
    assert (told.tabs_written, told.failed) == (2, 0)
    assert api_calls(server) == {"sheets.spreadsheets.batchUpdate": 2}
    for unit in (units["trap"], units["blank"]):
        line = check_tab_values(server, ids[(YEAR, unit)])[1][0]
        assert line.endswith(f"hạn nộp {period.deadline_vi}, đã quá hạn."), line
    # the same state again: nothing to say
    assert write_feedback(settings, catalogue, YEAR).tabs_written == 0
    build_submission_states(settings)  # back to today, for the tests after


def exported_check_tab(server, spreadsheet_id: str, folder: Path) -> Path:
    """The unit's spreadsheet as a unit downloads it for Excel (Drive's xlsx export), with only
    the "Kết quả kiểm tra" tab kept, set to print on A4 landscape fitted to the width."""
    from gspread.utils import ExportFormat
    from openpyxl import load_workbook

    from sheets import layout
    from sheets_emulator import emulator_client

    sheet = emulator_client(server.url, user=OFFICIAL).open_by_key(spreadsheet_id)
    path = folder / f"{spreadsheet_id[:8]}.xlsx"
    path.write_bytes(sheet.export(ExportFormat.EXCEL))
    book = load_workbook(path)
    for title in book.sheetnames:
        if title != layout.TAB_CHECK:
            del book[title]
    ws = book[layout.TAB_CHECK]
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    book.save(path)
    return path


def test_the_check_tab_reads_as_lines_of_text_in_excel_and_on_paper(world, cycle, tmp_path):
    """The tab as a unit opens it in Excel, and printed (LibreOffice's PDF): the title and the
    two sentences are merged across the table's width and tall enough for their lines; only the
    rows down to the table's header are frozen; wrap only in the table; and every word of the
    tab is printed whole (a sentence squeezed into column A prints as a strip of letters)."""
    import subprocess

    from openpyxl import load_workbook

    from publish.check_tab import COLUMNS, text_lines
    from publish.report import render_pdf
    from sheets import layout

    settings, server, ids, units = world
    worst = max(CASES, key=lambda c: (sum(e.severity == "error" for e in c.expected), c.name))
    for key in ((CORPUS_PERIOD, worst.unit_code), (YEAR, units["blank"])):
        path = exported_check_tab(server, ids[key], tmp_path)
        ws = load_workbook(path)[layout.TAB_CHECK]
        merged = {str(r) for r in ws.merged_cells.ranges}
        assert {"A1:H1", "A2:H2", "A3:H3"} <= merged, merged
        table = key[0] == CORPUS_PERIOD
        assert ws.freeze_panes == ("A5" if table else None)
        widths = [ws.column_dimensions[layout.column_letter(c)].width for c in range(len(COLUMNS))]
        merged_width = sum(widths)
        for row in (2, 3):  # the sentences: tall enough for the lines they wrap into
            text = ws.cell(row=row, column=1).value
            height_lines = ws.row_dimensions[row].height / 15.75
            assert text_lines(text, int(merged_width * 0.95)) <= height_lines + 0.01, (row, text)
            assert ws.cell(row=row, column=1).alignment.wrap_text
        for row in ws.iter_rows(min_row=4):  # the table: every cell tall enough, wrapped
            for cell in row:
                if isinstance(cell.value, str) and cell.value:
                    assert cell.alignment.wrap_text, cell.coordinate
                    lines = ws.row_dimensions[cell.row].height / 15.75
                    needed = text_lines(cell.value, int(widths[cell.column - 1] * 0.9))
                    assert needed <= lines + 0.01, (cell.coordinate, cell.value)
        # printed: every word whole
        pdf = render_pdf(path)
        printed = subprocess.run(
            ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
        ).stdout
        printed_words = set(printed.split())
        written = {
            word
            for row in ws.iter_rows(values_only=True)
            for value in row
            if isinstance(value, str)
            for word in value.split()
        }
        assert written and not written - printed_words, sorted(written - printed_words)[:10]
        first_page = " ".join(printed.split("\f")[0].split())
        assert " ".join(ws["A2"].value.split()) in first_page  # the sentence that matters
