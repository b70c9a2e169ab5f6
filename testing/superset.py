"""Superset (the dashboard, bi/) run as docker-compose.yml runs it, for tests and benchmarks.

The same scripts and the same environment variable names as the stack's services: the metadata
set-up (``bi/setup_metadata.py``, service ``superset-init``), the server (``bi/run-server.sh``,
service ``superset``) and the dashboards' loader (``bi/load_dashboards.py``, service
``dashboards-init``), each with Superset's own Python (``.local/superset/venv``, made by
scripts/bootstrap.sh from ``bi/requirements-superset.lock``) and ``bi/superset_config.py``.
Secrets are files in a folder given as SECRETS_DIR, as /run/secrets is in the stack.

Superset's metadata database is PostgreSQL here too, a database of the test cluster. Migrating
a new one takes about a minute, so once made (by ``bi/setup_metadata.py``) it is kept as a
pg_dump in the state folder, keyed by the SHA-256 of the lock, the configuration and the set-up
script, and restored from there while none of them changed (``metadata_database``).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from testing.browser import HEADLESS

ROOT = Path(__file__).resolve().parent.parent
BI = ROOT / "bi"
VENV = ROOT / ".local" / "superset" / "venv"
LOCK = BI / "requirements-superset.lock"
CONFIG = BI / "superset_config.py"
#: the files whose change makes a cached metadata database stale
METADATA_INPUTS = (LOCK, CONFIG, BI / "setup_metadata.py")
METADATA_ROLE = "superset"
#: the secrets a cached metadata database was made with (its admin account; its key)
CACHED_SECRETS = ("superset_admin_password", "superset_secret_key")
ADMIN = "admin"
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
#: Chromium without anything that reaches beyond this machine, and nothing kept between runs
#: (a fresh --user-data-dir is added per browser); every host name but localhost fails to
#: resolve, so a page asking for an outside resource shows up as a failed request
CHROMIUM_ARGS = (
    *HEADLESS,
    "--disable-dev-shm-usage",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
    "--lang=vi-VN",
)


def missing_tools() -> list[str]:
    """What scripts/bootstrap.sh installs that is not here."""
    wanted = {
        "Superset's venv (.local/superset/venv)": VENV / "bin" / "python",
        "Debian's chromium": CHROMIUM,
        "Debian's chromium-driver": CHROMEDRIVER,
    }
    return [name for name, path in wanted.items() if not path.exists()]


def python() -> str:
    return str(VENV / "bin" / "python")


def inputs_sha256() -> str:
    digest = hashlib.sha256()
    for path in METADATA_INPUTS:
        digest.update(path.read_bytes())
    return digest.hexdigest()


def write_secrets(folder: Path, values: dict[str, str]) -> Path:
    """A stand-in for /run/secrets: one file per secret, readable by this user only."""
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    for name, value in values.items():
        path = folder / name
        path.write_text(value + "\n", encoding="utf-8")
        path.chmod(0o600)
    return folder


@dataclass
class Stack:
    """Where Superset's processes find everything: the variables docker-compose.yml sets."""

    secrets_dir: Path
    metadata_host: str
    metadata_port: int
    metadata_db: str
    warehouse_host: str
    warehouse_port: int
    warehouse_db: str
    port: int
    workers: int = 2

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        keep = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TZ")}
        return {
            **keep,
            "PATH": f"{VENV / 'bin'}:{keep.get('PATH', '/usr/bin:/bin')}",
            "PYTHONUNBUFFERED": "1",
            "SUPERSET_CONFIG_PATH": str(CONFIG),
            "SECRETS_DIR": str(self.secrets_dir),
            "SUPERSET_DB_HOST": self.metadata_host,
            "SUPERSET_DB_PORT": str(self.metadata_port),
            "SUPERSET_DB_NAME": self.metadata_db,
            "SUPERSET_DB_USER": METADATA_ROLE,
            "SUPERSET_ADMIN_USERNAME": ADMIN,
            "SUPERSET_ADMIN_EMAIL": "admin@example.com",
            "SUPERSET_LISTEN": f"127.0.0.1:{self.port}",
            "SUPERSET_WORKERS": str(self.workers),
            "SUPERSET_URL": self.url,
            "TONGHOP_PG_HOST": self.warehouse_host,
            "TONGHOP_PG_PORT": str(self.warehouse_port),
            "TONGHOP_PG_DB": self.warehouse_db,
        }

    def admin_password(self) -> str:
        return (self.secrets_dir / "superset_admin_password").read_text(encoding="utf-8").strip()


