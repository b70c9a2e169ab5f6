"""Runtime settings: where things are and how to reach them.

Everything has an embedded default for the local set-up (a PostgreSQL cluster under
``.local/pg`` and the Sheets emulator on 127.0.0.1), and every value can be overridden from the
environment, which is how production and Airflow connections feed it. Passwords are never in the
repository: the local cluster's passwords are generated at its first start and kept in
``.local/secrets.json`` (ignored by git); production passes DSNs through the environment or
Airflow connections.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from tonghop.masking import install_log_masking, mask_secrets, register_dsn
from tonghop.quota import Quota


def project_home() -> Path:
    """The folder that holds the project's resources (``dbt_project/``, ``expectations/gx/``,
    ``dags/``) and, locally, its state (``.local/``): ``TONGHOP_HOME`` (the image sets it);
    else the checkout the project is installed from in editable mode (``scripts/bootstrap.sh``),
    as the installer recorded it (PEP 610's ``direct_url.json``). Never guessed from where a
    source file lies."""
    home = os.environ.get("TONGHOP_HOME")
    if home:
        return Path(home).resolve()
    from importlib.metadata import PackageNotFoundError, distribution

    try:
        direct = json.loads(distribution("tonghop").read_text("direct_url.json") or "{}")
    except PackageNotFoundError:
        direct = {}
    url = direct.get("url", "")
    if direct.get("dir_info", {}).get("editable") and url.startswith("file://"):
        return Path(unquote(urlsplit(url).path)).resolve()
    raise RuntimeError(
        "The project's folder is unknown: set TONGHOP_HOME to the folder that "
        "holds dbt_project/ and expectations/, or install the project in "
        "editable mode (bash scripts/bootstrap.sh)."
    )


#: the project's folder (:func:`project_home`), where its resources are found
PROJECT_ROOT = project_home()

#: Roles of the warehouse and what each may do (see tonghop/sql/roles.sql).
ROLES = ("loader", "transformer", "bi_reader")
DEFAULT_PG_PORT = 55432
DEFAULT_EMULATOR_PORT = 8931
WAREHOUSE_DB = "tonghop"
AIRFLOW_DB = "airflow"
ADMIN_ROLE = "tonghop_admin"


def state_dir() -> Path:
    """Folder for local, generated state (cluster, emulator data, Airflow home, secrets)."""
    return Path(os.environ.get("TONGHOP_STATE_DIR", PROJECT_ROOT / ".local")).resolve()


def secrets_path() -> Path:
    return state_dir() / "secrets.json"


def load_local_secrets() -> dict[str, str]:
    """Passwords generated for the local cluster, or {} if it was never started here."""
    path = secrets_path()
    if not path.exists():
        return {}
    return json.loads(path.read_text(encoding="utf-8"))


def make_dsn(user: str, password: str, host: str, port: int, dbname: str) -> str:
    """A libpq URI; the password is percent-encoded."""
    return f"postgresql://{quote(user, safe='')}:{quote(password, safe='')}@{host}:{port}/{dbname}"


@dataclass(frozen=True)
class Settings:
    """What the pipeline needs to run one cycle. Build it with :func:`load_settings`."""

    pg_host: str = "127.0.0.1"
    pg_port: int = DEFAULT_PG_PORT
    warehouse_db: str = WAREHOUSE_DB
    #: role name -> DSN; keys: admin, loader, transformer, bi_reader
    dsns: dict[str, str] = field(default_factory=dict)
    #: "emulator" (local HTTP emulator) or "google" (real Google APIs, service account)
    sheets_backend: str = "emulator"
    emulator_url: str = f"http://127.0.0.1:{DEFAULT_EMULATOR_PORT}"
    google_credentials_file: str | None = None
    #: Google's quotas the client holds, across processes (sheets/quota.py; None: no limit):
    #: ``TONGHOP_SHEETS_QUOTA``, by default Google's published limits with the google backend
    #: and none with the emulator
    sheets_quota: Quota | None = None
    #: the service accounts the pipeline works as, each with its own per-user quota, all under
    #: the project's (sheets/client.py, "identities"): with Google their key files, with the
    #: emulator their e-mails (sent as ``X-Emulator-User``). Empty: one, the key file of
    #: ``google_credentials_file`` / the emulator's default user. ``TONGHOP_SHEETS_IDENTITIES``
    sheets_identities: tuple[str, ...] = ()
    #: how many tasks call the Sheets/Drive API at once: the Airflow pool's slots
    #: (``TONGHOP_SHEETS_POOL_SLOTS``, which also makes the pool); shards are sized for it
    sheets_tasks_at_once: int = 2
    output_dir: Path = PROJECT_ROOT / "output"
    #: where reminder mails are sent from (:mod:`tonghop.mail`'s URL: server, login, sender);
    #: None: no mail, the reminder list only
    smtp_url: str | None = None
    #: the days before a period's last on-time day on which units still missing get a mail
    #: (besides that day itself and every day after it): ``TONGHOP_REMIND_DAYS_BEFORE``
    remind_days_before: tuple[int, ...] = (5, 1)
    dbt_project_dir: Path = PROJECT_ROOT / "dbt_project"
    gx_project_dir: Path = PROJECT_ROOT / "expectations"
    #: how many runs of each suite Great Expectations' results and Data Docs keep (the
    #: warehouse keeps every run in quality.*): ``TONGHOP_GX_KEEP_RUNS``; 30 covers a month of
    #: daily validations (one runs when a pull landed something new)
    gx_keep_runs: int = 30

    def __post_init__(self) -> None:
        # however a Settings is made (environment, Airflow connections, with_overrides), its
        # passwords never reach a log
        install_log_masking()
        for dsn in self.dsns.values():
            register_dsn(dsn)
        register_dsn(self.smtp_url)

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{f.name}={ {k: mask_secrets(v) for k, v in self.dsns.items()}!r}"
            if f.name == "dsns"
            else f"{f.name}={mask_secrets(getattr(self, f.name))!r}"
            if f.name == "smtp_url"
            else f"{f.name}={getattr(self, f.name)!r}"
            for f in fields(self)
        )
        return f"Settings({shown})"

    def dsn(self, role: str) -> str:
        try:
            return self.dsns[role]
        except KeyError:
            raise RuntimeError(
                f"No connection configured for role {role!r}. Start the local warehouse with "
                f"`tonghop db start` or set TONGHOP_{role.upper()}_DSN."
            ) from None

    def with_overrides(self, **changes) -> Settings:
        return replace(self, **changes)

    def for_database(self, dbname: str) -> Settings:
        """The same roles and server, another warehouse database (one per province)."""
        moved = {}
        for role, dsn in self.dsns.items():
            parts = urlsplit(dsn)
            moved[role] = urlunsplit(parts._replace(path="/" + quote(dbname, safe="")))
        return replace(self, warehouse_db=dbname, dsns=moved)


def sheets_quota(env: dict[str, str]) -> Quota | None:
    """``TONGHOP_SHEETS_QUOTA``: a JSON object of :class:`tonghop.quota.Quota`'s keys (the
    others keep Google's published limits), ``google`` for those limits, ``none`` for no limit;
    unset or empty: Google's limits with the google backend, none with the emulator."""
    text = (env.get("TONGHOP_SHEETS_QUOTA") or "").strip()
    if not text:
        google = env.get("TONGHOP_SHEETS_BACKEND", "emulator") == "google"
        return Quota() if google else None
    if text.lower() in ("none", "0", "off"):
        return None
    if text.lower() == "google":
        return Quota()
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ValueError(f"TONGHOP_SHEETS_QUOTA is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError("TONGHOP_SHEETS_QUOTA must be a JSON object, 'google' or 'none'")
    return Quota.from_dict(data)


def identities(text: str | None) -> tuple[str, ...]:
    """'a@x, b@x' -> ('a@x', 'b@x'): ``TONGHOP_SHEETS_IDENTITIES`` (key files or e-mails)."""
    return tuple(part.strip() for part in (text or "").split(",") if part.strip())


def days_before(text: str | None) -> tuple[int, ...]:
    """'5,1' -> (5, 1): the reminder days before a deadline (``TONGHOP_REMIND_DAYS_BEFORE``;
    empty: the default; '0' or 'none': no mail before the last on-time day)."""
    if text is None or not text.strip():
        return Settings.remind_days_before
    if text.strip().lower() in ("0", "none"):
        return ()
    days = sorted({int(part) for part in text.replace(";", ",").split(",") if part.strip()})
    if any(day < 1 for day in days):
        raise ValueError(f"TONGHOP_REMIND_DAYS_BEFORE: days before a deadline are >= 1: {text!r}")
    return tuple(reversed(days))


def keep_runs(text: str | None) -> int:
    """``TONGHOP_GX_KEEP_RUNS``: a whole number >= 1; empty: the default."""
    if text is None or not text.strip():
        return Settings.gx_keep_runs
    runs = int(text)
    if runs < 1:
        raise ValueError(f"TONGHOP_GX_KEEP_RUNS: keep at least one run per suite: {text!r}")
    return runs


def load_settings(env: dict[str, str] | None = None) -> Settings:
    """Settings from the environment, falling back to the local cluster's generated secrets.

    Environment variables: TONGHOP_PG_HOST, TONGHOP_PG_PORT, TONGHOP_PG_DB (the warehouse
    database, default ``tonghop``), TONGHOP_<ROLE>_DSN for roles
    admin/loader/transformer/bi_reader, TONGHOP_SHEETS_BACKEND, TONGHOP_EMULATOR_URL,
    GOOGLE_APPLICATION_CREDENTIALS, TONGHOP_SHEETS_QUOTA (:func:`sheets_quota`),
    TONGHOP_SHEETS_IDENTITIES, TONGHOP_SHEETS_POOL_SLOTS (default 2), TONGHOP_OUTPUT_DIR,
    TONGHOP_SMTP_URL (reminder mails; :mod:`tonghop.mail`), TONGHOP_REMIND_DAYS_BEFORE (default
    5,1), TONGHOP_GX_KEEP_RUNS (default 30).
    """
    env = dict(os.environ if env is None else env)
    host = env.get("TONGHOP_PG_HOST", "127.0.0.1")
    port = int(env.get("TONGHOP_PG_PORT", DEFAULT_PG_PORT))
    database = env.get("TONGHOP_PG_DB", WAREHOUSE_DB)
    secrets = load_local_secrets()
    dsns: dict[str, str] = {}
    for role, user in (("admin", ADMIN_ROLE), *((r, r) for r in ROLES)):
        explicit = env.get(f"TONGHOP_{role.upper()}_DSN")
        if explicit:
            dsns[role] = explicit
        elif role in secrets:
            dsns[role] = make_dsn(user, secrets[role], host, port, database)
    return Settings(
        pg_host=host,
        pg_port=port,
        warehouse_db=database,
        dsns=dsns,
        sheets_backend=env.get("TONGHOP_SHEETS_BACKEND", "emulator"),
        emulator_url=env.get("TONGHOP_EMULATOR_URL", f"http://127.0.0.1:{DEFAULT_EMULATOR_PORT}"),
        google_credentials_file=env.get("GOOGLE_APPLICATION_CREDENTIALS"),
        sheets_quota=sheets_quota(env),
        sheets_identities=identities(env.get("TONGHOP_SHEETS_IDENTITIES")),
        sheets_tasks_at_once=max(1, int(env.get("TONGHOP_SHEETS_POOL_SLOTS") or 2)),
        output_dir=Path(env.get("TONGHOP_OUTPUT_DIR", PROJECT_ROOT / "output")),
        smtp_url=env.get("TONGHOP_SMTP_URL") or None,
        remind_days_before=days_before(env.get("TONGHOP_REMIND_DAYS_BEFORE")),
        gx_keep_runs=keep_runs(env.get("TONGHOP_GX_KEEP_RUNS")),
    )
