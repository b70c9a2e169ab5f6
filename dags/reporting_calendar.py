"""
### Lịch báo cáo (the reporting calendar)
Runs every morning (06:00, Vietnam time) and starts, for every period of the catalogue, what
its calendar asks for that day (`tonghop/calendar.py`):

| when | what is triggered |
| --- | --- |
| from the opening day (`opens_on`) to the last on-time day | `tonghop_provision_period` (idempotent: only units without a sheet cost calls); the day's pulls start when it has finished |
| each day of the submission window | `tonghop_reporting_cycle`, changed sheets only |
| the first run after the catalogue's `on_time_until` (06:00 the day after a 23:59:59 deadline) | `tonghop_reporting_cycle` with `full_pull` (the final pull, after the last day's work) |
| each day of the late window (14 days after the last on-time day) | `tonghop_reporting_cycle`, changed sheets only |
| the last day of the late window | `tonghop_reporting_cycle` with `full_pull` (closing) |

Every cycle ends with the list of units still missing (`remind`).

Every day some period is open or in its late window, the calendar also triggers
`tonghop_build_warehouse` as of that day once the day's pulls are done, whatever their outcome
(`run_daily_build`: overdue reports and days late are right on days nothing lands; the
calendar's pulls do not trigger a build of their own, so a morning costs one build and one
publication), and `check_freshness` alerts when a live period's pulls stopped (no finished
pull for 36 hours: `pipeline/freshness.py`).

**No catch-up storm**: `catchup=False` — after a scheduler outage only today's run is made
(a day missed is caught up by the next: provisioning and "changed" pulls are idempotent).
**Backfill on purpose**: `airflow backfill create --dag-id tonghop_calendar --from-date
2026-06-01 --to-date 2026-06-20` replays those days; each triggered run has a run id made of
period, action and day, so a day is never triggered twice.
"""

from __future__ import annotations

import datetime as dt

import pendulum
from airflow.providers.standard.operators.trigger_dagrun import TriggerDagRunOperator
from airflow.sdk import dag, get_current_context, task

from pipeline.dag_defaults import DAG_DEFAULTS, default_args, poke_interval
from tonghop.calendar import RUN_TIME

VN = pendulum.timezone("Asia/Ho_Chi_Minh")


@dag(
    dag_id="tonghop_calendar",
    schedule=f"{RUN_TIME.minute} {RUN_TIME.hour} * * *",  # 06:00 Vietnam time
    start_date=pendulum.datetime(2024, 9, 30, tz=VN),  # as DAG_DEFAULTS' (the earliest plan)
    catchup=DAG_DEFAULTS["catchup"],
    max_active_runs=1,
    default_args=default_args(retries=2, delay=dt.timedelta(minutes=5)),
    tags=["tonghop", "calendar"],
    doc_md=__doc__,
)
def tonghop_calendar():
    @task
    def plan_today() -> dict:
        """The day is the run's logical day in Vietnam (a backfilled run plans its own day)."""
        from pipeline.cycle import settings_from_airflow
        from tonghop.calendar import plan
        from tonghop.catalogue import load_catalogue

        context = get_current_context()
        when = context.get("logical_date") or context["dag_run"].run_after
        catalogue = load_catalogue(settings=settings_from_airflow())  # with ad hoc periods
        return plan(catalogue, pendulum.instance(when).in_timezone(VN).date())

    @task
    def provisions(today: dict) -> list[dict]:
        return today["provision"]

    @task
    def cycles(today: dict) -> list[dict]:
        return today["cycles"]

    @task
    def builds(today: dict) -> list[dict]:
        return today["builds"]

    @task
    def check_freshness() -> dict:
        """Alert when a live period has had no finished pull for 36 hours, measured at the
        run's logical time (a backfilled day is checked as of that day)."""
        from pipeline.cycle import settings_from_airflow
        from pipeline.freshness import check_freshness as check
        from tonghop.catalogue import load_catalogue

        context = get_current_context()
        when = context.get("logical_date") or context["dag_run"].run_after
        settings = settings_from_airflow()
        return check(settings, load_catalogue(settings=settings), pendulum.instance(when))

    today = plan_today()
    # the day's pulls wait for the day's provisioning (the opening day's pull would otherwise
    # race the creation of the sheets and read none), and go on whatever its outcome
    opened = TriggerDagRunOperator.partial(
        task_id="open_periods",
        trigger_dag_id="tonghop_provision_period",
        wait_for_completion=True,
        poke_interval=poke_interval(),
        skip_when_already_exists=True,
    ).expand_kwargs(provisions(today))
    # the day's build (as of the day) once the day's pulls are done, whatever their outcome:
    # one build and one publication a morning, and overdue days move even when a pull failed
    # (a cycle that failed has alerted already: waiting for it ends either way, and the
    # calendar's own task neither fails nor retries for it)
    pulls = TriggerDagRunOperator.partial(
        task_id="run_cycles",
        trigger_dag_id="tonghop_reporting_cycle",
        wait_for_completion=True,
        poke_interval=poke_interval(),
        skip_when_already_exists=True,
        allowed_states=["success", "failed"],
        failed_states=[],
        trigger_rule="all_done",
    ).expand_kwargs(cycles(today))
    built = TriggerDagRunOperator.partial(
        task_id="run_daily_build",
        trigger_dag_id="tonghop_build_warehouse",
        wait_for_completion=False,
        skip_when_already_exists=True,
        trigger_rule="all_done",
    ).expand_kwargs(builds(today))
    opened >> pulls >> built
    check_freshness()


tonghop_calendar()
