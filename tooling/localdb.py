"""The local PostgreSQL cluster that the demo and the tests run on.

A cluster of Debian's PostgreSQL server in ``.local/pg`` (ignored by git), listening on
127.0.0.1 at a fixed non-default port. ``start`` is idempotent: it creates the cluster on first
use, starts it if it is not running, and (re)applies roles, databases and the warehouse
structure. Passwords are generated once and kept in ``.local/secrets.json``.

PostgreSQL refuses to run as root; when we are root the server runs as the ``postgres`` system
user that Debian's package creates. That user must reach the cluster's folder through every
parent folder, which it cannot when the checkout sits in a private folder (root's home is mode
0700 on Debian): the cluster then lives in ``/var/lib/tonghop/<name>-<hash>`` instead, one per
checkout (:func:`cluster_root`), and ``tonghop db start`` says where. ``TONGHOP_PG_DIR`` chooses
the folder explicitly.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import pwd
import re
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
    candidates = (
        [Path(explicit)]
        if explicit
        else sorted(
            Path("/usr/lib/postgresql").glob("*/bin"),
            key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
            reverse=True,
        )
    )
    for bindir in candidates:
        if (bindir / "initdb").exists() and (bindir / "pg_ctl").exists():
            return bindir
    raise LocalDbError(
        "Không tìm thấy máy chủ PostgreSQL trong /usr/lib/postgresql. Cài bằng "
        "`apt-get install -y postgresql` (scripts/bootstrap.sh làm việc này khi chạy với "
        "quyền root), hoặc đặt TONGHOP_PG_BINDIR."
    )


@dataclass(frozen=True)
class Cluster:
    root: Path  # .local/pg, or a folder under SHARED_CLUSTERS_DIR
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

    @property
    def in_checkout(self) -> bool:
        """Whether the cluster lives in this checkout's state folder (else in
        :data:`SHARED_CLUSTERS_DIR`, because the server user cannot reach the checkout)."""
        return self.root == cfg.state_dir() / "pg"

    def where(self) -> str:
        """One line for the person who started it: address, folder and, when the folder is not
        the checkout's, why."""
        line = f"127.0.0.1:{self.port}, dữ liệu ở {self.root}"
        if not self.in_checkout:
            line += (
                " (người dùng hệ thống `postgres` không vào được thư mục dự án, "
                "nên cụm được đặt ở đây)"
            )
        return line


#: where clusters live when the server user cannot reach the checkout (one folder each)
SHARED_CLUSTERS_DIR = Path("/var/lib/tonghop")


def default_cluster() -> Cluster:
    port = int(os.environ.get("TONGHOP_PG_PORT", cfg.DEFAULT_PG_PORT))
    return Cluster(root=cluster_root(), port=port, bindir=find_pg_bindir())


def cluster_root() -> Path:
    """The cluster's folder: ``TONGHOP_PG_DIR`` if set; else ``<state>/pg`` when the server's
    user can reach it (we are not root, or every parent folder lets ``postgres`` through);
    else a folder of this checkout's own under :data:`SHARED_CLUSTERS_DIR`, named after the
    state folder and a hash of its path, so two checkouts never share a cluster."""
    explicit = os.environ.get("TONGHOP_PG_DIR")
    if explicit:
        return Path(explicit).resolve()
    state = cfg.state_dir()
    preferred = state / "pg"
    user = _server_user()
    if user is None or reachable_by(user, preferred):
        return preferred
    digest = hashlib.sha256(str(state).encode()).hexdigest()[:10]
    name = re.sub(r"[^0-9A-Za-z_-]+", "-", "-".join(p.lstrip(".") for p in state.parts[-3:]))
    name = name.strip("-") or "tonghop"
    return SHARED_CLUSTERS_DIR / f"{name}-{digest}"


def reachable_by(user: str, path: Path) -> bool:
    """Whether ``user`` may pass through every existing folder on the way to ``path`` (the
    execute bit that applies to it: owner, group or others; ACLs are not read)."""
    pw = pwd.getpwnam(user)
    groups = set(os.getgrouplist(user, pw.pw_gid))
    path = Path(path).resolve()
    for folder in [*reversed(path.parents), path]:
        try:
            st = folder.stat()
        except FileNotFoundError:
            break  # created later by root, 0755: passable
        if pw.pw_uid == 0:
            continue
        if st.st_uid == pw.pw_uid:
            allowed = st.st_mode & 0o100
        elif st.st_gid in groups:
            allowed = st.st_mode & 0o010
        else:
            allowed = st.st_mode & 0o001
        if not allowed:
            return False
    return True


