"""Shared fixtures: a real PostgreSQL cluster and a real Sheets emulator, for the whole session.

The tests use their own cluster (``.local/test``, port 55433), recreated empty at the start of
the session, so they never touch the demo's data.

``scripts/test.sh`` runs the modules in two pytest-xdist workers (``-n 2 --dist loadfile``: a
module's tests, and so its module fixtures, stay in one worker). Each worker is a session of its
own with everything a session owns kept apart: its cluster (``.local/test/gw<n>``, port 55433 +
10·n, with Airflow's metadata inside), Airflow's home and dbt's target folder under that state
folder. Great Expectations' project folder is shared; its runner takes a file lock around the
checkpoints that write to it.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
#: "gw0", "gw1", … in a pytest-xdist worker (set before this file is imported), else ""
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
_WORKER_INDEX = int(WORKER[2:]) if WORKER[2:].isdigit() else 0
# overridable so that two test sessions (e.g. two developers' checkouts on one machine) do not
# share a cluster
TEST_STATE = Path(os.environ.get("TONGHOP_TEST_STATE_DIR", ROOT / ".local" / "test")) / WORKER
TEST_PG_PORT = str(int(os.environ.get("TONGHOP_TEST_PG_PORT", "55433")) + 10 * _WORKER_INDEX)
#: the dearest modules first, dearest first, so that the two workers do not end on one of them
#: each after the rest is done (pytest-xdist hands out modules in collection order, two ahead
#: per worker; scripts/test.sh turns off xdist's own order, the modules with most tests first).
#: By CPU seconds, everything a module starts included (``python -m bench.suite_cpu run``,
#: 2026-12: the suite is CPU-bound, so its wall time follows CPU), the rest in collection order
SLOW_MODULES = (
    "test_season.py",  # ~350 CPU s (bench/results/suite_cpu.md)
    "test_review_season.py",  # ~280
    "test_faults.py",  # ~150
    "test_celery_topology.py",  # ~100
    "test_reporting_cycle.py",  # ~95
    "test_history_incremental.py",  # ~95
    "test_reminder_mail.py",  # ~75
    "test_received_time.py",
    "test_dashboard.py",
    "test_bench.py",  # ~65
    "test_hostile_input.py",
    "test_warehouse_docs.py",
    "test_pull_under_faults.py",
    "test_publish_degrades.py",
    "test_unit_feedback.py",
    "test_publish.py",  # ~35
    "test_warehouse_history.py",
    "test_bi_consistency.py",
    "test_warehouse_roles.py",
    "test_provision_in_place.py",
    "test_dags.py",
    "test_warehouse_marts.py",
    "test_cli.py",  # ~30
    "test_adhoc.py",
    "test_quota.py",
    "test_validation_corpus.py",
    "test_compose.py",
    "test_fresh_clone.py",
    "test_lint.py",  # little CPU, 18 s waiting
    "test_secrets_scan.py",
)


def pytest_configure(config):
    os.environ["TONGHOP_STATE_DIR"] = str(TEST_STATE)
    os.environ["TONGHOP_PG_PORT"] = TEST_PG_PORT
    os.environ["TONGHOP_DBT_TARGET_DIR"] = str(TEST_STATE / "dbt-target")
    os.environ["DBT_LOG_PATH"] = str(TEST_STATE / "dbt-logs")
    # dbt's log file without its debug events (every statement sent, ~10 MB a build): what a
    # failing test needs (each node's outcome and error) is at info
    os.environ["DBT_LOG_LEVEL_FILE"] = "info"
    os.environ["GX_ANALYTICS_ENABLED"] = "false"
    os.environ.setdefault("AIRFLOW_HOME", str(TEST_STATE / "airflow-parse"))
    os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
    os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(ROOT / "dags")
    # no test mails the world: those that send mail give their own local server
    os.environ.pop("TONGHOP_SMTP_URL", None)
    os.environ.pop("AIRFLOW_CONN_TONGHOP_SMTP", None)


def pytest_collection_modifyitems(session, config, items):
    """The slow modules first (stable otherwise), for the workers' balance."""
    rank = {name: i for i, name in enumerate(SLOW_MODULES)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))


