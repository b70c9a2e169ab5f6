"""A whole reporting cycle through Airflow, checked against what the demo generator made.

Real PostgreSQL, the real Sheets emulator reached through gspread, real Great Expectations,
real dbt, and the real DAG run by `airflow dags test`.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import pytest

from tests.conftest import api_calls, query

PERIOD = "CB-2026-6T"


@pytest.fixture(scope="module")
def demo_run(settings, emulator, tmp_path_factory):
    """The demo's own cycle (`tonghop demo` after its database is up): the province generated
    into the emulator, the three DAGs run by `airflow dags test`, the console's lines kept and
    every tool's output in a log file. Returns (settings, manifest, console text, log path)."""
    import io

    from tooling import console, localdb
    from tooling.demo_setup import demo_cycle

    settings = settings.with_overrides(emulator_url=emulator.url, sheets_backend="emulator")
    out = io.StringIO()
    lines = console.StageLines(out)
    log_path = tmp_path_factory.mktemp("demo-log") / "demo.log"
    emulator.reset_stats()  # the generator writes files; only the DAGs call the API
    with console.log_to_file(log_path) as log_file:
        code, manifest = demo_cycle(
            settings,
            PERIOD,
            seed=7,
            root=emulator.store.root,
            pg_port=localdb.default_cluster().port,
            lines=lines,
            log_file=log_file,
            log_path=log_path,
        )
    assert code == 0, out.getvalue()
    return settings, manifest, out.getvalue(), log_path


@pytest.fixture(scope="module")
def cycle(demo_run):
    """(settings, manifest) of the cycle above."""
    settings, manifest, _, _ = demo_run
    return settings, manifest


def test_the_console_shows_one_line_per_stage_with_counts_and_time(demo_run):
    import re

    from tonghop.progress import STAGES

    _, manifest, text, _ = demo_run
    lines = text.splitlines()
    assert len(lines) <= 20, text  # one screen
    for n, name in enumerate(STAGES.values(), 1):
        [line] = [x for x in lines if x.startswith(f"{n}/5 {name}: ")]
        assert re.search(r"\(\d+ s\)$|\(\d+ phút \d\d s\)$", line), line
    units = len(manifest.scenarios)
    assert f"1/5 Đọc bảng tính: {units} bảng tính đã đọc, {units} phiên bản mới" in text
    assert re.search(rf"2/5 Kiểm tra: {units} báo cáo, \d+ lỗi, \d+ cảnh báo", text)
    assert f"4/5 Phản hồi đơn vị: {units} trang “Kết quả kiểm tra” đã ghi" in text
    assert "Kết quả: phải báo cáo" in text
    for noise in (
        "Traceback",
        "[error]",
        "ERROR",
        "Skipping registering",
        "\x1b",
        "OK created",
        "START sql",
        "WARNING",
    ):  # (dbt's own lines: the log file)
        assert noise not in text, noise


def test_the_log_file_keeps_every_tool_output_without_colour_codes_or_noise(demo_run):
    *_, log_path = demo_run
    log = log_path.read_text(encoding="utf-8")
    assert "airflow dags test tonghop_reporting_cycle" in log.replace("$ ", "")
    assert "Completed successfully" in log or "PASS=" in log  # dbt's own lines are there
    assert "\x1b" not in log
    assert "Skipping registering function" not in log


def test_every_scenario_was_generated(cycle):
    _, manifest = cycle
    assert set(manifest.scenarios.values()) == {
        "on_time",
        "late",
        "draft",
        "untouched",
        "errors",
        "wrong_unit",
    }


def test_submission_status_per_unit_matches_the_generator(cycle):
    settings, manifest = cycle
    rows = query(
        settings.dsn("bi_reader"),
        """
        select unit_code, reporting_status from marts.fct_submission where period_code = %s""",
        (PERIOD,),
    )
    assert dict(rows) == manifest.expected_status()


def test_the_dag_told_every_unit_the_result_of_its_check(cycle):
    settings, manifest = cycle
    rows = query(
        settings.dsn("admin"),
        """
        select unit_code, outcome from ops.feedback_writes where period_code = %s""",
        (PERIOD,),
    )
    assert sorted(rows) == sorted((unit, "written") for unit in manifest.scenarios)


