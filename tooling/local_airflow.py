"""Running the DAG on this machine: Airflow's home, metadata database and connections.

Airflow keeps its metadata in the ``airflow`` database of the local cluster. The connections the
DAG reads are given as ``AIRFLOW_CONN_*`` environment variables built from the local secrets, so
nothing secret is written to a file Airflow would print.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from secrets import token_urlsafe
from typing import IO

import psycopg2
import requests
from psycopg2 import sql

from pipeline import cycle
from tonghop.settings import ADMIN_ROLE, PROJECT_ROOT, Settings, load_local_secrets, state_dir
from tooling.console import copy_stripped

DAG_ID = "tonghop_reporting_cycle"
#: a reporting cycle: pull and validate, then the DAGs its Assets trigger, in that order
BUILD_DAG_ID = "tonghop_build_warehouse"
PUBLISH_DAG_ID = "tonghop_publish"
CYCLE_DAG_IDS = (DAG_ID, BUILD_DAG_ID, PUBLISH_DAG_ID)


def airflow_env(settings: Settings, pg_port: int) -> dict[str, str]:
    secrets = load_local_secrets()
    env = dict(os.environ)
    home = state_dir() / "airflow"
    home.mkdir(parents=True, exist_ok=True)
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT_ROOT / "dags"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"postgresql+psycopg2://airflow:{secrets['airflow']}@127.0.0.1:{pg_port}/airflow",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
            "AIRFLOW__CORE__ALLOWED_DESERIALIZATION_CLASSES_REGEXP": "",
            "GX_ANALYTICS_ENABLED": "false",
            # logs are files people read: no colour codes from dbt or anything that honours these
            "DBT_USE_COLORS": "false",
            "NO_COLOR": "1",
            # warnings about optional extras the CLI does not use here (graph rendering, the test
            # client of the API server), printed by every `airflow` command
            "PYTHONWARNINGS": "ignore:Could not import graphviz,ignore:Using `httpx` with",
            "TONGHOP_STATE_DIR": str(state_dir()),
            "TONGHOP_OUTPUT_DIR": str(settings.output_dir),
        }
    )
    for role, conn_id in (
        ("loader", cycle.CONN_LOADER),
        ("transformer", cycle.CONN_TRANSFORMER),
        ("bi_reader", cycle.CONN_BI_READER),
    ):
        env[f"AIRFLOW_CONN_{conn_id.upper()}"] = settings.dsn(role)
    # the service accounts: tonghop_sheets, then tonghop_sheets_1, _2, … (sheets.client)
    pool = list(settings.sheets_identities) or [
        settings.google_credentials_file if settings.sheets_backend == "google" else None
    ]
    for n, identity in enumerate(pool):
        sheets_extra = {"backend": settings.sheets_backend}
        if settings.sheets_backend == "google":
            sheets_extra["key_path"] = identity
        elif identity:
            sheets_extra["account"] = identity
        conn_id = cycle.CONN_SHEETS if n == 0 else f"{cycle.CONN_SHEETS}_{n}"
        env[f"AIRFLOW_CONN_{conn_id.upper()}"] = json.dumps(
            {"conn_type": "http", "host": settings.emulator_url, "extra": sheets_extra}
        )
    if settings.smtp_url:  # the reminder mails' server, as the SMTP connection tasks read
        from tonghop.mail import SmtpServer

        env[f"AIRFLOW_CONN_{cycle.CONN_SMTP.upper()}"] = json.dumps(
            SmtpServer.from_url(settings.smtp_url).airflow_connection()
        )
    return env


def _airflow(
    args: list[str], env: dict[str, str], *, capture: bool = False, log: IO[str] | None = None
) -> subprocess.CompletedProcess:
    """``airflow <args>``; raises CalledProcessError when it fails. With ``log``, its output
    goes there (without colour codes) instead of the console."""
    airflow = Path(sys.executable).with_name("airflow")
    if log is None:
        return subprocess.run(
            [str(airflow), *args], env=env, check=True, text=True, capture_output=capture
        )
    log.write(f"\n$ airflow {' '.join(args)}\n")
    log.flush()
    proc = subprocess.Popen(
        [str(airflow), *args],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    copy_stripped(proc.stdout, log)
    code = proc.wait()
    if code:
        raise subprocess.CalledProcessError(code, ["airflow", *args])
    return subprocess.CompletedProcess(["airflow", *args], code)


SHEETS_POOL_SLOTS = 2


def migrate(
    env: dict[str, str], *, pool_slots: int = SHEETS_POOL_SLOTS, log: IO[str] | None = None
) -> None:
    """Create or upgrade Airflow's metadata database and the pool the DAG uses, with
    ``pool_slots`` slots (idempotent). Output to ``log`` if given, else kept quiet."""
    _airflow(["db", "migrate"], env, capture=log is None, log=log)
    _airflow(
        [
            "pools",
            "set",
            cycle.SHEETS_POOL,
            str(pool_slots),
            "Tasks calling the Google Sheets/Drive API (quota per service account)",
        ],
        env,
        capture=log is None,
        log=log,
    )


def dags_test(
    env: dict[str, str],
    period_code: str,
    *,
    full_pull: bool = True,
    downstream: bool = True,
    log: IO[str] | None = None,
) -> None:
    """One reporting cycle in this process tree (``airflow dags test``): the cycle DAG, then
    the build and publish DAGs its Assets would trigger under a scheduler (``dags test`` makes
    manual runs and schedules nothing, so they are run here one after the other, with the
    period as their param).

    A full pull by default: the demo rewrites sheets with past modification times, which a
    pull of only the changed files would not see. ``downstream=False`` runs the cycle DAG
    alone. With ``log``, Airflow's output goes there instead of the console.
    """
    conf = {"period_code": period_code, "full_pull": full_pull}
    _airflow(["dags", "test", DAG_ID, "--conf", json.dumps(conf)], env, log=log)
    for dag_id in (BUILD_DAG_ID, PUBLISH_DAG_ID) if downstream else ():
        _airflow(
            ["dags", "test", dag_id, "--conf", json.dumps({"period_codes": [period_code]})],
            env,
            log=log,
        )


# ------------------------------------------------------------------ a real Airflow, as services
#: a user of the simple auth manager with the "user" role: may read, pause and trigger DAGs
SERVICE_USER = "data_engineer"
SERVICE_USER_ROLE = "user"


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def with_metadata_database(env: dict[str, str], dbname: str, pg_port: int) -> dict[str, str]:
    """A copy of ``env`` keeping Airflow's metadata in ``dbname`` of the local cluster,
    created (owned by the ``airflow`` role) if missing.

    What a long-running scheduler needs besides the demo's ``airflow`` database: the tests
    start one in a database of its own, so that its runs never mix with ``airflow dags test``'s.
    """
    passwords = load_local_secrets()
    conn = psycopg2.connect(
        host="127.0.0.1",
        port=pg_port,
        user=ADMIN_ROLE,
        password=passwords["admin"],
        dbname="postgres",
    )
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("select 1 from pg_database where datname = %s", (dbname,))
            if not cur.fetchone():
                cur.execute(
                    sql.SQL("create database {} owner airflow").format(sql.Identifier(dbname))
                )
    finally:
        conn.close()
    env = dict(env)
    env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = (
        f"postgresql+psycopg2://airflow:{passwords['airflow']}@127.0.0.1:{pg_port}/{dbname}"
    )
    return env


def services_env(
    env: dict[str, str],
    port: int,
    *,
    user: str = SERVICE_USER,
    role: str = SERVICE_USER_ROLE,
    parallelism: int = 4,
) -> dict[str, str]:
    """``env`` plus what the API server, scheduler and DAG processor need to run together on
    127.0.0.1: a LocalExecutor running up to ``parallelism`` tasks at once, the API (and its
    execution API, which the tasks call) on ``port``, one JWT secret shared by all of them, the
    simple auth manager with one user, and the DAG folder listed every few seconds (a new
    file is parsed at once; an unchanged one again after a minute: parsing the six files every
    10 s cost a tenth of a core, measured, for nothing while they do not change)."""
    home = Path(env["AIRFLOW_HOME"])
    base_url = f"http://127.0.0.1:{port}"
    env = dict(env)
    env.update(
        {
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__PARALLELISM": str(parallelism),
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(port),
            "AIRFLOW__API__BASE_URL": base_url,
            "AIRFLOW__API__WORKERS": "1",
            "AIRFLOW__API__SECRET_KEY": token_urlsafe(32),
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{base_url}/execution/",
            "AIRFLOW__API_AUTH__JWT_SECRET": token_urlsafe(64),  # HS512: 64 bytes
            "AIRFLOW__CORE__AUTH_MANAGER": "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{user}:{role}",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "False",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(
                home / "simple_auth_manager_passwords.json.generated"
            ),
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "60",
            "AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_STORAGE_PATH": str(home / "dag_bundles"),
            "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
        }
    )
    return env


class AirflowServices:
    """The API server, scheduler and DAG processor started by :func:`running_airflow`."""

    def __init__(self, env: dict[str, str], port: int):
        self.env = env
        self.port = port
        self.base_url = f"http://127.0.0.1:{port}"
        self.home = Path(env["AIRFLOW_HOME"])
        self.process_log_dir = self.home / "process-logs"
        self.task_log_dir = Path(env.get("AIRFLOW__LOGGING__BASE_LOG_FOLDER", self.home / "logs"))
        self.user = env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"].split(",")[0].split(":")[0]
        self.processes: dict[str, subprocess.Popen] = {}

    def password(self) -> str:
        """The simple auth manager's generated password of :attr:`user` (written by the API
        server at its start, as a data engineer finds it on a local Airflow)."""
        path = Path(self.env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"])
        return json.loads(path.read_text(encoding="utf-8"))[self.user]

    def token(self) -> str:
        """A JWT for the REST API: ``POST /auth/token`` with the user's name and password."""
        response = requests.post(
            f"{self.base_url}/auth/token",
            timeout=30,
            json={"username": self.user, "password": self.password()},
        )
        response.raise_for_status()
        return response.json()["access_token"]

    def process_log_tail(self, name: str, chars: int = 3000) -> str:
        path = self.process_log_dir / f"{name}.log"
        return path.read_text(errors="replace")[-chars:] if path.exists() else ""

    def task_log_tails(self, dag_id: str, run_id: str, lines: int = 30) -> dict[str, str]:
        """The last lines of each task's log of one run (``task_id=…/attempt=n.log`` → text),
        Airflow's JSON lines rendered as "time level event", with any exception."""
        tails = {}
        folder = self.task_log_dir / f"dag_id={dag_id}" / f"run_id={run_id}"
        for path in sorted(folder.glob("task_id=*/**/*.log")):
            text = path.read_text(errors="replace").splitlines()[-lines:]
            tails[str(path.relative_to(folder))] = "\n".join(map(_render_log_line, text))
        return tails

    # -- lifecycle
    def start(self, names: tuple[str, ...]) -> None:
        airflow = Path(sys.executable).with_name("airflow")
        self.process_log_dir.mkdir(parents=True, exist_ok=True)
        commands = {
            "api-server": [
                "api-server",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--workers",
                "1",
            ],
            # no log server (it listens on every interface, on a fixed port): the API server
            # is on this machine and reads the task logs from their files
            "scheduler": ["scheduler", "--skip-serve-logs"],
            "dag-processor": ["dag-processor"],
            "triggerer": ["triggerer", "--skip-serve-logs"],
        }
        for name in names:
            with open(self.process_log_dir / f"{name}.log", "wb") as log_file:
                # a session (process group) of its own: stopping it stops its workers too
                self.processes[name] = subprocess.Popen(
                    [str(airflow), *commands[name]],
                    env=self.env,
                    cwd=str(PROJECT_ROOT),
                    stdin=subprocess.DEVNULL,
                    stdout=log_file,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )

    def check_alive(self) -> None:
        for name, proc in self.processes.items():
            if proc.poll() is not None:
                raise RuntimeError(
                    f"airflow {name} exited with {proc.returncode}:\n{self.process_log_tail(name)}"
                )

    def wait_healthy(self, components: tuple[str, ...], timeout: float) -> dict:
        """Wait until ``/api/v2/monitor/health`` reports the metadata database and each of
        ``components`` healthy; return the last answer."""
        deadline = time.monotonic() + timeout
        health: dict = {}
        while time.monotonic() < deadline:
            self.check_alive()
            try:
                response = requests.get(f"{self.base_url}/api/v2/monitor/health", timeout=5)
                if response.ok:
                    health = response.json()
                    if all(
                        (health.get(c) or {}).get("status") == "healthy"
                        for c in ("metadatabase", *components)
                    ):
                        return health
            except requests.RequestException:
                pass
            time.sleep(1)
        logs = "\n".join(f"--- {n}\n{self.process_log_tail(n)}" for n in self.processes)
        raise RuntimeError(f"Airflow not healthy within {timeout:.0f} s: {health}\n{logs}")

    def stop(self, grace: float = 30) -> None:
        """SIGTERM to each process group (the scheduler first, so that it starts nothing new),
        then SIGKILL to whatever is left after ``grace`` seconds."""
        order = [
            n
            for n in ("scheduler", "triggerer", "dag-processor", "api-server")
            if n in self.processes
        ]
        for name in order:
            _signal_group(self.processes[name], signal.SIGTERM)
        deadline = time.monotonic() + grace
        for name in order:
            proc = self.processes[name]
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
        for name in order:  # leaders that ignored SIGTERM, and children they left
            _signal_group(self.processes[name], signal.SIGKILL)
            try:
                self.processes[name].wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass


def _render_log_line(line: str) -> str:
    try:
        entry = json.loads(line)
    except ValueError:
        return line
    if not isinstance(entry, dict):
        return line
    text = f"{entry.get('timestamp', '')} {entry.get('level', '')} {entry.get('event', '')}"
    for error in entry.get("error_detail") or []:
        frames = error.get("frames") or []
        where = f" ({frames[-1].get('filename')}:{frames[-1].get('lineno')})" if frames else ""
        text += f"\n    {error.get('exc_type')}: {error.get('exc_value')}{where}"
    return text


def _signal_group(proc: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)  # the group's id is the leader's pid (start_new_session)
    except (ProcessLookupError, PermissionError):
        pass


@contextmanager
def running_airflow(
    env: dict[str, str],
    port: int | None = None,
    *,
    triggerer: bool = False,
    timeout: float = 180,
    parallelism: int = 4,
):
    """Airflow as services on 127.0.0.1, for as long as the ``with`` block lasts.

    Starts ``airflow api-server`` (on ``port``, a free one by default), ``airflow scheduler``
    (LocalExecutor) and ``airflow dag-processor`` — and ``airflow triggerer`` if asked: the
    reporting DAG defers nothing — each in a process group of its own, with ``env`` (from
    :func:`airflow_env`; the metadata database must be migrated) completed by
    :func:`services_env` (``parallelism``: tasks the LocalExecutor runs at once); their output
    goes to ``<AIRFLOW_HOME>/process-logs/<name>.log``.
    Yields :class:`AirflowServices` once ``/api/v2/monitor/health`` reports the scheduler and
    the DAG processor healthy. On leaving, even on an error, every process group is stopped.
    """
    chosen = port or free_port()
    services = AirflowServices(services_env(env, chosen, parallelism=parallelism), chosen)
    names = ("api-server", "scheduler", "dag-processor", *(("triggerer",) if triggerer else ()))
    try:
        services.start(names)
        services.wait_healthy(
            ("scheduler", "dag_processor", *(("triggerer",) if triggerer else ())), timeout
        )
        yield services
    finally:
        services.stop()
