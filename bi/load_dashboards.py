"""The dashboards of bi/dashboards/ loaded into a running Superset, through its REST API (the
one-shot service ``dashboards-init``; tests/test_dashboard.py runs it too). Idempotent:
every object has a fixed UUID in its YAML file, so a second load overwrites the first, and a
chart changed in the repository is changed in Superset.

1. waits for Superset's /health (SUPERSET_URL, default http://superset:8088);
2. signs in as the admin (SUPERSET_ADMIN_USERNAME, default admin; password in the secret file
   ``superset_admin_password`` in SECRETS_DIR, default /run/secrets);
3. zips bi/dashboards/ (Superset's own export format: databases/, datasets/, charts/,
   dashboards/, metadata.yaml), with the warehouse's address from TONGHOP_PG_HOST,
   TONGHOP_PG_PORT and TONGHOP_PG_DB put in the connection's URI, and imports it with
   ``overwrite``; the password of ``bi_reader`` (secret file ``bi_reader_password``) goes in the
   import request's ``passwords`` field, never into a file. Superset keeps it encrypted with
   its SECRET_KEY; running this again after the secret changed updates it;
4. sets the period filter's default to the newest period that has opened (marts.dim_period, read
   as bi_reader: the latest due date among periods whose ``opens_on`` has come). Superset's own
   "first value by default" leaves the charts unfiltered until the user clicks "Apply filters"
   (6.1.0), so the default is a value written at each load: a period opened since is the
   default from the next run of this script (``docker compose run --rm dashboards-init``);
   staff can choose any period meanwhile;
5. sets each native filter's charts in scope: Superset's import maps the charts' ids in the
   layout and in a filter's ``scope.excluded`` but not the ``chartsInScope`` list its front end
   reads, so after an import a filter reaches no chart until that list is written again (every
   chart of the dashboard but the excluded ones, as the filter editor computes it).

Superset checks nothing against the warehouse at import time: the charts' first queries do
(tests/test_dashboard.py opens the dashboard). Standard library, requests, PyYAML and psycopg2,
all in Superset's environment: ``python bi/load_dashboards.py``.
"""

from __future__ import annotations

import io
import json
import logging
import os
import sys
import time
import zipfile
from pathlib import Path

import requests
import yaml

log = logging.getLogger("dashboards-init")

BUNDLE = Path(__file__).resolve().parent / "dashboards"
#: the connection's file in the bundle (its URI holds host, port and database of the stack)
DATABASE_FILE = "databases/kho_tong_hop.yaml"
#: what Superset writes in place of a password in an exported URI
PASSWORD_MASK = "X" * 10
#: the column of the period filter, whose default this script sets
PERIOD_COLUMN = "period_code"
#: the newest period that has opened, as a default is chosen (not a rule of the figures)
NEWEST_OPENED_PERIOD = """
    select period_code from marts.dim_period
    where opens_on <= current_date
    order by due_date desc, period_code desc
    limit 1"""


class LoadError(RuntimeError):
    """Superset answered something this script cannot go on with."""


def secret(name: str, env: dict[str, str]) -> str:
    path = Path(env.get("SECRETS_DIR", "/run/secrets")) / name
    try:
        return path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise LoadError(f"secret {name} is not there ({path})") from None


def warehouse_uri(env: dict[str, str]) -> str:
    host = env.get("TONGHOP_PG_HOST", "warehouse")
    port = int(env.get("TONGHOP_PG_PORT", "5432"))
    database = env.get("TONGHOP_PG_DB", "tonghop")
    return f"postgresql+psycopg2://bi_reader:{PASSWORD_MASK}@{host}:{port}/{database}"


def slugs(root: Path = BUNDLE) -> list[str]:
    """The slugs of the dashboards in the bundle."""
    return [
        yaml.safe_load(path.read_text(encoding="utf-8"))["slug"]
        for path in sorted((root / "dashboards").glob("*.yaml"))
    ]


def newest_period(env: dict[str, str]) -> str | None:
    """The default of the period filter, read from the warehouse as bi_reader; None before
    the first build made the marts (a new stack): load again after it."""
    import psycopg2

    conn = psycopg2.connect(
        host=env.get("TONGHOP_PG_HOST", "warehouse"),
        port=int(env.get("TONGHOP_PG_PORT", "5432")),
        dbname=env.get("TONGHOP_PG_DB", "tonghop"),
        user="bi_reader",
        password=secret("bi_reader_password", env),
        connect_timeout=30,
    )
    try:
        with conn.cursor() as cur:
            cur.execute(NEWEST_OPENED_PERIOD)
            row = cur.fetchone()
    except psycopg2.errors.UndefinedTable:
        log.warning(
            "marts.dim_period does not exist yet (no dbt build so far): the period filter "
            "has no default; run this again after the first build"
        )
        return None
    finally:
        conn.close()
    return row[0] if row else None