def run_script(stack: Stack, script: str, log: Path, timeout: float = 600) -> None:
    """One of bi/'s scripts with Superset's Python; its output to ``log``; fails loudly."""
    with log.open("ab") as out:
        result = subprocess.run(
            [python(), str(BI / script)],
            env=stack.env(),
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=timeout,
        )
    if result.returncode != 0:
        tail = log.read_text(encoding="utf-8", errors="replace")[-4000:]
        raise RuntimeError(f"bi/{script} failed ({result.returncode}):\n{tail}")


def _pg(tool: str) -> str:
    from tooling.localdb import find_pg_bindir

    return str(find_pg_bindir() / tool)


def metadata_database(admin_dsn: str, stack: Stack, cache_dir: Path, log: Path) -> str:
    """Superset's metadata database on the cluster of ``admin_dsn`` (dropped and made again),
    its role given the password in the secrets folder; restored from the cached dump of the
    same inputs, or set up by bi/setup_metadata.py and then dumped. The admin account's
    password and the secret key it was made with are kept beside the dump and written into
    the secrets folder on a restore. Returns 'cached' or 'set up'."""
    import psycopg2
    from psycopg2 import sql

    password = (stack.secrets_dir / "superset_db_password").read_text(encoding="utf-8").strip()
    conn = psycopg2.connect(admin_dsn)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("select 1 from pg_roles where rolname = %s", (METADATA_ROLE,))
            verb = "alter" if cur.fetchone() else "create"
            cur.execute(
                sql.SQL(verb + " role {} login password {}").format(
                    sql.Identifier(METADATA_ROLE), sql.Literal(password)
                )
            )
            cur.execute(
                sql.SQL("drop database if exists {} with (force)").format(
                    sql.Identifier(stack.metadata_db)
                )
            )
            cur.execute(
                sql.SQL("create database {} owner {} encoding 'UTF8'").format(
                    sql.Identifier(stack.metadata_db), sql.Identifier(METADATA_ROLE)
                )
            )
    finally:
        conn.close()
    parts = urlsplit(admin_dsn)
    env = {
        **os.environ,
        "PGHOST": parts.hostname or "127.0.0.1",
        "PGPORT": str(parts.port or 5432),
        "PGUSER": METADATA_ROLE,
        "PGPASSWORD": password,
        "PGDATABASE": stack.metadata_db,
    }
    dump = cache_dir / f"superset-metadata-{inputs_sha256()[:16]}.dump"
    kept = dump.with_suffix(".secrets.json")
    if dump.exists() and kept.exists():
        write_secrets(stack.secrets_dir, json.loads(kept.read_text(encoding="utf-8")))
        subprocess.run(
            [
                _pg("pg_restore"),
                "--no-owner",
                "--exit-on-error",
                "-d",
                stack.metadata_db,
                str(dump),
            ],
            env=env,
            check=True,
            capture_output=True,
            timeout=300,
        )
        return "cached"
    run_script(stack, "setup_metadata.py", log)
    cache_dir.mkdir(parents=True, exist_ok=True)
    for old in cache_dir.glob("superset-metadata-*"):
        old.unlink()
    partial = dump.with_suffix(".partial")
    subprocess.run(
        [_pg("pg_dump"), "-Fc", "--no-owner", "-f", str(partial), stack.metadata_db],
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )
    partial.rename(dump)
    kept.write_text(
        json.dumps(
            {n: (stack.secrets_dir / n).read_text(encoding="utf-8").strip() for n in CACHED_SECRETS}
        ),
        encoding="utf-8",
    )
    kept.chmod(0o600)
    return "set up"


