"""
### Mở kỳ báo cáo (open a reporting period)

Creates, or reuses, each expected unit's report sheet for a period, prefilled with its tasks
and indicators, drop-downs, protected labels and instructions, shared with the unit's e-mail,
and records it in `ops.sheet_registry`. Rerunning changes nothing that exists (no API call for
a unit already provisioned). Each run then checks, with one Drive listing of the period's
sheets, that none is shared beyond the unit and the Sở (`ingest/sharing.py`: noted, alerted,
taken back with `TONGHOP_REVOKE_WIDE_SHARES=1`).

**Params**: `period_code`; `layout` — empty (the period's `sheet_layout` in the catalogue or
its ad hoc request), `per_unit` (one spreadsheet per unit) or `per_period` (one spreadsheet, one
protected tab per unit); `share`.

Logic: `ingest/provision.py`. The reporting calendar triggers this every morning from the day a
period opens to its last on-time day (only units without a sheet cost calls).
"""

from __future__ import annotations

from airflow.sdk import Param, dag, get_current_context, task

from pipeline.cycle import SHEETS_POOL
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
    default_args=default_args(),
    tags=["tonghop", "provisioning"],
    doc_md=__doc__,
)
def tonghop_provision_period():
    @task(pool=SHEETS_POOL)
    def provision() -> dict:
        from pipeline.cycle import settings_from_airflow, stage_provision

        params = get_current_context()["params"]
        return stage_provision(
            settings_from_airflow(),
            params["period_code"],
            layout=params.get("layout"),
            share=params["share"],
        )

    provision()


tonghop_provision_period()
