"""The reporting cycle run by a real Airflow: API server, scheduler and DAG processor.

As a data engineer would: Airflow's services run on 127.0.0.1 (LocalExecutor, metadata in a
database of its own), the cycle is triggered through the REST API (``/api/v2``, a JWT from the
simple auth manager) and polled until it succeeds; the scheduler then starts the dbt build on
the "landed" Asset and the publication on the "marts" Asset, which are polled in turn; then the
marts and the published files are checked. The warehouse is a database of its own (``tonghop_scheduler``) in the test cluster,
fed by an emulator of its own, so nothing here mixes with ``test_reporting_cycle``.

The pull is mapped over shards of 20 spreadsheets (4 tasks for the demo's 71 units), and the
first shard's task is killed with SIGKILL in the middle of its reads (while the emulator holds
its 11th read, 10 spreadsheets landed): the DAG's retry must finish it, and nothing may be lost
or landed twice (``bench/airflow_load.py`` does the same at 3,400 units).
"""

from __future__ import annotations

import json
from collections import Counter
from types import SimpleNamespace

import pytest

from testing.airflow import Api
from testing.airflow import wait_for_asset_run as _wait_for_asset_run
from testing.airflow import wait_for_dag as _wait_for_dag
from testing.airflow import wait_until_done as _wait_until_done
from tests.conftest import TEST_STATE, query

