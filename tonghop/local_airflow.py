"""Running the DAG on this machine: Airflow's home, metadata database and connections.

Airflow keeps its metadata in the ``airflow`` database of the local cluster. The connections the
DAG reads are given as ``AIRFLOW_CONN_*`` environment variables built from the local secrets, so
nothing secret is written to a file Airflow would print.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tonghop import cycle
from tonghop.settings import PROJECT_ROOT, Settings, load_local_secrets, state_dir

DAG_ID = "tonghop_reporting_cycle"


def airflow_env(settings: Settings, pg_port: int) -> dict[str, str]:
    secrets = load_local_secrets()
    env = dict(os.environ)
    home = state_dir() / "airflow"
    home.mkdir(parents=True, exist_ok=True)
    env.update({
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT_ROOT / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN":
            f"postgresql+psycopg2://airflow:{secrets['airflow']}@127.0.0.1:{pg_port}/airflow",
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
        "AIRFLOW__CORE__ALLOWED_DESERIALIZATION_CLASSES_REGEXP": "",
        "GX_ANALYTICS_ENABLED": "false",
        "TONGHOP_STATE_DIR": str(state_dir()),
        "TONGHOP_OUTPUT_DIR": str(settings.output_dir),
    })
    for role, conn_id in (("loader", cycle.CONN_LOADER), ("transformer", cycle.CONN_TRANSFORMER),
                          ("bi_reader", cycle.CONN_BI_READER)):
        env[f"AIRFLOW_CONN_{conn_id.upper()}"] = settings.dsn(role)
    sheets_extra = {"backend": settings.sheets_backend}
    if settings.sheets_backend == "google":
        sheets_extra["key_path"] = settings.google_credentials_file
    env[f"AIRFLOW_CONN_{cycle.CONN_SHEETS.upper()}"] = json.dumps(
        {"conn_type": "http", "host": settings.emulator_url, "extra": sheets_extra})
    return env


def _airflow(args: list[str], env: dict[str, str], *, capture: bool = False
             ) -> subprocess.CompletedProcess:
    airflow = Path(sys.executable).with_name("airflow")
    return subprocess.run([str(airflow), *args], env=env, check=True, text=True,
                          capture_output=capture)


SHEETS_POOL_SLOTS = 2


def migrate(env: dict[str, str]) -> None:
    """Create or upgrade Airflow's metadata database and the pool the DAG uses (idempotent)."""
    _airflow(["db", "migrate"], env, capture=True)
    _airflow(["pools", "set", cycle.SHEETS_POOL, str(SHEETS_POOL_SLOTS),
              "Tasks calling the Google Sheets/Drive API (quota per service account)"], env,
             capture=True)


def dags_test(env: dict[str, str], period_code: str, *, full_pull: bool = True) -> None:
    """One run of the reporting DAG in this process tree (``airflow dags test``).

    A full pull by default: the demo rewrites sheets with past modification times, which a
    pull of only the changed files would not see.
    """
    conf = {"period_code": period_code, "full_pull": full_pull}
    _airflow(["dags", "test", DAG_ID, "--conf", json.dumps(conf)], env)
