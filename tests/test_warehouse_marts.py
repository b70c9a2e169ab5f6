"""Reconciliation: what the marts say equals what the landed rows say, computed here
independently of the dbt models.

A demo province's reports for CB-2026-6T are landed through the real pipeline (emulator,
pull, Great Expectations) in a warehouse database of its own (``tonghop_marts``) — a sample
of the province's units, every scenario of the demo among them, so that the test stays quick;
the others are missing reports. Then some units edit their sheets, so that some reports have
several versions, among them versions that must not count (switched back to "Chưa nộp", or
with the unit code overwritten) and a version with a new error. After a real ``dbt build``,
the marts are compared with figures computed in Python from the source tables only (raw,
parsed, quality, ops — read as admin) and the Python catalogue, following the rules the
warehouse documents:

- a report = one unit's part of one sheet version; its verdict is that of its latest validation
  run (the highest run id among its header, its rule results and its issues);
- a version is valid when it is submitted ("Đã nộp"), no issue of its latest run rejects it
  as a whole and none is an error; only versions received (Drive modifiedTime, else fetch
  time, as a Vietnamese date) by today count; the figures of each expected unit are those of
  its latest valid version, and a unit without one adds nothing (a "Đã nộp" version with
  errors is not counted, even though its other rows are clean);
- in the counted version, rows with an error in that run are left out; when an indicator or a
  task appears on several rows, the first row counts.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections import Counter, defaultdict
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import query
from tonghop.catalogue import CATALOGUE_DIR

DATABASE = "tonghop_marts"
PERIOD = "CB-2026-6T"  # in this test's own database
SEED = 5
REPORTING_PER_SCENARIO = 3  # units of each demo scenario whose sheets are registered
VN = ZoneInfo("Asia/Ho_Chi_Minh")
UNIT_OFFICIAL = "vanhoa.xa@caobang.gov.vn"  # units edit as themselves, not as the pipeline


def info_cell(key: str) -> str:
    """A1 reference of a field's value in the "Thông tin" tab (title rows, then one per field)."""
    from sheets import layout

    return f"'{layout.TAB_INFO}'!B{4 + [k for k, _, _ in layout.INFO_FIELDS].index(key)}"


def first_indicator_value_cell() -> str:
    from sheets import layout

    column = layout.column_letter(layout.column_index(layout.INDICATOR_COLUMNS, "value"))
    return f"'{layout.TAB_INDICATORS}'!{column}2"


@pytest.fixture(scope="module")
def landed(settings, catalogue, tmp_path_factory):
    """The province landed and checked, then edits by five units pulled and checked, then
    `dbt build`; returns (settings, manifest, edits: unit -> what was done)."""
    from pipeline.dbt import run_dbt
    from sheets_emulator import emulator_client
    from testing.province import demo_province, land, own_warehouse, register_entries
    from tooling.demo_setup import demo_spreadsheet_id

    tmp = tmp_path_factory.mktemp("marts")
    with own_warehouse(settings, DATABASE, tmp) as (own, server):
        manifest, entries = demo_province(server, PERIOD, seed=SEED)
        programme = manifest.programme_code
        with_indicators = [
            u for u in manifest.units_with("on_time") if catalogue.indicators_for(programme, u)
        ]
        drafts = manifest.units_with("draft")
        assert len(with_indicators) >= 4 and drafts, "the demo lacks units to edit: change SEED"
        # a sample of the province (to keep the test quick): every scenario, the units to edit
        sample = set(with_indicators[: REPORTING_PER_SCENARIO + 3])
        for scenario in set(manifest.scenarios.values()):
            sample |= set(manifest.units_with(scenario)[:REPORTING_PER_SCENARIO])
        register_entries(own, [e for e in entries if e.unit_code in sample])
        first, _ = land(own, catalogue, PERIOD)
        assert first.new_versions == len(sample)

        other_unit = next(u for u in catalogue.units if u not in manifest.scenarios)
        edits = {
            with_indicators[0]: ("new figure", first_indicator_value_cell(), 4321),
            with_indicators[1]: ("withdrawn", info_cell("submitted"), "Chưa nộp"),
            with_indicators[2]: ("wrong unit", info_cell("unit_code"), other_unit),
            with_indicators[3]: ("new error", first_indicator_value_cell(), "-3"),
            drafts[0]: ("submitted late", info_cell("submitted"), "Đã nộp"),
        }
        writer = emulator_client(server.url, user=UNIT_OFFICIAL).http_client
        for unit, (_, cell, value) in edits.items():
            writer.values_update(
                demo_spreadsheet_id(PERIOD, unit),
                cell,
                params={"valueInputOption": "RAW"},
                body={"values": [[value]]},
            )
        second, _ = land(own, catalogue, PERIOD)
        assert second.new_versions == len(edits)
    run_dbt(own, ["build"])
    return own, manifest, {unit: what for unit, (what, _, _) in edits.items()}


