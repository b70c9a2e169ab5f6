"""A whole reporting cycle of a large province through the production topology — docker-compose.yml's
Airflow with the CeleryExecutor, Redis and two Celery workers — with one worker killed:
``python -m bench.celery_load [--units 3400] [--shard-size 200] [--pool-slots 4]`` (``--help``).

What it does, on this checkout's PostgreSQL cluster (``tonghop db start``):

1. the synthetic province of ``python -m bench`` (``--units`` units, :mod:`bench.province`, in a
   private copy of the project), served by the Sheets emulator in a process of its own (no
   latency, no quota), its spreadsheets registered in a fresh warehouse database;
2. the **reference**: the same reports pulled and validated cleanly, in this process, from a
   copy of the province in an emulator of its own and a warehouse database of its own (as the
   fault suite makes its reference), its fingerprint kept (``testing/fingerprint.py``);
3. the topology (``tooling/local_celery.py``): Redis, the API server, scheduler, DAG processor,
   triggerer and workers ``worker-1`` and ``worker-2``, each a process with compose's settings
   (``AIRFLOW__CELERY__WORKER_CONCURRENCY`` 4, compose's heartbeat and visibility timeouts),
   the pool ``tonghop_sheets_api`` with ``--pool-slots`` slots; the three DAGs unpaused, the
   cycle triggered through the REST API (a full pull), the build and the publication started
   by the scheduler on their Assets;
4. while the mapped ``pull_shard`` tasks read, the worker running one of them is killed with
   SIGKILL — the worker and every process under it, as when its container dies — once about
   half of that shard's spreadsheets have landed, and started again at once (compose's
   ``restart: unless-stopped``); every task it was running is retried once the scheduler finds
   it silent for ``task_instance_heartbeat_timeout``;
5. afterwards, what must hold (else the exit status is 1): every check of
   ``bench/airflow_load.py`` (every run succeeded, only the killed tasks were retried, one raw
   version per spreadsheet, one finished pull, one submission per unit with the status its
   report deserves, the reporting rate, no mart repeating a key of its grain); both workers
   ran tasks; the silent tries were failed after the heartbeat timeout; the fault suite's
   comparison with the reference (every spreadsheet served kept once and intact, the landed
   rows equal); and the dead worker's unacknowledged messages, handed back to the queue as
   Redis does after the visibility timeout, are refused by the execution API without running
   anything again.

Measured: each task's duration and worker (``task_instance.hostname`` in the metadata database,
every try), how many ``pull_shard`` tasks ran at once, the wall time of each DAG run and of the
cycle, the recovery time, the memory of the topology's processes (sampled every 0.5 s).
Writes ``bench/results/celery_load.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

from bench.airflow_load import (
    BUILD_DAG,
    DAGS,
    PERIOD,
    PUBLISH_DAG,
    MemorySampler,
    _s,
    analyse,
    attach_peaks,
    drop_database,
    follow_cycle,
    parse_time,
    run_outcome,
    verify,
)
from testing.airflow import (
    CYCLE_DAG,
    SHARD_TASK,
    Api,
    ShardKiller,
    every_try,
    task_label,
    wait_for_dag,
)
from testing.celery import kill_worker_running, redeliver, tries_by_worker
from tonghop.settings import PROJECT_ROOT, state_dir

log = logging.getLogger("bench.celery_load")

RESULTS = PROJECT_ROOT / "bench" / "results"
WAREHOUSE_DB = "tonghop_celery_load"
REFERENCE_DB = "tonghop_celery_load_ref"
METADATA_DB = "airflow_celery_load"
#: [scheduler] task_instance_heartbeat_timeout_detection_interval (Airflow's default)
DETECTION_INTERVAL = 10


# ----------------------------------------------------------------------------- the reference
def reference_run(settings, project: Path, pristine: Path, folder: Path, ids) -> dict:
    """Pull and validation of every report, cleanly, each in a process of its own with the
    project copy's synthetic catalogue (``python -m bench.stage``, the functions Airflow's tasks
    call), in a database and an emulator of their own: the fingerprint to compare with."""
    from bench.run import Emulator, register
    from testing.fingerprint import fingerprint
    from tooling import localdb

    root = folder / "emulator-reference"
    shutil.copytree(pristine, root)
    localdb.recreate_warehouse(REFERENCE_DB)
    register(settings, REFERENCE_DB, ids)
    started = time.perf_counter()
    config = {"latency": 0.0, "read_quota_per_user": None}
    with Emulator(root, config, folder / "emulator-reference.log") as emulator:
        env = {
            **os.environ,
            "PYTHONPATH": str(project),
            "TONGHOP_HOME": str(project),
            "TONGHOP_PG_DB": REFERENCE_DB,
            "TONGHOP_STATE_DIR": str(state_dir()),  # the cluster's secrets: this checkout's
            "TONGHOP_SHEETS_BACKEND": "emulator",
            "TONGHOP_EMULATOR_URL": emulator.url,
            "TONGHOP_SHEETS_QUOTA": "none",
            "TONGHOP_OUTPUT_DIR": str(folder / "output-reference"),
            "GX_ANALYTICS_ENABLED": "false",
        }
        pulled = _stage(project, folder, env, "pull", "--run-id", "reference", "--mode", "full")
        _stage(project, folder, env, "validate", "--pull-run-id", pulled["pull_run_id"])
    fp = fingerprint(settings.for_database(REFERENCE_DB).dsn("admin"), marts=False)
    shutil.rmtree(root, ignore_errors=True)
    return {"fingerprint": fp, "seconds": round(time.perf_counter() - started, 1)}


def _stage(project: Path, folder: Path, env: dict, name: str, *options: str) -> dict:
    out = folder / f"reference-{name}.json"
    with (folder / f"reference-{name}.log").open("w") as log_file:
        done = subprocess.run(
            [sys.executable, "-m", "bench.stage", name, "--out", str(out), *options],
            cwd=project,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    if done.returncode:
        raise RuntimeError(f"the reference's {name} failed: see {folder}/reference-{name}.log")
    return json.loads(out.read_text(encoding="utf-8"))["result"]


# ----------------------------------------------------------------------------- the run
def airflow_environment(settings, pg_port: int, project: Path, folder: Path, args) -> dict:
    from tooling import local_airflow

    env = local_airflow.airflow_env(settings, pg_port)
    env.update(
        {
            "AIRFLOW_HOME": str(folder / "airflow"),
            # the tasks import the project copy (the synthetic catalogue, its dbt and GE projects)
            "PYTHONPATH": str(project),
            "TONGHOP_HOME": str(project),
            "TONGHOP_PG_DB": settings.warehouse_db,
            "TONGHOP_PULL_SHARD_SIZE": str(args.shard_size),
            "TONGHOP_SHEETS_POOL_SLOTS": str(args.pool_slots),  # compose's airflow-init reads it
            "TONGHOP_SHEETS_QUOTA": "none",  # the emulator has no quota here
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            "DO_NOT_TRACK": "1",
        }
    )
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # cached bytecode, as on any deployed worker
    return env


def run_cycle(args, settings, pg_port: int, project: Path, folder: Path, emulator, ids) -> dict:
    """The topology, the trigger, the worker killed and restarted, the waits; what Airflow
    recorded; the fingerprint and what the emulator serves, before the topology stops."""
    from testing.fingerprint import fingerprint, served
    from tooling import local_celery

    env = airflow_environment(settings, pg_port, project, folder, args)
    seen: dict[str, dict] = {}
    started = time.monotonic()
    with local_celery.running_celery(env, METADATA_DB, pg_port) as topology:
        startup = round(time.monotonic() - started, 1)
        sampler = MemorySampler([p.pid for p in topology.processes.values()])
        leader_names = {p.pid: name for name, p in topology.processes.items()}
        sampler.start()
        api = Api(topology.base_url, topology.token())
        for dag_id in DAGS:
            wait_for_dag(api, topology, dag_id)
            api.call("PATCH", f"/dags/{dag_id}", json={"is_paused": False})
        triggered_at = dt.datetime.now(dt.UTC)
        run_id = api.call(
            "POST",
            f"/dags/{CYCLE_DAG}/dagRuns",
            json={
                "logical_date": None,
                "conf": {"period_code": PERIOD, "full_pull": True},
                "note": "bench.celery_load",
            },
        )["dag_run_id"]
        killer: ShardKiller | None = None

        def kill_worker(ti: dict, tis: list[dict]) -> dict:
            done = kill_worker_running(topology, api, CYCLE_DAG, run_id, ti)
            time.sleep(1)  # the killed sessions' open transactions are rolled back by now
            # what each killed shard had committed: its retry finds it unchanged
            committed = {
                f"{SHARD_TASK}[{i}]": killer.landed(killer.shards[i]) for i in done["shards"]
            }
            topology.restart_worker(done["worker"])  # compose's restart policy
            leader_names[topology.processes[done["worker"]].pid] = f"{done['worker']} (restarted)"
            sampler.leaders = [p.pid for p in topology.processes.values()]
            return {
                **done,
                "committed_by_shard": committed,
                "restarted_at": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"),
            }

        killer = ShardKiller(
            api,
            run_id,
            settings.dsn("loader"),
            args.kill_after,
            enabled=not args.no_kill,
            kill_with=kill_worker,
        )
        runs = follow_cycle(api, topology, run_id, args.timeout, killer, sampler, seen)
        finished_at = dt.datetime.now(dt.UTC)
        tries, all_runs, xcoms = run_outcome(api, run_id, runs, killer)
        failures = {
            dag_id: topology.task_log_tails(dag_id, r["dag_run_id"], 20)
            for dag_id, r in runs.items()
            if r["state"] != "success"
        }
        topology.wait_workers(topology.workers, 120)  # the restarted worker answers
        redelivered = (
            redeliver(topology, pg_port, METADATA_DB, killer.killed["ti_ids"])
            if killer.killed
            else {}
        )
        tries_after = every_try(api, CYCLE_DAG, run_id)
        per_worker = tries_by_worker(pg_port, METADATA_DB, [r["dag_run_id"] for r in runs.values()])
        redis_version = _redis_version()
        restarts = dict(topology.restarts)
    attach_peaks(tries, seen, sampler)
    fp = fingerprint(settings.dsn("admin"), marts=False)
    serving = served(settings, sorted(ids.values()))
    return {
        "startup_seconds": startup,
        "triggered_at": triggered_at.isoformat(timespec="seconds"),
        "finished_at": finished_at.isoformat(timespec="seconds"),
        "runs": runs,
        "all_runs": all_runs,
        "tries": tries,
        "tries_after_redelivery": len(tries_after),
        "xcoms": xcoms,
        "fault": killer.killed,
        "victim_states": killer.victim_states,
        "failed_task_logs": failures,
        "redelivery": redelivered,
        "per_worker": per_worker,
        "restarts": restarts,
        "redis_version": redis_version,
        "peak_pss_mib_airflow": round(sampler.peak_total / 2**20, 1),
        "peak_pss_mib_by_process": {
            leader_names.get(pid, str(pid)): round(peak / 2**20, 1)
            for pid, peak in sorted(sampler.peak_by_leader.items())
        },
        "peak_rss_sum_mib_airflow": round(sampler.peak_total_rss / 2**20, 1),
        "memory_samples": sampler.samples,
        "emulator_calls": emulator.stats(),
        "fingerprint": fp,
        "served": serving,
    }


def _redis_version() -> str:
    out = subprocess.run(["redis-server", "--version"], capture_output=True, text=True).stdout
    return next((w.split("=")[1] for w in out.split() if w.startswith("v=")), "?")


# ----------------------------------------------------------------------------- checks
def celery_checks(recorded: dict, reference_fp, args, compose_timeout: int) -> list[dict]:
    """What the Celery run adds to bench/airflow_load.py's checks."""
    from testing.fingerprint import differences

    checks: list[dict] = []

    def check(name: str, passed: bool, detail: str) -> None:
        checks.append({"check": name, "passed": bool(passed), "detail": detail})
        (log.info if passed else log.error)(
            "%s: %s — %s", "ok" if passed else "FAILED", name, detail
        )

    workers = Counter()
    for row in recorded["per_worker"]:
        workers[row["worker"]] += row["tries"]
    check(
        "every try ran on one of the two workers, and each ran some",
        set(workers) == {"worker-1", "worker-2"} and all(workers.values()),
        f"tries per worker (task_instance.hostname): {dict(workers)}",
    )
    fault = recorded["fault"]
    if not args.no_kill:
        recovery = recovery_seconds(recorded)
        check(
            "the killed worker's tries failed after the heartbeat timeout and were retried",
            recovery is not None
            and compose_timeout - 6 <= recovery <= compose_timeout + DETECTION_INTERVAL + 30,
            f"{recovery} s from the kill to the silent try's failure (timeout "
            f"{compose_timeout} s, checked every {DETECTION_INTERVAL} s)",
        )
        check(
            "the killed worker was started again and answered",
            fault is not None and recorded["restarts"].get(fault["worker"]) == 1,
            f"restarts: {recorded['restarts']}",
        )
        redelivered = recorded["redelivery"]
        results = Counter(redelivered.get("results", {}).values())
        stale = redelivered.get("stale", [])
        cycle_tries = len([t for t in recorded["tries"] if t["dag_id"] == CYCLE_DAG])
        check(
            "its messages, redelivered as after the visibility timeout, ran nothing again",
            fault is not None
            and redelivered.get("settled")
            and len(redelivered["killed"]) == len(fault["tasks"])
            and set(redelivered["killed"]) <= set(stale)
            and set(redelivered["try_states"]) == set(stale)
            and "running" not in redelivered["try_states"].values()
            and results == {"FAILURE": len(stale)}
            and recorded["tries_after_redelivery"] == cycle_tries,
            f"{len(stale)} message(s) the dead worker held unacknowledged "
            f"({len(redelivered.get('killed', []))} of the killed tries), their tries "
            f"{sorted(set(redelivered.get('try_states', {}).values()))}; handed back to the "
            f"queue: Celery's results {dict(results)} (the execution API refused each stale "
            f"try); tries of the cycle before and after: {cycle_tries}, "
            f"{recorded['tries_after_redelivery']}",
        )
    fp = recorded["fingerprint"]
    lost = differences(reference_fp, fp, marts=False)
    kept = {(s, sha) for s, sha, *_ in fp.raw}
    missing = recorded["served"] - kept
    if missing:  # as testing.fingerprint.lost_or_doubled, with what was served at the end
        lost.append(f"raw: {len(missing)} spreadsheet(s) served by the emulator not kept")
    check(
        "nothing lost or doubled: the fault suite's comparison with the clean reference",
        not lost and not fp.doubled and not fp.corrupt,
        f"raw and landed rows against the reference ({fp.summary()}): "
        f"{'; '.join(lost) if lost else 'equal'}",
    )
    return checks


