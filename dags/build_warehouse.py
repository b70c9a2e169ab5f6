"""
### Xây dựng kho dữ liệu (build the warehouse with dbt)

Scheduled on the Asset `tonghop://warehouse/landed`: runs after any reporting cycle landed and
validated a period. Events that arrive while a build runs are served by the next one, so
several periods pulled the same morning cost one or two builds, not one each.

| task | what it does | where the logic lives |
| --- | --- | --- |
| `build_warehouse` | `dbt source freshness` (a warning after 36 hours without a pull), `dbt build` (seeds, snapshot, models, tests) as the transformer role, then `dbt docs generate` into the output folder. Results — counts, failures, the five slowest nodes — go to the log and XCom. Updates `tonghop://warehouse/marts` with the periods it covered | `pipeline/dbt.py`, `dbt_project/` |

Why one `dbt build` task and not one task per model: measured, see docs/benchmarks.md ("Task
granularity under Airflow").

**As of which day**: the date-dependent columns (overdue, days late, the versions received by
then) are computed for the run's `as_of_date` param (the calendar's daily build gives its day),
else the newest day of the pulls that triggered it (the Drive server's day at their listing),
else the run's own day. The calendar triggers one build every day a period is open or in its
late window, so those columns are right on days when nothing lands.

**Params** (a run started by hand or by the calendar): `period_codes` — the periods to hand
on to `tonghop_publish` (an asset-triggered run takes them from the events); `as_of_date`.
"""

from __future__ import annotations

import datetime as dt

from airflow.sdk import Param, dag, get_current_context, task

from pipeline.assets import LANDED, MARTS
from pipeline.dag_defaults import DAG_DEFAULTS, default_args
from tonghop.alerts import watch


@dag(
    dag_id="tonghop_build_warehouse",
    schedule=[LANDED],
    **DAG_DEFAULTS,
    max_active_runs=1,
    params={
        "period_codes": Param(
            [],
            type="array",
            items={"type": "string"},
            description="Kỳ báo cáo cần tổng hợp sau khi xây dựng "
            '(periods to publish), e.g. ["CB-2026-6T"]',
        ),
        "as_of_date": Param(
            "",
            type="string",
            description="Ngày tính số liệu (as-of day, YYYY-MM-DD); để trống: "
            "ngày của lượt tải đã kích hoạt, hoặc hôm nay",
        ),
    },
    # TONGHOP_RETRY_DELAY_SECONDS (read where the DAG is parsed) shortens it for tests
    default_args=default_args(execution_timeout=dt.timedelta(hours=1)),
    tags=["tonghop", "reporting", "dbt"],
    doc_md=__doc__,
)
def tonghop_build_warehouse():
    @task(outlets=[MARTS])
    def build_warehouse() -> dict:
        import datetime as dt

        from pipeline.assets import triggered_as_of, triggered_periods
        from pipeline.cycle import run_day, settings_from_airflow, stage_build

        context = get_current_context()
        periods = triggered_periods(context, LANDED)
        named = triggered_as_of(context, LANDED)
        as_of = dt.date.fromisoformat(named) if named else run_day(context)
        with watch("build_warehouse", context):
            built = stage_build(settings_from_airflow(), as_of)
        context["outlet_events"][MARTS].extra = {
            "period_codes": periods,
            "as_of_date": as_of.isoformat(),
        }
        return {**built, "period_codes": periods}

    build_warehouse()


tonghop_build_warehouse()