def wait_healthy(
    url: str,
    process: subprocess.Popen | None = None,
    deadline_s: float = 300,
    log: Path | None = None,
):
    """Until GET /health answers OK (or the process ended, or the deadline passed); the error
    ends with the tail of the server's ``log``."""
    import requests

    until = time.monotonic() + deadline_s
    while time.monotonic() < until:
        if process is not None and process.poll() is not None:
            tail = log.read_text(encoding="utf-8", errors="replace")[-3000:] if log else ""
            raise RuntimeError(
                f"Superset ended with {process.returncode} before it was healthy\n{tail}"
            )
        try:
            if requests.get(f"{url}/health", timeout=5).text.strip() == "OK":
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"Superset at {url} not healthy after {deadline_s:.0f} s")


def start_server(stack: Stack, log: Path) -> subprocess.Popen:
    """bi/run-server.sh (gunicorn) in a process group of its own; stop it with stop_server."""
    with log.open("ab") as out:
        return subprocess.Popen(
            ["bash", str(BI / "run-server.sh")],
            env=stack.env(),
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def stop_server(process: subprocess.Popen) -> None:
    """The server's whole process group: SIGTERM, then SIGKILL after 30 s."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


@contextlib.contextmanager
def server(stack: Stack, log: Path) -> Iterator[subprocess.Popen]:
    """bi/run-server.sh running until the block ends."""
    process = start_server(stack, log)
    try:
        yield process
    finally:
        stop_server(process)


def process_tree_rss(pid: int) -> int:
    """Resident memory (bytes) of a process and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(
                line.split(":", 1) for line in status.read_text().splitlines() if ":" in line
            )
        except OSError:
            continue
        this = int(fields["Pid"].strip())
        children.setdefault(int(fields["PPid"].strip()), []).append(this)
        rss[this] = int(fields.get("VmRSS", "0 kB").split()[0]) * 1024
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        total += rss.get(current, 0)
        todo.extend(children.get(current, []))
    return total


def local_stack(
    settings, work: Path, *, metadata_db: str, warehouse_db: str, port: int, workers: int = 2
) -> Stack:
    """A stack on the local cluster of ``settings``: Superset's own database ``metadata_db``
    and the warehouse ``warehouse_db`` there, read as bi_reader (a role of the cluster, with
    the same password in every database); new secrets under ``work/secrets``."""
    admin = urlsplit(settings.dsn("admin"))
    return Stack(
        secrets_dir=new_secrets(
            work / "secrets", unquote(urlsplit(settings.dsn("bi_reader")).password)
        ),
        metadata_host=admin.hostname,
        metadata_port=admin.port,
        metadata_db=metadata_db,
        warehouse_host=admin.hostname,
        warehouse_port=admin.port,
        warehouse_db=warehouse_db,
        port=port,
        workers=workers,
    )


def new_secrets(folder: Path, bi_reader_password: str) -> Path:
    """The stack's Superset secrets (random) and the warehouse's bi_reader password."""
    return write_secrets(
        folder,
        {
            "superset_secret_key": secrets.token_urlsafe(42),
            "superset_db_password": secrets.token_hex(32),
            "superset_admin_password": secrets.token_hex(16),
            "bi_reader_password": bi_reader_password,
        },
    )


@contextlib.contextmanager
def chromium(profile: Path, width: int = 1600, height: int = 1200):
    """Debian's Chromium, headless, driven by Debian's chromedriver (no browser download)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in (*CHROMIUM_ARGS, f"--user-data-dir={profile}", f"--window-size={width},{height}"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def sign_in(driver, url: str, username: str, password: str, timeout: float = 60) -> None:
    """Superset's login page, filled in and sent as a person does."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(f"{url}/login/")
    wait = WebDriverWait(driver, timeout)
    wait.until(ec.element_to_be_clickable((By.ID, "username"))).send_keys(username)
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.CSS_SELECTOR, "[data-test='login-button']").click()
    wait.until(lambda d: "/login" not in d.current_url)


