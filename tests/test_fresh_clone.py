"""README's two commands set up from a checkout inside a private folder (mode 0700), as root's
home is on Debian: the project's own scripts install what is missing, the local PostgreSQL
cluster starts where its server user can reach it and says where, and the test command's own
set-up (bootstrap, then the tests' cluster) works there too.

The checkout is a copy of this working tree's files (tracked and new, not ignored ones), so what
is tested is what would be committed; its virtual environment is made by its own
``scripts/bootstrap.sh`` from the lock file (uv's cache makes that a matter of seconds).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tooling import localdb
from tooling.local_airflow import free_port

ROOT = Path(__file__).resolve().parent.parent
#: variables of this test session that would point the copy at this checkout's state
SESSION_VARIABLES = (
    "TONGHOP_STATE_DIR",
    "TONGHOP_PG_PORT",
    "TONGHOP_TEST_STATE_DIR",
    "TONGHOP_TEST_PG_PORT",
    "TONGHOP_PG_DIR",
    "TONGHOP_DBT_TARGET_DIR",
    "DBT_LOG_PATH",
    "AIRFLOW_HOME",
    "AIRFLOW__CORE__DAGS_FOLDER",
    "VIRTUAL_ENV",
    "PYTHONPATH",
    "PYTEST_XDIST_WORKER",
    "PYTEST_XDIST_WORKER_COUNT",
    "PYTEST_XDIST_TESTRUNUID",
)

PROBE = """
from tests.conftest import query


def test_the_session_cluster_answers(settings):
    assert query(settings.dsn("bi_reader"), "select 1") == [(1,)]
"""


def copy_checkout(target: Path) -> None:
    """This working tree's files as a fresh clone would have them (plus uncommitted ones)."""
    listed = (
        subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        .stdout.decode()
        .split("\0")
    )
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)


def run(
    cmd: list[str], cwd: Path, env: dict[str, str], timeout: float = 600
) -> subprocess.CompletedProcess:
    result = subprocess.run(
        cmd,
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
    assert "Traceback" not in result.stdout + result.stderr, result.stdout + result.stderr
    return result


@pytest.fixture(scope="module")
def private_checkout(tmp_path_factory):
    home = tmp_path_factory.mktemp("home")
    home.chmod(0o700)
    checkout = home / "tonghop"
    checkout.mkdir()
    copy_checkout(checkout)
    env = {k: v for k, v in os.environ.items() if k not in SESSION_VARIABLES}
    # uv's package cache stays this machine's (the copy's venv links from it instead of
    # downloading every package again); the rest of the user's state is the private folder's
    env.setdefault("UV_CACHE_DIR", str(Path.home() / ".cache" / "uv"))
    env["HOME"] = str(home)
    bootstrap = run(["bash", "scripts/bootstrap.sh"], checkout, env)
    assert bootstrap.returncode == 0, bootstrap.stdout + bootstrap.stderr
    yield checkout, env
    # the demo's cluster, and the test command's (one per pytest-xdist worker)
    states = [
        checkout / ".local",
        checkout / ".local" / "test",
        *(checkout / ".local" / "test").glob("gw*"),
    ]
    for state in states:
        cleanup = dict(env, TONGHOP_STATE_DIR=str(state))
        subprocess.run(
            [str(checkout / ".venv" / "bin" / "tonghop"), "db", "destroy"],
            cwd=checkout,
            env=cleanup,
            capture_output=True,
            timeout=120,
        )


def test_the_folder_is_private(private_checkout):
    checkout, _ = private_checkout
    assert checkout.parent.stat().st_mode & 0o777 == 0o700


def test_the_demo_cluster_starts_and_says_where(private_checkout):
    """The demo's set-up: ``tonghop db start`` (what ``tonghop demo`` does first) from the
    private checkout, then its status."""
    checkout, env = private_checkout
    env = dict(env, TONGHOP_PG_PORT=str(free_port()))
    tonghop = str(checkout / ".venv" / "bin" / "tonghop")
    started = run([tonghop, "db", "start"], checkout, env)
    assert started.returncode == 0, started.stdout + started.stderr
    [line] = started.stdout.splitlines()
    assert f"127.0.0.1:{env['TONGHOP_PG_PORT']}" in line
    if os.geteuid() == 0:
        # root's server user cannot enter the private folder: the cluster lives elsewhere
        assert str(localdb.SHARED_CLUSTERS_DIR) in line and str(checkout) not in line, line
        assert "postgres" in line
    else:
        assert str(checkout / ".local" / "pg") in line, line
    status = run([tonghop, "db", "status"], checkout, env)
    assert status.returncode == 0, status.stdout + status.stderr


def test_the_test_command_sets_up_its_own_cluster(private_checkout):
    """The test command's set-up: ``scripts/test.sh`` (bootstrap, then pytest, whose session
    fixture makes the tests' cluster) on one probe test written into the copy."""
    checkout, env = private_checkout
    (checkout / "tests" / "test_zz_probe.py").write_text(PROBE, encoding="utf-8")
    env = dict(env, TONGHOP_TEST_PG_PORT=str(free_port()))
    result = run(
        ["bash", "scripts/test.sh", "tests/test_zz_probe.py", "-q", "-p", "no:cacheprovider"],
        checkout,
        env,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout
