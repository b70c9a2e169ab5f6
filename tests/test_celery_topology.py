"""The production topology run for real: docker-compose.yml's Airflow with the CeleryExecutor as
processes (``tooling/local_celery.py``: Redis, API server, scheduler, DAG processor, triggerer
and two Celery workers, ``worker-1`` and ``worker-2``, with compose's own settings), a reporting
cycle through it, and one worker killed with SIGKILL in the middle of a task.

A sample of the demo province (two units of each demo scenario) is pulled and validated twice:
once cleanly, in the test's process (the **reference**, as the fault suite makes it), and once by
the topology: the cycle DAG triggered through the REST API, its pull mapped over shards of 3
spreadsheets. The emulator holds the first shard's second read for a while; the worker running
that shard is then killed with every process under it (as when its container dies), once the
first spreadsheet has landed, and started again at once (compose's ``restart:
unless-stopped``). Nobody tells Airflow: the scheduler finds the task silent for
``[scheduler] task_instance_heartbeat_timeout`` (compose's 60 s), fails it and retries it, on
whichever worker takes it.

Then, with the fault suite's own comparison (``testing/fingerprint.py``): every spreadsheet the
emulator serves is kept once, intact, and the landed rows equal the reference's. Afterwards the
messages the dead worker held unacknowledged are handed back to the queue, as Redis does after
compose's ``visibility_timeout`` (``testing/celery.py``): a worker takes them, the execution API
refuses the stale tries (their task instances have moved on), and nothing runs twice. The build and publication DAGs stay
paused: the fault is in the pull, and the fault suite compares such faults up to the landed
rows (dbt builds the marts from them alone).
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections import Counter
from types import SimpleNamespace

import psycopg2
import pytest

from tests.conftest import TEST_STATE, in_thread, query

PERIOD = "CB-2026-6T"
SEED = 7
PER_SCENARIO = 2  # units of each demo scenario in the sample
WAREHOUSE_DB = "tonghop_celery"
REFERENCE_DB = "tonghop_celery_ref"
METADATA_DB = "airflow_celery"
CYCLE_DAG = "tonghop_reporting_cycle"
SHARD_SIZE = 3
#: the first shard's worker is killed once this many of its spreadsheets landed; the emulator
#: holds the next read meanwhile, so its task is certainly in the middle of its reads
KILL_AFTER = 1
SLOW_READ = 30
#: [scheduler] task_instance_heartbeat_timeout_detection_interval (Airflow's default)
DETECTION_INTERVAL = 10

pytestmark = pytest.mark.slow


# ------------------------------------------------------------------ the environment itself
def test_the_topology_runs_with_composes_settings_but_for_where_things_are(tmp_path):
    """Every AIRFLOW__ setting of compose's x-airflow block, its hosts and paths put here, and
    no other but those saying where a process listens or keeps files; nothing of compose's
    network or image left in a value."""
    from tooling import local_celery as lc

    compose = lc.compose_definition()
    placement = lc.Placement(tmp_path / "home", 5432, "airflow_x", 6390, 8090, 8974)
    base = {"PATH": "/usr/bin", "AIRFLOW__CORE__EXECUTOR": "LocalExecutor", "TONGHOP_PG_DB": "x"}
    env = lc.topology_env(base, placement, compose)
    settings = lc.compose_airflow_settings(compose)
    airflow = {k: v for k, v in env.items() if k.startswith("AIRFLOW__")}
    assert set(airflow) == set(settings) | set(lc.LOCAL_SETTINGS)
    for key, value in settings.items():
        assert env[key] == placement.localize(value), key
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert env["TONGHOP_PG_DB"] == "x" and env["AIRFLOW_HOME"] == str(placement.home)
    for value in env.values():
        for image in ("airflow-db", "redis:6379", "airflow-api-server", "/run/secrets", "/opt/"):
            assert image not in value, (image, value)
    # the secrets stay commands run by Airflow, on the topology's secrets folder
    assert env["AIRFLOW__CELERY__BROKER_URL_CMD"].endswith(
        f"{placement.secrets}/redis_password redis://:{{}}@127.0.0.1:6390/0"
    )
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_CMD"].endswith(
        "postgresql+psycopg2://airflow:{}@127.0.0.1:5432/airflow_x"
    )
    # a worker adds its own host name only
    topology = lc.CeleryTopology(env, placement, compose)
    assert set(topology.worker_env("worker-1")) - set(env) == {
        *lc.WORKER_SETTINGS,
        lc.WORKER_HOSTNAME_VAR,
    }
    # each service runs compose's command, through the image's entrypoint
    for service in (*lc.AIRFLOW_SERVICES, lc.WORKER_SERVICE, lc.INIT_SERVICE):
        command = [str(w) for w in compose["services"][service]["command"]]
        assert topology.compose_command(service) == [placement.localize(w) for w in command]
    assert topology.entrypoint[1].endswith("/deploy/entrypoint.py")


# ------------------------------------------------------------------ the run
def _sample(tmp):
    from tooling.demo_setup import generate_into_emulator

    manifest, entries = generate_into_emulator(
        PERIOD, seed=SEED, root=tmp / "province", register=False
    )
    sample: set[str] = set()
    for scenario in sorted(set(manifest.scenarios.values())):
        sample |= set(manifest.units_with(scenario)[:PER_SCENARIO])
    return manifest, [e for e in entries if e.unit_code in sample]


def _own(settings, dbname, server, output):
    return settings.for_database(dbname).with_overrides(
        emulator_url=server.url, sheets_backend="emulator", output_dir=output
    )


def _clean_run(own):
    """Pull and validation as Airflow's tasks call them, without a fault: the fingerprint."""
    from pipeline.cycle import stage_pull, stage_validate
    from testing.fingerprint import fingerprint

    pulled = stage_pull(own, PERIOD)
    stage_validate(own, PERIOD, pulled["pull_run_id"])
    return fingerprint(own.dsn("admin"), marts=False)