# ------------------------------------------------------------------ the independent computation
class Landed:
    """The period's landed rows, read from the source tables (as admin), and what counts."""

    def __init__(self, settings, catalogue):
        admin = settings.dsn("admin")
        self.catalogue = catalogue
        self.period = catalogue.period(PERIOD)
        self.programme = self.period.programme_code
        self.expected = {u.unit_code for u in catalogue.expected_units(PERIOD)}
        self.today = dt.datetime.now(VN).date()
        self.registry = {
            (sid, unit)
            for sid, unit in query(
                admin,
                """
            select spreadsheet_id, unit_code from ops.sheet_registry where period_code = %s""",
                (PERIOD,),
            )
        }
        self.headers = {
            (sv, unit): {
                "spreadsheet_id": sid,
                "submitted": submitted,
                "received_on": received.astimezone(VN).date(),
                "received_at": received,
            }
            for sv, unit, sid, submitted, received in query(
                admin,
                """
            select h.sheet_version_id, h.unit_code, h.spreadsheet_id, h.is_submitted,
                   coalesce(v.drive_modified_time, v.fetched_at)
            from parsed.report_headers h
            inner join raw.sheet_versions v on v.sheet_version_id = h.sheet_version_id
            where h.period_code = %s""",
                (PERIOD,),
            )
        }
        runs: dict[tuple, set[int]] = defaultdict(set)
        for table in ("parsed.report_headers", "quality.rule_results", "quality.validation_issues"):
            for sv, unit, run in query(
                admin,
                f"""
                    select sheet_version_id, unit_code, validation_run_id from {table}
                    where period_code = %s""",
                (PERIOD,),
            ):
                runs[(sv, unit)].add(run)
        self.latest_run = {report: max(ids) for report, ids in runs.items()}
        self.issues = [
            dict(zip(("run", "sv", "unit", "part", "row_key", "severity", "blocks", "rule"), row))
            for row in query(
                admin,
                """
            select validation_run_id, sheet_version_id, unit_code, part, row_key, severity,
                   blocks_version, rule_code
            from quality.validation_issues where period_code = %s""",
                (PERIOD,),
            )
        ]
        self.current_issues = [
            i for i in self.issues if i["run"] == self.latest_run[(i["sv"], i["unit"])]
        ]
        self.blocked = {(i["sv"], i["unit"]) for i in self.current_issues if i["blocks"]}
        self.with_errors = {
            (i["sv"], i["unit"]) for i in self.current_issues if i["severity"] == "error"
        }
        self.error_rows = {
            (i["sv"], i["unit"], i["part"], i["row_key"])
            for i in self.current_issues
            if i["severity"] == "error" and i["row_key"] is not None
        }
        self.indicator_rows = query(
            admin,
            """
            select sheet_version_id, unit_code, row_key, row_number, indicator_code, value_number
            from parsed.indicator_rows where period_code = %s""",
            (PERIOD,),
        )
        self.task_rows = query(
            admin,
            """
            select sheet_version_id, unit_code, row_key, row_number, task_code, status_code
            from parsed.task_rows where period_code = %s""",
            (PERIOD,),
        )

        self.filled = {
            (sv, unit)
            for sv, unit in query(
                admin,
                """
            select sheet_version_id, unit_code from parsed.task_rows
            where period_code = %s and coalesce(nullif(trim(status_text), ''),
                nullif(trim(result_text), ''), nullif(trim(completed_on_text), ''),
                nullif(trim(evidence_text), ''), nullif(trim(note_text), '')) is not null
            union
            select sheet_version_id, unit_code from parsed.indicator_rows
            where period_code = %s and coalesce(nullif(trim(value_text), ''),
                nullif(trim(note_text), '')) is not null""",
                (PERIOD, PERIOD),
            )
        }

    def states(self, on_time_until: dt.datetime) -> dict[str, str]:
        """Expected unit -> its one submission state, by the rule the warehouse states."""
        first = self.first_complete()
        received = self.received()
        states = {}
        for unit in self.expected:
            versions = sorted(sv for sv, u in received if u == unit)
            if unit in first:
                on_time = first[unit][1].replace(microsecond=0) <= on_time_until
                states[unit] = "hop_le_dung_han" if on_time else "hop_le_tre_han"
            elif not versions:
                states[unit] = "chua_co_bang"
            elif received[(versions[-1], unit)]["submitted"]:
                states[unit] = "con_loi"
            elif (versions[-1], unit) in self.filled:
                states[unit] = "chua_chon_da_nop"
            else:
                states[unit] = "chua_dien"
        return states

    # the versions that may count
    def received(self) -> dict[tuple, dict]:
        return {r: h for r, h in self.headers.items() if h["received_on"] <= self.today}

    def counted_versions(self) -> dict[str, int]:
        """Expected unit -> its latest valid version (submitted, not rejected as a whole, no
        error)."""
        counted: dict[str, int] = {}
        for (sv, unit), header in self.received().items():
            if (
                unit in self.expected
                and header["submitted"]
                and (sv, unit) not in self.blocked
                and (sv, unit) not in self.with_errors
            ):
                counted[unit] = max(counted.get(unit, sv), sv)
        return counted

    def first_complete(self) -> dict[str, tuple[int, dt.datetime]]:
        """Expected unit -> its first complete version (usable, and no error) and when it was
        received."""
        first: dict[str, tuple[int, dt.datetime]] = {}
        for (sv, unit), header in sorted(self.received().items()):
            if (
                unit in self.expected
                and header["submitted"]
                and (sv, unit) not in self.blocked
                and (sv, unit) not in self.with_errors
                and unit not in first
            ):
                first[unit] = (sv, header["received_at"])
        return first

    def valid_rows(self, rows, part: str, known: set[str], *, need_value: bool = False):
        """(unit, code) -> the first valid row of the unit's counted version."""
        counted = self.counted_versions()
        chosen: dict[tuple, tuple] = {}
        for row in sorted(rows, key=lambda r: (r[3], r[2])):  # row_number, row_key
            sv, unit, key, _, code, value = row
            if counted.get(unit) != sv or code not in known:
                continue
            if (sv, unit, part, key) in self.error_rows or (need_value and value is None):
                continue
            chosen.setdefault((unit, code), row)
        return chosen

    def indicator_totals(self) -> dict[str, tuple[Decimal, int]]:
        known = {
            c for c, i in self.catalogue.indicators.items() if i.programme_code == self.programme
        }
        totals: dict[str, Decimal] = defaultdict(Decimal)
        units: Counter = Counter()
        for (_unit, code), row in self.valid_rows(
            self.indicator_rows, "indicators", known, need_value=True
        ).items():
            totals[code] += row[5]
            units[code] += 1
        return {code: (totals[code], units[code]) for code in totals}

    def task_group_counts(self) -> dict[str, tuple[int, int, int, int]]:
        """Task group -> (tasks reported, tasks with an end done, ongoing tasks active,
        ongoing tasks picked "Hoàn thành"): an ongoing task (thường xuyên, no deadline) never
        counts as done, whatever the unit picked."""
        known = {c for c, t in self.catalogue.tasks.items() if t.programme_code == self.programme}
        reported: Counter = Counter()
        done: Counter = Counter()
        active: Counter = Counter()
        ongoing_done: Counter = Counter()
        for (_unit, code), row in self.valid_rows(self.task_rows, "tasks", known).items():
            task = self.catalogue.tasks[code]
            ongoing = task.timing == "thuong_xuyen" and task.deadline is None
            group = task.task_group_code
            reported[group] += row[5] is not None
            done[group] += row[5] == "hoan_thanh" and not ongoing
            active[group] += ongoing and row[5] not in (None, "chua_trien_khai")
            ongoing_done[group] += ongoing and row[5] == "hoan_thanh"
        return {
            g: (reported[g], done[g], active[g], ongoing_done[g])
            for g, r in self.catalogue.task_groups.items()
            if r["programme_code"] == self.programme
        }


