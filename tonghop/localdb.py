"""The local PostgreSQL cluster that the demo and the tests run on.

A cluster of Debian's PostgreSQL server in ``.local/pg`` (ignored by git), listening on
127.0.0.1 at a fixed non-default port. ``start`` is idempotent: it creates the cluster on first
use, starts it if it is not running, and (re)applies roles, databases and the warehouse
structure. Passwords are generated once and kept in ``.local/secrets.json``.

PostgreSQL refuses to run as root; when we are root the server runs as the ``postgres`` system
user that Debian's package creates.
"""

from __future__ import annotations

import json
import logging
import os
import pwd
import secrets
import shutil
import subprocess
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import psycopg2
from psycopg2 import sql

from tonghop import settings as cfg

log = logging.getLogger(__name__)

SECRET_KEYS = ("admin", "loader", "transformer", "bi_reader", "airflow")


class LocalDbError(RuntimeError):
    """The local cluster cannot be created or started; the message says what to do."""


def find_pg_bindir() -> Path:
    """The newest Debian PostgreSQL server's bin folder (holds initdb, pg_ctl, postgres)."""
    explicit = os.environ.get("TONGHOP_PG_BINDIR")
    candidates = [Path(explicit)] if explicit else sorted(
        Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name)
        if p.parent.name.isdigit() else 0, reverse=True)
    for bindir in candidates:
        if (bindir / "initdb").exists() and (bindir / "pg_ctl").exists():
            return bindir
    raise LocalDbError(
        "PostgreSQL server not found under /usr/lib/postgresql. Install it with "
        "`apt-get install -y postgresql` (scripts/bootstrap.sh does this).")


@dataclass(frozen=True)
class Cluster:
    root: Path           # .local/pg
    port: int
    bindir: Path

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def socket_dir(self) -> Path:
        return self.root / "run"

    @property
    def log_file(self) -> Path:
        return self.root / "postgres.log"


def default_cluster() -> Cluster:
    port = int(os.environ.get("TONGHOP_PG_PORT", cfg.DEFAULT_PG_PORT))
    return Cluster(root=cfg.state_dir() / "pg", port=port, bindir=find_pg_bindir())


