"""
### Chu kỳ báo cáo (reporting cycle): pull and validate one period

Reads every unit's report sheet for one period into `raw` and validates it with Great
Expectations. When something changed it updates the Asset `tonghop://warehouse/landed`, on
which `tonghop_build_warehouse` (dbt) is scheduled, and on its marts `tonghop_publish`, which
also tells each unit the result in its own sheet (whether its report counts, and each problem)
— see those DAGs.

| task | what it does | where the logic lives |
| --- | --- | --- |
| `plan_pull` | one Drive listing call per 1,000 files and service account (only files modified since the last pull), decides which registered spreadsheets to read | `ingest/pull.py` (`plan_pull`) |
| `shards` | splits them into shards of at most 200 (`SHARD_SIZE`), fewer when the quota, the service accounts and the pool's slots would not let a shard finish within half its hour (`shard_size`); logs the pull's projected finish, and alerts when it is past the period's deadline | `pipeline/cycle.py`, `tonghop/quota.py`, `pipeline/deadline.py` |
| `pull_shard` (mapped, one per shard) | one read per spreadsheet, each as the service account it is shared with, new versions landed in `raw` (append-only); every call waits for its quota (Sheets reads, Drive; per account and per project, across workers); 429/5xx/timeouts retried with backoff; a failed shard is retried alone | `ingest/pull.py` (`read_spreadsheets`), `sheets/quota.py`, `sheets/http.py` |
| `finish_pull` | adds the shards up, records the pull and its Drive watermark in `ops.pull_runs` | `ingest/pull.py` (`finish_pull`) |
| `read_reviews` | for a period that requires review: reads each review sheet ("Duyệt báo cáo", one call each, as the service account that made it) and lands what changed append-only in `raw.review_readings` with the sheet's Drive revisions (who decided, when), each decision or refused row parsed in `parsed.review_decisions`; nothing for other periods | `ingest/review.py` |
| `validate` | parses new versions, runs the `unit_report_*` suites (checkpoints, Data Docs), stores rows in `parsed`, every problem in `quality.validation_issues`, every rule's result per unit in `quality.rule_results` and rows with errors in `quality.quarantined_rows`. A unit's bad data never fails the task (the rows stay out of the marts); a broken pipeline — a missing suite, an expectation that cannot run, the database — does | `expectations/landed.py` |
| `anything_new` → `announce_landed` or `remind_unchanged` | when the pull landed a new version, validation checked a report or a reviewer's sheet changed, `announce_landed` updates `tonghop://warehouse/landed` (the build and the publication follow); otherwise the marts are already current, nothing is rebuilt or republished, and `remind_unchanged` writes the list of units still missing at once — so a day with no change costs one Drive listing call | `pipeline/cycle.py` (`anything_new`), `publish/reminder.py` |

**Params**: `period_code` — a period of `dbt_project/seeds/catalogue/periods.csv` or an ad hoc
one (e.g. `CB-2026-6T`); `full_pull` — read every spreadsheet even if Drive says it did not
change; `unit_codes` — read only these units' spreadsheets again, changed or not (e.g.
`["CB-XA-002"]` when a unit says its fix was not picked up); the period's watermark stays;
`announce` — false for the calendar's runs: the calendar builds once after all the morning's
pulls instead of one build per landing.

**Pool**: `tonghop_sheets_api` (tasks calling the Sheets API: how many at once; Google's
quota itself is held by the client's limiter, shared by every worker through the warehouse).

**Alerts** (`tonghop/alerts.py`, to `TONGHOP_ALERT_WEBHOOK` / `TONGHOP_ALERT_EMAIL`): a task
that fails after its retries; a pull whose reads cannot finish before the period's deadline at
the quota (sent by `plan_pull`, with the projected finish); a stage still running past its
budget (`STAGE_BUDGETS`, override with `TONGHOP_STAGE_BUDGETS`) — sent while it runs; a stage
that hangs is stopped after an hour (`execution_timeout`) and reported as a failure.

**Connections**: `tonghop_loader`, `tonghop_transformer`, `tonghop_bi_reader` (PostgreSQL),
`tonghop_sheets` (extra `{"backend": "google", "key_path": ...}` or `{"backend": "emulator"}`
with the emulator's URL as host), and for more service accounts `tonghop_sheets_1`, `_2`, …
(each its own key; docs/operations.md, "Service accounts and quotas").

Rerunning is safe: unchanged spreadsheets add nothing, versions already validated are skipped.
"""

from __future__ import annotations

from airflow.sdk import Param, dag, get_current_context, task

from pipeline.assets import LANDED
from pipeline.cycle import SHEETS_POOL, SHEETS_TASK_TIMEOUT
from pipeline.dag_defaults import DAG_DEFAULTS, default_args
from tonghop.alerts import watch