PERIOD = "CB-2026-6T"
WAREHOUSE_DB = "tonghop_scheduler"
METADATA_DB = "airflow_sched"
DAG_ID = "tonghop_reporting_cycle"
BUILD_DAG_ID = "tonghop_build_warehouse"
PUBLISH_DAG_ID = "tonghop_publish"
SHARD_SIZE = 20
#: the first shard's task is killed once this many of its spreadsheets landed: the emulator
#: holds the next read (SLOW_READ seconds), so the task is certainly in the middle of its reads
KILL_AFTER = 10
SLOW_READ = 20

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def scheduled_run(settings, tmp_path_factory):
    """Demo province in an emulator of its own, Airflow's services, one run triggered through
    the REST API and polled until it succeeded; what the API said about it."""
    from sheets_emulator import EmulatorServer
    from sheets_emulator.faults import EmulatorConfig, FaultRule
    from testing.airflow import ShardKiller
    from tooling import local_airflow, localdb
    from tooling.demo_setup import generate_into_emulator

    pg_port = localdb.default_cluster().port
    localdb.ensure_warehouse(WAREHOUSE_DB)
    emulator = EmulatorServer(tmp_path_factory.mktemp("sched-emulator"), host="127.0.0.1", port=0)
    emulator.start()
    try:
        settings = settings.for_database(WAREHOUSE_DB).with_overrides(
            emulator_url=emulator.url,
            sheets_backend="emulator",
            output_dir=tmp_path_factory.mktemp("sched-output"),
        )
        manifest, entries = generate_into_emulator(
            PERIOD, seed=11, root=emulator.store.root, settings=settings
        )
        # a full pull reads the spreadsheets in the order of their ids, SHARD_SIZE a task: the
        # first shard's read after KILL_AFTER landed ones is held, once
        held = sorted(e.spreadsheet_id for e in entries)[KILL_AFTER]
        emulator.configure(
            EmulatorConfig(
                faults=[
                    FaultRule(
                        endpoint="sheets.spreadsheets.get",
                        kind="slow",
                        delay=SLOW_READ,
                        times=1,
                        spreadsheet_id=held,
                    )
                ]
            )
        )
        env = local_airflow.airflow_env(settings, pg_port)
        env = local_airflow.with_metadata_database(env, METADATA_DB, pg_port)
        env["AIRFLOW_HOME"] = str(TEST_STATE / "airflow-scheduler")
        env["TONGHOP_PG_DB"] = WAREHOUSE_DB  # the tasks' load_settings(): warehouse_db
        env["TONGHOP_PULL_SHARD_SIZE"] = str(SHARD_SIZE)
        env["TONGHOP_RETRY_DELAY_SECONDS"] = "2"  # the killed shard's retry comes at once
        local_airflow.migrate(env)

        with local_airflow.running_airflow(env) as services:
            api = Api(services.base_url, services.token())
            for dag_id in (DAG_ID, BUILD_DAG_ID, PUBLISH_DAG_ID):
                dag = _wait_for_dag(api, services, dag_id)
                assert dag["is_paused"], "new DAGs are paused until someone unpauses them"
                assert (
                    api.call("PATCH", f"/dags/{dag_id}", json={"is_paused": False})["is_paused"]
                    is False
                )
            run = api.call(
                "POST",
                f"/dags/{DAG_ID}/dagRuns",
                ok=(200,),
                json={
                    "logical_date": None,  # a manual run of a DAG without schedule
                    "conf": {"period_code": PERIOD, "full_pull": True},
                    "note": "test_airflow_scheduler",
                },
            )
            killer = ShardKiller(
                Api(services.base_url, services.token()),
                run["dag_run_id"],
                settings.dsn("loader"),
                KILL_AFTER,
                map_index=0,
            )
            try:
                run, states = _wait_until_done(api, services, DAG_ID, run["dag_run_id"], killer)
            finally:
                killer.close()
            shard = f"/dags/{DAG_ID}/dagRuns/{run['dag_run_id']}/taskInstances/pull_shard"
            killed_tries = api.call("GET", f"{shard}/0/tries")["task_instances"]
            killed_xcom = api.call(
                "GET",
                f"{shard}/xcomEntries/return_value",
                params={"deserialize": "true", "map_index": 0},
            )["value"]
            build_id = _wait_for_asset_run(api, services, BUILD_DAG_ID)
            build_run, build_states = _wait_until_done(api, services, BUILD_DAG_ID, build_id)
            publish_id = _wait_for_asset_run(api, services, PUBLISH_DAG_ID)
            publish_run, publish_states = _wait_until_done(
                api, services, PUBLISH_DAG_ID, publish_id
            )
            ti = f"/dags/{PUBLISH_DAG_ID}/dagRuns/{publish_id}/taskInstances/publish"
            publish_xcom = api.call(
                "GET",
                f"{ti}/xcomEntries/return_value",
                params={"deserialize": "true", "map_index": 0},
            )
            publish_log = api.call("GET", f"{ti}/logs/1", params={"map_index": 0})
            events = api.call("GET", "/assets/events", params={"order_by": "timestamp"})[
                "asset_events"
            ]
            # the whole finished cycle run cleared, as an engineer reruns it from the UI: every
            # task runs again under the same run id (and so the same pull run id)
            cleared = api.call(
                "POST",
                f"/dags/{DAG_ID}/clearTaskInstances",
                json={
                    "dry_run": False,
                    "dag_run_id": run["dag_run_id"],
                    "only_failed": False,
                    "reset_dag_runs": True,
                    "note": "test_airflow_scheduler: cleared",
                },
            )
            rerun, rerun_states = _wait_until_done(api, services, DAG_ID, run["dag_run_id"])
        yield SimpleNamespace(
            settings=settings,
            manifest=manifest,
            run=run,
            states=states,
            build_run=build_run,
            build_states=build_states,
            publish_run=publish_run,
            publish_states=publish_states,
            publish_xcom=publish_xcom,
            publish_log=publish_log,
            events=events,
            entries=entries,
            killed=killer.killed,
            victim_states=killer.victim_states,
            killed_tries=killed_tries,
            killed_xcom=killed_xcom,
            cleared=cleared,
            rerun=rerun,
            rerun_states=rerun_states,
        )
    finally:
        emulator.stop()


def test_the_run_was_triggered_with_its_params_and_every_task_succeeded(scheduled_run):
    run, states = scheduled_run.run, dict(scheduled_run.states)
    assert run["run_type"] == "manual" and run["logical_date"] is None
    assert run["conf"] == {"period_code": PERIOD, "full_pull": True}
    assert states.pop("remind_unchanged") == "skipped", states  # new reports landed
    assert {
        "plan_pull",
        "shards",
        "pull_shard[0]",
        "pull_shard[1]",
        "pull_shard[2]",
        "pull_shard[3]",
        "finish_pull",
        "validate",
        "read_reviews",
        "anything_new",
        "announce_landed",
    } == set(states)  # 71 spreadsheets, 20 a shard
    assert set(states.values()) == {"success"}, states