def recovery_seconds(recorded: dict) -> float | None:
    """Seconds from the kill to the end (failed, to be retried) of the killed shard's try."""
    fault = recorded["fault"]
    if not fault:
        return None
    first = next(
        (
            t
            for t in recorded["tries"]
            if task_label(t) == fault["task"] and t["try_number"] == fault["try_number"]
        ),
        None,
    )
    if not first or not first["end_date"]:
        return None
    ended = parse_time(first["end_date"])
    return round((ended - dt.datetime.fromisoformat(fault["killed_at"])).total_seconds(), 1)


# ----------------------------------------------------------------------------- report
def render(result: dict, compact: bool = False) -> str:
    """The results as Markdown: the run, the figures, the workers, the fault; then (not
    ``compact``, which docs quote) every check and every task's durations."""
    m, o, a = result["machine"], result["options"], result["analysis"]
    fault, figures = result.get("fault"), result["figures"]
    wall = a["dag_wall_seconds"]
    lines = [
        f"Run {result['started_at']} — `{result['command']}`; machine: {m['cpus']} CPUs "
        f"({m['cpu_model']}), {m['ram_gib']} GiB RAM, Python {m['python']}, {m['postgresql']};"
        f" load average (1/5/15 min) {m['load_average_start']} at the start, "
        f"{m['load_average_end']} at the end (other work on the machine). Airflow "
        f"{result['airflow_version']}, CeleryExecutor (provider {result['celery_provider']}, "
        f"Celery {result['celery_version']}), Redis {result['redis_version']}; the topology "
        f"started in {_s(result['startup_seconds'])} s; emulator latency 0 s a call.",
        "",
        "| units | shards × spreadsheets | workers × concurrency / pool slots "
        "| pull_shard at once (max) | pull s | cycle DAG s | build DAG s | publish DAG s "
        "| trigger → published s | trigger → all done s | peak memory, Airflow MiB |",
        "|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| {o['units']:,} | {a['pull_shard_tasks']} × {o['shard_size']} | "
        f"{result['workers']} × {result['worker_concurrency']} / {o['pool_slots']} | "
        f"**{a['max_concurrent_pull_shards']}** | {_s(a['pull_wall_seconds'])} | "
        f"{_s(wall.get(CYCLE_DAG))} | {_s(wall.get(BUILD_DAG))} | {_s(wall.get(PUBLISH_DAG))} | "
        f"**{_s(a['trigger_to_published_seconds'])}** | "
        f"{_s(a.get('trigger_to_done_seconds'))} | {_s(result['peak_pss_mib_airflow'])} |",
        "",
        "| worker | tries | of which `pull_shard` | task seconds | restarted |",
        "|---|---:|---:|---:|---:|",
    ]
    for worker, row in sorted(result["workers_summary"].items()):
        lines.append(
            f"| {worker} | {row['tries']} | {row['pull_shard']} | {row['seconds']} | "
            f"{result['restarts'].get(worker, 0)} |"
        )
    by_process = result.get("peak_pss_mib_by_process") or {}
    if by_process:
        lines.append(
            "\nPeak memory of each service with what runs under it (PSS MiB, sampled every "
            "0.5 s; a worker's includes its pool and its tasks): "
            + ", ".join(f"{name} {mib:,.0f}" for name, mib in by_process.items())
            + "."
        )
    lines.append("")
    if fault:
        shard = result["xcoms"].get("killed_shard") or {}
        redelivered = result.get("redelivery") or {}
        lines += [
            "| fault | injected | recovery | survived | lost |",
            "|---|---|---|---|---|",
            f"| a Celery worker killed | SIGKILL of `{fault['worker']}` and its "
            f"{fault['processes']} processes while it ran {_tasks(fault['tasks'])}, after "
            f"{fault['landed_seen_before_kill']} of `{fault['task']}`'s "
            f"{fault['shard_spreadsheets']} spreadsheets landed | started again at once "
            f"(compose's `restart: unless-stopped`); the scheduler failed the silent "
            f"tr{'ies' if len(fault['tasks']) > 1 else 'y'} "
            f"{_s(result['recovery_seconds'])} s after the kill (`task_instance_heartbeat_timeout`"
            f" {result['heartbeat_timeout']} s) and retried "
            f"{'them' if len(fault['tasks']) > 1 else 'it'}: "
            f"{' → '.join(result['victim_states'])}; `{fault['task']}`'s retry read its "
            f"{shard.get('fetched', '?')} spreadsheets again: {shard.get('unchanged', '?')} "
            f"unchanged, {shard.get('new_versions', '?')} new; the "
            f"{len(redelivered.get('stale', []))} message(s) the dead worker held, handed back "
            f"as after the visibility timeout, refused by the execution API | every DAG run "
            f"succeeded; "
            f"{_s(figures.get('raw_versions'))} raw versions for "
            f"{_s(figures.get('registered'))} registered spreadsheets (one each); one finished "
            f"pull; {_s(sum(figures.get('submissions', {}).values()))} submission rows, "
            f"statuses as generated; raw and landed rows equal to the clean reference's | "
            f"{'**nothing**' if result['passed'] else '**see the failed checks**'} |",
            "",
        ]
    if compact:
        passed = sum(c["passed"] for c in result["checks"])
        lines.append(
            f"Checks: {passed} of {len(result['checks'])} passed; each check, every task's "
            "durations and worker: `bench/results/celery_load.md`."
        )
        return "\n".join(lines) + "\n"
    lines += ["| check | result | detail |", "|---|---|---|"]
    lines += [
        f"| {c['check']} | {'ok' if c['passed'] else '**FAILED**'} | {c['detail']} |"
        for c in result["checks"]
    ]
    lines += [
        "",
        "Task durations (s, every try; peak RSS of the task's process, sampled every 0.5 s):",
        "",
        "| DAG | task | tries | min | median | max | sum | peak RSS MiB |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for t in a["tasks"]:
        lines.append(
            f"| {t['dag_id'].removeprefix('tonghop_')} | {t['task_id']} | "
            f"{t['count']} | {t.get('min')} | {t.get('median')} | {t.get('max')} | "
            f"{t.get('sum')} | {_s(t.get('peak_rss_mib'))} |"
        )
    profile = ", ".join(f"{k}: {v:.1f} s" for k, v in a["pull_shard_concurrency_seconds"].items())
    lines += [
        "",
        f"Seconds with k `pull_shard` tasks running at once (k: s): {profile or '-'}; at most "
        f"{a['max_concurrent_tasks']} tasks of any kind at once. The reference (pull and "
        f"validation in one process, no Airflow) took {_s(result['reference_seconds'])} s. "
        "*pull s*: `plan_pull` start → `finish_pull` end (the killed tries' retries included, "
        "so the heartbeat timeout too); *DAG s*: each run's start → end; *trigger → "
        "published*: the REST call → the end of the publish run; *task seconds*: the sum of "
        "the durations of the tries a worker ran (`task_instance.hostname`); *peak memory*: "
        "the summed PSS of every process of the topology (Redis, API server, scheduler, DAG "
        "processor, triggerer, the workers, their pools and tasks), sampled every 0.5 s; "
        "PostgreSQL and the emulator not counted. A killed try's duration runs until the "
        "scheduler failed it.",
    ]
    return "\n".join(lines) + "\n"


def _tasks(labels: list[str]) -> str:
    return ", ".join(f"`{label}`" for label in labels)


def workers_summary(per_worker: list[dict]) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for row in per_worker:
        w = out.setdefault(row["worker"], {"tries": 0, "pull_shard": 0, "seconds": 0.0})
        w["tries"] += row["tries"]
        w["seconds"] = round(w["seconds"] + row["seconds"], 1)
        if row["task_id"] == SHARD_TASK:
            w["pull_shard"] += row["tries"]
    return out


def write_results(result: dict, out: Path, name: str) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    json_path, md_path = out / f"{name}.json", out / f"{name}.md"
    json_path.write_text(
        json.dumps(result, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8"
    )
    md_path.write_text(render(result), encoding="utf-8")
    return [json_path, md_path]


# ----------------------------------------------------------------------------- command
def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.celery_load", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--units", type=int, default=3400)
    parser.add_argument(
        "--shard-size", type=int, default=200, help="spreadsheets per pull_shard task"
    )
    parser.add_argument(
        "--pool-slots",
        type=int,
        default=4,
        help="slots of the tonghop_sheets_api pool (TONGHOP_SHEETS_POOL_SLOTS; default 4, as "
        "bench/airflow_load.py's run)",
    )
    parser.add_argument(
        "--kill-after",
        type=int,
        default=None,
        help="kill the worker once this many of the shard's spreadsheets landed (default: half)",
    )
    parser.add_argument("--no-kill", action="store_true", help="inject no fault")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--timeout", type=float, default=3600, help="seconds each DAG run may take")
    parser.add_argument(
        "--workdir",
        type=Path,
        default=None,
        help="where the province and the run go (default $TONGHOP_STATE_DIR/bench, shared with "
        "python -m bench: the province is reused)",
    )
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--name", default="celery_load")
    parser.add_argument(
        "--render",
        type=Path,
        default=None,
        metavar="JSON",
        help="only write the .md of an earlier run's .json again, next to it",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    from importlib.metadata import version

    from bench.run import Emulator, machine, prepare_province, register, warm_up
    from tonghop.settings import load_settings
    from tooling import local_celery, localdb

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    args = parse_args(argv)
    if args.render:
        result = json.loads(args.render.read_text(encoding="utf-8"))
        args.render.with_suffix(".md").write_text(render(result), encoding="utf-8")
        return 0
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    compose = local_celery.compose_airflow_settings(local_celery.compose_definition())
    result: dict = {
        "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": " ".join(
            ["python -m bench.celery_load", *(sys.argv[1:] if argv is None else argv)]
        ),
        "machine": machine(),
        "airflow_version": version("apache-airflow"),
        "celery_provider": version("apache-airflow-providers-celery"),
        "celery_version": version("celery"),
        "workers": len(local_celery.WORKERS),
        "worker_concurrency": int(compose["AIRFLOW__CELERY__WORKER_CONCURRENCY"]),
        "heartbeat_timeout": int(compose["AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT"]),
        "options": {
            k: (str(v) if isinstance(v, Path) else v)
            for k, v in vars(args).items()
            if k not in ("out", "name")
        },
    }
    workdir = (args.workdir or state_dir() / "bench").resolve()
    cluster = localdb.default_cluster()
    localdb.start(cluster)
    warm_up()
    project, pristine, made = prepare_province(SimpleNamespace(seed=args.seed), args.units, workdir)
    ids, scenarios = made["units"], made["scenarios"]
    folder = workdir / f"u{args.units}" / "celery"
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    settings = load_settings()
    reference = reference_run(settings, project, pristine, folder, ids)
    result["reference_seconds"] = reference["seconds"]
    localdb.recreate_warehouse(WAREHOUSE_DB)
    register(settings, WAREHOUSE_DB, ids)
    drop_database(METADATA_DB, cluster.port)
    emulator_root = folder / "emulator"
    shutil.copytree(pristine, emulator_root)
    config = {"latency": 0.0, "read_quota_per_user": None}
    with Emulator(emulator_root, config, folder / "emulator.log") as emulator:
        settings = settings.for_database(WAREHOUSE_DB).with_overrides(
            emulator_url=emulator.url, sheets_backend="emulator", output_dir=folder / "output"
        )
        recorded = run_cycle(args, settings, cluster.port, project, folder, emulator, ids)
    analysis = analyse(recorded)
    checks, figures = verify(settings, ids, scenarios, recorded, analysis, args)
    checks += celery_checks(recorded, reference["fingerprint"], args, result["heartbeat_timeout"])
    result["machine"]["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    result.update(
        {
            k: recorded[k]
            for k in (
                "startup_seconds",
                "triggered_at",
                "finished_at",
                "runs",
                "fault",
                "victim_states",
                "xcoms",
                "redelivery",
                "per_worker",
                "restarts",
                "redis_version",
                "emulator_calls",
                "peak_pss_mib_airflow",
                "peak_pss_mib_by_process",
                "peak_rss_sum_mib_airflow",
                "memory_samples",
                "failed_task_logs",
            )
        }
    )
    result.update(
        {
            "workers_summary": workers_summary(recorded["per_worker"]),
            "recovery_seconds": recovery_seconds(recorded),
            "fingerprint": recorded["fingerprint"].summary(),
            "analysis": analysis,
            "checks": checks,
            "figures": figures,
            "passed": all(c["passed"] for c in checks),
            "tries": recorded["tries"],
        }
    )
    paths = write_results(result, args.out, args.name)
    print(render(result))
    print("\n".join(str(p) for p in paths))
    if not result["passed"]:
        print(
            "FAILED: " + "; ".join(c["check"] for c in checks if not c["passed"]), file=sys.stderr
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
