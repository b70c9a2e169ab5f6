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
#: the other service accounts of the pool, numbered without a gap: tonghop_sheets_1, _2, …
#: (sheets/client.py, "identities"; docs/operations.md, "Service accounts and quotas")
MAX_IDENTITIES = 50
#: Airflow pool of the tasks that call the Sheets/Drive API: it bounds how many run at once
#: (``TONGHOP_SHEETS_POOL_SLOTS``, which shards are sized for); the quota itself is held by the
#: client's limiter across processes (sheets/quota.py)
SHEETS_POOL = "tonghop_sheets_api"
#: the most items (spreadsheets, units) one mapped API task takes. At Google's 60 reads a
#: minute a shard of 200 is ~200 s of reads against ~2-3 s of task start-up (measured,
#: docs/benchmarks.md); one task per spreadsheet would spend more time starting tasks than
#: reading. Fewer when the quota, the service accounts and the tasks at once would not let 200
#: finish well inside :data:`SHEETS_TASK_TIMEOUT` (:func:`shard_size`).
SHARD_SIZE = 200
PULL_SHARD_SIZE = SHARD_SIZE
#: the execution_timeout of every task that calls the Sheets/Drive API (a hung call is stopped
#: and the task retried); shards are sized to need at most half of it at their worst
SHEETS_TASK_TIMEOUT = dt.timedelta(hours=1)
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
    pool = _sheets_connections()
    sheets = pool[0]
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
        accounts = [(c.extra_dejson or {}).get("account") for c in pool]
        if any(accounts):
            changes["sheets_identities"] = tuple(a or "default" for a in accounts)
    else:
        changes["google_credentials_file"] = extra.get("key_path")
        if len(pool) > 1:
            changes["sheets_identities"] = tuple(
                (c.extra_dejson or {}).get("key_path") for c in pool
            )
    smtp = _smtp_url()
    if smtp:
        changes["smtp_url"] = smtp
    return load_settings().with_overrides(**changes)


def _sheets_connections() -> list:
    """The service accounts' connections: ``tonghop_sheets``, then ``tonghop_sheets_1``,
    ``_2``, … up to the first missing one (each a key file: extra ``key_path``; against the
    emulator, extra ``account``, the e-mail it acts as)."""
    from airflow.sdk import Connection
    from airflow.sdk.exceptions import AirflowNotFoundException

    pool = [Connection.get(CONN_SHEETS)]
    for n in range(1, MAX_IDENTITIES + 1):
        try:
            pool.append(Connection.get(f"{CONN_SHEETS}_{n}"))
        except AirflowNotFoundException:
            break
    return pool


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


def shard_cap(kind: str) -> int:
    """The most items per mapped task of ``kind`` (pull, feedback, provision):
    ``TONGHOP_<KIND>_SHARD_SIZE`` or :data:`SHARD_SIZE`."""
    return int(os.environ.get(f"TONGHOP_{kind.upper()}_SHARD_SIZE") or SHARD_SIZE)


def shard_size(settings: Settings, kind: str, cost: dict[str, float]) -> int:
    """Items per mapped task of ``kind`` — one definition for the pull, the feedback and
    provisioning (``tonghop.quota.shard_size``): at most :func:`shard_cap`, and few enough
    that the task needs at most half its :data:`SHEETS_TASK_TIMEOUT` when the pool's tasks all
    run at once on the configured service accounts' quota."""
    from sheets.client import identities
    from tonghop import quota

    return quota.shard_size(
        cost,
        quota=settings.sheets_quota,
        identities=len(identities(settings)),
        tasks_at_once=settings.sheets_tasks_at_once,
        timeout_seconds=SHEETS_TASK_TIMEOUT.total_seconds(),
        cap=shard_cap(kind),
    )


def stage_provision(
    settings: Settings, period_code: str, layout: str | None = None, share: bool = True
) -> dict:
    """Provisioning in this process (``tonghop provision``)."""
    from ingest.provision import provision_period

    return provision_period(
        settings, load_catalogue(settings=settings), period_code, layout=layout, share=share
    ).as_dict()