@pytest.fixture(scope="module")
def source(landed, catalogue):
    return Landed(landed[0], catalogue)


def marts(settings, sql: str, params: tuple = ()) -> list[tuple]:
    return query(settings.dsn("bi_reader"), sql, params)


# ------------------------------------------------------------------ preconditions
def test_the_landed_period_is_a_hard_case(landed, source):
    """Several versions, versions that must not count, rows with errors in counted versions,
    units that did not report: otherwise the reconciliation below would prove little."""
    settings, manifest, edits = landed
    assert source.registry >= {
        (h["spreadsheet_id"], unit) for (_, unit), h in source.headers.items()
    }
    versions = Counter(unit for _, unit in source.headers)
    assert {u for u, n in versions.items() if n >= 2} == set(edits)
    counted = source.counted_versions()
    latest = {unit: max(sv for sv, u in source.headers if u == unit) for unit in versions}
    not_latest = {u for u in counted if counted[u] != latest[u]}
    # the unit whose new figure has an error keeps its earlier valid version
    assert {edits[u] for u in not_latest} == {"withdrawn", "wrong unit", "new error"}
    # "Đã nộp" versions with errors whose other rows are clean: they must add nothing
    submitted_with_errors = {
        unit
        for (sv, unit) in source.with_errors
        if sv == latest[unit] and source.headers[(sv, unit)]["submitted"] and unit not in counted
    }
    assert len(submitted_with_errors) >= 2, "no submitted report with errors to leave out"
    clean_rows = {
        unit
        for sv, unit, key, *_ in source.indicator_rows
        if unit in submitted_with_errors
        and sv == latest[unit]
        and (sv, unit, "indicators", key) not in source.error_rows
    }
    assert clean_rows, "the reports with errors have no clean row that could be added"
    assert source.expected - set(counted), "every unit reported: no missing report to count"
    # leaving the error rows in, or taking the latest version, would change the totals
    totals = source.indicator_totals()
    naive: dict[str, Decimal] = defaultdict(Decimal)
    for sv, unit, _, _, code, value in source.indicator_rows:
        if sv == latest[unit] and value is not None:
            naive[code] += value
    assert {c: t for c, (t, _) in totals.items()} != dict(naive)


