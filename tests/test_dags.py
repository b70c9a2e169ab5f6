"""The DAG folder imports cleanly, fast, and the cycle DAG has the expected shape."""

import subprocess
import sys
from pathlib import Path

import pytest

DAGS = Path(__file__).resolve().parent.parent / "dags"


def test_dag_folder_has_no_import_errors():
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAGS))
    assert bag.import_errors == {}
    assert "tonghop_reporting_cycle" in bag.dags
    dag = bag.dags["tonghop_reporting_cycle"]
    edges = {(t.task_id, d) for t in dag.tasks for d in t.downstream_task_ids}
    assert edges == {("pull", "validate"), ("validate", "tell_units"),
                     ("validate", "build_warehouse"), ("build_warehouse", "publish"),
                     ("build_warehouse", "remind")}
    assert dag.doc_md and "period_code" in dag.params
    assert all(dag.doc_md for dag in bag.dags.values())


def test_the_cycle_announces_its_assets_and_alerts():
    from airflow.dag_processing.dagbag import DagBag

    dag = DagBag(dag_folder=str(DAGS)).dags["tonghop_reporting_cycle"]
    outlets = {t.task_id: [a.uri for a in t.outlets] for t in dag.tasks if t.outlets}
    assert outlets == {"validate": ["tonghop://warehouse/landed"],
                       "build_warehouse": ["tonghop://warehouse/marts"],
                       "publish": ["tonghop://publish/summary"]}
    from tonghop.alerts import on_task_failure
    assert all(t.on_failure_callback in (on_task_failure, [on_task_failure]) for t in dag.tasks)
    assert all(t.execution_timeout is not None for t in dag.tasks)


def test_the_calendar_dag_triggers_mapped_runs_without_catching_up():
    from airflow.dag_processing.dagbag import DagBag

    dag = DagBag(dag_folder=str(DAGS)).dags["tonghop_calendar"]
    assert dag.catchup is False and dag.max_active_runs == 1
    assert {t.task_id for t in dag.tasks} == {"plan_today", "provisions", "cycles",
                                              "open_periods", "run_cycles"}
    assert dag.get_task("run_cycles").partial_kwargs["trigger_dag_id"] == "tonghop_reporting_cycle"
    assert dag.get_task("open_periods").partial_kwargs["trigger_dag_id"] == \
        "tonghop_provision_period"


def test_provisioning_dag_is_there():
    from airflow.dag_processing.dagbag import DagBag

    dag = DagBag(dag_folder=str(DAGS)).dags["tonghop_provision_period"]
    assert [t.task_id for t in dag.tasks] == ["provision"]
    assert set(dag.params) == {"period_code", "layout", "share"}


@pytest.mark.parametrize("dag_file", sorted(p.name for p in DAGS.glob("*.py")))
def test_dag_file_does_no_heavy_work_at_import(dag_file):
    """Importing the DAG file must not import dbt, Great Expectations, pandas or gspread."""
    code = (
        "import sys, runpy; runpy.run_path(sys.argv[1]); "
        "heavy = [m for m in ('dbt', 'great_expectations', 'pandas', 'gspread', 'psycopg2') "
        "if m in sys.modules]; print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code, str(DAGS / dag_file)],
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_pull_runs_in_the_sheets_pool():
    from airflow.dag_processing.dagbag import DagBag

    from tonghop.cycle import SHEETS_POOL

    dag = DagBag(dag_folder=str(DAGS)).dags["tonghop_reporting_cycle"]
    assert dag.get_task("pull").pool == SHEETS_POOL


def test_an_ad_hoc_report_is_started_with_its_parameters():
    from airflow.dag_processing.dagbag import DagBag

    dag = DagBag(dag_folder=str(DAGS)).dags["tonghop_adhoc_report"]
    assert dag.schedule is None or str(dag.timetable.summary) in ("None", "")
    assert set(dag.params) == {"programme_code", "period_code", "period_name", "data_from",
                               "data_to", "due_date", "unit_codes"}
    edges = {(t.task_id, d) for t in dag.tasks for d in t.downstream_task_ids}
    assert edges == {("register_period", "open_period")}