def stage_plan_provision(
    settings: Settings,
    period_code: str,
    layout: str | None = None,
    share: bool = True,
    context: dict | None = None,
) -> dict:
    """What provisioning has to do (no API call), its shards and its projected finish:
    {"plan": …, "shards": [kwargs of each ``provision_shard``], "projection": …}."""
    from ingest.provision import plan_provision
    from pipeline.deadline import warn_if_late
    from tonghop.quota import PROVISION_COST, UPDATE_COST

    catalogue = load_catalogue(settings=settings)
    plan = plan_provision(settings, catalogue, period_code, layout=layout, share=share)
    creates = sum(1 for _, action, _ in plan.items if action == "create")
    updates = len(plan.items) - creates
    cost = {
        bucket: (creates * PROVISION_COST.get(bucket, 0) + updates * UPDATE_COST.get(bucket, 0))
        / max(1, len(plan.items))
        for bucket in {*PROVISION_COST, *UPDATE_COST}
    }
    projection = warn_if_late(
        settings, catalogue, period_code, "provision", len(plan.items), cost, context=context
    )
    size = shard_size(settings, "provision", cost)
    shards = [
        {"period_code": period_code, "layout": plan.layout, "share": share, "items": items}
        for items in plan.shards(size)
    ]
    log.info(
        "provision %s: %d unit(s) to create, %d to update, in %d shard(s) of at most %d",
        period_code,
        creates,
        updates,
        len(shards),
        size,
    )
    return {"plan": plan.as_dict(), "shards": shards, "projection": projection}


def stage_provision_shard(
    settings: Settings,
    period_code: str,
    layout: str,
    share: bool,
    items: list[list],
    recover: bool = False,
) -> dict:
    """One shard's sheets made or updated (``recover``: a retry, which first looks for the
    unregistered sheets its earlier try may have left)."""
    from ingest.provision import provision_units

    return provision_units(
        settings,
        load_catalogue(settings=settings),
        period_code,
        layout,
        items,
        share=share,
        recover=recover,
    ).as_dict()


def stage_finish_provision(settings: Settings, plan: dict, shard_results: list[dict]) -> dict:
    """The shards added up, then the sharing check and the settings of older sheets."""
    from ingest.provision import ProvisionPlan, ProvisionSummary, finish_provision

    results = []
    for result in shard_results:
        summary = ProvisionSummary(result["period_code"], result["layout"])
        for key in ("created", "existing", "updated", "update_notes", "update_failed"):
            setattr(summary, key, result.get(key) or type(getattr(summary, key))())
        summary.spreadsheet_ids = dict(result.get("spreadsheet_ids") or {})
        summary.tab_titles = dict(result.get("tab_titles") or {})
        summary.api_calls = dict(result.get("api_calls") or {})
        results.append(summary)
    return finish_provision(
        settings, load_catalogue(settings=settings), ProvisionPlan.from_dict(plan), results
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
    context: dict | None = None,
) -> dict:
    """The listing and what to read (a :class:`ingest.pull.PullPlan` as a dict), with the
    size of its shards (``shard_size``) and its projected finish (``projection``; an alert
    when that is past the period's deadline)."""
    from ingest.pull import plan_pull
    from pipeline.deadline import warn_if_late
    from tonghop.quota import PULL_COST

    catalogue = load_catalogue(settings=settings)
    with progress.stage("pull"):
        plan = plan_pull(
            settings,
            catalogue,
            period_code,
            pull_run_id=run_id,
            mode=mode,
            unit_codes=unit_codes,
        )
    progress.started("pull", total=len(plan.targets))
    planned = plan.as_dict()
    planned["shard_size"] = shard_size(settings, "pull", PULL_COST)
    planned["projection"] = warn_if_late(
        settings, catalogue, period_code, "pull", len(plan.targets), PULL_COST, context=context
    )
    return planned


def pull_shard_size() -> int:
    """The most spreadsheets per ``pull_shard`` task: ``TONGHOP_PULL_SHARD_SIZE`` or the
    default (:func:`shard_size` may take fewer)."""
    return shard_cap("pull")


def shard_kwargs(plan: dict, size: int | None = None) -> list[dict]:
    """The keyword arguments of each mapped ``pull_shard`` task: the plan's ``shard_size``
    (from the quota, :func:`shard_size`) unless ``size`` is given."""
    from ingest.pull import PullPlan

    size = size or plan.get("shard_size") or pull_shard_size()
    fields = {k: v for k, v in plan.items() if k not in ("shard_size", "projection")}
    return [
        {"pull_run_id": plan["pull_run_id"], "targets": shard}
        for shard in PullPlan.from_dict(fields).shards(size)
    ]


def stage_pull_shard(settings: Settings, pull_run_id: str, targets: list[list[str]]) -> dict:
    from ingest.pull import read_spreadsheets

    with progress.stage("pull"):
        return read_spreadsheets(settings, pull_run_id, targets).as_dict()


def stage_finish_pull(settings: Settings, plan: dict, shard_results: list[dict]) -> dict:
    from ingest.pull import PullPlan, ShardResult, finish_pull

    fields = {k: v for k, v in plan.items() if k not in ("shard_size", "projection")}
    with progress.stage("pull"):
        summary = finish_pull(
            settings, PullPlan.from_dict(fields), [ShardResult.from_dict(r) for r in shard_results]
        ).as_dict()
    return progress.done("pull", summary)


