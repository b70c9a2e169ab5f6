"""
### Công bố tổng hợp (publish the province summary)

Scheduled on the Asset `tonghop://warehouse/marts`: after each build, for every period the
build covered (one mapped task each):

| task | what it does | where the logic lives |
| --- | --- | --- |
| `periods` | the periods whose publication is out of date, worked out from the database: those named by the triggering build, those live on the marts' day, those with reports newer than their last publication — each published only if its marts changed since (`ops.publications`), so a failed build is caught up by the next success. The `period_codes` param publishes exactly those | `publish/outdated.py` |
| `publish` (mapped per period) | the "Tổng hợp" spreadsheet (through gspread, one batchUpdate), and in `output/<period>/<run>/` its .xlsx, the draft report (.docx, .pdf) and a manifest. Updates `tonghop://publish/summary` | `publish/` |
| `plan_feedback` (mapped per period) → `feedback_shards` | the spreadsheets whose "Kết quả kiểm tra" tab has something new to say (no API call), in shards of at most 200 sized to the quota like the pull's; logs the writes' projected finish, and alerts when it is past the period's deadline | `publish/unit_feedback.py` (`plan_feedback`), `pipeline/cycle.py`, `pipeline/deadline.py` |
| `tell_units` (mapped per shard) | rewrites the tab of each unit whose tab has something new to say — a newer checked version, or a new state in `fct_submission`: first the one sentence saying whether the report counts (on time / late) or what is still missing, with the deadline, then one row per problem with cell and fix (one batchUpdate per spreadsheet, as the service account it is shared with); a retried shard writes only what is not recorded as written (`ops.feedback_writes`) | `publish/unit_feedback.py`, `publish/check_tab.py`, `publish/unit_state.py` |
| `review_sheets` (mapped per period) | for a period that requires review: each reviewer's "Duyệt báo cáo" spreadsheet (the Sở's, and each parent unit's for its units) made the first time and shared with the reviewer, then brought up to date from the marts — one row per valid version that reached the reviewer, its state and key figures, what was recorded of the decision or why a row could not be applied; the reviewer's own two columns are never written (one read, and one batchUpdate when something changed) | `publish/review_sheet.py` |
| `remind` (mapped per period) | the units still missing, with why and their address: `nhac_nho_<period>.txt` and XCom for the Sở; on reminder days (the build's as-of day, else the run's logical day: 5 and 1 days before the deadline, that day, every day after), a mail to each such unit through the SMTP connection `tonghop_smtp` — its state, what to do, its sheet's link, the deadline — once per state and day (`ops.reminder_mails`) | `publish/reminder.py`, `publish/reminder_mail.py` |

**Pool**: `tonghop_sheets_api` for `publish`, `tell_units` and `review_sheets` (they write through the Sheets API);
`tell_units` has an hour (`SHEETS_TASK_TIMEOUT`), the other tasks half an hour.
"""

from __future__ import annotations

import datetime as dt

from airflow.sdk import Param, dag, get_current_context, task

from pipeline.assets import MARTS, SUMMARY
from pipeline.cycle import SHEETS_POOL, SHEETS_TASK_TIMEOUT
from pipeline.dag_defaults import DAG_DEFAULTS, default_args
from tonghop.alerts import watch


@dag(
    dag_id="tonghop_publish",
    schedule=[MARTS],
    **DAG_DEFAULTS,
    max_active_runs=1,
    params={
        "period_codes": Param(
            [],
            type="array",
            items={"type": "string"},
            description='Kỳ báo cáo cần tổng hợp (periods to publish), e.g. ["CB-2026-6T"]',
        )
    },
    default_args=default_args(execution_timeout=dt.timedelta(minutes=30)),
    tags=["tonghop", "reporting", "publish"],
    doc_md=__doc__,
)
def tonghop_publish():
    @task
    def periods() -> list[str]:
        from pipeline.assets import periods_of, triggering_events
        from pipeline.cycle import settings_from_airflow, stage_periods_to_publish

        context = get_current_context()
        asked = (context.get("params") or {}).get("period_codes")
        if asked:  # a run by hand: exactly those, changed or not
            return sorted(set(asked))
        return stage_periods_to_publish(
            settings_from_airflow(), periods_of(triggering_events(context, MARTS))
        )

    @task(pool=SHEETS_POOL, outlets=[SUMMARY], map_index_template="{{ period_code }}")
    def publish(period_code: str) -> dict:
        from pipeline.cycle import settings_from_airflow, stage_publish

        context = get_current_context()
        with watch("publish", context):
            published = stage_publish(settings_from_airflow(), period_code, context["run_id"])
        context["outlet_events"][SUMMARY].extra = {"period_code": period_code}
        return published

    @task(map_index_template="{{ period_code }}")
    def plan_feedback(period_code: str) -> list[dict]:
        from pipeline.cycle import settings_from_airflow, stage_plan_feedback

        context = get_current_context()
        return stage_plan_feedback(settings_from_airflow(), period_code, context)

    @task
    def feedback_shards(plans: list) -> list[dict]:
        # one slice request for every period's plan (see the cycle's finish_pull)
        return [shard for plan in list(plans[:]) for shard in plan]

    @task(
        pool=SHEETS_POOL,
        map_index_template="{{ shard_label }}",
        execution_timeout=SHEETS_TASK_TIMEOUT,
    )
    def tell_units(period_code: str, spreadsheet_ids: list) -> dict:
        from pipeline.cycle import settings_from_airflow, stage_feedback_shard

        context = get_current_context()
        context["shard_label"] = f"{period_code}: {len(spreadsheet_ids)} bảng tính"
        with watch("tell_units", context):
            return stage_feedback_shard(settings_from_airflow(), period_code, spreadsheet_ids)

    @task(pool=SHEETS_POOL, map_index_template="{{ period_code }}")
    def review_sheets(period_code: str) -> dict:
        from pipeline.cycle import settings_from_airflow, stage_review_sheets

        context = get_current_context()
        context["period_code"] = period_code
        with watch("review_sheets", context):
            return stage_review_sheets(settings_from_airflow(), period_code)

    @task(map_index_template="{{ period_code }}")
    def remind(period_code: str) -> dict:
        from pipeline.cycle import as_of_day, settings_from_airflow, stage_remind

        context = get_current_context()
        with watch("remind", context):
            return stage_remind(
                settings_from_airflow(), period_code, context["run_id"], as_of_day(context, MARTS)
            )

    chosen = periods()
    publish.expand(period_code=chosen)
    tell_units.expand_kwargs(feedback_shards(plan_feedback.expand(period_code=chosen)))
    review_sheets.expand(period_code=chosen)
    remind.expand(period_code=chosen)


tonghop_publish()
