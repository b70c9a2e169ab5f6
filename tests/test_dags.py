"""The DAG folder imports cleanly, fast, and the cycle DAG has the expected shape."""

import subprocess
import sys
from pathlib import Path

import pytest

DAGS = Path(__file__).resolve().parent.parent / "dags"


def _bag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS))


def _edges(dag) -> set:
    return {(t.task_id, d) for t in dag.tasks for d in t.downstream_task_ids}


def test_dag_folder_has_no_import_errors():
    bag = _bag()
    assert bag.import_errors == {}
    assert {
        "tonghop_reporting_cycle",
        "tonghop_build_warehouse",
        "tonghop_publish",
        "tonghop_calendar",
        "tonghop_provision_period",
        "tonghop_adhoc_report",
    } <= set(bag.dags)
    dag = bag.dags["tonghop_reporting_cycle"]
    assert _edges(dag) == {
        ("plan_pull", "shards"),
        ("plan_pull", "finish_pull"),
        ("shards", "pull_shard"),
        ("pull_shard", "finish_pull"),
        ("finish_pull", "validate"),
        ("finish_pull", "read_reviews"),
        ("finish_pull", "anything_new"),
        ("validate", "anything_new"),
        ("read_reviews", "anything_new"),
        ("finish_pull", "announce_landed"),
        ("validate", "announce_landed"),
        ("anything_new", "announce_landed"),
        ("anything_new", "remind_unchanged"),
    }
    assert dag.get_task("pull_shard").is_mapped
    assert {"period_code", "full_pull", "unit_codes", "announce"} <= set(dag.params)
    assert all(dag.doc_md for dag in bag.dags.values())


def test_landed_data_dbt_build_and_publish_are_chained_by_assets():
    """The cycle updates "landed"; the build DAG is scheduled on it and updates "marts"; the
    publish DAG is scheduled on that and maps publish/remind over the periods."""
    bag = _bag()
    cycle, build, publish = (
        bag.dags[d]
        for d in ("tonghop_reporting_cycle", "tonghop_build_warehouse", "tonghop_publish")
    )

    def outlets(dag):
        return {t.task_id: [a.uri for a in t.outlets] for t in dag.tasks if t.outlets}

    def scheduled_on(dag):
        condition = getattr(dag.timetable, "asset_condition", None)
        return sorted(a.uri for a in getattr(condition, "objects", ()))

    assert outlets(cycle) == {"announce_landed": ["tonghop://warehouse/landed"]}
    assert scheduled_on(build) == ["tonghop://warehouse/landed"]
    assert outlets(build) == {"build_warehouse": ["tonghop://warehouse/marts"]}
    assert scheduled_on(publish) == ["tonghop://warehouse/marts"]
    assert outlets(publish) == {"publish": ["tonghop://publish/summary"]}
    assert _edges(publish) == {
        ("periods", "publish"),
        ("periods", "plan_feedback"),
        ("plan_feedback", "feedback_shards"),
        ("feedback_shards", "tell_units"),
        ("periods", "review_sheets"),
        ("periods", "remind"),
    }
    assert all(
        publish.get_task(t).is_mapped
        for t in ("publish", "plan_feedback", "tell_units", "review_sheets", "remind")
    )
    assert build.max_active_runs == 1 and build.catchup is False
    from tonghop.alerts import on_task_failure

    provision = bag.dags["tonghop_provision_period"]
    for dag in (cycle, build, publish, provision):
        assert all(t.on_failure_callback in (on_task_failure, [on_task_failure]) for t in dag.tasks)
        assert all(t.execution_timeout is not None for t in dag.tasks)
        assert all(t.retries >= 1 for t in dag.tasks)


def test_only_a_pull_that_changed_something_triggers_the_build():
    from pipeline.cycle import anything_new

    assert anything_new({"new_versions": 2}, {"reports": 2})
    assert anything_new({"new_versions": 0}, {"reports": 1})  # landed before, checked now
    assert not anything_new({"new_versions": 0}, {"reports": 0})
    # a reviewer's sheet changed: the decisions reach the marts
    assert anything_new({"new_versions": 0}, {"reports": 0}, {"new_readings": 1})
    assert not anything_new({"new_versions": 0}, {"reports": 0}, {"new_readings": 0})


def test_periods_are_taken_from_the_triggering_events_else_from_params():
    from types import SimpleNamespace

    from pipeline.assets import LANDED, MARTS, periods_of, triggered_periods

    events = [
        SimpleNamespace(extra={"period_code": "CB-2026-NAM"}),
        SimpleNamespace(extra={"period_codes": ["CB-2026-6T", "CB-2026-NAM"]}),
        SimpleNamespace(extra=None),
        {"extra": {"period_code": "KH-2026-DX01"}},
    ]
    assert periods_of(events) == ["CB-2026-6T", "CB-2026-NAM", "KH-2026-DX01"]
    context = {
        "triggering_asset_events": {LANDED: events[:1]},
        "params": {"period_codes": ["CB-2026-6T"]},
    }
    assert triggered_periods(context, LANDED) == ["CB-2026-NAM"]
    assert triggered_periods(context, MARTS) == ["CB-2026-6T"]  # no such event: params
    assert triggered_periods({"params": {}}, MARTS) == []


