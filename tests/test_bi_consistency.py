"""What BI sees while dbt rebuilds the marts: never an error, never a half-built table.

A warehouse of its own (``tonghop_bi``) is built once as it stood on a day before any report
came in (dbt var ``as_of_date``, as a data engineer rebuilds a past day's picture), then
rebuilt as of today, so the second ``dbt build`` changes nearly every mart. While it runs (in a
thread, as Airflow's ``build_warehouse`` task runs it in-process), ``bi_reader`` reads every
mart in a loop, the way a dashboard does (one statement at a time, autocommit) and the way the
publisher does (one read-only repeatable-read transaction over many marts). Every read must
succeed — no "relation does not exist" from a view dropped with what it depends on, no
"permission denied" from a table swapped in before its grant — and every mart read must be, row
for row, either the table before the build or the table after it, with its own sums adding up.
"""

from __future__ import annotations

import datetime as dt
import threading

import psycopg2
import pytest
from validation_corpus import CLEAN_UNITS, CORPUS_PERIOD, build_clean_workbook

from tests.conftest import query

DATABASE = "tonghop_bi"
PROGRAMME = "CB-KH84"
UNITS = (*CLEAN_UNITS, "CB-XA-001", "CB-XA-002", "CB-XA-003")
#: the first build's day: before any of the reports was received
BEFORE_ANY_REPORT = dt.date(2026, 1, 1)

#: a mart, as one statement: its row count and a checksum of all its rows
SNAPSHOT = """select count(*), coalesce(md5(string_agg(t::text, '|' order by t::text)), '')
              from marts.{name} t"""
#: sums a mart must satisfy in any complete state (one statement, so one table state)
INVARIANTS = {
    "agg_reporting_rate": """
        select count(*) from (
            select period_code,
                   sum(expected_reports) filter (where unit_type = 'tat_ca') as all_expected,
                   sum(expected_reports) filter (where unit_type <> 'tat_ca') as expected,
                   sum(actual_reports) filter (where unit_type = 'tat_ca') as all_actual,
                   sum(actual_reports) filter (where unit_type <> 'tat_ca') as actual
            from marts.agg_reporting_rate group by period_code) r
        where all_expected <> expected or all_actual <> actual""",
    "agg_province_summary": """
        select count(*) from marts.agg_province_summary
        where expected_reports <> on_time_reports + late_reports + missing_reports
           or actual_reports <> on_time_reports + late_reports""",
    "fct_submission": """
        select count(*) from (select period_code, unit_code from marts.fct_submission
                              group by 1, 2 having count(*) > 1) d""",
}


def marts(settings) -> list[str]:
    return [
        name
        for (name,) in query(
            settings.dsn("admin"),
            """
        select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = 'marts' and c.relkind in ('r', 'v', 'm')
          and c.relname not like '%%__dbt_%%' order by 1""",
        )
    ]


def snapshot(conn, names: list[str]) -> dict[str, tuple]:
    out = {}
    with conn.cursor() as cur:
        for name in names:
            cur.execute(SNAPSHOT.format(name=name))
            out[name] = tuple(cur.fetchone())
    return out


@pytest.fixture(scope="module")
def rebuilt(settings, catalogue, tmp_path_factory):
    """The marts before and after a build that changes them, and every read made during it."""
    from pipeline.dbt import run_dbt
    from testing.province import land, own_warehouse, put_workbooks, register_entries

    books = {unit: build_clean_workbook(unit, catalogue) for unit in UNITS}
    with own_warehouse(settings, DATABASE, tmp_path_factory.mktemp("bi")) as (own, server):
        register_entries(
            own, put_workbooks(server, catalogue, CORPUS_PERIOD, books, PROGRAMME).values()
        )
        land(own, catalogue, CORPUS_PERIOD)
    run_dbt(own, ["build", "--exclude-resource-type", "test"], BEFORE_ANY_REPORT)
    names = marts(own)
    reader = psycopg2.connect(own.dsn("bi_reader"))
    reader.autocommit = True
    before = snapshot(reader, names)

    build: dict = {}

    def run_build():
        try:
            build["result"] = run_dbt(own, ["build"])
        except BaseException as exc:
            build["error"] = exc

    reads, errors, broken, transactions = [], [], [], []
    thread = threading.Thread(target=run_build)
    thread.start()
    from publish.marts import reading_marts

    while thread.is_alive():
        # a dashboard: one statement at a time
        for name in names:
            try:
                with reader.cursor() as cur:
                    cur.execute(SNAPSHOT.format(name=name))
                    reads.append((name, tuple(cur.fetchone())))
                    if name in INVARIANTS:
                        cur.execute(INVARIANTS[name])
                        if cur.fetchone()[0]:
                            broken.append(name)
            except psycopg2.Error as exc:
                errors.append(f"{name}: {type(exc).__name__}: {exc}".strip())
        # the publisher: many marts in one read-only repeatable-read transaction
        try:
            with reading_marts(own) as conn:
                transactions.append(snapshot(conn, names))
        except psycopg2.Error as exc:
            errors.append(f"publisher: {type(exc).__name__}: {exc}".strip())
    thread.join()
    after = snapshot(reader, names)
    reader.close()
    return {
        "before": before,
        "after": after,
        "reads": reads,
        "errors": errors,
        "broken": broken,
        "transactions": transactions,
        "build": build,
    }


def test_the_build_succeeded_and_changed_the_marts(rebuilt):
    assert "error" not in rebuilt["build"], rebuilt["build"].get("error")
    assert rebuilt["build"]["result"]["success"]
    before, after = rebuilt["before"], rebuilt["after"]
    changed = [name for name in before if before[name] != after[name]]
    for name in (
        "fct_submission",
        "fct_task_progress",
        "fct_indicator_value",
        "fct_feedback",
        "agg_reporting_rate",
        "agg_province_summary",
        "agg_indicator_totals",
        "fct_report_version",
        "fct_indicator_value_history",
    ):
        assert name in changed, name


def test_bi_reader_never_got_an_error_during_the_build(rebuilt):
    assert rebuilt["reads"] and rebuilt["transactions"]
    assert not rebuilt["errors"], "\n".join(sorted(set(rebuilt["errors"]))[:20])


def test_every_mart_read_was_the_old_or_the_new_table(rebuilt):
    before, after = rebuilt["before"], rebuilt["after"]
    half_built = [
        (name, state)
        for name, state in rebuilt["reads"]
        if state not in (before[name], after[name])
    ]
    assert not half_built, half_built[:10]
    # the loop really ran across the swaps: for some changed mart, both states were read
    seen = {}
    for name, state in rebuilt["reads"]:
        seen.setdefault(name, set()).add(state)
    assert any(len(states) == 2 for states in seen.values()), (
        f"{len(rebuilt['reads'])} reads never saw a mart change"
    )


def test_every_mart_adds_up_in_every_read(rebuilt):
    assert not rebuilt["broken"], rebuilt["broken"]


def test_the_publisher_reads_no_empty_or_mixed_table(rebuilt):
    """In a repeatable-read transaction a table swapped in after its snapshot would read as
    EMPTY (its rows were written after the snapshot): the publisher must never see that."""
    before, after = rebuilt["before"], rebuilt["after"]
    for states in rebuilt["transactions"]:
        wrong = {
            name: state
            for name, state in states.items()
            if state not in (before[name], after[name])
        }
        assert not wrong, wrong