def test_the_assets_chained_the_build_and_the_publication(scheduled_run):
    """The scheduler itself started the build on "landed" and the publication on "marts";
    the period travelled in the events' extras."""
    assert scheduled_run.build_run["run_type"] == "asset_triggered"
    assert set(scheduled_run.build_states) == {"build_warehouse"}
    assert scheduled_run.publish_run["run_type"] == "asset_triggered"
    assert set(scheduled_run.publish_states) == {
        "periods",
        "publish[0]",
        "plan_feedback[0]",
        "feedback_shards",
        "tell_units[0]",  # the demo's 71 tabs: one shard
        "review_sheets[0]",  # a period without review: nothing to do
        "remind[0]",
    }
    assert set(scheduled_run.build_states.values()) | set(
        scheduled_run.publish_states.values()
    ) == {"success"}
    by_uri = {}
    for event in scheduled_run.events:
        by_uri.setdefault(event["uri"], []).append(event["extra"])
    assert [e.get("period_code") for e in by_uri["tonghop://warehouse/landed"]] == [PERIOD]
    assert [e.get("period_codes") for e in by_uri["tonghop://warehouse/marts"]] == [[PERIOD]]
    assert [e.get("period_code") for e in by_uri["tonghop://publish/summary"]] == [PERIOD]


def test_one_submission_row_per_expected_unit(scheduled_run, catalogue):
    settings, manifest = scheduled_run.settings, scheduled_run.manifest
    rows = query(
        settings.dsn("bi_reader"),
        """
        select unit_code, reporting_status from marts.fct_submission where period_code = %s""",
        (PERIOD,),
    )
    expected_units = [u.unit_code for u in catalogue.expected_units(PERIOD)]
    assert sorted(u for u, _ in rows) == expected_units
    assert dict(rows) == manifest.expected_status()


def test_province_summary_counts_the_valid_submissions(scheduled_run):
    settings, manifest = scheduled_run.settings, scheduled_run.manifest
    status = Counter(manifest.expected_status().values())
    [(expected, actual, on_time, late, missing)] = query(
        settings.dsn("bi_reader"),
        """
        select expected_reports, actual_reports, on_time_reports, late_reports,
               missing_reports
        from marts.agg_province_summary where period_code = %s""",
        (PERIOD,),
    )
    assert expected == len(manifest.scenarios)
    assert actual == status["on_time"] + status["late"] > 0
    assert (on_time, late, missing) == (status["on_time"], status["late"], status["missing"])


def test_the_summary_was_published_in_the_runs_folder(scheduled_run):
    from openpyxl import load_workbook

    from publish.bundle import run_folder

    settings, manifest = scheduled_run.settings, scheduled_run.manifest
    run = scheduled_run.publish_run
    folder = run_folder(settings, PERIOD, run["dag_run_id"])
    xlsx = folder / f"tong_hop_{PERIOD}.xlsx"
    assert xlsx.exists(), sorted(p.name for p in folder.parent.glob("*/*"))
    overview = load_workbook(xlsx)["Tổng quan"]
    values = {row[0]: row[1] for row in overview.iter_rows(min_row=4, values_only=True)}
    assert values["Số đơn vị phải báo cáo"] == len(manifest.scenarios)
    bundle = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert (bundle["run_id"], bundle["inputs"]["database"]) == (run["dag_run_id"], WAREHOUSE_DB)
    # what the publish task returned, read back through the API (XCom)
    value = scheduled_run.publish_xcom["value"]
    value = json.loads(value) if isinstance(value, str) else value
    assert value["xlsx_path"] == str(xlsx)


def test_the_task_log_is_readable_through_the_api(scheduled_run):
    events = [
        line.get("event", "")
        for line in scheduled_run.publish_log["content"]
        if isinstance(line, dict)
    ]
    assert any(f"published {PERIOD}" in event for event in events), events[-20:]


