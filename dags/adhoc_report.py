"""
### Báo cáo đột xuất (an ad hoc report)
Started by hand from the Airflow UI ("Trigger DAG" with its form) or the REST API
(`POST /api/v2/dags/tonghop_adhoc_report/dagRuns` with `conf`). It records the new period
(`pipeline/adhoc.py` → `ops.adhoc_periods`), then opens it at once (`tonghop_provision_period`).
From the next morning the reporting calendar pulls it every day until its due date, like any
period.

**Params**: `programme_code`; `period_code` (e.g. `CB-2026-DX02`); `period_name`; `data_from`,
`data_to` (data window); `due_date`; `on_time_until` (optional last on-time moment,
Vietnam time, e.g. `2026-09-10 17:00`; empty = the end of the due date); `opens_on` (empty =
the run's logical date, Vietnam time); `unit_codes` (empty = every unit assigned to the
programme); `sheet_layout` (`per_unit`: one spreadsheet per unit; `per_period`: one shared
spreadsheet, a tab per unit). A request that cannot be accepted fails with the reason in
Vietnamese.
"""

from __future__ import annotations

from airflow.providers.standard.operators.trigger_dagrun import TriggerDagRunOperator
from airflow.sdk import Param, dag, get_current_context, task

from pipeline.dag_defaults import DAG_DEFAULTS, default_args


@dag(
    dag_id="tonghop_adhoc_report",
    schedule=None,
    **DAG_DEFAULTS,
    params={
        "programme_code": Param("CB-KH84", type="string", description="Mã chương trình"),
        "period_code": Param(
            "CB-2026-DX02",
            type="string",
            pattern=r"^[A-Z0-9][A-Z0-9-]{2,40}$",
            description="Mã kỳ đột xuất (chữ in hoa, số, dấu gạch ngang)",
        ),
        "period_name": Param(
            "Báo cáo đột xuất", type="string", minLength=5, description="Tên kỳ báo cáo"
        ),
        "data_from": Param(type="string", format="date", description="Số liệu từ ngày"),
        "data_to": Param(type="string", format="date", description="Số liệu đến ngày"),
        "due_date": Param(type="string", format="date", description="Hạn nộp"),
        "on_time_until": Param(
            None,
            type=["null", "string"],
            description="Thời điểm cuối cùng được tính đúng hạn, giờ Việt "
            "Nam (YYYY-MM-DD HH:MM); để trống = hết ngày hạn nộp",
        ),
        "opens_on": Param(
            None,
            type=["null", "string"],
            description="Ngày mở kỳ (YYYY-MM-DD); để trống = ngày chạy",
        ),
        "unit_codes": Param(
            [],
            type="array",
            items={"type": "string"},
            description="Mã các đơn vị phải báo cáo; để trống = mọi đơn vị",
        ),
        "sheet_layout": Param(
            "per_unit",
            enum=["per_unit", "per_period"],
            description="per_unit: mỗi đơn vị một bảng tính; per_period: một "
            "bảng tính chung, mỗi đơn vị một trang",
        ),
    },
    default_args=default_args(retries=0),
    tags=["tonghop", "reporting", "adhoc"],
    doc_md=__doc__,
)
def tonghop_adhoc_report():
    @task
    def register_period() -> dict:
        from pipeline.adhoc import request_adhoc_period
        from pipeline.cycle import settings_from_airflow
        from tonghop.vn import VN_TZ

        context = get_current_context()
        params = context["params"]
        logical = context.get("logical_date")
        opens_on = params.get("opens_on") or (
            logical.astimezone(VN_TZ).date().isoformat() if logical else None
        )
        return request_adhoc_period(
            settings_from_airflow(),
            programme_code=params["programme_code"],
            period_code=params["period_code"],
            period_name=params["period_name"],
            data_from=params["data_from"],
            data_to=params["data_to"],
            due_date=params["due_date"],
            on_time_until=params.get("on_time_until"),
            opens_on=opens_on,
            unit_codes=params.get("unit_codes") or [],
            sheet_layout=params.get("sheet_layout"),
            requested_by=f"airflow:{context['run_id']}",
        )

    registered = register_period()
    opened = TriggerDagRunOperator(
        task_id="open_period",
        trigger_dag_id="tonghop_provision_period",
        trigger_run_id="adhoc__{{ params.period_code }}__{{ run_id }}",
        conf={"period_code": "{{ params.period_code }}"},
        wait_for_completion=False,
    )
    registered >> opened


tonghop_adhoc_report()
