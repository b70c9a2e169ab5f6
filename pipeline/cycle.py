"""The stages of a reporting cycle, as plain functions the DAG and the CLI both call.

Each stage takes :class:`Settings` and returns a small JSON-able dict (what Airflow keeps in
XCom and shows in the log). The order is: pull (plan → read shards → finish) → validate →
(feedback to units, build (dbt) → publish). In Airflow, build and publish are DAGs of their own
chained by Assets (``pipeline/assets.py``).
"""

from __future__ import annotations

import datetime as dt
import logging
import os

from tonghop import progress
from tonghop.catalogue import load_catalogue
from tonghop.settings import Settings, load_settings

log = logging.getLogger(__name__)

#: Airflow connection ids the DAG reads (see docs/deployment.md: "Configuration and secrets")
CONN_LOADER = "tonghop_loader"
CONN_TRANSFORMER = "tonghop_transformer"
CONN_BI_READER = "tonghop_bi_reader"
CONN_SHEETS = "tonghop_sheets"
#: the SMTP server of the reminder mails (type smtp; optional: without it, no mail is sent)
CONN_SMTP = "tonghop_smtp"
#: Airflow pool of the tasks that call the Sheets/Drive API (Google's quota is per account)
SHEETS_POOL = "tonghop_sheets_api"
#: spreadsheets read by one mapped ``pull_shard`` task. At Google's 60 reads a minute a shard
#: of 200 is ~200 s of reads against ~2-3 s of task start-up (measured, docs/benchmarks.md);
#: one task per spreadsheet would spend more time starting tasks than reading.
PULL_SHARD_SIZE = 200
#: seconds before Airflow retries a failed task of the cycle (a Sheets bad minute, a worker lost)
RETRY_DELAY_SECONDS = 30


def retry_delay() -> dt.timedelta:
    """The cycle's retry delay: ``TONGHOP_RETRY_DELAY_SECONDS`` or the default."""
    return dt.timedelta(
        seconds=float(os.environ.get("TONGHOP_RETRY_DELAY_SECONDS") or RETRY_DELAY_SECONDS)
    )


def settings_from_airflow() -> Settings:
    """Settings whose secrets come from Airflow connections (inside a running task)."""
    from airflow.sdk import Connection

    dsns = {}
    for role, conn_id in (
        ("loader", CONN_LOADER),
        ("transformer", CONN_TRANSFORMER),
        ("bi_reader", CONN_BI_READER),
    ):
        conn = Connection.get(conn_id)
        dsns[role] = _postgres_uri(conn)
    sheets = Connection.get(CONN_SHEETS)
    extra = sheets.extra_dejson or {}
    backend = extra.get("backend", "emulator")
    # the warehouse database is the one the connections name (one per province)
    database = Connection.get(CONN_LOADER).schema or None
    changes = {"dsns": dsns, "sheets_backend": backend}
    if database:
        changes["warehouse_db"] = database
    if backend == "emulator":
        changes["emulator_url"] = (
            sheets.host if "://" in (sheets.host or "") else f"http://{sheets.host}:{sheets.port}"
        )
    else:
        changes["google_credentials_file"] = extra.get("key_path")
    smtp = _smtp_url()
    if smtp:
        changes["smtp_url"] = smtp
    return load_settings().with_overrides(**changes)


def _smtp_url() -> str | None:
    """The SMTP connection as :mod:`tonghop.mail`'s URL; None when Airflow has none (then
    ``TONGHOP_SMTP_URL``, if set, is used)."""
    from airflow.sdk import Connection
    from airflow.sdk.exceptions import AirflowNotFoundException

    from tonghop.mail import connection_url

    try:
        conn = Connection.get(CONN_SMTP)
    except AirflowNotFoundException:
        return None
    return connection_url(conn)


def _postgres_uri(conn) -> str:
    from tonghop.settings import make_dsn

    return make_dsn(
        conn.login or "",
        conn.password or "",
        conn.host or "127.0.0.1",
        conn.port or 5432,
        conn.schema or "tonghop",
    )


