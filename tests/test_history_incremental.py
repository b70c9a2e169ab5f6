"""History that grows for years at flat cost (dbt_project/macros/history.sql): an incremental
build gives the rows a full refresh gives, takes in only the (period, unit) pairs that changed,
and a mart that would repeat a key is never swapped in for BI.

A synthetic province (:mod:`testing.history`: 24 units, several versions a report, a
validation run every morning) is landed straight into a warehouse of its own
(``tonghop_incremental``) and built with real dbt from a copy of the dbt project
(:func:`bench.history.synthetic_project`), season after season as the calendar runs them, with
what production throws at an incremental build: a run whose id was taken before others
committed (another period's validation), an old version checked again by a later run, and
builds as of an earlier day then a later one. At three points the incremental models' rows
are compared with a ``--full-refresh`` of the same data; the same comparison with two faults put
into the project's copy of ``macros/history.sql`` (one mark for every period, a move of the day
ignored) finds the rows wrong, so it can fail. Only the incremental models and what they read
are built (``--select +config.materialized:incremental``): the other models are tables made
from scratch by every build.
"""

from __future__ import annotations

import datetime as dt
import time

import psycopg2
import pytest

from tests.conftest import query

DATABASE = "tonghop_incremental"
UNITS = 24
#: the incremental models and the models they read
INCREMENTAL = ["--select", "+config.materialized:incremental"]
DAY = dt.timedelta(days=1)


def incremental_tables(conn) -> list[str]:
    with conn.cursor() as cur:
        cur.execute(
            """select model_name from intermediate.dbt_incremental_state
               group by model_name order by model_name"""
        )
        return [name for (name,) in cur.fetchall()]


def row_hashes(conn, tables: list[str]) -> dict[str, tuple]:
    from bench.history import ROWS_HASH

    out = {}
    with conn.cursor() as cur:
        for table in tables:
            cur.execute(ROWS_HASH.format(relation=table))
            out[table] = tuple(cur.fetchone())
    return out


@pytest.fixture(scope="module")
def province(settings, tmp_path_factory):
    """The warehouse, the synthetic history and a connection to land with."""
    from bench.history import synthetic_project
    from pipeline.dbt import run_dbt
    from testing.history import History, require_review
    from tooling import localdb

    tmp = tmp_path_factory.mktemp("incremental")
    project, periods = synthetic_project(tmp, UNITS, [2025, 2026])
    require_review(project, [periods[1]])
    localdb.recreate_warehouse(DATABASE)
    own = settings.for_database(DATABASE).with_overrides(
        dbt_project_dir=project / "dbt_project", output_dir=tmp / "output"
    )
    run_dbt(own, ["seed"])
    run_dbt(own, ["snapshot"])
    history = History(project, seed=3, last_day_share=0.1)
    conn = psycopg2.connect(own.dsn("admin"))
    with conn.cursor() as cur:
        # only the builds analyze it: autovacuum, when its turn came first (the table small and
        # new), would leave the builds nothing to analyze and the analyses test nothing to see
        cur.execute("alter table parsed.task_rows set (autovacuum_enabled = false)")
    conn.commit()
    reader = psycopg2.connect(own.dsn("admin"))
    reader.autocommit = True
    yield own, history, periods, conn, reader
    conn.close()
    reader.close()


