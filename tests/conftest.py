"""Shared fixtures: a real PostgreSQL cluster and a real Sheets emulator, for the whole session.

The tests use their own cluster (``.local/test``, port 55433), recreated empty at the start of
the session, so they never touch the demo's data.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# overridable so that two test sessions (e.g. two developers' checkouts on one machine) do not
# share a cluster
TEST_STATE = Path(os.environ.get("TONGHOP_TEST_STATE_DIR", ROOT / ".local" / "test"))
TEST_PG_PORT = os.environ.get("TONGHOP_TEST_PG_PORT", "55433")


def pytest_configure(config):
    os.environ["TONGHOP_STATE_DIR"] = str(TEST_STATE)
    os.environ["TONGHOP_PG_PORT"] = TEST_PG_PORT
    os.environ["GX_ANALYTICS_ENABLED"] = "false"
    os.environ.setdefault("AIRFLOW_HOME", str(TEST_STATE / "airflow-parse"))
    os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
    os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(ROOT / "dags")


@pytest.fixture(scope="session")
def settings(tmp_path_factory):
    """A freshly created, running warehouse cluster; the settings to reach it."""
    from tonghop import localdb
    from tonghop.settings import load_settings

    cluster = localdb.default_cluster()
    assert cluster.port == int(TEST_PG_PORT)
    localdb.destroy(cluster)
    localdb.start(cluster)
    output = tmp_path_factory.mktemp("output")
    return load_settings().with_overrides(output_dir=output)


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