def charts_settled(driver) -> dict:
    """{chart title: state} of the dashboard's charts, read from the page: 'rendered' when its
    table, big number or canvas is drawn, 'error' (with Superset's message) when the chart
    says it failed, 'loading' otherwise."""
    return driver.execute_script(
        """
        const out = {};
        for (const holder of document.querySelectorAll('[data-test="dashboard-component-chart-holder"]')) {
          const titled = holder.querySelector('[data-test="editable-title"], .header-title');
          if (!titled) continue;  // a text block, not a chart
          const title = titled.textContent;
          const error = holder.querySelector('[role="alert"], .alert-danger, [data-test="error-tooltip"]');
          let state = 'loading';
          // a chart being queried again keeps its old table under the spinner
          if (holder.querySelector('[data-test="loading-indicator"]')) state = 'loading';
          else if (error) state = 'error: ' + error.textContent.trim();
          else if (holder.querySelector('table tbody tr, .header-line, canvas, svg.superset-legacy-chart'))
            state = 'rendered';
          else if (holder.querySelector('.no-results, [data-test="no-results"]')) state = 'empty';
          out[title.trim()] = state;
        }
        return out;
        """
    )


def read_charts(driver) -> dict:
    """What the dashboard shows, read off the page: {chart title: {"number": the big number's
    text} or {"header": [column titles], "rows": [[cell texts]]}}."""
    return driver.execute_script(
        """
        const out = {};
        for (const holder of document.querySelectorAll('[data-test="dashboard-component-chart-holder"]')) {
          const titled = holder.querySelector('[data-test="editable-title"], .header-title');
          if (!titled) continue;
          const title = titled.textContent.trim();
          const number = holder.querySelector('.header-line');
          if (number) { out[title] = {number: number.textContent.trim()}; continue; }
          // a table chart may draw its header and its body as two tables (sticky header)
          if (!holder.querySelector('table')) continue;
          const text = (cell) => cell.textContent.replace(/\\s+/g, ' ').trim();
          out[title] = {
            header: Array.from(holder.querySelectorAll('thead tr:first-child th')).map(text),
            rows: Array.from(holder.querySelectorAll('tbody tr')).map(
              (tr) => Array.from(tr.querySelectorAll('td')).map(text)).filter(
              (cells) => cells.length > 0),
          };
        }
        return out;
        """
    )


def choose_period(driver, filter_id: str, value: str, timeout: float = 60) -> None:
    """The dashboard's select filter ``filter_id`` (its id in the dashboard's YAML) set to
    ``value`` and applied, as a person does: open the list, type, pick, "Apply filters"."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    wait = WebDriverWait(driver, timeout)
    select = f"[data-test='{filter_id}'] .ant-select-selector"
    wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, select))).click()
    typing = driver.find_element(By.ID, filter_id)
    typing.send_keys(value)
    wait.until(
        ec.element_to_be_clickable((By.CSS_SELECTOR, f".ant-select-item-option[title='{value}']"))
    ).click()
    typing.send_keys(Keys.ESCAPE)
    wait.until(
        ec.element_to_be_clickable((By.CSS_SELECTOR, "[data-test='filter-bar__apply-button']"))
    ).click()


def wait_settled(driver, timeout: float = 120, until=None) -> dict:
    """Until every chart is drawn or failed, no chart is being queried (Superset draws a
    spinner over a chart it queries again, and charts answer one by one), ``until(read_charts)``
    holds if given, and the page reads the same twice half a second apart; returns
    charts_settled."""
    deadline = time.monotonic() + timeout
    previous = None
    while True:
        states = charts_settled(driver)
        done = states and all(s != "loading" for s in states.values())
        seen = read_charts(driver) if done else None
        if done and (until is None or until(seen)) and seen == previous:
            return states
        previous = seen
        if time.monotonic() > deadline:
            raise TimeoutError(f"charts not settled after {timeout:.0f} s: {states}")
        time.sleep(0.5)


def blocked_by_policy(driver) -> set[str]:
    """The addresses the browser refused to load because of the content security policy (from
    its console log; reading the log empties it)."""
    import re

    return {
        match.group(1)
        for entry in driver.get_log("browser")
        if "Content Security Policy" in entry["message"]
        for match in [re.search(r"'(https?://[^']+)'", entry["message"])]
        if match
    }


def outside_requests(driver, origin: str) -> list[str]:
    """Resources the page asked for anywhere but ``origin`` (the Performance API's list; a
    resource the content security policy refused is listed too, with nothing received)."""
    urls = driver.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name).concat([location.href])"
    )
    return [u for u in urls if not (u.startswith(origin) or u.startswith(("data:", "blob:")))]