@dag(
    dag_id="tonghop_reporting_cycle",
    schedule=None,
    **DAG_DEFAULTS,
    max_active_runs=1,
    params={
        "period_code": Param(
            "CB-2026-6T", type="string", description="Kỳ báo cáo (period code), e.g. CB-2026-6T"
        ),
        "full_pull": Param(
            False,
            type="boolean",
            description="Read every spreadsheet, changed or not (otherwise only "
            "those modified since the last pull, and in full on the "
            "first pull at or after the due date)",
        ),
        "unit_codes": Param(
            [],
            type="array",
            items={"type": "string"},
            description="Only these units' spreadsheets, read again whether "
            "changed or not (mã đơn vị, e.g. CB-XA-002)",
        ),
        "announce": Param(
            True,
            type="boolean",
            description="Update the Asset landed when something new landed (the "
            "build and the publication follow). The calendar sets "
            "false: it builds once after all the morning's pulls",
        ),
    },
    # TONGHOP_RETRY_DELAY_SECONDS (read where the DAG is parsed) shortens it for tests
    default_args=default_args(execution_timeout=SHEETS_TASK_TIMEOUT),
    tags=["tonghop", "reporting"],
    doc_md=__doc__,
)
def tonghop_reporting_cycle():
    # The pool bounds how many tasks call the Sheets API at once (Google's quota is per user);
    # the client's own rate limiter (sheets/http.py) bounds the calls of each.
    @task(pool=SHEETS_POOL)
    def plan_pull() -> dict:
        from pipeline.cycle import settings_from_airflow, stage_plan_pull

        context = get_current_context()
        params = context["params"]
        with watch("pull", context):
            return stage_plan_pull(
                settings_from_airflow(),
                params["period_code"],
                f"pull-{context['run_id']}",
                mode="full" if params.get("full_pull") else "auto",
                unit_codes=params.get("unit_codes") or None,
                context=context,
            )

    @task
    def shards(plan: dict) -> list[dict]:
        from pipeline.cycle import shard_kwargs

        return shard_kwargs(plan)

    @task(pool=SHEETS_POOL, map_index_template="{{ shard_label }}")
    def pull_shard(pull_run_id: str, targets: list) -> dict:
        from pipeline.cycle import settings_from_airflow, stage_pull_shard

        context = get_current_context()
        context["shard_label"] = f"{len(targets)} bảng tính"  # shown in the grid view
        with watch("pull", context):
            return stage_pull_shard(settings_from_airflow(), pull_run_id, targets)

    @task
    def finish_pull(plan: dict, shard_results: list) -> dict:
        from pipeline.cycle import settings_from_airflow, stage_finish_pull

        # one slice request for every shard's result: iterating asks for one index after the
        # other until Airflow answers "XCom not found", logged as an error on a run that is fine
        return stage_finish_pull(settings_from_airflow(), plan, list(shard_results[:]))

    @task
    def validate(pulled: dict) -> dict:
        from pipeline.cycle import settings_from_airflow, stage_validate

        with watch("validate", get_current_context()):
            return stage_validate(
                settings_from_airflow(), pulled["period_code"], pulled["pull_run_id"]
            )

    @task(pool=SHEETS_POOL)
    def read_reviews(pulled: dict) -> dict:
        from pipeline.cycle import settings_from_airflow, stage_read_reviews

        with watch("read_reviews", get_current_context()):
            return stage_read_reviews(
                settings_from_airflow(), pulled["period_code"], pulled["pull_run_id"]
            )

    @task.branch
    def anything_new(pulled: dict, validated: dict, reviewed: dict) -> str | list:
        from pipeline.cycle import anything_new as changed

        if not get_current_context()["params"].get("announce", True):
            return []  # the calendar's build after the morning's pulls follows
        return "announce_landed" if changed(pulled, validated, reviewed) else "remind_unchanged"

    @task(outlets=[LANDED])
    def announce_landed(pulled: dict, validated: dict) -> dict:
        from pipeline.cycle import landed_day

        context = get_current_context()
        event = {
            "period_code": pulled["period_code"],
            "pull_run_id": pulled["pull_run_id"],
            "new_versions": pulled["new_versions"],
            "reports_checked": validated["reports"],
            # the build computes overdue and days late for this day
            "as_of_date": landed_day(pulled, context).isoformat(),
        }
        context["outlet_events"][LANDED].extra = event
        return event

    @task
    def remind_unchanged() -> dict:
        from pipeline.cycle import run_day, settings_from_airflow, stage_remind

        context = get_current_context()
        return stage_remind(
            settings_from_airflow(),
            context["params"]["period_code"],
            context["run_id"],
            run_day(context),
        )

    plan = plan_pull()
    pulled = finish_pull(plan, pull_shard.expand_kwargs(shards(plan)))
    validated = validate(pulled)
    reviewed = read_reviews(pulled)
    anything_new(pulled, validated, reviewed) >> [
        announce_landed(pulled, validated),
        remind_unchanged(),
    ]


tonghop_reporting_cycle()