def test_province_summary_counts(cycle):
    settings, manifest = cycle
    expected = Counter(manifest.expected_status().values())
    [(n_expected, actual, on_time, late, missing)] = query(
        settings.dsn("bi_reader"),
        """
        select expected_reports, actual_reports, on_time_reports, late_reports,
               missing_reports
        from marts.agg_province_summary where period_code = %s""",
        (PERIOD,),
    )
    assert n_expected == len(manifest.scenarios)
    assert (on_time, late, missing) == (expected["on_time"], expected["late"], expected["missing"])
    assert actual == on_time + late


def test_indicator_totals_equal_the_sum_of_valid_inputs(cycle, catalogue):
    settings, manifest = cycle
    facts = dict(
        query(
            settings.dsn("bi_reader"),
            """
        select indicator_code, sum(value_number) from marts.fct_indicator_value
        where period_code = %s group by indicator_code""",
            (PERIOD,),
        )
    )
    totals = dict(
        query(
            settings.dsn("bi_reader"),
            """
        select indicator_code, total_value from marts.agg_indicator_totals
        where period_code = %s""",
            (PERIOD,),
        )
    )
    programme_indicators = [
        c for c, i in catalogue.indicators.items() if i.programme_code == manifest.programme_code
    ]
    for code in programme_indicators:
        expected = manifest.indicator_total(code)
        assert Decimal(facts.get(code) or 0) == expected, code
        assert Decimal(totals.get(code) or 0) == expected, code
    assert sum(manifest.indicator_total(c) for c in programme_indicators) > 0


def test_rows_with_errors_are_kept_out_but_recorded(cycle):
    settings, manifest = cycle
    errors_units = manifest.units_with("errors")
    issues = query(
        settings.dsn("admin"),
        """
        select distinct unit_code from quality.validation_issues
        where severity = 'error' and period_code = %s""",
        (PERIOD,),
    )
    assert set(errors_units) <= {u for (u,) in issues}
    rejected = manifest.units_with("wrong_unit")
    in_facts = query(
        settings.dsn("bi_reader"),
        """
        select distinct unit_code from marts.fct_indicator_value where period_code = %s""",
        (PERIOD,),
    )
    assert not set(rejected) & {u for (u,) in in_facts}


def test_publish_wrote_the_summary_spreadsheet_and_xlsx(cycle, emulator):
    from openpyxl import load_workbook

    from sheets_emulator import emulator_client

    settings, manifest = cycle
    [(expected_reports,)] = query(
        settings.dsn("bi_reader"),
        """
        select expected_reports from marts.agg_province_summary where period_code = %s""",
        (PERIOD,),
    )
    files = sorted((settings.output_dir / PERIOD).glob("*/tong_hop_*.xlsx"))
    assert files, "no xlsx in the output folder"
    sheet = load_workbook(files[-1])["Tổng quan"]
    values = {row[0]: row[1] for row in sheet.iter_rows(min_row=4, values_only=True)}
    assert values["Số đơn vị phải báo cáo"] == expected_reports

    client = emulator_client(emulator.url)
    [summary] = [f for f in client.list_spreadsheet_files() if f["name"].startswith("Tổng hợp")]
    overview = client.open_by_key(summary["id"]).worksheet("Tổng quan").get_all_values()
    row = next(r for r in overview if r[0] == "Số đơn vị phải báo cáo")
    assert int(row[1]) == expected_reports


def test_the_publish_dag_left_the_reminder_beside_the_summary(cycle):
    settings, manifest = cycle
    [folder] = {p.parent for p in (settings.output_dir / PERIOD).glob("*/tong_hop_*.xlsx")}
    reminder = (folder / f"nhac_nho_{PERIOD}.txt").read_text(encoding="utf-8")
    missing = [u for u, status in manifest.expected_status().items() if status == "missing"]
    assert missing and all(unit in reminder for unit in missing)