def with_default_period(config: dict, period: str | None) -> dict:
    """A dashboard's YAML with its period filters defaulting to ``period``."""
    for native_filter in config.get("metadata", {}).get("native_filter_configuration", []):
        columns = {t.get("column", {}).get("name") for t in native_filter.get("targets", [])}
        if PERIOD_COLUMN not in columns or period is None:
            continue
        native_filter["defaultDataMask"] = {
            "extraFormData": {"filters": [{"col": PERIOD_COLUMN, "op": "IN", "val": [period]}]},
            "filterState": {"value": [period], "label": period},
            "ownState": {},
        }
    return config


def bundle(env: dict[str, str], root: Path = BUNDLE, period: str | None = None) -> bytes:
    """bi/dashboards/ as the zip Superset imports, the connection pointed at the warehouse and
    the period filters defaulting to ``period``."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(root.rglob("*.yaml")):
            name = path.relative_to(root).as_posix()
            text = path.read_text(encoding="utf-8")
            if name == DATABASE_FILE:
                config = yaml.safe_load(text)
                config["sqlalchemy_uri"] = warehouse_uri(env)
                text = yaml.safe_dump(config, allow_unicode=True, sort_keys=False)
            elif name.startswith("dashboards/"):
                config = with_default_period(yaml.safe_load(text), period)
                text = yaml.safe_dump(config, allow_unicode=True, sort_keys=False)
            archive.writestr(f"tonghop_dashboards/{name}", text)
    return buffer.getvalue()


class Superset:
    def __init__(self, url: str, timeout: float = 120.0):
        self.base = url.rstrip("/")
        self.http = requests.Session()
        self.http.trust_env = False  # never through a proxy: Superset is on the stack's network
        self.timeout = timeout

    def call(self, method: str, path: str, **kwargs) -> dict:
        response = self.http.request(method, self.base + path, timeout=self.timeout, **kwargs)
        if response.status_code >= 400:
            raise LoadError(f"{method} {path}: HTTP {response.status_code} {response.text[:1000]}")
        return response.json() if response.content else {}

    def wait_healthy(self, deadline_s: float, pause_s: float = 2.0) -> None:
        until = time.monotonic() + deadline_s
        while True:
            try:
                if self.http.get(self.base + "/health", timeout=10).text.strip() == "OK":
                    return
            except requests.RequestException as exc:
                log.info("waiting for Superset: %s", exc)
            if time.monotonic() > until:
                raise LoadError(f"Superset at {self.base} not healthy after {deadline_s:.0f} s")
            time.sleep(pause_s)

    def sign_in(self, username: str, password: str) -> None:
        token = self.call(
            "POST",
            "/api/v1/security/login",
            json={"username": username, "password": password, "provider": "db", "refresh": False},
        )["access_token"]
        self.http.headers["Authorization"] = f"Bearer {token}"
        # the import is a form post: Flask-WTF wants the CSRF token of this session
        self.http.headers["X-CSRFToken"] = self.call("GET", "/api/v1/security/csrf_token/")[
            "result"
        ]
        self.http.headers["Referer"] = self.base

    def import_bundle(self, data: bytes, passwords: dict[str, str]) -> None:
        self.call(
            "POST",
            "/api/v1/dashboard/import/",
            files={"formData": ("tonghop_dashboards.zip", data, "application/zip")},
            data={"overwrite": "true", "passwords": json.dumps(passwords)},
        )

    def scope_filters(self, slug: str) -> int:
        """Writes chartsInScope of each native filter of dashboard ``slug``; returns the
        number of filters."""
        dashboard = self.call("GET", f"/api/v1/dashboard/{slug}")["result"]
        metadata = json.loads(dashboard["json_metadata"] or "{}")
        position = json.loads(dashboard["position_json"] or "{}")
        charts = sorted(
            item["meta"]["chartId"]
            for item in position.values()
            if isinstance(item, dict) and item.get("type") == "CHART"
        )
        filters = metadata.get("native_filter_configuration", [])
        for native_filter in filters:
            excluded = set(native_filter.get("scope", {}).get("excluded", []))
            native_filter["chartsInScope"] = [c for c in charts if c not in excluded]
        self.call(
            "PUT",
            f"/api/v1/dashboard/{dashboard['id']}",
            json={"json_metadata": json.dumps(metadata)},
        )
        return len(filters)

    def dashboards(self) -> list[dict]:
        query = "(columns:!(id,dashboard_title,slug,url),page_size:100)"
        return self.call("GET", f"/api/v1/dashboard/?q={query}")["result"]


def main(env: dict[str, str] | None = None, *, deadline_s: float = 600.0) -> int:
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    env = dict(os.environ if env is None else env)
    superset = Superset(env.get("SUPERSET_URL", "http://superset:8088"))
    try:
        superset.wait_healthy(deadline_s)
        superset.sign_in(
            env.get("SUPERSET_ADMIN_USERNAME", "admin"), secret("superset_admin_password", env)
        )
        period = newest_period(env)
        log.info("period filter's default: %s", period)
        superset.import_bundle(
            bundle(env, period=period), {DATABASE_FILE: secret("bi_reader_password", env)}
        )
        for slug in slugs():
            superset.scope_filters(slug)
        loaded = superset.dashboards()
    except LoadError as exc:
        log.error("%s", exc)
        return 1
    for dashboard in loaded:
        log.info(
            "dashboard %r at %s%s", dashboard["dashboard_title"], superset.base, dashboard["url"]
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