# ------------------------------------------------------------------ reconciliation
def test_indicator_totals_equal_the_valid_rows(landed, source, catalogue):
    settings = landed[0]
    rows = marts(
        settings,
        """
        select indicator_code, total_value, reporting_units from marts.agg_indicator_totals
        where period_code = %s""",
        (PERIOD,),
    )
    programme = {c for c, i in catalogue.indicators.items() if i.programme_code == source.programme}
    assert {code for code, *_ in rows} == programme
    actual = {code: (total, units) for code, total, units in rows if total is not None}
    assert actual == source.indicator_totals()
    assert all(units == 0 for code, total, units in rows if total is None)


def test_the_counted_values_of_each_unit(landed, source):
    settings = landed[0]
    known = {
        c for c, i in source.catalogue.indicators.items() if i.programme_code == source.programme
    }
    expected = {
        key: (row[0], row[5])
        for key, row in source.valid_rows(
            source.indicator_rows, "indicators", known, need_value=True
        ).items()
    }
    actual = {
        (unit, code): (sv, value)
        for unit, code, sv, value in marts(
            settings,
            """
        select unit_code, indicator_code, sheet_version_id, value_number
        from marts.fct_indicator_value where period_code = %s""",
            (PERIOD,),
        )
    }
    assert actual == expected
    [new_figure] = [u for u, what in landed[2].items() if what == "new figure"]
    assert Decimal(4321) in {
        value for (unit, _), (_, value) in actual.items() if unit == new_figure
    }