# ------------------------------------------------------------------ running as the right user
def _server_user() -> str | None:
    """The OS user to run the server as, or None to run as ourselves."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        raise LocalDbError(
            "Đang chạy với quyền root nhưng không có người dùng hệ thống "
            "`postgres`: cài gói postgresql của Debian (gói này tạo người dùng "
            "đó)."
        ) from None
    return "postgres"


def _run(cmd: list[str], *, check: bool = True) -> subprocess.CompletedProcess:
    user = _server_user()
    if user:
        cmd = ["runuser", "-u", user, "--", *cmd]
    log.debug("running %s", cmd)
    return subprocess.run(cmd, check=check, capture_output=True, text=True)


def _prepare_dirs(cluster: Cluster) -> None:
    if cluster.root.parent == SHARED_CLUSTERS_DIR:
        SHARED_CLUSTERS_DIR.mkdir(mode=0o755, parents=True, exist_ok=True)
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
                f"Người dùng hệ thống `postgres` không vào được {cluster.root}: một thư mục "
                f"cha không cho phép đi qua. Đặt TONGHOP_PG_DIR là một thư mục mà `postgres` "
                f"vào được (ví dụ /var/lib/tonghop/pg), rồi chạy lại."
            )


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
    result = _run(
        [str(cluster.bindir / "pg_ctl"), "-D", str(cluster.data_dir), "status"], check=False
    )
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
        result = _run(
            [
                str(cluster.bindir / "initdb"),
                "-D",
                str(cluster.data_dir),
                "-U",
                cfg.ADMIN_ROLE,
                f"--pwfile={pwfile}",
                "--auth=scram-sha-256",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
            ],
            check=False,
        )
    finally:
        pwfile.unlink(missing_ok=True)
    if result.returncode != 0:
        raise LocalDbError(
            f"Không tạo được cụm PostgreSQL (initdb) ở {cluster.data_dir}:\n"
            f"{result.stdout}\n{result.stderr}"
        )
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
        result = _run(
            [
                str(cluster.bindir / "pg_ctl"),
                "-D",
                str(cluster.data_dir),
                "-l",
                str(cluster.log_file),
                "-w",
                "-t",
                "60",
                "start",
            ],
            check=False,
        )
        if result.returncode != 0:
            tail = (
                cluster.log_file.read_text(errors="replace")[-2000:]
                if cluster.log_file.exists()
                else ""
            )
            raise LocalDbError(
                f"PostgreSQL không khởi động được. Cổng {cluster.port} có thể đang bị một máy "
                f"chủ khác dùng: dừng máy chủ đó hoặc đặt TONGHOP_PG_PORT. Nhật ký: "
                f"{cluster.log_file}\n{result.stderr}\n{tail}"
            )
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
    _run([str(cluster.bindir / "pg_ctl"), "-D", str(cluster.data_dir), "-m", mode, "-w", "stop"])
    return True


def restart(cluster: Cluster | None = None, mode: str = "fast") -> None:
    """Restart the running cluster (``pg_ctl restart``): with ``fast``, open sessions are cut
    and their transactions rolled back, as when the server is restarted under a running job;
    ``immediate`` is a crash (recovery from the WAL at start)."""
    cluster = cluster or default_cluster()
    result = _run(
        [
            str(cluster.bindir / "pg_ctl"),
            "-D",
            str(cluster.data_dir),
            "-m",
            mode,
            "-l",
            str(cluster.log_file),
            "-w",
            "-t",
            "60",
            "restart",
        ],
        check=False,
    )
    if result.returncode != 0:
        raise LocalDbError(
            f"PostgreSQL không khởi động lại được (nhật ký: {cluster.log_file}):"
            f"\n{result.stdout}\n{result.stderr}"
        )


def destroy(cluster: Cluster | None = None) -> None:
    """Stop the cluster and delete its files (the secrets stay)."""
    cluster = cluster or default_cluster()
    stop(cluster)
    shutil.rmtree(cluster.root, ignore_errors=True)


def dsns(
    cluster: Cluster, passwords: dict[str, str], warehouse_db: str = cfg.WAREHOUSE_DB
) -> dict[str, str]:
    users = {
        "admin": cfg.ADMIN_ROLE,
        "loader": "loader",
        "transformer": "transformer",
        "bi_reader": "bi_reader",
    }
    result = {
        role: cfg.make_dsn(user, passwords[role], "127.0.0.1", cluster.port, warehouse_db)
        for role, user in users.items()
    }
    result["airflow"] = cfg.make_dsn(
        "airflow", passwords["airflow"], "127.0.0.1", cluster.port, cfg.AIRFLOW_DB
    )
    return result


def _connect_admin(cluster: Cluster, password: str, dbname: str):
    conn = psycopg2.connect(
        host="127.0.0.1", port=cluster.port, user=cfg.ADMIN_ROLE, password=password, dbname=dbname
    )
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
            cur.execute(
                sql.SQL(verb + " role {} with login password %s").format(sql.Identifier(role)),
                (passwords[role],),
            )
        for db, owner in ((cfg.WAREHOUSE_DB, cfg.ADMIN_ROLE), (cfg.AIRFLOW_DB, "airflow")):
            cur.execute("select 1 from pg_database where datname = %s", (db,))
            if not cur.fetchone():
                cur.execute(
                    sql.SQL("create database {} owner {}").format(
                        sql.Identifier(db), sql.Identifier(owner)
                    )
                )
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
            cur.execute(
                sql.SQL("create database {} owner {}").format(
                    sql.Identifier(dbname), sql.Identifier(cfg.ADMIN_ROLE)
                )
            )
    finally:
        conn.close()
    _apply_warehouse_ddl(cluster, passwords, dbname)
    return dsns(cluster, passwords, dbname)


def recreate_warehouse(
    dbname: str, template: str | None = None, cluster: Cluster | None = None
) -> dict[str, str]:
    """Drop a warehouse database and make it again, empty or as a copy of ``template`` (whose
    sessions are ended first), structure and grants applied (tests and benchmarks).

    Returns the DSNs per role for it.
    """
    cluster = cluster or default_cluster()
    passwords = ensure_secrets()
    conn = _connect_admin(cluster, passwords["admin"], "postgres")
    try:
        cur = conn.cursor()
        cur.execute(
            sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(dbname))
        )
        if template:
            cur.execute(
                "select pg_terminate_backend(pid) from pg_stat_activity where datname = %s",
                (template,),
            )
            cur.execute(
                sql.SQL("create database {} template {}").format(
                    sql.Identifier(dbname), sql.Identifier(template)
                )
            )
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
