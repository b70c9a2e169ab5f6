"""
### Mở kỳ báo cáo (open a reporting period)

Creates, or reuses, each expected unit's report sheet for a period, prefilled with its tasks
and indicators, drop-downs, protected labels and instructions, shared with the unit's e-mail,
and records it in `ops.sheet_registry`. Rerunning changes nothing that exists (no API call for
a unit already provisioned). Each run then checks, with one Drive listing of the period's
sheets per service account, that none is shared beyond the unit and the Sở
(`ingest/sharing.py`: noted, alerted, taken back with `TONGHOP_REVOKE_WIDE_SHARES=1`).

| task | what it does |
| --- | --- |
| `plan_provision` | the units without a sheet (and the service account that will make and own each, the least loaded), the sheets a catalogue change must be written into (no API call); shards of at most 200 sized to the quota like the pull's; the projected finish, alerted when past the period's deadline |
| `provision_shard` (mapped) | creates (Drive create, one batchUpdate, one share) or updates its units' sheets; a retried shard skips what its earlier try registered and takes back, or trashes, a sheet it made but did not register |
| `finish_provision` | adds the shards up, checks sharing, gives older sheets our locale |

**Params**: `period_code`; `layout` — empty (the period's `sheet_layout` in the catalogue or
its ad hoc request), `per_unit` (one spreadsheet per unit) or `per_period` (one spreadsheet, one
protected tab per unit); `share`.

Logic: `ingest/provision.py`. The reporting calendar triggers this every morning from the day a
period opens to its last on-time day (only units without a sheet cost calls).
"""

from __future__ import annotations

from airflow.sdk import Param, dag, get_current_context, task

from pipeline.cycle import SHEETS_POOL, SHEETS_TASK_TIMEOUT
from pipeline.dag_defaults import DAG_DEFAULTS, default_args


@dag(
    dag_id="tonghop_provision_period",
    schedule=None,
    **DAG_DEFAULTS,
    max_active_runs=1,
    params={
        "period_code": Param("CB-2026-NAM", type="string", description="Kỳ báo cáo (period code)"),
        "layout": Param(
            None,
            type=["null", "string"],
            enum=[None, "per_unit", "per_period"],
            description="One spreadsheet per unit, or one per period; empty: the "
            "period's sheet_layout in the catalogue",
        ),
        "share": Param(True, type="boolean", description="Share with the units' e-mails"),
    },
    # every task: the failure alert, a retry, and an hour at most (shards are sized for half)
    default_args=default_args(execution_timeout=SHEETS_TASK_TIMEOUT),
    tags=["tonghop", "provisioning"],
    doc_md=__doc__,
)
def tonghop_provision_period():
    @task
    def plan_provision() -> dict:
        from pipeline.cycle import settings_from_airflow, stage_plan_provision

        context = get_current_context()
        params = context["params"]
        return stage_plan_provision(
            settings_from_airflow(),
            params["period_code"],
            layout=params.get("layout"),
            share=params["share"],
            context=context,
        )

    @task
    def shards(planned: dict) -> list[dict]:
        return planned["shards"]

    @task(pool=SHEETS_POOL, map_index_template="{{ shard_label }}")
    def provision_shard(period_code: str, layout: str, share: bool, items: list) -> dict:
        from pipeline.cycle import settings_from_airflow, stage_provision_shard

        context = get_current_context()
        context["shard_label"] = f"{len(items)} đơn vị"
        # a retry first looks for the sheets its earlier try made but did not register
        recover = (getattr(context.get("ti"), "try_number", 1) or 1) > 1
        return stage_provision_shard(
            settings_from_airflow(), period_code, layout, share, items, recover=recover
        )

    @task(pool=SHEETS_POOL)
    def finish_provision(planned: dict, results: list) -> dict:
        from pipeline.cycle import settings_from_airflow, stage_finish_provision

        return stage_finish_provision(settings_from_airflow(), planned["plan"], list(results[:]))

    planned = plan_provision()
    finish_provision(planned, provision_shard.expand_kwargs(shards(planned)))


tonghop_provision_period()