@pytest.fixture(scope="module")
def seasons(province):
    """The seasons landed and built step by step; at three points the incremental rows and a
    full refresh's. Returns {point: (incremental hashes, full refresh hashes)} and what the
    day of a few corrections rewrote."""
    from pipeline.dbt import run_dbt
    from testing.history import land_review

    own, history, periods, conn, reader = province
    first, second = (history.period(code) for code in periods[:2])

    def build(day: dt.date, *, full: bool = False) -> None:
        run_dbt(own, ["run", *INCREMENTAL, *(["--full-refresh"] if full else [])], day)

    compared = {}

    def compare(point: str, day: dt.date) -> None:
        tables = incremental_tables(reader)
        incremental = row_hashes(reader, tables)
        build(day, full=True)
        compared[point] = (incremental, row_hashes(reader, tables))

    # the first season but its last two mornings: the tables are made
    history.land(conn, first.code, first.opens_on, first.last_day - 2 * DAY)
    build(first.last_day - 2 * DAY)
    # the second season opens: its run ids are taken after five of the first season's (their
    # validation still running: ids taken, not committed), and a build takes them in ...
    [(last_run,)] = query(
        own.dsn("admin"), "select max(validation_run_id) from quality.validation_runs"
    )
    opened = second.opens_on + 3 * DAY
    history.land(conn, second.code, second.opens_on, opened, first_run_id=last_run + 6)
    build(opened)
    # ... then the first season's commit, with lower ids than runs already taken in (one mark
    # for all periods would skip them: test_the_comparison_fails_when_the_logic_is_wrong)
    history.land(conn, first.code, first.last_day - DAY, first.last_day, first_run_id=last_run + 1)
    # and a later run of the first season checks an old counted version again: an error now
    checked_again = recheck_a_counted_version(conn, first.code)
    build(opened)
    compare("late commits and a version checked again", opened)
    # the next morning that reads new versions: what the build writes again
    morning = min(v.day for v in history.versions(second.code) if v.day > opened)
    history.land(conn, second.code, opened + DAY, morning)
    before = txid(reader)
    build(morning)
    rewritten = rewritten_rows(reader, "marts.fct_task_progress_history", before)
    # the second season requires review: the Sở accepts two units' valid versions and
    # returns a third — decisions, no new version, yet which version counts changes
    valid = _rows(
        reader,
        """select unit_code, sheet_version_id from marts.fct_report_version
           where period_code = %s and is_complete and is_latest_version
           order by unit_code limit 3""",
        (second.code,),
    )
    assert len(valid) == 3, valid
    decisions = [
        (row, unit, version, "chap_nhan", None) for row, (unit, version) in enumerate(valid, 2)
    ]
    decisions[2] = (4, *valid[2], "tra_lai", "Thiếu số liệu chỉ tiêu.")
    land_review(conn, second.code, decisions, vn_time(morning, 8))
    # a build as of an earlier day (the picture of the first season's due date), then today's
    build(first.due_date)
    compare("as of an earlier day", first.due_date)
    history.land(conn, second.code, morning + DAY, second.last_day)
    # the returned unit's version accepted after all (the same row, another decision)
    decisions[2] = (4, *valid[2], "chap_nhan", None)
    land_review(conn, second.code, decisions, vn_time(second.last_day - DAY, 9))
    build(second.last_day)
    compare("as of a later day again", second.last_day)
    [(counted,)] = _rows(
        reader,
        """select count(*) from marts.fct_report_version
           where period_code = %s and is_counted_version""",
        (second.code,),
    )
    return {
        "compared": compared,
        "rewritten": rewritten,
        "checked_again": checked_again,
        "accepted": valid,
        "counted_in_review": counted,
    }


def vn_time(day: dt.date, hour: int) -> dt.datetime:
    from testing.history import VN

    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=VN)


def txid(reader) -> int:
    [(xid,)] = _rows(reader, "select mod(txid_current(), 4294967296)")
    return xid


def _rows(reader, sql: str, params: tuple = ()) -> list[tuple]:
    with reader.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()


def rewritten_rows(reader, table: str, since: int) -> dict:
    """The rows of ``table`` written by transactions after ``since``, and all of its rows."""
    [(written, total, pairs)] = _rows(
        reader,
        f"""select count(*) filter (where xmin::text::bigint > %s), count(*),
                   count(distinct (period_code, unit_code)) filter (
                       where xmin::text::bigint > %s)
            from {table}""",
        (since, since),
    )
    return {"written": written, "total": total, "pairs": pairs}