@pytest.fixture(scope="session")
def settings(tmp_path_factory):
    """A freshly created, running warehouse cluster; the settings to reach it."""
    from tonghop.settings import load_settings
    from tooling import localdb

    cluster = localdb.default_cluster()
    assert cluster.port == int(TEST_PG_PORT)
    localdb.destroy(cluster)
    localdb.start(cluster)
    output = tmp_path_factory.mktemp("output")
    yield load_settings().with_overrides(output_dir=output)
    # nothing left running: a cluster kept after the session would hold its port against the
    # next session's (another checkout, another worker layout)
    localdb.stop(cluster)


@pytest.fixture(scope="session")
def emulator(tmp_path_factory):
    from sheets_emulator import EmulatorServer

    server = EmulatorServer(tmp_path_factory.mktemp("emulator"), host="127.0.0.1", port=0)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def catalogue():
    from tonghop.catalogue import load_catalogue

    return load_catalogue()


def api_calls(server) -> dict:
    """The emulator's calls per endpoint since its stats were reset (endpoints called)."""
    return {k: v for k, v in server.stats()["calls"].items() if v}


def query(dsn: str, sql: str, params: tuple = ()) -> list[tuple]:
    import psycopg2

    conn = psycopg2.connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall()
    finally:
        conn.close()


@pytest.fixture
def alert_webhook(monkeypatch):
    """A local HTTP server as TONGHOP_ALERT_WEBHOOK: the list of JSON bodies it received."""
    with webhook_server() as (url, received):
        monkeypatch.setenv("TONGHOP_ALERT_WEBHOOK", url)
        monkeypatch.delenv("TONGHOP_ALERT_EMAIL", raising=False)
        yield received


@contextlib.contextmanager
def webhook_server():
    """A local HTTP server receiving JSON POSTs (an alert webhook): yields (its URL, the list
    of bodies received), for as long as the ``with`` block lasts."""
    import json
    from http.server import BaseHTTPRequestHandler, HTTPServer

    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers["Content-Length"])
            received.append(json.loads(self.rfile.read(length)))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/hook", received
    finally:
        server.shutdown()
        server.server_close()


def in_thread(function) -> tuple[threading.Thread, dict]:
    """``function`` run in a thread of its own (a stage under a fault the test injects); the
    dict gets its ``result`` or the ``error`` it failed with."""
    outcome: dict = {}

    def run():
        try:
            outcome["result"] = function()
        except Exception as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, outcome


def run_until_its_session_ends(
    settings,
    hold: str,
    function,
    user: str,
    lock: str,
    *,
    params: tuple = (),
    autocommit: bool = False,
    timeout: float = 60,
) -> dict:
    """A stage cut by its server: an admin session takes a lock (``hold``, with ``params``),
    ``function`` runs in a thread until ``user``'s session waits for that lock (of kind
    ``lock``), the server ends that session, and the thread's outcome (its ``result`` or the
    ``error`` it failed with) is returned once it has ended."""
    import psycopg2

    holder = psycopg2.connect(settings.dsn("admin"))
    try:
        holder.autocommit = autocommit
        with holder.cursor() as cur:
            cur.execute(hold, params)
            thread, outcome = in_thread(function)
            terminate_waiting(settings, user, lock)
            thread.join(timeout)
    finally:
        holder.close()
    assert not thread.is_alive()
    return outcome


def terminate_waiting(settings, user: str, lock: str) -> None:
    """Wait for ``user``'s session in ``settings``' warehouse database to wait for a lock of
    kind ``lock`` (``relation``, ``advisory``), then end it from the server's side (as a crash
    or a restart does)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        ended = query(
            settings.dsn("admin"),
            """
            select pg_terminate_backend(pid) from pg_stat_activity
            where datname = %s and usename = %s and wait_event_type = 'Lock'
              and wait_event = %s""",
            (settings.warehouse_db, user, lock),
        )
        if ended:
            return
        time.sleep(0.05)
    raise AssertionError(f"{user} never waited for a {lock} lock")