# ------------------------------------------------------------------ running as the right user
def _server_user() -> str | None:
    """The OS user to run the server as, or None to run as ourselves."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        raise LocalDbError("Running as root but there is no `postgres` system user; install "
                           "Debian's postgresql package, which creates it.") from None
    return "postgres"


def _run(cmd: list[str], *, check: bool = True) -> subprocess.CompletedProcess:
    user = _server_user()
    if user:
        cmd = ["runuser", "-u", user, "--", *cmd]
    log.debug("running %s", cmd)
    return subprocess.run(cmd, check=check, capture_output=True, text=True)


def _prepare_dirs(cluster: Cluster) -> None:
    cluster.root.mkdir(parents=True, exist_ok=True)
    cluster.socket_dir.mkdir(parents=True, exist_ok=True)
    user = _server_user()
    if user:
        pw = pwd.getpwnam(user)
        for path in (cluster.root, cluster.socket_dir):
            os.chown(path, pw.pw_uid, pw.pw_gid)
        # the server user must be able to reach the folder through every parent
        probe = _run(["test", "-x", str(cluster.root)], check=False)
        if probe.returncode != 0:
            raise LocalDbError(
                f"The `postgres` user cannot reach {cluster.root}: a parent folder is not "
                f"searchable. Put the project under a world-searchable path or set "
                f"TONGHOP_STATE_DIR to one (e.g. /var/lib/tonghop).")


# ------------------------------------------------------------------ secrets
def ensure_secrets() -> dict[str, str]:
    """Passwords for the local roles, generated on first use (file mode 0600)."""
    path = cfg.secrets_path()
    existing = cfg.load_local_secrets()
    missing = [k for k in SECRET_KEYS if k not in existing]
    if missing:
        existing.update({k: secrets.token_urlsafe(24) for k in missing})
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(existing, indent=2), encoding="utf-8")
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    return existing


# ------------------------------------------------------------------ lifecycle
def is_initialised(cluster: Cluster) -> bool:
    return (cluster.data_dir / "PG_VERSION").exists()


def is_running(cluster: Cluster) -> bool:
    if not is_initialised(cluster):
        return False
    result = _run([str(cluster.bindir / "pg_ctl"), "-D", str(cluster.data_dir), "status"],
                  check=False)
    return result.returncode == 0


def _initdb(cluster: Cluster, admin_password: str) -> None:
    _prepare_dirs(cluster)
    pwfile = cluster.root / "initdb.pw"
    pwfile.write_text(admin_password, encoding="utf-8")
    user = _server_user()
    if user:
        pw = pwd.getpwnam(user)
        os.chown(pwfile, pw.pw_uid, pw.pw_gid)
    os.chmod(pwfile, 0o600)
    try:
        result = _run([
            str(cluster.bindir / "initdb"), "-D", str(cluster.data_dir),
            "-U", cfg.ADMIN_ROLE, f"--pwfile={pwfile}", "--auth=scram-sha-256",
            "--encoding=UTF8", "--locale=C.UTF-8",
        ], check=False)
    finally:
        pwfile.unlink(missing_ok=True)
    if result.returncode != 0:
        raise LocalDbError(f"initdb failed:\n{result.stdout}\n{result.stderr}")
    conf = cluster.data_dir / "postgresql.conf"
    with conf.open("a", encoding="utf-8") as fh:
        fh.write(
            "\n# --- tonghop local cluster ---\n"
            "listen_addresses = '127.0.0.1'\n"
            f"port = {cluster.port}\n"
            f"unix_socket_directories = '{cluster.socket_dir}'\n"
            "max_connections = 200\n"
            "timezone = 'Asia/Ho_Chi_Minh'\n"
            "log_timezone = 'UTC'\n"
            "password_encryption = 'scram-sha-256'\n"
        )


def start(cluster: Cluster | None = None) -> dict[str, str]:
    """Create (first time) and start the cluster, then apply roles and structure.

    Returns the DSNs per role. Safe to call any number of times.
    """
    cluster = cluster or default_cluster()
    passwords = ensure_secrets()
    if not is_initialised(cluster):
        log.info("creating PostgreSQL cluster in %s", cluster.data_dir)
        _initdb(cluster, passwords["admin"])
    else:
        _prepare_dirs(cluster)
    if not is_running(cluster):
        log.info("starting PostgreSQL on 127.0.0.1:%s", cluster.port)
        result = _run([str(cluster.bindir / "pg_ctl"), "-D", str(cluster.data_dir),
                       "-l", str(cluster.log_file), "-w", "-t", "60", "start"], check=False)
        if result.returncode != 0:
            tail = cluster.log_file.read_text(errors="replace")[-2000:] \
                if cluster.log_file.exists() else ""
            raise LocalDbError(
                f"PostgreSQL did not start (is port {cluster.port} taken by another server? "
                f"set TONGHOP_PG_PORT).\n{result.stderr}\n{tail}")
    apply_structure(cluster, passwords)
    database = os.environ.get("TONGHOP_PG_DB", cfg.WAREHOUSE_DB)
    if database != cfg.WAREHOUSE_DB:
        return ensure_warehouse(database, cluster)
    return dsns(cluster, passwords)


def stop(cluster: Cluster | None = None, mode: str = "fast") -> bool:
    """Stop the cluster if it runs. Returns True if it was running.

    ``fast`` rolls back open transactions and ends sessions cleanly (a checkpoint is written);
    ``immediate`` is a crash: every server process quits at once, without a checkpoint, and
    the next start recovers from the WAL (the fault suite's crash)."""
    cluster = cluster or default_cluster()
    if not is_running(cluster):
        return False
    _run([str(cluster.bindir / "pg_ctl"), "-D", str(cluster.data_dir), "-m", mode, "-w",
          "stop"])
    return True


def restart(cluster: Cluster | None = None, mode: str = "fast") -> None:
    """Restart the running cluster (``pg_ctl restart``): with ``fast``, open sessions are cut
    and their transactions rolled back, as when the server is restarted under a running job;
    ``immediate`` is a crash (recovery from the WAL at start)."""
    cluster = cluster or default_cluster()
    result = _run([str(cluster.bindir / "pg_ctl"), "-D", str(cluster.data_dir), "-m", mode,
                   "-l", str(cluster.log_file), "-w", "-t", "60", "restart"], check=False)
    if result.returncode != 0:
        raise LocalDbError(f"PostgreSQL did not restart:\n{result.stdout}\n{result.stderr}")


def destroy(cluster: Cluster | None = None) -> None:
    """Stop the cluster and delete its files (the secrets stay)."""
    cluster = cluster or default_cluster()
    stop(cluster)
    shutil.rmtree(cluster.root, ignore_errors=True)


def dsns(cluster: Cluster, passwords: dict[str, str],
         warehouse_db: str = cfg.WAREHOUSE_DB) -> dict[str, str]:
    users = {"admin": cfg.ADMIN_ROLE, "loader": "loader", "transformer": "transformer",
             "bi_reader": "bi_reader"}
    result = {role: cfg.make_dsn(user, passwords[role], "127.0.0.1", cluster.port,
                                 warehouse_db) for role, user in users.items()}
    result["airflow"] = cfg.make_dsn("airflow", passwords["airflow"], "127.0.0.1",
                                     cluster.port, cfg.AIRFLOW_DB)
    return result


def _connect_admin(cluster: Cluster, password: str, dbname: str):
    conn = psycopg2.connect(host="127.0.0.1", port=cluster.port, user=cfg.ADMIN_ROLE,
                            password=password, dbname=dbname)
    conn.autocommit = True
    return conn


def apply_structure(cluster: Cluster, passwords: dict[str, str]) -> None:
    """Roles with their passwords, the two databases, and the warehouse structure."""
    conn = _connect_admin(cluster, passwords["admin"], "postgres")
    try:
        cur = conn.cursor()
        for role in ("loader", "transformer", "bi_reader", "airflow"):
            cur.execute("select 1 from pg_roles where rolname = %s", (role,))
            verb = "alter" if cur.fetchone() else "create"
            cur.execute(sql.SQL(verb + " role {} with login password %s").format(
                sql.Identifier(role)), (passwords[role],))
        for db, owner in ((cfg.WAREHOUSE_DB, cfg.ADMIN_ROLE), (cfg.AIRFLOW_DB, "airflow")):
            cur.execute("select 1 from pg_database where datname = %s", (db,))
            if not cur.fetchone():
                cur.execute(sql.SQL("create database {} owner {}").format(
                    sql.Identifier(db), sql.Identifier(owner)))
    finally:
        conn.close()
    _apply_warehouse_ddl(cluster, passwords, cfg.WAREHOUSE_DB)


def ensure_warehouse(dbname: str, cluster: Cluster | None = None) -> dict[str, str]:
    """Another warehouse database in the running cluster (one per province), structure applied.

    Returns the DSNs per role for it. Idempotent.
    """
    cluster = cluster or default_cluster()
    passwords = ensure_secrets()
    conn = _connect_admin(cluster, passwords["admin"], "postgres")
    try:
        cur = conn.cursor()
        cur.execute("select 1 from pg_database where datname = %s", (dbname,))
        if not cur.fetchone():
            cur.execute(sql.SQL("create database {} owner {}").format(
                sql.Identifier(dbname), sql.Identifier(cfg.ADMIN_ROLE)))
    finally:
        conn.close()
    _apply_warehouse_ddl(cluster, passwords, dbname)
    return dsns(cluster, passwords, dbname)


def recreate_warehouse(dbname: str, template: str | None = None,
                       cluster: Cluster | None = None) -> dict[str, str]:
    """Drop a warehouse database and make it again, empty or as a copy of ``template`` (whose
    sessions are ended first), structure and grants applied (tests and benchmarks).

    Returns the DSNs per role for it.
    """
    cluster = cluster or default_cluster()
    passwords = ensure_secrets()
    conn = _connect_admin(cluster, passwords["admin"], "postgres")
    try:
        cur = conn.cursor()
        cur.execute(sql.SQL("drop database if exists {} with (force)").format(
            sql.Identifier(dbname)))
        if template:
            cur.execute("select pg_terminate_backend(pid) from pg_stat_activity "
                        "where datname = %s", (template,))
            cur.execute(sql.SQL("create database {} template {}").format(
                sql.Identifier(dbname), sql.Identifier(template)))
    finally:
        conn.close()
    return ensure_warehouse(dbname, cluster)


def _apply_warehouse_ddl(cluster: Cluster, passwords: dict[str, str], dbname: str) -> None:
    ddl = resources.files("tonghop.sql").joinpath("warehouse.sql").read_text(encoding="utf-8")
    conn = _connect_admin(cluster, passwords["admin"], dbname)
    try:
        with conn.cursor() as cur:
            cur.execute("select pg_advisory_lock(hashtext('tonghop.apply_structure'))")
            cur.execute(ddl)
            cur.execute("select pg_advisory_unlock(hashtext('tonghop.apply_structure'))")
    finally:
        conn.close()