def _register(own, entries) -> None:
    from ingest.registry import register

    conn = psycopg2.connect(own.dsn("loader"))
    try:
        register(conn, entries)
        conn.commit()
    finally:
        conn.close()


def _run_tasks_again(own, run_id: str, fp) -> dict:
    """The finished cycle run's tasks run again, as clearing the whole run from the UI does
    (the same run id, so the same pull run): the stages its tasks call, in this process, once
    the topology is gone (Airflow's part of a clear, the same run id, is the season's:
    ``tests/test_season.py``). What the pull recorded and landed before and after."""
    from pipeline.cycle import (
        anything_new,
        shard_kwargs,
        stage_finish_pull,
        stage_plan_pull,
        stage_pull_shard,
        stage_validate,
    )
    from testing.fingerprint import fingerprint

    pull_run_id = f"pull-{run_id}"
    dsn = own.dsn("loader")

    def recorded():
        return {
            "pull_runs": query(
                dsn,
                """select fetched, new_versions, unchanged, failed, drive_watermark, finished_at
                   from ops.pull_runs where pull_run_id = %s""",
                (pull_run_id,),
            ),
            "reads": query(
                dsn,
                """select count(*) filter (where outcome <> 'failed'),
                          count(distinct spreadsheet_id)
                   from raw.sheet_fetches where pull_run_id = %s""",
                (pull_run_id,),
            )[0],
        }

    before = recorded()
    plan = stage_plan_pull(own, PERIOD, pull_run_id, mode="full")  # the run's full_pull
    shards = [stage_pull_shard(own, **kwargs) for kwargs in shard_kwargs(plan)]
    pulled = stage_finish_pull(own, plan, shards)
    validated = stage_validate(own, PERIOD, pull_run_id)
    return {
        "before": before,
        "after": recorded(),
        "pulled": pulled,
        "validated": validated,
        "anything_new": anything_new(pulled, validated),
        "same": fingerprint(own.dsn("admin"), marts=False).digests() == fp.digests(),
    }