def anything_new(pulled: dict, validated: dict, reviewed: dict | None = None) -> bool:
    """Whether the marts may change: the pull landed a new version, validation checked a
    report (a version landed earlier but not checked yet), or a reviewer's sheet changed.
    Otherwise nothing needs rebuilding or republishing."""
    return (
        bool(pulled.get("new_versions"))
        or bool(validated.get("reports"))
        or bool((reviewed or {}).get("new_readings"))
    )


def stage_read_reviews(settings: Settings, period_code: str, pull_run_id: str) -> dict:
    """The reviewers' decisions: every review sheet of the period read, what changed landed
    (ingest/review.py); nothing for a period without review sheets."""
    from ingest.review import read_reviews

    with progress.stage("review"):
        summary = read_reviews(settings, period_code, pull_run_id).as_dict()
    return progress.done("review", summary)


def stage_review_sheets(settings: Settings, period_code: str) -> dict:
    """The period's review sheets made or brought up to date from the marts
    (publish/review_sheet.py); nothing for a period that requires no review."""
    from publish.review_sheet import write_review_sheets

    with progress.stage("review"):
        summary = write_review_sheets(
            settings, load_catalogue(settings=settings), period_code
        ).as_dict()
    return progress.done("review", summary)


def stage_validate(settings: Settings, period_code: str, pull_run_id: str | None) -> dict:
    from expectations.landed import validate_landed

    with progress.stage("validate"):
        summary = validate_landed(
            settings, load_catalogue(settings=settings), period_code, pull_run_id
        ).as_dict()
    return progress.done("validate", summary)


def stage_feedback(settings: Settings, period_code: str) -> dict:
    """The "Kết quả kiểm tra" tab of every unit whose tab has something new to say (a newer
    checked version, a new state in the marts): run after the build, in this process."""
    from publish.unit_feedback import write_feedback

    with progress.stage("feedback"):
        summary = write_feedback(settings, load_catalogue(settings=settings), period_code).as_dict()
    return progress.done("feedback", summary)


def stage_plan_feedback(
    settings: Settings, period_code: str, context: dict | None = None
) -> list[dict]:
    """The spreadsheets to answer (no API call) in shards: the keyword arguments of each
    mapped ``tell_units`` task; their projected finish is logged, and alerted when past the
    period's deadline."""
    from pipeline.deadline import warn_if_late
    from publish.unit_feedback import plan_feedback
    from tonghop.quota import FEEDBACK_COST, shards_of

    plan = plan_feedback(settings, period_code)
    warn_if_late(
        settings,
        load_catalogue(settings=settings),
        period_code,
        "tell_units",
        len(plan.spreadsheets),
        FEEDBACK_COST,
        context=context,
    )
    size = shard_size(settings, "feedback", FEEDBACK_COST)
    log.info(
        "feedback for %s: %d spreadsheet(s) to answer (%d report(s); %d wait for a build), "
        "in shards of at most %d",
        period_code,
        len(plan.spreadsheets),
        plan.reports,
        plan.awaiting_build,
        size,
    )
    return [
        {"period_code": period_code, "spreadsheet_ids": [sid for sid, _ in shard]}
        for shard in shards_of(plan.spreadsheets, size)
    ]


def stage_feedback_shard(settings: Settings, period_code: str, spreadsheet_ids: list[str]) -> dict:
    """One shard of the feedback: the tabs of these spreadsheets (what is still unanswered)."""
    from publish.unit_feedback import write_feedback

    if not spreadsheet_ids:
        return {"period_code": period_code, "spreadsheets": 0, "tabs_written": 0, "failed": 0}
    with progress.stage("feedback"):
        summary = write_feedback(
            settings,
            load_catalogue(settings=settings),
            period_code,
            spreadsheet_ids=spreadsheet_ids,
        ).as_dict()
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
    reviewed = stage_read_reviews(settings, period_code, pulled["pull_run_id"])
    validated = stage_validate(settings, period_code, pulled["pull_run_id"])
    built = stage_build(settings)
    # after the build: the tab says whether the report counts, from the marts
    told = stage_feedback(settings, period_code)
    review_sheets = stage_review_sheets(settings, period_code)
    published = stage_publish(settings, period_code, run_id)
    # the run acts for today (Vietnam), as the build above
    reminded = stage_remind(settings, period_code, run_id, today())
    return {
        "pull": pulled,
        "review": reviewed,
        "validate": validated,
        "feedback": told,
        "review_sheets": review_sheets,
        "build": built,
        "publish": published,
        "remind": reminded,
    }


def today() -> dt.date:
    """Today in Vietnam: the day of a run outside Airflow (``tonghop run``)."""
    from tonghop.vn import VN_TZ

    return dt.datetime.now(VN_TZ).date()
