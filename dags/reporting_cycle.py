"""
### Chu kỳ báo cáo (reporting cycle)

Pulls every unit's report sheet for one period, validates it with Great Expectations, builds
the warehouse with dbt and publishes the province summary.

| task | what it does | where the logic lives |
| --- | --- | --- |
| `pull` | one Drive listing call per 1,000 files (only files modified since the last pull), one read per changed registered spreadsheet, new versions landed in `raw` (append-only); 429/5xx/timeouts retried with backoff | `ingest/pull.py`, `ingest/http.py` |
| `validate` | parses new versions, runs the `unit_report_*` suites (checkpoints, Data Docs), stores rows in `parsed`, every problem in `quality.validation_issues`, every rule's result per unit in `quality.rule_results` and rows with errors in `quality.quarantined_rows`. A unit's bad data never fails the task (Great Expectations reports it, the rows stay out of the marts); a broken pipeline — a missing suite, an expectation that cannot run, the database — does | `expectations/landed.py` |
| `tell_units` | rewrites the "Kết quả kiểm tra" tab of each unit whose report was just checked: status, time, one row per problem with cell and fix (one batchUpdate per spreadsheet) | `publish/unit_feedback.py` |
| `build_warehouse` | `dbt build` (seeds, snapshot, models, tests) as the transformer role, then `dbt docs generate` into the output folder | `tonghop/dbt.py`, `dbt_project/` |
| `publish` | the "Tổng hợp" spreadsheet (through gspread), and in `output/<period>/<run>/` its .xlsx, the draft report (.docx, .pdf) and a manifest | `publish/` |
| `remind` | the units still missing, with why and their address: `nhac_nho_<period>.txt` and XCom | `publish/reminder.py` |

**Assets**: `validate` updates `tonghop://warehouse/landed`, `build_warehouse`
`tonghop://warehouse/marts`, `publish` `tonghop://publish/summary` — DAGs that read the marts
can be scheduled on them.

**Alerts** (`tonghop/alerts.py`, to `TONGHOP_ALERT_WEBHOOK` / `TONGHOP_ALERT_EMAIL`): a task
that fails after its retries; a stage that takes longer than its budget (`STAGE_BUDGETS`,
override with `TONGHOP_STAGE_BUDGETS`); a stage that hangs is stopped after an hour
(`execution_timeout`) and reported as a failure. (Airflow's experimental DeadlineAlert was
tried and left out: with 3.3 it fails the end of a `dags test` run on PostgreSQL.)

**Params**: `period_code` — a period of `dbt_project/seeds/catalogue/periods.csv`
(e.g. `CB-2026-6T`); `full_pull` — read every spreadsheet even if Drive says it did not change.

**Pool**: `tonghop_sheets_api` (tasks calling the Sheets API).

**Connections**: `tonghop_loader`, `tonghop_transformer`, `tonghop_bi_reader` (PostgreSQL),
`tonghop_sheets` (extra `{"backend": "google", "key_path": ...}` or `{"backend": "emulator"}`
with the emulator's URL as host).

Rerunning is safe: unchanged spreadsheets add nothing, versions already validated are skipped.
"""

from __future__ import annotations

import datetime as dt

from airflow.sdk import Asset, Param, dag, get_current_context, task

from tonghop.alerts import on_task_failure, watch
from tonghop.cycle import SHEETS_POOL

LANDED = Asset("tonghop://warehouse/landed")
MARTS = Asset("tonghop://warehouse/marts")
SUMMARY = Asset("tonghop://publish/summary")


@dag(
    dag_id="tonghop_reporting_cycle",
    schedule=None,
    start_date=dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc),
    catchup=False,
    max_active_runs=1,
    params={
        "period_code": Param("CB-2026-6T", type="string",
                             description="Kỳ báo cáo (period code), e.g. CB-2026-6T"),
        "full_pull": Param(False, type="boolean",
                           description="Read every spreadsheet, changed or not (otherwise only "
                                       "those modified since the last pull, and in full on the "
                                       "first pull at or after the due date)"),
    },
    default_args={"retries": 1, "retry_delay": dt.timedelta(seconds=30),
                  "execution_timeout": dt.timedelta(hours=1),
                  "on_failure_callback": on_task_failure},
    tags=["tonghop", "reporting"],
    doc_md=__doc__,
)
def tonghop_reporting_cycle():
    # The pool bounds how many tasks call the Sheets API at once (Google's quota is per user);
    # the client's own rate limiter (ingest/http.py) bounds the calls of each.
    @task(pool=SHEETS_POOL)
    def pull() -> dict:
        from tonghop.cycle import settings_from_airflow, stage_pull

        context = get_current_context()
        params = context["params"]
        with watch("pull", context):
            return stage_pull(settings_from_airflow(), params["period_code"],
                              f"pull-{context['run_id']}",
                              mode="full" if params.get("full_pull") else "auto")

    @task(outlets=[LANDED])
    def validate(pulled: dict) -> dict:
        from tonghop.cycle import settings_from_airflow, stage_validate

        with watch("validate", get_current_context()):
            return stage_validate(settings_from_airflow(), pulled["period_code"],
                                  pulled["pull_run_id"])

    @task(pool=SHEETS_POOL)
    def tell_units(validated: dict) -> dict:
        from tonghop.cycle import settings_from_airflow, stage_feedback

        with watch("tell_units", get_current_context()):
            return stage_feedback(settings_from_airflow(), validated["period_code"])

    @task(outlets=[MARTS])
    def build_warehouse(validated: dict) -> dict:
        from tonghop.cycle import settings_from_airflow, stage_build

        with watch("build_warehouse", get_current_context()):
            return stage_build(settings_from_airflow())

    @task(outlets=[SUMMARY])
    def publish(built: dict) -> dict:
        from tonghop.cycle import settings_from_airflow, stage_publish

        context = get_current_context()
        with watch("publish", context):
            return stage_publish(settings_from_airflow(), context["params"]["period_code"],
                                 context["run_id"])

    @task
    def remind(built: dict) -> dict:
        from publish.reminder import missing_units
        from tonghop.cycle import settings_from_airflow

        context = get_current_context()
        return missing_units(settings_from_airflow(), context["params"]["period_code"],
                             context["run_id"])

    validated = validate(pull())
    tell_units(validated)
    built = build_warehouse(validated)
    publish(built)
    remind(built)


tonghop_reporting_cycle()