def stage_provision(
    settings: Settings, period_code: str, layout: str | None = None, share: bool = True
) -> dict:
    from ingest.provision import provision_period

    return provision_period(
        settings, load_catalogue(settings=settings), period_code, layout=layout, share=share
    ).as_dict()


def stage_pull(
    settings: Settings,
    period_code: str,
    run_id: str | None = None,
    mode: str = "auto",
    unit_codes: list[str] | None = None,
) -> dict:
    """The whole pull in this process (plan, every read, finish)."""
    from ingest.pull import new_run_id, pull_period

    with progress.stage("pull"):
        summary = pull_period(
            settings,
            load_catalogue(settings=settings),
            period_code,
            pull_run_id=run_id or new_run_id(),
            mode=mode,
            unit_codes=unit_codes,
        ).as_dict()
    return progress.done("pull", summary)


def stage_plan_pull(
    settings: Settings,
    period_code: str,
    run_id: str,
    mode: str = "auto",
    unit_codes: list[str] | None = None,
) -> dict:
    """The listing and what to read (a :class:`ingest.pull.PullPlan` as a dict)."""
    from ingest.pull import plan_pull

    with progress.stage("pull"):
        plan = plan_pull(
            settings,
            load_catalogue(settings=settings),
            period_code,
            pull_run_id=run_id,
            mode=mode,
            unit_codes=unit_codes,
        )
    progress.started("pull", total=len(plan.targets))
    return plan.as_dict()


def pull_shard_size() -> int:
    """Spreadsheets per ``pull_shard`` task: ``TONGHOP_PULL_SHARD_SIZE`` or the default."""
    return int(os.environ.get("TONGHOP_PULL_SHARD_SIZE") or PULL_SHARD_SIZE)


def shard_kwargs(plan: dict, size: int | None = None) -> list[dict]:
    """The keyword arguments of each mapped ``pull_shard`` task."""
    from ingest.pull import PullPlan

    return [
        {"pull_run_id": plan["pull_run_id"], "targets": shard}
        for shard in PullPlan.from_dict(plan).shards(size or pull_shard_size())
    ]


def stage_pull_shard(settings: Settings, pull_run_id: str, targets: list[list[str]]) -> dict:
    from ingest.pull import read_spreadsheets

    with progress.stage("pull"):
        return read_spreadsheets(settings, pull_run_id, targets).as_dict()


def stage_finish_pull(settings: Settings, plan: dict, shard_results: list[dict]) -> dict:
    from ingest.pull import PullPlan, ShardResult, finish_pull

    with progress.stage("pull"):
        summary = finish_pull(
            settings, PullPlan.from_dict(plan), [ShardResult.from_dict(r) for r in shard_results]
        ).as_dict()
    return progress.done("pull", summary)


def anything_new(pulled: dict, validated: dict) -> bool:
    """Whether the marts may change: the pull landed a new version, or validation checked a
    report (a version landed earlier but not checked yet). Otherwise nothing needs rebuilding
    or republishing."""
    return bool(pulled.get("new_versions")) or bool(validated.get("reports"))


def stage_validate(settings: Settings, period_code: str, pull_run_id: str | None) -> dict:
    from expectations.landed import validate_landed

    with progress.stage("validate"):
        summary = validate_landed(
            settings, load_catalogue(settings=settings), period_code, pull_run_id
        ).as_dict()
    return progress.done("validate", summary)


def stage_feedback(settings: Settings, period_code: str) -> dict:
    """The "Kết quả kiểm tra" tab of every unit whose tab has something new to say (a newer
    checked version, a new state in the marts): run after the build."""
    from publish.unit_feedback import write_feedback

    with progress.stage("feedback"):
        summary = write_feedback(settings, load_catalogue(settings=settings), period_code).as_dict()
    return progress.done("feedback", summary)


