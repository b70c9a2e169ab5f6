"""A stage whose connection to the warehouse breaks (the server ended its session: a crash, a
restart) fails at once with ``WarehouseConnectionLost``, saying where it was, what it kept and
that the retry is safe; the retry then does the rest. An error of one statement is not taken
for a lost connection. Here the server ends the session with ``pg_terminate_backend``; the
fault suite crashes the whole server under the pull and validation (tests/test_faults.py)."""

from __future__ import annotations

import psycopg2
import pytest

from tests.conftest import query, run_until_its_session_ends

PERIOD = "CB-2026-6T"
DB = "tonghop_connection_lost"
UNITS = 4


@pytest.fixture(scope="module")
def own(settings, tmp_path_factory):
    """A warehouse database of its own and an emulator with a few units' reports in it."""
    from ingest.registry import register
    from sheets_emulator import EmulatorServer
    from tooling import localdb
    from tooling.demo_setup import generate_into_emulator

    root = tmp_path_factory.mktemp("connection-lost")
    _, entries = generate_into_emulator(PERIOD, seed=5, root=root, register=False)
    server = EmulatorServer(root, host="127.0.0.1", port=0).start()
    localdb.recreate_warehouse(DB)
    own = settings.for_database(DB).with_overrides(
        emulator_url=server.url, sheets_backend="emulator"
    )
    conn = psycopg2.connect(own.dsn("loader"))
    try:
        register(conn, sorted(entries, key=lambda e: e.spreadsheet_id)[:UNITS])
    finally:
        conn.close()
    yield own
    server.stop()


def test_pull_and_validation_fail_clearly_and_their_retries_finish(own):
    from pipeline.cycle import stage_finish_pull, stage_plan_pull, stage_pull_shard, stage_validate
    from tonghop.errors import WarehouseConnectionLost, one_line

    plan = stage_plan_pull(own, PERIOD, "pull-connection-lost")
    targets = plan["targets"]
    assert len(targets) == UNITS
    held = targets[2][0]
    outcome = run_until_its_session_ends(  # the key ingest.land locks a spreadsheet with
        own,
        "select pg_advisory_xact_lock(hashtext(%s))",
        lambda: stage_pull_shard(own, plan["pull_run_id"], targets),
        "loader",
        "advisory",
        params=(held,),
        timeout=30,
    )
    error = outcome.get("error")
    assert isinstance(error, WarehouseConnectionLost), repr(error)
    message = str(error)
    assert message.startswith(
        f"pull pull-connection-lost: the connection to the warehouse "
        f"database was lost at spreadsheet {held} (3 of {UNITS} to read)"
    )
    assert isinstance(error.__cause__, psycopg2.OperationalError)
    assert one_line(error.__cause__) in message  # the driver's own words
    assert "the 2 landed before it are kept (2 new, 0 unchanged)" in message

    retried = stage_pull_shard(own, plan["pull_run_id"], targets)  # the task's retry
    assert (retried["new_versions"], retried["unchanged"]) == (UNITS - 2, 2)
    pulled = stage_finish_pull(own, plan, [retried])

    outcome = run_until_its_session_ends(  # validation's last table: it waits, all written
        own,
        "lock table quality.rule_results in exclusive mode",
        lambda: stage_validate(own, PERIOD, pulled["pull_run_id"]),
        "loader",
        "relation",
        timeout=30,
    )
    error = outcome.get("error")
    assert isinstance(error, WarehouseConnectionLost), repr(error)
    assert str(error).startswith(
        f"validation of {PERIOD} (pull pull-connection-lost): the connection to the warehouse "
        f"database was lost while storing the results of {UNITS} report(s)"
    ), str(error)
    assert query(own.dsn("admin"), "select count(*) from parsed.report_headers") == [(0,)]

    checked = stage_validate(own, PERIOD, pulled["pull_run_id"])  # the task's retry
    assert checked["reports"] == UNITS
    assert query(own.dsn("admin"), "select count(*) from parsed.report_headers") == [(UNITS,)]


def test_an_error_of_one_statement_is_not_a_lost_connection(own):
    from tonghop.errors import connection_lost

    conn = psycopg2.connect(own.dsn("loader"))
    try:
        with conn.cursor() as cur:
            cur.execute("set statement_timeout = 10")
            with pytest.raises(psycopg2.OperationalError) as cancelled:
                cur.execute("select pg_sleep(1)")
        assert not connection_lost(conn, cancelled.value)
        conn.rollback()
        with conn.cursor() as cur:
            cur.execute("select pg_terminate_backend(pg_backend_pid())")
    except psycopg2.OperationalError as exc:
        assert connection_lost(conn, exc)
    else:
        pytest.fail("ending its own session did not raise")
    finally:
        conn.close()