def test_the_demo_mailed_each_unit_still_missing_into_a_mailbox_on_this_machine(
    demo_run, catalogue
):
    """The publish DAG, run for today (after the period's deadline), mailed every unit whose
    report does not count, once, through the SMTP connection the demo gives Airflow; the demo's
    mailbox wrote each mail as an .eml file a person opens in a mail reader."""
    from email import message_from_bytes, policy

    from tooling.demo_setup import mail_folder

    settings, manifest, text, _ = demo_run
    mails = [
        message_from_bytes(path.read_bytes(), policy=policy.default)
        for path in sorted(mail_folder(settings, PERIOD).glob("*.eml"))
    ]
    missing = [u for u, status in manifest.expected_status().items() if status == "missing"]
    assert sorted(m["X-Tonghop-Unit"] for m in mails) == sorted(missing)
    for mail in mails:
        unit = catalogue.unit(mail["X-Tonghop-Unit"])
        assert mail["To"] == unit.contact_email and "đã quá hạn" in mail["Subject"]
        body = mail.get_body(preferencelist=("plain",)).get_content()
        assert f"Kính gửi: {unit.unit_name}" in body and "Báo cáo chưa được tính: " in body
    assert f"Thư nhắc gửi đơn vị: {len(missing)} thư mới" in text


def test_the_mapped_pull_was_recorded_once_with_every_read(cycle):
    settings, manifest = cycle
    [(mode, fetched, calls)] = query(
        settings.dsn("admin"),
        """
        select mode, fetched, api_calls from ops.pull_runs
        where period_code = %s and pull_run_id like 'pull-manual__%%'""",
        (PERIOD,),
    )
    assert (mode, fetched) == ("full", len(manifest.scenarios))
    assert calls == {
        "drive.files.list": 1,
        "sheets.spreadsheets.get": len(manifest.scenarios),
        "drive.files.get": len(manifest.scenarios),
    }


def test_a_cycle_with_nothing_changed_costs_one_listing_call(cycle, emulator):
    """The cycle DAG again with nothing edited: one Drive listing call, no build or
    publication (no "landed" event), and the reminder written from the current marts."""
    from tooling import local_airflow, localdb

    settings, manifest = cycle
    env = local_airflow.airflow_env(settings, localdb.default_cluster().port)
    emulator.reset_stats()
    local_airflow.dags_test(env, PERIOD, full_pull=False, downstream=False)
    assert api_calls(emulator) == {"drive.files.list": 1}
    [(mode, fetched)] = query(
        settings.dsn("admin"),
        """
        select mode, fetched from ops.pull_runs where period_code = %s
        order by started_at desc limit 1""",
        (PERIOD,),
    )
    assert (mode, fetched) == ("changed", 0)
    reminders = sorted(
        (settings.output_dir / PERIOD).glob("*/nhac_nho_*.txt"), key=lambda p: p.stat().st_mtime
    )
    newest = reminders[-1].parent
    assert not list(newest.glob("tong_hop_*.xlsx")), "published although nothing changed"
    missing = [u for u, status in manifest.expected_status().items() if status == "missing"]
    assert all(unit in reminders[-1].read_text(encoding="utf-8") for unit in missing)


def test_raw_keeps_every_version_and_a_second_pull_adds_nothing(cycle, catalogue):
    from ingest.pull import pull_period

    settings, manifest = cycle
    count = (
        "select count(*) from raw.sheet_versions v join ops.sheet_registry r "
        "using (spreadsheet_id) where r.period_code = %s"
    )
    [(before,)] = query(settings.dsn("admin"), count, (PERIOD,))
    assert before == len(manifest.scenarios)
    changed_only = pull_period(settings, catalogue, PERIOD)  # nothing changed in Drive
    assert (changed_only.mode, changed_only.fetched) == ("changed", 0)
    full = pull_period(settings, catalogue, PERIOD, mode="full")  # read all again
    [(after,)] = query(settings.dsn("admin"), count, (PERIOD,))
    assert after == before
    assert full.unchanged == len(manifest.scenarios) and full.new_versions == 0


def test_the_demo_never_dates_an_edit_in_the_future(catalogue):
    import datetime as dt

    from tooling.demo import generate_province

    now = dt.datetime(2026, 11, 23, tzinfo=dt.UTC)  # CB-2026-NAM is due 30/11
    reports, manifest = generate_province(catalogue, "CB-2026-NAM", seed=1, now=now)
    assert all(r.modified_time <= now for r in reports)
    assert "late" not in manifest.scenarios.values()  # nobody can be late yet
    assert {r.unit_code: r.scenario for r in reports} == manifest.scenarios