def test_a_shard_task_killed_mid_read_is_finished_by_its_retry_and_nothing_is_lost(scheduled_run):
    """SIGKILL of the first shard's task while it waited for its 11th read: Airflow retried it
    (``retries=1``), the retry found the 10 versions already landed and landed the other 10;
    every spreadsheet has one version and the pull is recorded once."""
    killed = scheduled_run.killed
    assert killed is not None, "no pull_shard task was killed"
    assert (killed["task"], killed["try_number"]) == ("pull_shard[0]", 1)
    assert killed["landed_committed_after_kill"] == KILL_AFTER
    assert [(t["try_number"], t["state"]) for t in scheduled_run.killed_tries] == [
        (1, "failed"),
        (2, "success"),
    ], scheduled_run.victim_states
    # seen by polling: the killed try first (the short retry delay may hide up_for_retry)
    assert scheduled_run.victim_states[0] == "killed", scheduled_run.victim_states
    value = scheduled_run.killed_xcom
    value = json.loads(value) if isinstance(value, str) else value
    assert (value["fetched"], value["unchanged"], value["new_versions"], value["failures"]) == (
        SHARD_SIZE,
        KILL_AFTER,
        SHARD_SIZE - KILL_AFTER,
        {},
    )
    dsn = scheduled_run.settings.dsn("loader")
    registered = sorted(e.spreadsheet_id for e in scheduled_run.entries)
    versions = query(
        dsn,
        """select spreadsheet_id, count(*) from raw.sheet_versions
                             group by spreadsheet_id order by 1""",
    )
    assert versions == [(sid, 1) for sid in registered]
    [(pulls, fetched, new, unchanged, failed)] = query(
        dsn,
        """
        select count(*), sum(fetched), sum(new_versions), sum(unchanged), sum(failed)
        from ops.pull_runs where period_code = %s and finished_at is not null""",
        (PERIOD,),
    )
    assert (pulls, fetched, new, unchanged, failed) == (
        1,
        len(registered),
        len(registered) - KILL_AFTER,
        KILL_AFTER,
        0,
    )


def test_a_cleared_finished_run_runs_again_and_adds_nothing(scheduled_run):
    """Clearing the whole finished cycle run (every task, the same run id): it succeeds again
    — the pull it records is the same pull run, recorded once — reads what it read before,
    lands nothing new and, with nothing new, neither rebuilds nor republishes."""
    cleared = {
        (ti["task_id"], ti.get("map_index", -1)) for ti in scheduled_run.cleared["task_instances"]
    }
    assert {("plan_pull", -1), ("finish_pull", -1), ("validate", -1)} <= cleared, cleared
    assert scheduled_run.rerun["dag_run_id"] == scheduled_run.run["dag_run_id"]
    states = dict(scheduled_run.rerun_states)
    assert states.pop("announce_landed") == "skipped", states  # nothing new landed
    assert set(states.values()) == {"success"}, states
    dsn = scheduled_run.settings.dsn("loader")
    pull_run_id = f"pull-{scheduled_run.run['dag_run_id']}"
    assert query(
        dsn, "select count(*) from ops.pull_runs where pull_run_id = %s", (pull_run_id,)
    ) == [(1,)]
    # every spreadsheet read again by the one pull run (the first time, the killed shard's
    # first KILL_AFTER reads twice), landed once
    [(reads, spreadsheets)] = query(
        dsn,
        """
        select count(*) filter (where outcome <> 'failed'), count(distinct spreadsheet_id)
        from raw.sheet_fetches where pull_run_id = %s""",
        (pull_run_id,),
    )
    assert (reads, spreadsheets) == (
        2 * len(scheduled_run.entries) + KILL_AFTER,
        len(scheduled_run.entries),
    )
    assert query(
        dsn, "select count(*), count(distinct spreadsheet_id) from raw.sheet_versions"
    ) == [(len(scheduled_run.entries), len(scheduled_run.entries))]
