"""
### Xây dựng kho dữ liệu (build the warehouse with dbt)

Scheduled on the Asset `tonghop://warehouse/landed`: runs after any reporting cycle landed and
validated a period. Events that arrive while a build runs are served by the next one, so
several periods pulled the same morning cost one or two builds, not one each.

| task | what it does | where the logic lives |
| --- | --- | --- |
| `build_warehouse` | `dbt source freshness` (a warning after 36 hours without a pull), `dbt build` (seeds, snapshot, models, tests) as the transformer role, then `dbt docs generate` into the output folder. Results — counts, failures, the five slowest nodes — go to the log and XCom. Updates `tonghop://warehouse/marts` with the periods it covered | `tonghop/dbt.py`, `dbt_project/` |

Why one `dbt build` task and not one task per model: measured, see docs/benchmarks.md ("Task
granularity under Airflow").

**Params** (a run started by hand): `period_codes` — the periods to hand on to
`tonghop_publish` (an asset-triggered run takes them from the events).
"""

from __future__ import annotations

import datetime as dt

from airflow.sdk import Param, dag, get_current_context, task

from tonghop.alerts import on_task_failure, watch
from tonghop.assets import LANDED, MARTS


@dag(
    dag_id="tonghop_build_warehouse",
    schedule=[LANDED],
    start_date=dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc),
    catchup=False,
    max_active_runs=1,
    params={"period_codes": Param([], type="array", items={"type": "string"},
                                  description="Kỳ báo cáo cần tổng hợp sau khi xây dựng "
                                              "(periods to publish), e.g. [\"CB-2026-6T\"]")},
    default_args={"retries": 1, "retry_delay": dt.timedelta(minutes=1),
                  "execution_timeout": dt.timedelta(hours=1),
                  "on_failure_callback": on_task_failure},
    tags=["tonghop", "reporting", "dbt"],
    doc_md=__doc__,
)
def tonghop_build_warehouse():
    @task(outlets=[MARTS])
    def build_warehouse() -> dict:
        from tonghop.assets import triggered_periods
        from tonghop.cycle import settings_from_airflow, stage_build

        context = get_current_context()
        periods = triggered_periods(context, LANDED)
        with watch("build_warehouse", context):
            built = stage_build(settings_from_airflow())
        context["outlet_events"][MARTS].extra = {"period_codes": periods}
        return {**built, "period_codes": periods}

    build_warehouse()


tonghop_build_warehouse()