def recheck_a_counted_version(conn, period_code: str, run_id: int | None = None) -> tuple:
    """A new validation run of the period checks the counted version of one unit again (a new
    ruleset) and finds an error on its first task row: its rule results and the issue, as
    validation stores them; the run numbered ``run_id`` when given (an id taken earlier,
    committed now), else the next. Returns (period, unit, sheet version)."""
    with conn.cursor() as cur:
        cur.execute(
            """select h.sheet_version_id, h.unit_code from parsed.report_headers h
               where h.period_code = %s and h.is_submitted
                 and not exists (select 1 from quality.validation_issues i
                                 where i.sheet_version_id = h.sheet_version_id
                                   and i.unit_code = h.unit_code and i.severity = 'error')
               order by h.sheet_version_id desc limit 1""",
            (period_code,),
        )
        version, unit = cur.fetchone()
        cur.execute(
            """insert into quality.validation_runs (validation_run_id, pull_run_id, period_code,
                   started_at, finished_at, ruleset_version, sheet_versions, reports,
                   rows_checked, errors, warnings, gx_success)
               overriding system value
               values (coalesce(%s, nextval(pg_get_serial_sequence('quality.validation_runs',
                                                                    'validation_run_id'))),
                       null, %s, now(), now(), 'synthetic-2', 1, 1, 0, 1, 0, false)
               returning validation_run_id""",
            (run_id, period_code),
        )
        [run] = cur.fetchone()
        cur.execute(
            """insert into quality.rule_results
               select %s, sheet_version_id, unit_code, period_code, part, rule_code, severity,
                      rows_checked,
                      case when rule_code = 'task.status_required' then 1 else 0 end
               from quality.rule_results
               where sheet_version_id = %s and unit_code = %s
                 and validation_run_id = (select max(validation_run_id) from quality.rule_results
                                          where sheet_version_id = %s and unit_code = %s)""",
            (run, version, unit, version, unit),
        )
        cur.execute(
            """insert into quality.validation_issues (validation_run_id, sheet_version_id,
                   unit_code, period_code, part, row_key, tab_title, cell_ref, rule_code,
                   severity, blocks_version, message_vi)
               values (%s, %s, %s, %s, 'tasks', 'Nhiệm vụ!2', 'Nhiệm vụ', 'Nhiệm vụ!G2',
                       'task.status_required', 'error', false, 'Chưa chọn Tình trạng.')""",
            (run, version, unit, period_code),
        )
    conn.commit()
    return period_code, unit, version


@pytest.mark.parametrize(
    "point",
    ["late commits and a version checked again", "as of an earlier day", "as of a later day again"],
)
def test_an_incremental_build_gives_the_rows_of_a_full_refresh(seasons, point):
    incremental, full = seasons["compared"][point]
    assert len(full) >= 13, sorted(full)  # every incremental model has its state
    differ = sorted(name for name in full if incremental[name] != full[name])
    assert not differ, differ
    assert full["marts.fct_task_progress_history"][0] > 0


def test_a_version_checked_again_by_a_later_run_takes_its_verdict(seasons, province):
    own = province[0]
    period, unit, version = seasons["checked_again"]
    [(counted, errors)] = query(
        own.dsn("bi_reader"),
        """select is_counted_version, error_count from marts.fct_report_version
           where sheet_version_id = %s and unit_code = %s""",
        (version, unit),
    )
    assert (counted, errors) == (False, 1)
    [(has_error,)] = query(
        own.dsn("bi_reader"),
        """select has_error from marts.fct_task_progress_history
           where sheet_version_id = %s and unit_code = %s and row_key = 'Nhiệm vụ!2'""",
        (version, unit),
    )
    assert has_error


def test_in_a_period_that_requires_review_the_accepted_versions_count(seasons):
    """The second season requires review: only the three versions the Sở accepted count (the
    one returned, then accepted, among them), though many more are valid."""
    assert seasons["counted_in_review"] == 3


def test_an_incremental_build_rewrites_only_the_pairs_that_changed(seasons):
    """The build of a morning that read new versions: the history rows it wrote are those of
    the (period, unit) pairs with a new version, a small part of the table."""
    rewritten = seasons["rewritten"]
    assert 0 < rewritten["pairs"] < UNITS
    assert 0 < rewritten["written"] < rewritten["total"] / 2, rewritten