def stage_build(settings: Settings, as_of_date: dt.date | None = None) -> dict:
    """Source freshness (a warning when nothing landed for 36 hours), `dbt build` (seeds only
    when the catalogue's files changed, snapshot, models, tests) as of ``as_of_date`` (None:
    today), then the dbt docs site in the output folder (only when the project changed):
    :func:`pipeline.dbt.build_warehouse`."""
    from pipeline.dbt import build_warehouse

    with progress.stage("build"):
        built = build_warehouse(settings, as_of_date)
    return progress.done("build", built)


def run_day(context) -> dt.date:
    """The Vietnam day a DAG run acts for: its logical date (a calendar run, a backfill, a
    triggered run that was given one), else when it was queued to run (a manual or
    asset-triggered run)."""
    from tonghop.vn import VN_TZ

    when = context.get("logical_date") or context["dag_run"].run_after
    return when.astimezone(VN_TZ).date()


def landed_day(pulled: dict, context) -> dt.date:
    """The day a pull's data is as of: the Vietnam day of the Drive server's time at its
    listing (the clock that stamps the units' edits), else the run's day."""
    from tonghop.vn import VN_TZ

    listed = pulled.get("listed_at")
    if listed:
        return dt.datetime.fromisoformat(listed.replace("Z", "+00:00")).astimezone(VN_TZ).date()
    return run_day(context)


def stage_publish(settings: Settings, period_code: str, run_id: str) -> dict:
    from publish.bundle import publish_period

    with progress.stage("publish"):
        published = publish_period(settings, period_code, run_id).as_dict()
    return progress.done("publish", published)


def stage_periods_to_publish(settings: Settings, triggered: list[str]) -> list[str]:
    """The periods whose publication is out of date (publish/outdated.py)."""
    from publish.outdated import periods_to_publish

    return periods_to_publish(settings, load_catalogue(settings=settings), triggered)


def stage_remind(
    settings: Settings, period_code: str, run_id: str, day: dt.date | None = None
) -> dict:
    """The reminder list of the units whose report does not count yet (publish/reminder.py),
    and, with the ``day`` the run acts for, that day's reminder mails to them
    (publish/reminder_mail.py)."""
    from publish.reminder import missing_units

    reminded = missing_units(settings, period_code, run_id)
    if day is not None:
        from publish.reminder_mail import send_reminders

        reminded["mails"] = send_reminders(
            settings, load_catalogue(settings=settings), period_code, day, run_id
        )
    return reminded


def as_of_day(context, asset) -> dt.date:
    """The Vietnam day a run acts for: its ``as_of_date`` param, else the newest day named by
    the events of ``asset`` that triggered it (a build's as-of day), else :func:`run_day`."""
    from pipeline.assets import triggered_as_of

    named = triggered_as_of(context, asset)
    return dt.date.fromisoformat(named) if named else run_day(context)


def run_cycle(
    settings: Settings | None,
    period_code: str,
    *,
    mode: str = "auto",
    unit_codes: list[str] | None = None,
) -> dict:
    """All stages in this process, without Airflow (``tonghop run``)."""
    from ingest.pull import new_run_id

    settings = settings or load_settings()
    run_id = new_run_id("cycle")
    pulled = stage_pull(settings, period_code, run_id, mode=mode, unit_codes=unit_codes)
    validated = stage_validate(settings, period_code, pulled["pull_run_id"])
    built = stage_build(settings)
    # after the build: the tab says whether the report counts, from the marts
    told = stage_feedback(settings, period_code)
    published = stage_publish(settings, period_code, run_id)
    # the run acts for today (Vietnam), as the build above
    reminded = stage_remind(settings, period_code, run_id, today())
    return {
        "pull": pulled,
        "validate": validated,
        "feedback": told,
        "build": built,
        "publish": published,
        "remind": reminded,
    }


def today() -> dt.date:
    """Today in Vietnam: the day of a run outside Airflow (``tonghop run``)."""
    from tonghop.vn import VN_TZ

    return dt.datetime.now(VN_TZ).date()
