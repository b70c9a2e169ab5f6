"""Entrypoint of the tonghop image: what the pipeline reads, built from Docker secrets; then the
command (``airflow scheduler``, ``airflow celery worker``…) replaces this process.

Each warehouse role's password is one file, ``/run/secrets/<role>_password``: the
``warehouse-init`` service gives it to the role, and this turns it into

- the Airflow connections the DAGs read (``pipeline.cycle``: ``tonghop_loader``,
  ``tonghop_transformer``, ``tonghop_bi_reader`` and ``tonghop_sheets``), as ``AIRFLOW_CONN_*``
  variables in JSON form, so the password is never written into a file or into the compose file;
- ``TONGHOP_<ROLE>_DSN`` for the ``tonghop`` command (``docker compose run --rm airflow-worker
  tonghop provision --period …``).

A variable already set is left alone (an operator may point a connection elsewhere), and a secret
the container does not mount is skipped (a service mounts only what it needs). With ``/run/secrets/airflow_admin_password`` it also writes the password file of
Airflow's simple auth manager (the file must be writable, so it cannot be the secret itself).

Health checks (``docker exec``) do not go through an entrypoint: Airflow's own settings come from
``AIRFLOW__…_CMD`` variables in docker-compose.yml instead, which every process reads.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from pipeline.cycle import (
    CONN_BI_READER,
    CONN_LOADER,
    CONN_SHEETS,
    CONN_TRANSFORMER,
    MAX_IDENTITIES,
)
from tonghop.settings import WAREHOUSE_DB, make_dsn

SECRETS_DIR = Path(
    os.environ.get("TONGHOP_SECRETS_DIR", "/run/secrets")
)  # where compose mounts them
#: Airflow connection id -> warehouse role (tonghop.settings.ROLES)
ROLE_CONNECTIONS = {
    CONN_LOADER: "loader",
    CONN_TRANSFORMER: "transformer",
    CONN_BI_READER: "bi_reader",
}
GOOGLE_KEY_SECRET = "google_service_account.json"


def read_secret(secrets_dir: Path, name: str) -> str | None:
    """A secret's content without its trailing newline, or None if the container lacks it."""
    path = Path(secrets_dir) / name
    try:
        return path.read_text(encoding="utf-8").rstrip("\r\n")
    except FileNotFoundError:
        return None


def conn_var(conn_id: str) -> str:
    return f"AIRFLOW_CONN_{conn_id.upper()}"


def pipeline_environment(env: dict[str, str], secrets_dir: Path = SECRETS_DIR) -> dict[str, str]:
    """The variables to add to ``env``: connections and DSNs from the secrets present."""
    host = env.get("TONGHOP_PG_HOST", "warehouse")
    port = int(env.get("TONGHOP_PG_PORT", "5432"))
    database = env.get("TONGHOP_PG_DB", WAREHOUSE_DB)
    added: dict[str, str] = {}
    for conn_id, role in ROLE_CONNECTIONS.items():
        password = read_secret(secrets_dir, f"{role}_password")
        if password is None:
            continue
        added[conn_var(conn_id)] = json.dumps(
            {
                "conn_type": "postgres",
                "host": host,
                "port": port,
                "login": role,
                "password": password,
                "schema": database,
            }
        )
        added[f"TONGHOP_{role.upper()}_DSN"] = make_dsn(role, password, host, port, database)
    backend = env.get("TONGHOP_SHEETS_BACKEND", "google")
    if backend == "google":
        key_path = env.get("GOOGLE_APPLICATION_CREDENTIALS") or str(
            Path(secrets_dir) / GOOGLE_KEY_SECRET
        )
        if Path(key_path).exists():
            added[conn_var(CONN_SHEETS)] = json.dumps(
                {"conn_type": "http", "extra": {"backend": "google", "key_path": key_path}}
            )
            # more service accounts (each its own per-user quota): google_service_account_1.json,
            # _2, … → tonghop_sheets_1, _2, … (numbered without a gap: the first missing ends
            # the pool, pipeline.cycle.settings_from_airflow)
            for n in range(1, MAX_IDENTITIES + 1):
                more = Path(secrets_dir) / GOOGLE_KEY_SECRET.replace(".json", f"_{n}.json")
                if not more.exists():
                    break
                added[conn_var(f"{CONN_SHEETS}_{n}")] = json.dumps(
                    {"conn_type": "http", "extra": {"backend": "google", "key_path": str(more)}}
                )
    elif backend == "emulator" and env.get("TONGHOP_EMULATOR_URL"):
        # a dry run against the Sheets emulator (`tonghop emulator` on another host)
        added[conn_var(CONN_SHEETS)] = json.dumps(
            {
                "conn_type": "http",
                "host": env["TONGHOP_EMULATOR_URL"],
                "extra": {"backend": "emulator"},
            }
        )
    return {name: value for name, value in added.items() if not env.get(name)}


def write_auth_passwords(env: dict[str, str], secrets_dir: Path = SECRETS_DIR) -> Path | None:
    """The simple auth manager's password file: every configured user gets the admin secret's
    password (docker-compose.yml configures one user, ``admin``). Returns its path, or None."""
    password = read_secret(secrets_dir, "airflow_admin_password")
    target = env.get("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE")
    if password is None or not target:
        return None
    users = [
        entry.split(":")[0].strip()
        for entry in env.get("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS", "admin:admin").split(",")
        if entry.strip()
    ]
    path = Path(target)
    path.parent.mkdir(parents=True, exist_ok=True)
    # a name of its own: processes sharing the folder (tooling/local_celery.py) write it at once
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(dict.fromkeys(users, password)) + "\n", encoding="utf-8")
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    return path


def main(argv: list[str]) -> None:
    if not argv:
        argv = ["airflow", "version"]
    os.environ.update(pipeline_environment(dict(os.environ)))
    write_auth_passwords(dict(os.environ))
    sys.stdout.flush()
    os.execvp(argv[0], argv)


if __name__ == "__main__":
    main(sys.argv[1:])