def test_a_mart_that_would_repeat_a_key_is_never_swapped_in(seasons, province):
    """A duplicate injected into the source of two marts — a unit type and a validation rule
    listed twice in the catalogue's tables — makes each mart repeat its key: the build fails on
    the mart's primary key before BI could see it. agg_reporting_rate (a table) is not swapped
    in; agg_data_quality_by_rule (incremental) is rolled back, the rows of the pair it had
    deleted to write again included. With the source put right, the next build takes in what
    the failed one could not."""
    from pipeline.dbt import DbtFailed, run_dbt

    own, history, periods, conn, reader = province
    day = history.period(periods[1]).last_day
    select = ["--select", "+agg_reporting_rate", "+agg_data_quality_by_rule"]
    run_dbt(own, ["run", *select], day)
    marts = ["marts.agg_reporting_rate", "marts.agg_data_quality_by_rule"]
    bi = psycopg2.connect(own.dsn("bi_reader"))
    bi.autocommit = True
    try:
        before = row_hashes(bi, marts)
        assert all(rows > 0 for rows, _ in before.values()), before
        transformer = psycopg2.connect(own.dsn("transformer"))
        try:
            with transformer, transformer.cursor() as cur:
                cur.execute(
                    """insert into catalogue.unit_types
                       select * from catalogue.unit_types where unit_type = 'ubnd_xa'"""
                )
                cur.execute(
                    """insert into catalogue.validation_rules
                       select * from catalogue.validation_rules
                       where rule_code = 'task.status_required'"""
                )
            period, unit, version = recheck_a_counted_version(conn, periods[0])
            with pytest.raises(DbtFailed) as failed:
                run_dbt(own, ["run", *select], day)
            message = str(failed.value)
            for mart in ("agg_reporting_rate", "agg_data_quality_by_rule"):
                assert f"model.tonghop.{mart}:" in message, message
            assert message.count("duplicate key value violates unique constraint") == 2, message
            # BI reads the marts as they were, and no key twice
            assert row_hashes(bi, marts) == before
            from testing.grains import mart_grains, repeated_grain_keys

            grains = mart_grains(own.dbt_project_dir)
            with bi.cursor() as cur:
                assert (
                    repeated_grain_keys(
                        cur, {m.split(".")[1]: grains[m.split(".")[1]] for m in marts}
                    )
                    == {}
                )
            # the source put right: the next build takes in the version checked again
            with transformer, transformer.cursor() as cur:
                for table, key in (("unit_types", "unit_type"), ("validation_rules", "rule_code")):
                    cur.execute(
                        f"""delete from catalogue.{table} a using catalogue.{table} b
                            where a.{key} = b.{key} and a.ctid > b.ctid"""
                    )
        finally:
            transformer.close()
        run_dbt(own, ["run", *select], day)
        [(failing,)] = _rows(
            bi,
            """select rows_failed from marts.agg_data_quality_by_rule
               where period_code = %s and unit_code = %s and rule_code = 'task.status_required'""",
            (period, unit),
        )
        latest = _rows(
            bi,
            """select sheet_version_id from marts.fct_report_version
               where period_code = %s and unit_code = %s and is_latest_version""",
            (period, unit),
        )
        assert latest == [(version,)]  # the version checked again is the unit's latest
        assert failing == 1
    finally:
        bi.close()


def test_the_history_is_built_in_full_when_what_it_is_computed_with_changes(seasons, province):
    """pipeline.dbt decides before each build: the dbt project (a model, the catalogue) changed
    since the last build, or an ad hoc period that has reports was defined again (dates,
    units), and the build is --full-refresh. A new ad hoc period, even once it has reports,
    changes no row already built."""
    from pipeline.adhoc import request_adhoc_period
    from pipeline.dbt import history_definitions, history_stale, record_history_build

    own, history, periods, conn, reader = province
    assert history_stale(own, history_definitions(own)) == "no build of the history recorded"
    record_history_build(own, history_definitions(own))
    assert history_stale(own, history_definitions(own)) is None
    model = own.dbt_project_dir / "models" / "marts" / "history" / "fct_report_version.sql"
    text = model.read_text(encoding="utf-8")
    model.write_text(text + "\n-- edited\n", encoding="utf-8")
    try:
        assert history_stale(own, history_definitions(own)) == (
            "the dbt project, its catalogue or dbt changed"
        )
    finally:
        model.write_text(text, encoding="utf-8")

    def request(due: str) -> None:
        request_adhoc_period(
            own,
            programme_code="CB-KH84",
            period_code="CB-2026-DX90",
            period_name="Báo cáo đột xuất thử nghiệm",
            data_from="2026-01-01",
            data_to="2026-03-31",
            due_date=due,
            opens_on="2026-04-01",
            unit_codes=["CB-SO-VHTTDL", "CB-XA-001"],
        )

    request("2026-04-10")
    assert history_stale(own, history_definitions(own)) is None  # no report yet
    with conn.cursor() as cur:  # its first report lands
        cur.execute(
            """insert into raw.sheet_versions (spreadsheet_id, fetched_at, content_sha256,
                   payload, pull_run_id)
               values ('bx-adhoc', now(), 'x', '{}', 'adhoc') returning sheet_version_id"""
        )
        [version] = cur.fetchone()
        cur.execute(
            """insert into parsed.report_headers (sheet_version_id, unit_code, period_code,
                   validation_run_id, spreadsheet_id, is_submitted, parsed_at, has_content)
               select %s, 'CB-XA-001', 'CB-2026-DX90', max(validation_run_id), 'bx-adhoc',
                      false, now(), false
               from quality.validation_runs""",
            (version,),
        )
    conn.commit()
    assert history_stale(own, history_definitions(own)) is None  # a new period: nothing to redo
    record_history_build(own, history_definitions(own))
    request("2026-04-20")  # asked again, a later due date
    assert history_stale(own, history_definitions(own)) == (
        "ad hoc period(s) defined again: CB-2026-DX90"
    )