def test_a_build_is_as_of_its_param_else_the_newest_day_of_its_events():
    from types import SimpleNamespace

    from pipeline.assets import LANDED, as_of_of, triggered_as_of

    events = [
        SimpleNamespace(extra={"period_code": "A", "as_of_date": "2026-06-21"}),
        SimpleNamespace(extra={"period_code": "B", "as_of_date": "2026-06-22"}),
        SimpleNamespace(extra={"period_code": "C"}),
    ]
    assert as_of_of(events) == "2026-06-22"
    assert triggered_as_of({"triggering_asset_events": {LANDED: events}}, LANDED) == "2026-06-22"
    assert (
        triggered_as_of(
            {"triggering_asset_events": {LANDED: events}, "params": {"as_of_date": "2026-06-30"}},
            LANDED,
        )
        == "2026-06-30"
    )
    assert triggered_as_of({"params": {"as_of_date": ""}}, LANDED) is None


def test_the_calendar_dag_triggers_mapped_runs_without_catching_up():
    from airflow.dag_processing.dagbag import DagBag

    dag = DagBag(dag_folder=str(DAGS)).dags["tonghop_calendar"]
    assert dag.catchup is False and dag.max_active_runs == 1
    assert {t.task_id for t in dag.tasks} == {
        "plan_today",
        "provisions",
        "cycles",
        "builds",
        "open_periods",
        "run_cycles",
        "run_daily_build",
        "check_freshness",
    }
    assert (
        dag.get_task("run_daily_build").partial_kwargs["trigger_dag_id"]
        == "tonghop_build_warehouse"
    )
    # the day's pulls after its provisioning, the day's build after its pulls, whatever
    # their outcome
    assert _edges(dag) >= {("open_periods", "run_cycles"), ("run_cycles", "run_daily_build")}
    assert dag.get_task("run_daily_build").trigger_rule == "all_done"
    assert dag.get_task("run_cycles").trigger_rule == "all_done"
    # a failed cycle (alerted by its own callback) ends the wait without failing the calendar
    assert set(dag.get_task("run_cycles").partial_kwargs["allowed_states"]) == {"success", "failed"}
    assert dag.get_task("run_cycles").partial_kwargs["trigger_dag_id"] == "tonghop_reporting_cycle"
    assert (
        dag.get_task("open_periods").partial_kwargs["trigger_dag_id"] == "tonghop_provision_period"
    )


def test_provisioning_is_mapped_over_shards_like_the_pull():
    from airflow.dag_processing.dagbag import DagBag

    from pipeline.cycle import SHEETS_POOL, SHEETS_TASK_TIMEOUT

    dag = DagBag(dag_folder=str(DAGS)).dags["tonghop_provision_period"]
    assert _edges(dag) == {
        ("plan_provision", "shards"),
        ("plan_provision", "finish_provision"),
        ("shards", "provision_shard"),
        ("provision_shard", "finish_provision"),
    }
    assert dag.get_task("provision_shard").is_mapped
    for task_id in ("provision_shard", "finish_provision"):
        assert dag.get_task(task_id).pool == SHEETS_POOL
        assert dag.get_task(task_id).execution_timeout == SHEETS_TASK_TIMEOUT
    assert set(dag.params) == {"period_code", "layout", "share"}


@pytest.mark.parametrize("dag_file", sorted(p.name for p in DAGS.glob("*.py")))
def test_dag_file_does_no_heavy_work_at_import(dag_file):
    """Importing the DAG file must not import dbt, Great Expectations, pandas or gspread."""
    code = (
        "import sys, runpy; runpy.run_path(sys.argv[1]); "
        "heavy = [m for m in ('dbt', 'great_expectations', 'pandas', 'gspread', 'psycopg2') "
        "if m in sys.modules]; print(','.join(heavy))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(DAGS / dag_file)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == ""


def test_every_task_calling_the_sheets_api_runs_in_the_sheets_pool():
    from pipeline.cycle import SHEETS_POOL

    bag = _bag()
    cycle = bag.dags["tonghop_reporting_cycle"]
    for task_id in ("plan_pull", "pull_shard"):
        assert cycle.get_task(task_id).pool == SHEETS_POOL, task_id
    for task_id in ("publish", "tell_units"):
        assert bag.dags["tonghop_publish"].get_task(task_id).pool == SHEETS_POOL, task_id
    for task_id in ("provision_shard", "finish_provision"):
        assert bag.dags["tonghop_provision_period"].get_task(task_id).pool == SHEETS_POOL
    # a feedback shard is sized to finish within half of this at its worst
    from pipeline.cycle import SHEETS_TASK_TIMEOUT

    assert bag.dags["tonghop_publish"].get_task("tell_units").execution_timeout == (
        SHEETS_TASK_TIMEOUT
    )


def test_an_ad_hoc_report_is_started_with_its_parameters():
    from airflow.dag_processing.dagbag import DagBag

    dag = DagBag(dag_folder=str(DAGS)).dags["tonghop_adhoc_report"]
    assert dag.schedule is None or str(dag.timetable.summary) in ("None", "")
    assert set(dag.params) == {
        "programme_code",
        "period_code",
        "period_name",
        "data_from",
        "data_to",
        "due_date",
        "on_time_until",
        "opens_on",
        "unit_codes",
        "sheet_layout",
    }
    edges = {(t.task_id, d) for t in dag.tasks for d in t.downstream_task_ids}
    assert edges == {("register_period", "open_period")}