def test_task_group_summary_equals_the_valid_task_rows(landed, source):
    """Completion only over tasks with an end; ongoing tasks by whether they were carried out."""
    settings = landed[0]
    rows = marts(
        settings,
        """
        select task_group_code, tasks_reported, tasks_with_end_done, ongoing_tasks_active
        from marts.agg_task_group_summary where period_code = %s""",
        (PERIOD,),
    )
    expected = source.task_group_counts()
    assert {g: (r, d, a) for g, r, d, a in rows} == {
        g: (r, d, a) for g, (r, d, a, _) in expected.items()
    }
    assert sum(active for _, _, active, _ in expected.values()) > 0
    # the province's rate is over tasks with an end only
    [(with_end, with_end_done, rate, ongoing)] = marts(
        settings,
        """
        select tasks_with_end, tasks_with_end_done, task_done_rate, ongoing_tasks
        from marts.agg_province_summary where period_code = %s""",
        (PERIOD,),
    )
    assert with_end_done == sum(d for _, d, _, _ in expected.values())
    assert ongoing > with_end > 0
    assert rate == round(Decimal(with_end_done) / with_end, 4)
    # the plans' 36 tasks: 34 ongoing ("Thường xuyên"), CB.3.5 and TD.V.1 yearly
    assert marts(
        settings,
        """select task_code from marts.dim_task where has_end
                              order by task_code""",
    ) == [("CB.3.5",), ("TD.V.1",)]
    assert marts(settings, "select count(*) from marts.dim_task") == [(36,)]


def test_periods_say_their_estimates_and_assumed_due_dates(landed):
    """The annual periods' windows end after their due date: from the day after the last
    on-time day their figures are estimates, in dim_period and in every indicator total; Tam
    Đường's due dates are assumed (its plan gives none), Cao Bằng's are the plan's."""
    settings = landed[0]
    periods = {
        code: rest
        for code, *rest in marts(
            settings,
            """
        select period_code, has_estimate, estimated_from, estimated_to, due_date_basis,
               is_due_date_assumed, due_date_source
        from marts.dim_period""",
        )
    }
    assert periods["CB-2026-NAM"][:5] == [
        True,
        dt.date(2026, 12, 1),
        dt.date(2026, 12, 14),
        "ke_hoach",
        False,
    ]
    assert "trước ngày 30/11" in periods["CB-2026-NAM"][5]
    assert periods[PERIOD][:5] == [False, None, None, "ke_hoach", False]
    assert "trước ngày 20/6" in periods[PERIOD][5]
    assert periods["TD-2024-NAM"][:5] == [
        True,
        dt.date(2024, 12, 1),
        dt.date(2024, 12, 14),
        "gia_dinh",
        True,
    ]
    assert periods["TD-2025-6T"][3:5] == ["gia_dinh", True]
    flags = set(
        marts(
            settings,
            """
        select period_code, includes_estimate, estimated_from from marts.agg_indicator_totals
        where period_code in (%s, 'CB-2026-NAM')""",
            (PERIOD,),
        )
    )
    assert flags == {(PERIOD, False, None), ("CB-2026-NAM", True, dt.date(2026, 12, 1))}
    assert marts(
        settings,
        """
        select distinct includes_estimate from marts.fct_indicator_value
        where period_code = %s""",
        (PERIOD,),
    ) == [(False,)]


def test_reporting_rate_counts_expected_and_complete_reports(landed, source, catalogue):
    settings = landed[0]
    rows = marts(
        settings,
        """
        select unit_type, expected_reports, actual_reports, on_time_reports, late_reports,
               missing_reports
        from marts.agg_reporting_rate where period_code = %s""",
        (PERIOD,),
    )
    by_type = {t: counts for t, *counts in rows}
    first = source.first_complete()
    # the last on-time moment as the seed row states it (read here with csv, not through the
    # project's readers); on time = received at or before it, stated to the second
    with (CATALOGUE_DIR / "periods.csv").open(encoding="utf-8", newline="") as fh:
        row = next(r for r in csv.DictReader(fh) if r["period_code"] == PERIOD)
    until = dt.datetime.fromisoformat(row["on_time_until"])
    assert until.utcoffset() == dt.timedelta(hours=7)

    def on_time(unit):
        return first[unit][1].replace(microsecond=0) <= until

    def counts(units):
        on_time_ = sum(1 for u in units if u in first and on_time(u))
        late = sum(1 for u in units if u in first and not on_time(u))
        return [len(units), on_time_ + late, on_time_, late, len(units) - on_time_ - late]

    assert by_type.pop("tat_ca") == counts(source.expected)
    assert len(source.expected) == len(catalogue.expected_units(PERIOD))
    types = defaultdict(set)
    for unit in source.expected:
        types[catalogue.unit(unit).unit_type].add(unit)
    assert by_type == {t: counts(units) for t, units in types.items()}
    total = [sum(c[i] for c in by_type.values()) for i in range(5)]
    assert total == counts(source.expected)
    late_units = {u for u in first if not on_time(u)}
    assert late_units, "no late report in the landed period"


