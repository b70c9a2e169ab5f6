"""Metabase, connected to the warehouse as ``bi_reader``: the one-shot service ``metabase-init``.

Run on every ``docker compose up`` once Metabase is healthy, through Metabase's HTTP API:

1. the first time, Metabase's setup: the admin account (``METABASE_ADMIN_EMAIL``, password in
   ``/run/secrets/metabase_admin_password``), the site name, Vietnamese as the site language,
   no usage tracking;
2. the warehouse as a PostgreSQL database: host ``warehouse``, database ``tonghop``, user
   ``bi_reader`` with the password in ``/run/secrets/bi_reader_password``, and only the schema
   ``marts`` synced (``bi_reader`` may read nothing else). If Metabase already has it, its
   connection details are updated (so a new ``bi_reader`` password reaches Metabase by running
   ``docker compose up -d`` again); nothing is added twice.

Metabase checks the connection when it is saved, so a wrong password or an unreachable warehouse
fails this service. Standard library and ``requests`` only (both in the project's image).
"""

from __future__ import annotations

import logging
import os
import sys
import time
from pathlib import Path

import requests

log = logging.getLogger("metabase-init")

DEFAULTS = {
    "METABASE_URL": "http://metabase:3000",
    "METABASE_ADMIN_EMAIL": "admin@example.com",
    "METABASE_SITE_NAME": "Tổng hợp báo cáo văn hóa",
    "METABASE_SITE_LOCALE": "vi",
    "METABASE_DATABASE_NAME": "Kho tổng hợp (tonghop)",
    "TONGHOP_PG_HOST": "warehouse",
    "TONGHOP_PG_PORT": "5432",
    "TONGHOP_PG_DB": "tonghop",
    "SECRETS_DIR": "/run/secrets",
}
#: the role Metabase reads the warehouse as, and the only schema it may read
BI_ROLE = "bi_reader"
BI_SCHEMA = "marts"


class SetupError(RuntimeError):
    """Metabase answered something this script cannot go on with."""


def config(env: dict[str, str] | None = None) -> dict[str, str]:
    env = os.environ if env is None else env
    return {key: env.get(key) or default for key, default in DEFAULTS.items()}


def read_secret(cfg: dict[str, str], name: str) -> str:
    path = Path(cfg["SECRETS_DIR"]) / name
    try:
        return path.read_text(encoding="utf-8").rstrip("\r\n")
    except FileNotFoundError:
        raise SetupError(f"secret {name} is not mounted ({path})") from None


def warehouse_database(cfg: dict[str, str]) -> dict:
    """The body of POST /api/database: the warehouse, as bi_reader, marts only."""
    return {
        "engine": "postgres",
        "name": cfg["METABASE_DATABASE_NAME"],
        "details": {
            "host": cfg["TONGHOP_PG_HOST"],
            "port": int(cfg["TONGHOP_PG_PORT"]),
            "dbname": cfg["TONGHOP_PG_DB"],
            "user": BI_ROLE,
            "password": read_secret(cfg, f"{BI_ROLE}_password"),
            "ssl": False,
            "tunnel-enabled": False,
            "schema-filters-type": "inclusion",
            "schema-filters-patterns": BI_SCHEMA,
        },
        "is_full_sync": True,
        "is_on_demand": False,
        "auto_run_queries": True,
    }


class Metabase:
    def __init__(self, cfg: dict[str, str], timeout: float = 30.0):
        self.cfg = cfg
        self.base = cfg["METABASE_URL"].rstrip("/")
        self.http = requests.Session()
        self.http.trust_env = False  # never through a proxy: Metabase is on the stack's network
        self.timeout = timeout

    def call(self, method: str, path: str, **kwargs):
        response = self.http.request(method, self.base + path, timeout=self.timeout, **kwargs)
        if response.status_code >= 400:
            raise SetupError(f"{method} {path}: HTTP {response.status_code} {response.text[:500]}")
        return response.json() if response.content else None

    def wait_healthy(self, deadline_s: float = 600.0, pause_s: float = 5.0) -> None:
        until = time.monotonic() + deadline_s
        while True:
            try:
                if self.call("GET", "/api/health").get("status") == "ok":
                    return
            except (requests.RequestException, SetupError, ValueError) as exc:
                log.info("waiting for Metabase: %s", exc)
            if time.monotonic() > until:
                raise SetupError(f"Metabase at {self.base} not healthy after {deadline_s:.0f} s")
            time.sleep(pause_s)

    def sign_in(self) -> str:
        """Runs Metabase's first setup if nobody did; returns 'setup' or 'login'."""
        email = self.cfg["METABASE_ADMIN_EMAIL"]
        password = read_secret(self.cfg, "metabase_admin_password")
        properties = self.call("GET", "/api/session/properties")
        if not properties.get("has-user-setup") and properties.get("setup-token"):
            site = self.cfg["METABASE_SITE_NAME"]
            session = self.call(
                "POST",
                "/api/setup",
                json={
                    "token": properties["setup-token"],
                    "user": {
                        "email": email,
                        "password": password,
                        "first_name": "Quản trị",
                        "last_name": "Tổng hợp",
                        "site_name": site,
                    },
                    "prefs": {
                        "site_name": site,
                        "site_locale": self.cfg["METABASE_SITE_LOCALE"],
                        "allow_tracking": False,
                    },
                },
            )
            how = "setup"
        else:
            session = self.call(
                "POST", "/api/session", json={"username": email, "password": password}
            )
            how = "login"
        self.http.headers["X-Metabase-Session"] = session["id"]
        return how

    def databases(self) -> list[dict]:
        found = self.call("GET", "/api/database")
        return found.get("data", []) if isinstance(found, dict) else list(found or [])

    def connect_warehouse(self) -> tuple[str, int]:
        """Adds the warehouse, or updates its connection; returns ('added'|'updated', id)."""
        wanted = warehouse_database(self.cfg)
        details = wanted["details"]
        for database in self.databases():
            have = database.get("details") or {}
            same_server = (
                database.get("engine") == "postgres"
                and have.get("host") == details["host"]
                and str(have.get("dbname")) == details["dbname"]
            )
            if same_server or database.get("name") == wanted["name"]:
                self.call(
                    "PUT",
                    f"/api/database/{database['id']}",
                    json={"name": wanted["name"], "engine": "postgres", "details": details},
                )
                return "updated", database["id"]
        created = self.call("POST", "/api/database", json=wanted)
        return "added", created["id"]


def main(env: dict[str, str] | None = None, *, deadline_s: float = 600.0) -> int:
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    cfg = config(env)
    metabase = Metabase(cfg)
    try:
        metabase.wait_healthy(deadline_s)
        how = metabase.sign_in()
        outcome, database_id = metabase.connect_warehouse()
    except SetupError as exc:
        log.error("%s", exc)
        return 1
    log.info(
        "signed in by %s; warehouse %s as database %s (%s@%s/%s, schema %s)",
        how,
        outcome,
        database_id,
        BI_ROLE,
        cfg["TONGHOP_PG_HOST"],
        cfg["TONGHOP_PG_DB"],
        BI_SCHEMA,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