def test_a_build_analyzes_the_landed_tables_a_period_grew(seasons, province):
    """Each dbt command first analyzes the landed tables a hundredth of which changed since
    their last analysis (ops.analyze_landed_tables, as the admin who owns them): a new
    period's first rows reach the planner's statistics at once, not when a tenth of a table
    years long is new (autovacuum's rule). Then nothing is left to analyze."""
    own, history, periods, conn, reader = province
    # an analysis is counted once the backend that made it flushes its statistics, at the
    # latest when it exits, which can come after dbt has returned (autovacuum is off for this
    # table in this module's warehouse: only the builds analyze it)
    deadline = time.monotonic() + 30
    while True:
        [(analyzed,)] = _rows(
            reader,
            """select count(*) from pg_stat_user_tables
               where schemaname = 'parsed' and relname = 'task_rows'
                   and last_analyze is not null""",
        )
        if analyzed or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert analyzed == 1  # by the builds of the seasons: nothing else analyzes it by hand
    assert query(own.dsn("transformer"), "select * from ops.analyze_landed_tables()") == []


def test_a_build_tests_the_periods_it_wrote(seasons, province):
    """The data tests of a build read the periods that build wrote (history_scope, looked up
    when the tests run and written into their SQL as literals, for the planner): a fact row
    broken in a period the build did not write goes unseen, the same break in the period it
    wrote fails a generic test (its `where: "__history_scope__"`) and a singular one, and the
    whole history is tested with the var set. The break is a task the catalogue does not have
    (a relationships test): a value outside a column's list is a check constraint now, which
    refuses the update itself."""
    from pipeline.dbt import DbtFailed, run_dbt

    own, history, periods, conn, reader = province
    first, second = (history.period(code) for code in periods[:2])
    build = ["run", "--select", "+fct_task_progress", "+dim_task"]  # the tasks, for the test
    run_dbt(own, build, second.last_day)  # what the tests before took in, taken in
    recheck_a_counted_version(conn, second.code)
    run_dbt(own, build, second.last_day)
    [(scope,)] = _rows(
        reader,
        """select array_agg(distinct period_code order by period_code)
           from intermediate.dbt_incremental_state
           where touched_by = (select touched_by from intermediate.dbt_incremental_state
                               order by touched_at desc nulls last limit 1)""",
    )
    assert scope == [second.code]
    broken = _rows(
        reader,
        """update marts.fct_task_progress as facts
           set task_code = 'khong_ro ' || facts.period_code, row_key = facts.row_key || '#'
           from (select distinct on (period_code) period_code, unit_code, task_code
                 from marts.fct_task_progress where period_code = any(%s)
                 order by period_code, unit_code, task_code) as one_row
           where (facts.period_code, facts.unit_code, facts.task_code)
               = (one_row.period_code, one_row.unit_code, one_row.task_code)
           returning facts.period_code""",
        ([first.code, second.code],),
    )
    assert sorted(broken) == [(first.code,), (second.code,)]
    tests = [
        "--select",
        "relationships_fct_task_progress_task_code*",
        "assert_facts_come_from_counted_versions",
    ]
    try:
        with pytest.raises(DbtFailed) as scoped:
            run_dbt(own, ["test", *tests], second.last_day)
        with pytest.raises(DbtFailed) as everything:
            run_dbt(own, ["test", *tests, "--vars", '{history_scope: "true"}'], second.last_day)
    finally:
        run_dbt(own, ["run", "--select", "fct_task_progress", "--full-refresh"], second.last_day)
    for failed, rows in ((scoped, 1), (everything, 2)):
        message = str(failed.value)
        got = f"Got {rows} result{'s' if rows > 1 else ''}, configured to fail if != 0"
        assert message.count(got) == 2, message
        assert "relationships_fct_task_progress_task_code" in message, message
        assert "assert_facts_come_from_counted_versions" in message, message