def test_one_submission_state_per_expected_unit(landed, source):
    """Each expected unit has exactly one state; the counted ones are those with a valid
    version, and their counted version is the latest valid one; every state of the rule
    occurs in the landed period, so the comparison proves each branch."""
    settings = landed[0]
    with (CATALOGUE_DIR / "periods.csv").open(encoding="utf-8", newline="") as fh:
        row = next(r for r in csv.DictReader(fh) if r["period_code"] == PERIOD)
    expected = source.states(dt.datetime.fromisoformat(row["on_time_until"]))
    rows = marts(
        settings,
        """
        select unit_code, submission_state, submission_state_vi, is_counted,
               counted_sheet_version_id
        from marts.fct_submission where period_code = %s""",
        (PERIOD,),
    )
    assert {unit: state for unit, state, *_ in rows} == expected
    assert set(expected.values()) == {
        "hop_le_dung_han",
        "hop_le_tre_han",
        "con_loi",
        "chua_chon_da_nop",
        "chua_dien",
        "chua_co_bang",
    }
    counted = source.counted_versions()
    assert {unit: sv for unit, _, _, is_counted, sv in rows if is_counted} == counted
    labels = {state: label for _, state, label, *_ in rows}
    assert labels["con_loi"] == "Đã nộp nhưng còn lỗi"
    assert labels["chua_chon_da_nop"] == "Chưa chọn “Đã nộp”"


def test_report_versions_one_row_per_landed_report(landed, source):
    settings = landed[0]
    rows = marts(
        settings,
        """
        select sheet_version_id, unit_code, is_counted_version, version_number, version_count
        from marts.fct_report_version where period_code = %s""",
        (PERIOD,),
    )
    assert len(rows) == len(source.headers)
    assert {(sv, unit) for sv, unit, *_ in rows} == set(source.headers)
    counted = {(sv, unit) for sv, unit, is_counted, *_ in rows if is_counted}
    assert counted == {(sv, unit) for unit, sv in source.counted_versions().items()}
    per_unit = Counter(unit for _, unit in source.headers)
    for sv, unit, _, number, count in rows:
        assert count == per_unit[unit]
        assert number == sorted(v for v, u in source.headers if u == unit).index(sv) + 1


def test_history_views_hold_every_landed_row(landed, source):
    settings = landed[0]
    [(indicators, indicator_errors)] = marts(
        settings,
        """
        select count(*), count(*) filter (where has_error)
        from marts.fct_indicator_value_history where period_code = %s""",
        (PERIOD,),
    )
    assert indicators == len(source.indicator_rows)
    assert indicator_errors == len(
        {(sv, u, k) for sv, u, part, k in source.error_rows if part == "indicators"}
    )
    [(tasks,)] = marts(
        settings,
        """
        select count(*) from marts.fct_task_progress_history where period_code = %s""",
        (PERIOD,),
    )
    assert tasks == len(source.task_rows)


def test_no_mart_repeats_a_key_of_its_grain(landed):
    """The grains the fault suite and the load bench check, read from the marts' unique tests,
    hold in a real build, and a key that is not a grain is caught repeating."""
    import psycopg2

    from testing.grains import grain_duplicates, mart_grains, repeated_grain_keys

    settings = landed[0]
    grains = mart_grains(settings.dbt_project_dir)
    assert ("period_code", "unit_code") in grains["fct_submission"]
    assert ("period_code", "unit_type") in grains["agg_reporting_rate"]
    assert all(grains.values()), [m for m, keys in grains.items() if not keys]
    built = {
        name
        for (name,) in query(
            settings.dsn("admin"),
            """
        select table_name from information_schema.tables where table_schema = 'marts'""",
        )
    }
    assert set(grains) <= built
    conn = psycopg2.connect(settings.dsn("bi_reader"))
    try:
        with conn.cursor() as cur:
            assert repeated_grain_keys(cur, grains) == {}
            [(units,)] = marts(
                settings,
                """select count(*) from marts.fct_submission
                                            where period_code = %s""",
                (PERIOD,),
            )
            assert grain_duplicates(cur, "fct_submission", ("period_code",)) >= units - 1 > 0
            not_a_grain = {"fct_submission": [("period_code",), ("period_code", "unit_code")]}
            assert set(repeated_grain_keys(cur, not_a_grain)) == {
                ("fct_submission", ("period_code",))
            }
    finally:
        conn.close()