def _execution_timeouts(api) -> dict[str, float]:
    """The longest execution_timeout of each DAG's tasks, in seconds (as the API serves them)."""
    longest = {}
    for dag in api.call("GET", "/dags", params={"limit": 100})["dags"]:
        seconds = []
        for task in api.call("GET", f"/dags/{dag['dag_id']}/tasks")["tasks"]:
            timeout = task.get("execution_timeout")
            if isinstance(timeout, dict):
                seconds.append(
                    timeout.get("days", 0) * 86400
                    + timeout.get("seconds", 0)
                    + timeout.get("microseconds", 0) / 1e6
                )
        longest[dag["dag_id"]] = max(seconds, default=0.0)
    return longest


@pytest.fixture(scope="module")
def celery_run(settings, tmp_path_factory):
    from sheets_emulator import EmulatorServer
    from sheets_emulator.faults import EmulatorConfig, FaultRule
    from testing.airflow import (
        Api,
        KillsInTurn,
        ShardKiller,
        every_try,
        wait_for_dag,
        wait_until_done,
    )
    from testing.celery import kill_worker_running, redeliver, tries_by_worker
    from testing.fingerprint import fingerprint, lost_or_doubled
    from tooling import local_airflow, local_celery, localdb

    tmp = tmp_path_factory.mktemp("celery")
    manifest, entries = _sample(tmp)
    ids = sorted(e.spreadsheet_id for e in entries)
    servers = []

    def emulator(name: str):
        shutil.copytree(tmp / "province", tmp / name)
        server = EmulatorServer(tmp / name, host="127.0.0.1", port=0).start()
        servers.append(server)
        return server

    try:
        # the reference: pull and validation of the same reports, cleanly, in this process
        # (in a thread: it overlaps the topology's start and the wait for the heartbeat timeout)
        reference_server = emulator("emulator-reference")
        localdb.recreate_warehouse(REFERENCE_DB)
        reference = _own(settings, REFERENCE_DB, reference_server, tmp / "out-reference")
        _register(reference, entries)
        reference_thread, reference_outcome = in_thread(lambda: _clean_run(reference))

        # the topology's run: the reads after KILL_AFTER landed ones of the first shard (its
        # worker is killed) and of the last (its task's own process is killed) are held
        server = emulator("emulator-celery")
        last = (len(ids) - 1) // SHARD_SIZE
        assert len(ids) - last * SHARD_SIZE > KILL_AFTER, "the last shard is too small"
        server.configure(
            EmulatorConfig(
                faults=[
                    FaultRule(
                        endpoint="sheets.spreadsheets.get",
                        kind="slow",
                        delay=SLOW_READ,
                        times=1,
                        spreadsheet_id=ids[first + KILL_AFTER],
                    )
                    for first in (0, last * SHARD_SIZE)
                ]
            )
        )
        localdb.recreate_warehouse(WAREHOUSE_DB)
        own = _own(settings, WAREHOUSE_DB, server, tmp / "out-celery")
        _register(own, entries)
        pg_port = localdb.default_cluster().port
        env = local_airflow.airflow_env(own, pg_port)
        home = TEST_STATE / "airflow-celery"
        shutil.rmtree(home, ignore_errors=True)
        env["AIRFLOW_HOME"] = str(home)
        env["TONGHOP_PG_DB"] = WAREHOUSE_DB  # the tasks' load_settings(): warehouse_db
        env["TONGHOP_PULL_SHARD_SIZE"] = str(SHARD_SIZE)
        env["TONGHOP_RETRY_DELAY_SECONDS"] = "2"  # the killed shard's retry comes at once
        env["TONGHOP_SHEETS_QUOTA"] = "none"  # the emulator has no quota here
        compose_env = local_celery.compose_airflow_settings(local_celery.compose_definition())
        timeout = int(compose_env["AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT"])

        with local_celery.running_celery(env, METADATA_DB, pg_port) as topology:
            api = Api(topology.base_url, topology.token())
            paused_at_creation = wait_for_dag(api, topology, CYCLE_DAG)["is_paused"]
            api.call("PATCH", f"/dags/{CYCLE_DAG}", json={"is_paused": False})
            triggered = api.call(
                "POST",
                f"/dags/{CYCLE_DAG}/dagRuns",
                json={
                    "logical_date": None,
                    "conf": {"period_code": PERIOD, "full_pull": True},
                    "note": "test_celery_topology",
                },
            )
            run_id = triggered["dag_run_id"]

            def kill_worker(ti: dict, tis: list[dict]) -> dict:
                done = kill_worker_running(topology, api, CYCLE_DAG, run_id, ti)
                topology.restart_worker(done["worker"])  # compose's restart policy
                return done

            killer = ShardKiller(
                api, run_id, own.dsn("loader"), KILL_AFTER, map_index=0, kill_with=kill_worker
            )
            # then, once the worker is dead, the last shard's task: its own process only (as
            # the kernel's OOM killer would), which its supervisor sees die at once
            task_killer = ShardKiller(api, run_id, own.dsn("loader"), KILL_AFTER, map_index=last)
            kills = KillsInTurn(killer, task_killer)
            try:
                run, states = wait_until_done(api, topology, CYCLE_DAG, run_id, kills)
            finally:
                kills.close()
            tries = every_try(api, CYCLE_DAG, run_id)
            shard_xcoms = {i: api.xcom(CYCLE_DAG, run_id, "pull_shard", i) for i in (0, last)}
            # what an engineer reads in the UI: a task's log, through the API server, from
            # wherever the worker wrote it
            finish_log = api.call(
                "GET", f"/dags/{CYCLE_DAG}/dagRuns/{run_id}/taskInstances/finish_pull/logs/1"
            )
            landed_events = [
                e
                for e in api.call(
                    "GET", "/assets/events", params={"source_dag_id": CYCLE_DAG, "limit": 100}
                )["asset_events"]
                if e["source_run_id"] == run_id
            ]
            topology.wait_workers(topology.workers, 120)  # the restarted one answers
            fp = fingerprint(own.dsn("admin"), marts=False)
            # the dead worker's messages, handed back to the queue as after the visibility
            # timeout: a worker takes them, the execution API refuses the stale tries
            redelivery = redeliver(topology, pg_port, METADATA_DB, killer.killed["ti_ids"])
            tries_after = every_try(api, CYCLE_DAG, run_id)
            fp_after = fingerprint(own.dsn("admin"), marts=False)
            execution_timeouts = _execution_timeouts(api)
            hostnames = Counter()
            for row in tries_by_worker(pg_port, METADATA_DB, [run_id]):
                hostnames[row["worker"]] += row["tries"]
            restarts = dict(topology.restarts)
        reference_thread.join(600)
        if "error" in reference_outcome:
            raise reference_outcome["error"]
        reference_fp = reference_outcome["result"]
        lost = lost_or_doubled(reference_fp, fp, own, ids, marts=False)
        rerun = _run_tasks_again(own, run_id, fp)
        yield SimpleNamespace(
            settings=own,
            manifest=manifest,
            ids=ids,
            triggered=triggered,
            paused_at_creation=paused_at_creation,
            run=run,
            states=states,
            last_shard=last,
            shard_xcoms=shard_xcoms,
            finish_log=finish_log,
            landed_events=landed_events,
            task_killed=task_killer.killed,
            task_victim_states=task_killer.victim_states,
            rerun=rerun,
            tries=tries,
            tries_after=tries_after,
            killed=killer.killed,
            victim_states=killer.victim_states,
            reference_fp=reference_fp,
            fp=fp,
            fp_after=fp_after,
            lost=lost,
            redelivery=redelivery,
            hostnames=dict(hostnames),
            restarts=restarts,
            heartbeat_timeout=timeout,
            visibility_timeout=int(
                compose_env["AIRFLOW__CELERY_BROKER_TRANSPORT_OPTIONS__VISIBILITY_TIMEOUT"]
            ),
            execution_timeouts=execution_timeouts,
        )
    finally:
        for server in servers:
            server.stop()