#: three faults put into a copy of macros/history.sql (text there -> text instead): the newest
#: run taken in recorded as the newest of all periods (one mark for every period), a move of the
#: as_of_date ignored (no report taken in or out for it), and the reviewers' decisions ignored
FAULTS = {
    "as latest_runs\n            where latest_runs.period_code = periods.period_code": (
        "as latest_runs where true"
    ),
    "where days.previous_day <> days.this_day": "where false",
    "{%- if reviewed %}": "{%- if false %}",
}


def test_the_comparison_fails_when_the_logic_is_wrong(seasons, province):
    """The comparison with a full refresh above can fail: with the faults of FAULTS in the
    project's copy, the same kind of builds as the seasons' (a later period's runs taken in
    before an earlier period's run commits with a lower id; the Sở returning a version it had
    accepted; a build as of an earlier day) leave rows a full refresh does not make — the
    version checked again without its verdict, the returned version still counted, the
    versions received after the day still there. Last in the module: it lands a third period."""
    from pipeline.dbt import run_dbt
    from testing.history import land_review

    own, history, periods, conn, reader = province
    second, third = history.period(periods[1]), history.period(periods[2])
    select = ["--select", "+fct_report_version"]
    macros = own.dbt_project_dir / "macros" / "history.sql"
    original = macros.read_text(encoding="utf-8")
    faulty = original
    for text, instead in FAULTS.items():
        assert faulty.count(text) == 1, text
        faulty = faulty.replace(text, instead)
    [(last_run,)] = _rows(reader, "select max(validation_run_id) from quality.validation_runs")
    macros.write_text(faulty, encoding="utf-8")
    try:
        opened = third.opens_on + 2 * DAY
        history.land(conn, third.code, third.opens_on, opened, first_run_id=last_run + 3)
        run_dbt(own, ["run", *select], opened)
        checked_again = recheck_a_counted_version(conn, second.code, run_id=last_run + 1)
        # the Sở returns, on the due date, a version it had accepted
        returned = next(
            (unit, version) for unit, version in seasons["accepted"][:2] if unit != checked_again[1]
        )
        land_review(
            conn,
            second.code,
            [(9, *returned, "tra_lai", "Số liệu chưa khớp.")],
            vn_time(second.due_date, 10),
        )
        run_dbt(own, ["run", *select], second.due_date)
        faulty_rows = _faults_seen(reader, checked_again, returned, second.due_date)
        tables = incremental_tables(reader)
        faulty_hashes = row_hashes(reader, tables)
    finally:
        macros.write_text(original, encoding="utf-8")
    run_dbt(own, ["run", *select, "--full-refresh"], second.due_date)
    full_hashes = row_hashes(reader, tables)
    differ = {name for name in tables if faulty_hashes[name] != full_hashes[name]}
    assert {"intermediate.int_report_latest_runs", "marts.fct_report_version"} <= differ, differ
    assert _faults_seen(reader, checked_again, returned, second.due_date) == {
        "latest_run_of_the_version_checked_again": last_run + 1,
        "the_returned_version_counts": False,
        "versions_received_after_the_day": 0,
    }
    assert faulty_rows == {
        "latest_run_of_the_version_checked_again": faulty_rows[
            "latest_run_of_the_version_checked_again"
        ],
        "the_returned_version_counts": True,
        "versions_received_after_the_day": faulty_rows["versions_received_after_the_day"],
    }
    assert faulty_rows["latest_run_of_the_version_checked_again"] != last_run + 1, faulty_rows
    assert faulty_rows["versions_received_after_the_day"] > 0, faulty_rows


def _faults_seen(reader, checked_again: tuple, returned: tuple, day: dt.date) -> dict:
    period, unit, version = checked_again
    [(latest_run,)] = _rows(
        reader,
        """select validation_run_id from intermediate.int_report_latest_runs
           where sheet_version_id = %s and unit_code = %s""",
        (version, unit),
    )
    [(counts,)] = _rows(
        reader,
        """select is_counted_version from marts.fct_report_version
           where unit_code = %s and sheet_version_id = %s""",
        returned,
    )
    [(after,)] = _rows(
        reader, "select count(*) from marts.fct_report_version where received_on > %s", (day,)
    )
    return {
        "latest_run_of_the_version_checked_again": latest_run,
        "the_returned_version_counts": counts,
        "versions_received_after_the_day": after,
    }