#: rows a build could write that break one rule of the marts: (table, which row to copy, column
#: -> value, the constraint that refuses it: its name, or in it for a column's check, which
#: PostgreSQL names itself; None for NOT NULL)
BROKEN_ROWS = [
    (
        "fct_submission",
        "not is_counted",
        "submission_state",
        "'khong_ro'",
        "submission_state_check",
    ),
    ("fct_submission", "true", "days_late", "-1", "days_late_check"),
    ("fct_submission", "true", "due_date", "null", None),
    (
        "fct_submission",
        "true",
        "review_required",
        "not review_required",
        "approval_state_iff_review",
    ),
    # null where the rule needs a value: refused, as the data test refused it
    ("agg_province_summary", "true", "on_time_reports", "null", "actual_is_on_time_plus_late"),
]


def test_a_row_that_breaks_a_rule_of_the_marts_is_refused(landed):
    """The marts' row-level rules (a value out of a column's list or range, a missing value,
    columns that disagree) are constraints: after a real build every NOT NULL and CHECK the
    marts' yml declares is on its table, and a row that breaks one is refused as it is
    inserted — as the build inserts, before the swap — not found by a test afterwards (each
    insert in a transaction rolled back)."""
    import psycopg2
    import yaml

    from testing.grains import MARTS

    settings = landed[0]
    declared: dict[str, tuple[set[str], int]] = {}
    for path in (settings.dbt_project_dir / MARTS).rglob("*.yml"):
        for model in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("models") or []:
            columns = model.get("columns") or []
            kinds = [
                (column["name"], c["type"])
                for column in columns
                for c in column.get("constraints") or []
            ]
            checks = sum(c["type"] == "check" for c in model.get("constraints") or [])
            declared[model["name"]] = (
                {name for name, kind in kinds if kind == "not_null"},
                checks + sum(kind == "check" for _, kind in kinds),
            )
    in_db = query(
        settings.dsn("admin"),
        """
        select c.relname,
               array(select a.attname::text from pg_attribute a
                     where a.attrelid = c.oid and a.attnum > 0 and a.attnotnull),
               (select count(*) from pg_constraint k where k.conrelid = c.oid and k.contype = 'c')
        from pg_class c where c.relnamespace = 'marts'::regnamespace and c.relkind = 'r'""",
    )
    assert {name for name, _, _ in in_db} == set(declared)
    for name, not_null, checks in in_db:
        assert set(not_null) >= declared[name][0], name  # primary keys' columns are not null too
        assert checks == declared[name][1], name
    assert sum(n for _, n in declared.values()) >= 40

    conn = psycopg2.connect(settings.dsn("transformer"))  # the role that builds the marts
    try:
        for table, row, column, value, constraint in BROKEN_ROWS:
            with conn.cursor() as cur:
                cur.execute(
                    f"create temporary table broken as select * from marts.{table} where {row} limit 1"
                )
                cur.execute(f"update broken set {column} = {value}")
                assert cur.rowcount == 1, table
                expected = (
                    psycopg2.errors.NotNullViolation
                    if constraint is None
                    else psycopg2.errors.CheckViolation
                )
                # the copy repeats the row's key too: PostgreSQL checks a row's NOT NULL and
                # CHECK constraints before it inserts its key into the primary key's index
                with pytest.raises(expected) as refused:
                    cur.execute(f"insert into marts.{table} select * from broken")
            if constraint is None:
                assert refused.value.diag.column_name == column
            else:
                assert constraint in refused.value.diag.constraint_name, refused.value
            conn.rollback()
    finally:
        conn.close()