def _label(t: dict) -> str:
    return t["task_id"] + ("" if t["map_index"] < 0 else f"[{t['map_index']}]")


def test_the_cycle_was_triggered_through_the_rest_api_with_its_params(celery_run):
    """As an engineer triggers a period's cycle (docs/operations.md, "Rerun a period"): a new
    DAG waits paused until someone unpauses it; a manual run without a logical date, its
    params in ``conf``, which the tasks read (the period pulled is the reference's)."""
    assert celery_run.paused_at_creation is True
    triggered = celery_run.triggered
    assert triggered["run_type"] == "manual" and triggered["logical_date"] is None
    assert triggered["conf"] == {"period_code": PERIOD, "full_pull": True}
    assert celery_run.run["dag_run_id"] == triggered["dag_run_id"]
    assert celery_run.run["conf"] == triggered["conf"]


def test_the_cycle_ran_on_both_workers_and_succeeded(celery_run):
    assert celery_run.run["state"] == "success"
    states = dict(celery_run.states)
    assert states.pop("remind_unchanged") == "skipped", states  # new reports landed
    assert set(states.values()) == {"success"}, states
    shards = [t for t in states if t.startswith("pull_shard[")]
    assert len(shards) == -(-len(celery_run.ids) // SHARD_SIZE)
    assert set(states) - set(shards) == {
        "plan_pull",
        "shards",
        "finish_pull",
        "validate",
        "read_reviews",
        "anything_new",
        "announce_landed",
    }
    # every try ran on one of the two workers, and each worker ran some (task_instance.hostname)
    ran = [t for t in celery_run.tries if t["state"] != "skipped"]
    assert set(celery_run.hostnames) == {"worker-1", "worker-2"}, celery_run.hostnames
    assert sum(celery_run.hostnames.values()) == len(ran)


def test_a_worker_killed_mid_task_its_tasks_were_retried_elsewhere_or_after_its_restart(
    celery_run,
):
    killed = celery_run.killed
    assert killed is not None, "no worker was killed"
    assert killed["task"] == "pull_shard[0]" and killed["worker"] in ("worker-1", "worker-2")
    assert killed["processes"] >= 3  # the worker, its pool, the task's supervisor and task
    assert "pull_shard[0]" in killed["tasks"]
    assert killed["landed_committed_after_kill"] == KILL_AFTER  # mid-read
    assert celery_run.restarts == {
        "worker-1": int(killed["worker"] == "worker-1"),
        "worker-2": int(killed["worker"] == "worker-2"),
    }
    # only the tasks the kills took were retried, each once, and ended in success: the
    # worker's, then the last shard's (its task process killed after the worker)
    by_task = _tries_by_task(celery_run)
    retried = {label for label, tries in by_task.items() if len(tries) > 1}
    process_victim = celery_run.task_killed["task"]
    assert process_victim not in killed["tasks"], killed
    assert retried == {*killed["tasks"], process_victim}, by_task
    for label in set(killed["tasks"]):
        (first, _, host), (second, state, _) = by_task[label]
        assert (first, second, state, host) == (1, 2, "success", killed["worker"]), by_task[label]
    assert celery_run.victim_states[0] == "killed", celery_run.victim_states


def _tries_by_task(celery_run) -> dict[str, list[tuple]]:
    by_task: dict[str, list] = {}
    for t in sorted(celery_run.tries, key=lambda t: t["try_number"]):
        by_task.setdefault(_label(t), []).append((t["try_number"], t["state"], t["hostname"]))
    return by_task


def test_a_task_process_killed_mid_read_failed_at_once_and_its_retry_finished_the_shard(
    celery_run,
):
    """The last shard's task process alone SIGKILLed while the emulator held its read after
    KILL_AFTER landed ones (its worker and the task's supervisor live on): the supervisor
    reported the try failed at once, without the heartbeat timeout, and the retry found the
    KILL_AFTER versions landed and landed the others."""
    killed = celery_run.task_killed
    assert killed is not None, "no task process was killed"
    last = celery_run.last_shard
    assert (killed["task"], killed["try_number"]) == (f"pull_shard[{last}]", 1)
    assert killed["process_title"].startswith("airflow worker -- "), killed
    assert killed["landed_committed_after_kill"] == KILL_AFTER  # mid-read
    assert celery_run.task_victim_states[0] == "killed", celery_run.task_victim_states
    [(first, first_state, host), (second, state, _)] = _tries_by_task(celery_run)[killed["task"]]
    assert (first, first_state, second, state) == (1, "failed", 2, "success")
    assert host == killed["hostname"] and host in ("worker-1", "worker-2")
    [ended] = [
        t["end_date"]
        for t in celery_run.tries
        if _label(t) == killed["task"] and t["try_number"] == 1
    ]
    ended = dt.datetime.fromisoformat(ended.replace("Z", "+00:00"))
    silent = (ended - dt.datetime.fromisoformat(killed["killed_at"])).total_seconds()
    assert silent < celery_run.heartbeat_timeout / 2, silent
    shard = celery_run.ids[last * SHARD_SIZE : (last + 1) * SHARD_SIZE]
    value = celery_run.shard_xcoms[last]
    assert (value["fetched"], value["unchanged"], value["new_versions"], value["failures"]) == (
        len(shard),
        KILL_AFTER,
        len(shard) - KILL_AFTER,
        {},
    )


def test_the_task_log_is_readable_through_the_api(celery_run):
    """finish_pull's log, written on a worker, read through the API server."""
    events = [
        line.get("event", "") for line in celery_run.finish_log["content"] if isinstance(line, dict)
    ]
    n = len(celery_run.ids)
    done = (
        f"pull pull-{celery_run.run['dag_run_id']} done: {n} fetched, {n - 2 * KILL_AFTER} "
        f"new, {2 * KILL_AFTER} unchanged, 0 failed"
    )
    assert done in events, events[-20:]


def test_the_cycle_announced_what_it_landed_for_the_build(celery_run):
    """A cycle run by hand updates the Asset "landed" once, naming the period, the pull and
    the day the build is to be as of; the build DAG is paused here, so no run was made of it."""
    [event] = celery_run.landed_events
    assert (event["uri"], event["source_task_id"]) == (
        "tonghop://warehouse/landed",
        "announce_landed",
    )
    extra = event["extra"]
    assert extra["period_code"] == PERIOD
    assert extra["pull_run_id"] == f"pull-{celery_run.run['dag_run_id']}"
    assert extra["new_versions"] == len(celery_run.ids) - 2 * KILL_AFTER
    dt.date.fromisoformat(extra["as_of_date"])
    assert event["created_dagruns"] == []


def test_the_scheduler_found_the_silent_task_after_the_heartbeat_timeout(celery_run):
    """Recovery is timely: the killed try ended (failed, to be retried) when the scheduler saw
    no heartbeat for compose's task_instance_heartbeat_timeout, not Airflow's default 300 s."""
    killed_at = dt.datetime.fromisoformat(celery_run.killed["killed_at"])
    [first] = [t for t in celery_run.tries if _label(t) == "pull_shard[0]" and t["try_number"] == 1]
    assert first["state"] == "failed"
    ended = dt.datetime.fromisoformat(first["end_date"].replace("Z", "+00:00"))
    silent = (ended - killed_at).total_seconds()
    timeout = celery_run.heartbeat_timeout
    # the last heartbeat came up to 5 s before the kill; the check runs every 10 s
    assert timeout - 6 <= silent <= timeout + DETECTION_INTERVAL + 20, silent


def test_nothing_lost_or_doubled(celery_run):
    """The fault suite's comparison with the clean reference: every spreadsheet served kept
    once and intact, the parsed rows, issues, rule results and registry equal."""
    assert celery_run.lost == [], celery_run.lost
    fp = celery_run.fp
    assert fp.versions == len(celery_run.ids) and not fp.doubled and not fp.corrupt
    assert fp.digests() == celery_run.reference_fp.digests()
    [(pulls, fetched, new, unchanged, failed)] = _pull_runs(celery_run.settings)
    assert (pulls, fetched, failed) == (1, len(celery_run.ids), 0)
    # each killed shard's retry found KILL_AFTER versions landed by its killed try
    assert (new, unchanged) == (len(celery_run.ids) - 2 * KILL_AFTER, 2 * KILL_AFTER)


def _pull_runs(own) -> list[tuple]:
    conn = psycopg2.connect(own.dsn("loader"))
    try:
        with conn.cursor() as cur:
            cur.execute(
                """select count(*), sum(fetched), sum(new_versions), sum(unchanged), sum(failed)
                   from ops.pull_runs where period_code = %s and finished_at is not null""",
                (PERIOD,),
            )
            return cur.fetchall()
    finally:
        conn.close()


def test_the_dead_workers_message_redelivered_runs_nothing_twice(celery_run):
    """After the visibility timeout Redis hands the dead worker's messages to a worker; the
    execution API refuses the stale tries (their task instances have moved on), so no task
    runs again and the warehouse does not change."""
    redelivery = celery_run.redelivery
    assert redelivery["settled"], redelivery
    # the dead worker held the killed tries' messages, and perhaps that of a task whose try had
    # just ended while its Celery task had not returned yet; every one of those tries is over
    assert len(redelivery["killed"]) == len(celery_run.killed["tasks"]), redelivery
    assert set(redelivery["killed"]) <= set(redelivery["stale"]), redelivery
    assert set(redelivery["try_states"]) == set(redelivery["stale"]), redelivery
    assert "running" not in redelivery["try_states"].values(), redelivery
    # each refused: Celery recorded a failure, and no task instance got a try more
    assert Counter(redelivery["results"].values()) == {"FAILURE": len(redelivery["stale"])}, (
        redelivery
    )
    assert sorted(map(_label, celery_run.tries_after)) == sorted(map(_label, celery_run.tries))
    assert celery_run.fp_after.digests() == celery_run.fp.digests()


def test_the_broker_holds_a_message_longer_than_any_task_may_run(celery_run):
    """compose's visibility_timeout outlives every task's execution_timeout, so a running
    task's message is never handed to a second worker."""
    longest = max(celery_run.execution_timeouts.values())
    assert longest >= 3600, celery_run.execution_timeouts  # the DAGs were all read
    assert celery_run.visibility_timeout > longest


def test_a_finished_runs_tasks_run_again_under_the_same_pull_add_nothing(celery_run):
    """The finished run's tasks again, as clearing the whole run does (the same run id, so the
    same pull run): every spreadsheet read again and nothing landed or checked, so nothing new
    for the build (``remind_unchanged`` would run); the pull stays recorded once, with its
    first figures and watermark; raw and the landed rows are what they were."""
    rerun = celery_run.rerun
    n = len(celery_run.ids)
    pulled, validated = rerun["pulled"], rerun["validated"]
    assert (pulled["fetched"], pulled["new_versions"], pulled["unchanged"]) == (n, 0, n)
    assert validated["reports"] == 0 and rerun["anything_new"] is False
    assert len(rerun["before"]["pull_runs"]) == 1
    assert rerun["after"]["pull_runs"] == rerun["before"]["pull_runs"]
    (reads_before, spreadsheets), (reads_after, spreadsheets_after) = (
        rerun["before"]["reads"],
        rerun["after"]["reads"],
    )
    assert (reads_after - reads_before, spreadsheets, spreadsheets_after) == (n, n, n)
    assert rerun["same"]
