"""A whole reporting cycle of a large province under a real Airflow scheduler, in parallel, with
one task killed: ``python -m bench.airflow_load [--units 3400] [--shard-size 200]
[--parallelism 4]`` (options: ``--help``).

What it does, on this checkout's PostgreSQL cluster (``tonghop db start``):

1. a synthetic province of ``--units`` units (:mod:`bench.province`, in a private copy of the
   project, as ``python -m bench`` makes it; the real seeds are never touched), served by the
   Sheets emulator in a process of its own (no latency by default, ``--latency``), its
   spreadsheets registered in a fresh warehouse database (``tonghop_airflow_load``);
2. Airflow's API server, scheduler (LocalExecutor, ``--parallelism`` tasks at once) and DAG
   processor on 127.0.0.1 with a fresh metadata database (``airflow_load``), the pool
   ``tonghop_sheets_api`` with ``--pool-slots`` slots (default: the parallelism); the three
   DAGs unpaused, the cycle triggered through the REST API (a full pull of the period), the
   build and the publication started by the scheduler on their Assets and waited for;
3. while the mapped ``pull_shard`` tasks read (``--shard-size`` spreadsheets each), one of them
   is killed with SIGKILL once about half of its spreadsheets have landed (its process found
   from the task instance's pid and its process title, ``airflow worker -- <ti id>``); the DAG's
   ``retries`` must finish it;
4. afterwards, what must hold (else the exit status is 1): every DAG run succeeded, only the
   killed task was retried, every registered spreadsheet has exactly one raw version, one
   finished pull in ``ops.pull_runs`` that read every spreadsheet, one submission row per
   expected unit in the marts with the status its report deserves, the reporting rate and the
   summary counting every unit, no mart repeating a key of its grain.

Measured from Airflow's own task-instance records (every try): each task's duration, how many
``pull_shard`` tasks ran at once, the wall time of each DAG run and of the whole cycle; and,
sampled every half second, the resident memory of Airflow's processes (the services, the
executor's workers and the task processes; PostgreSQL and the emulator not counted).
Writes ``bench/results/airflow_load.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import shutil
import statistics
import sys
import threading
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import psycopg2

from bench import province
from testing.airflow import (
    CYCLE_DAG,
    SHARD_TASK,
    TASK_TITLE,
    Api,
    ShardKiller,
    every_try,
    task_label,
    wait_for_asset_run,
    wait_for_dag,
    wait_for_run,
)
from testing.grains import mart_grains, repeated_grain_keys
from tonghop.settings import PROJECT_ROOT, state_dir

log = logging.getLogger("bench.airflow_load")

RESULTS = PROJECT_ROOT / "bench" / "results"
PERIOD = province.PERIOD
WAREHOUSE_DB = "tonghop_airflow_load"
METADATA_DB = "airflow_load"
BUILD_DAG = "tonghop_build_warehouse"
PUBLISH_DAG = "tonghop_publish"
DAGS = (CYCLE_DAG, BUILD_DAG, PUBLISH_DAG)
#: task states after which a task instance runs no more in this run
DONE_STATES = {"success", "failed", "skipped", "upstream_failed", "removed"}


# ----------------------------------------------------------------------------- pure helpers
def parse_time(text: str | None) -> dt.datetime | None:
    """An ISO time of Airflow's API (``Z`` or an offset) as an aware datetime."""
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None


def concurrency(intervals: list[tuple[dt.datetime, dt.datetime]]) -> dict[int, float]:
    """Seconds during which exactly k of the intervals were open, for each k > 0 that occurred.

    Intervals are half-open [start, end): one ending when another starts never counts as two
    at once."""
    events = sorted([(end, -1) for _, end in intervals] + [(start, 1) for start, _ in intervals])
    seconds: Counter = Counter()
    level, since = 0, None
    for when, change in events:  # at equal times, ends (-1) sort before starts
        if level and since is not None:
            seconds[level] += (when - since).total_seconds()
        level += change
        since = when
    return {k: round(v, 3) for k, v in sorted(seconds.items()) if v > 0}


def max_overlap(intervals: list[tuple[dt.datetime, dt.datetime]]) -> int:
    """How many of the intervals were open at once, at most ([start, end), as above)."""
    events = sorted([(end, -1) for _, end in intervals] + [(start, 1) for start, _ in intervals])
    level = peak = 0
    for _, change in events:
        level += change
        peak = max(peak, level)
    return peak


def duration_stats(seconds: list[float]) -> dict:
    """count, min, median, max and sum of some durations (seconds, rounded to 0.1)."""
    if not seconds:
        return {"count": 0}
    return {
        "count": len(seconds),
        "min": round(min(seconds), 1),
        "median": round(statistics.median(seconds), 1),
        "max": round(max(seconds), 1),
        "sum": round(sum(seconds), 1),
    }


def expected_statuses(scenarios: dict[str, str]) -> dict[str, str]:
    """unit → on_time / late / missing, as the warehouse must report each demo scenario (a
    report counts when "Đã nộp" is chosen and it has no error)."""
    from tooling.demo import COMPLETE_SCENARIOS

    return {
        unit: (("late" if s == "late" else "on_time") if s in COMPLETE_SCENARIOS else "missing")
        for unit, s in scenarios.items()
    }


# ----------------------------------------------------------------------------- memory
class MemorySampler(threading.Thread):
    """Every ``interval`` seconds, the memory of Airflow's process groups (services, executor
    workers, task processes and what they start): the peak of their summed proportional set
    size (PSS: a page shared by n processes counts 1/n in each, so the sum is the memory they
    really hold; their RSS summed counts shared pages again in every forked worker) and the
    peak RSS of each task process (found by the task instance id in its title); and the peak
    summed PSS of each group, by its leader's pid (``leaders`` may be replaced while it runs)."""

    def __init__(self, leaders: list[int], interval: float = 0.5):
        super().__init__(daemon=True, name="memory-sampler")
        self.leaders, self.interval = leaders, interval
        self.stop_event = threading.Event()
        self.peak_total = 0  # PSS, bytes
        self.peak_total_rss = 0
        self.peak_by_ti: dict[str, int] = {}
        self.peak_by_leader: dict[int, int] = {}
        self.samples = 0

    def run(self) -> None:
        import psutil

        while not self.stop_event.is_set():
            total = total_rss = 0
            for leader in list(self.leaders):
                try:
                    root = psutil.Process(leader)
                    processes = [root, *root.children(recursive=True)]
                except psutil.Error:
                    continue
                group = 0
                for proc in processes:
                    try:
                        memory = proc.memory_full_info()
                        title = " ".join(proc.cmdline())
                    except psutil.Error:
                        continue
                    rss = memory.rss
                    group += getattr(memory, "pss", rss)
                    total_rss += rss
                    found = TASK_TITLE.match(title)
                    if found:
                        ti_id = found.group(1)
                        self.peak_by_ti[ti_id] = max(self.peak_by_ti.get(ti_id, 0), rss)
                total += group
                self.peak_by_leader[leader] = max(self.peak_by_leader.get(leader, 0), group)
            self.peak_total = max(self.peak_total, total)
            self.peak_total_rss = max(self.peak_total_rss, total_rss)
            self.samples += 1
            self.stop_event.wait(self.interval)

    def stop(self) -> None:
        self.stop_event.set()
        self.join(timeout=10)


# ----------------------------------------------------------------------------- the run
def drop_database(name: str, pg_port: int) -> None:
    from psycopg2 import sql

    from tonghop.settings import ADMIN_ROLE, load_local_secrets

    conn = psycopg2.connect(
        host="127.0.0.1",
        port=pg_port,
        user=ADMIN_ROLE,
        password=load_local_secrets()["admin"],
        dbname="postgres",
    )
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(
                sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name))
            )
    finally:
        conn.close()


def airflow_environment(
    settings, pg_port: int, project: Path, folder: Path, shard_size: int
) -> dict[str, str]:
    from tooling import local_airflow

    env = local_airflow.airflow_env(settings, pg_port)
    env = local_airflow.with_metadata_database(env, METADATA_DB, pg_port)
    env.update(
        {
            "AIRFLOW_HOME": str(folder / "airflow"),
            # the tasks import the project copy, so they read the synthetic catalogue, and dbt
            # and Great Expectations run the copy's projects
            "PYTHONPATH": str(project),
            "TONGHOP_HOME": str(project),
            "TONGHOP_PG_DB": settings.warehouse_db,
            "TONGHOP_PULL_SHARD_SIZE": str(shard_size),
            "TONGHOP_SHEETS_QUOTA": "none",  # the emulator has no quota here
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            "DO_NOT_TRACK": "1",
        }
    )
    # tasks import their libraries from cached bytecode, as on any deployed worker
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


# ----------------------------------------------------------------------------- one cycle's run
#: fields of plan_pull's XCom that list every spreadsheet: their length is enough in a result
#: (thousands of ids would only bury the figures)
LISTS_COUNTED = ("targets", "sharing_checked")


def follow_cycle(api: Api, services, run_id: str, timeout: float, killer, sampler, seen) -> dict:
    """The cycle's run, then the build and the publication its Assets trigger, each waited for
    to its end (``killer`` watches the cycle; ``sampler`` is stopped at the end either way)."""
    try:
        runs = {
            CYCLE_DAG: wait_for_run(
                api, services, CYCLE_DAG, run_id, timeout, watch=killer, seen=seen
            )
        }
        if runs[CYCLE_DAG]["state"] == "success":
            for dag_id in (BUILD_DAG, PUBLISH_DAG):
                asset_run = wait_for_asset_run(api, services, dag_id)
                runs[dag_id] = wait_for_run(api, services, dag_id, asset_run, timeout, seen=seen)
                if runs[dag_id]["state"] != "success":
                    break
    finally:
        killer.close()
        sampler.stop()
    return runs


def run_outcome(api: Api, run_id: str, runs: dict, killer) -> tuple[list, dict, dict]:
    """Every try of the followed runs, every run of the DAGs, and the XComs that carry the
    stages' own figures (the pull's plan and summary, validation, the killed shard's, the
    build's, the publication's)."""
    tries = [t for dag_id, r in runs.items() for t in every_try(api, dag_id, r["dag_run_id"])]
    all_runs = {
        dag_id: [
            {k: r[k] for k in ("dag_run_id", "run_type", "state")}
            for r in api.call("GET", f"/dags/{dag_id}/dagRuns")["dag_runs"]
        ]
        for dag_id in DAGS
    }
    xcoms: dict = {}
    if runs[CYCLE_DAG]["state"] == "success":
        for task_id in ("plan_pull", "finish_pull", "validate"):
            xcoms[task_id] = api.xcom(CYCLE_DAG, run_id, task_id)
        for field in LISTS_COUNTED:
            if isinstance(xcoms["plan_pull"].get(field), list):
                xcoms["plan_pull"][field] = len(xcoms["plan_pull"][field])
        if killer.killed:
            xcoms["killed_shard"] = api.xcom(
                CYCLE_DAG, run_id, SHARD_TASK, killer.killed["map_index"]
            )
    if runs.get(BUILD_DAG, {}).get("state") == "success":
        xcoms["build_warehouse"] = api.xcom(
            BUILD_DAG, runs[BUILD_DAG]["dag_run_id"], "build_warehouse"
        )
    if runs.get(PUBLISH_DAG, {}).get("state") == "success":
        xcoms["publish"] = api.xcom(PUBLISH_DAG, runs[PUBLISH_DAG]["dag_run_id"], "publish", 0)
        xcoms["tell_units"] = api.xcom(
            PUBLISH_DAG, runs[PUBLISH_DAG]["dag_run_id"], "tell_units", 0
        )
    return tries, all_runs, xcoms


def attach_peaks(tries: list[dict], seen: dict, sampler) -> None:
    """Each try's peak memory, found by its task instance id (a try whose id the API did not
    give is matched to what the poll saw running: same DAG, task and try number)."""
    for attempt in tries:
        if attempt["id"] is None:
            attempt["id"] = next(
                (
                    i
                    for i, s in seen.items()
                    if s["dag_id"] == attempt["dag_id"]
                    and s["task"] == task_label(attempt)
                    and s["try_number"] == attempt["try_number"]
                ),
                None,
            )
        peak = sampler.peak_by_ti.get(attempt["id"] or "")
        attempt["peak_rss_mib"] = round(peak / 2**20, 1) if peak else None


def run_cycle(args, settings, cluster_port: int, project: Path, folder: Path, emulator) -> dict:
    """The services, the trigger, the fault, the waits; what Airflow recorded."""
    from tooling import local_airflow

    env = airflow_environment(settings, cluster_port, project, folder, args.shard_size)
    local_airflow.migrate(env, pool_slots=args.pool_slots)
    seen: dict[str, dict] = {}
    out: dict = {}
    with local_airflow.running_airflow(env, parallelism=args.parallelism) as services:
        sampler = MemorySampler([p.pid for p in services.processes.values()])
        sampler.start()
        api = Api(services.base_url, services.token())
        for dag_id in DAGS:
            wait_for_dag(api, services, dag_id)
            api.call("PATCH", f"/dags/{dag_id}", json={"is_paused": False})
        triggered_at = dt.datetime.now(dt.UTC)
        run = api.call(
            "POST",
            f"/dags/{CYCLE_DAG}/dagRuns",
            json={
                "logical_date": None,
                "conf": {"period_code": PERIOD, "full_pull": True},
                "note": "bench.airflow_load",
            },
        )
        run_id = run["dag_run_id"]
        killer = ShardKiller(
            api, run_id, settings.dsn("loader"), args.kill_after, enabled=not args.no_kill
        )
        runs = follow_cycle(api, services, run_id, args.timeout, killer, sampler, seen)
        finished_at = dt.datetime.now(dt.UTC)
        tries, all_runs, xcoms = run_outcome(api, run_id, runs, killer)
        failures = {}
        for dag_id, r in runs.items():
            if r["state"] != "success":
                failures[dag_id] = services.task_log_tails(dag_id, r["dag_run_id"], 20)
    attach_peaks(tries, seen, sampler)
    out.update(
        {
            "triggered_at": triggered_at.isoformat(timespec="seconds"),
            "finished_at": finished_at.isoformat(timespec="seconds"),
            "runs": runs,
            "all_runs": all_runs,
            "tries": tries,
            "xcoms": xcoms,
            "fault": killer.killed,
            "victim_states": killer.victim_states,
            "failed_task_logs": failures,
            "peak_pss_mib_airflow": round(sampler.peak_total / 2**20, 1),
            "peak_rss_sum_mib_airflow": round(sampler.peak_total_rss / 2**20, 1),
            "memory_samples": sampler.samples,
            "emulator_calls": emulator.stats(),
        }
    )
    return out


# ----------------------------------------------------------------------------- analysis
def analyse(recorded: dict) -> dict:
    """Wall times, durations by task and the concurrency of the pull's shards."""
    tries = recorded["tries"]
    runs = recorded["runs"]

    def span(rows) -> tuple[dt.datetime, dt.datetime]:
        return parse_time(rows["start_date"]), parse_time(rows["end_date"])

    dag_wall = {
        dag_id: round((parse_time(r["end_date"]) - parse_time(r["start_date"])).total_seconds(), 1)
        for dag_id, r in runs.items()
        if r.get("start_date") and r.get("end_date")
    }
    shard_spans = [
        span(t) for t in tries if t["task_id"] == SHARD_TASK and t["start_date"] and t["end_date"]
    ]
    all_spans = [span(t) for t in tries if t["start_date"] and t["end_date"]]
    by_task: dict[tuple[str, str], list[float]] = {}
    peak_by_task: dict[tuple[str, str], float] = {}
    latest = dt.datetime.max.replace(tzinfo=dt.UTC)
    for t in sorted(tries, key=lambda t: parse_time(t["start_date"]) or latest):
        key = (t["dag_id"], t["task_id"])
        if t["duration"] is not None:
            by_task.setdefault(key, []).append(float(t["duration"]))
        if t.get("peak_rss_mib"):
            peak_by_task[key] = max(peak_by_task.get(key, 0), t["peak_rss_mib"])
    cycle = [t for t in tries if t["dag_id"] == CYCLE_DAG]
    first = {t["task_id"]: t for t in cycle if t["try_number"] == 1}
    pull_wall = None
    if "plan_pull" in first and "finish_pull" in first and first["finish_pull"]["end_date"]:
        pull_wall = round(
            (
                parse_time(first["finish_pull"]["end_date"])
                - parse_time(first["plan_pull"]["start_date"])
            ).total_seconds(),
            1,
        )
    triggered = parse_time(recorded["triggered_at"])
    published = None
    if (runs.get(PUBLISH_DAG) or {}).get("end_date"):
        published = round(
            (parse_time(runs[PUBLISH_DAG]["end_date"]) - triggered).total_seconds(), 1
        )
    ends = [parse_time(r["end_date"]) for r in runs.values() if r.get("end_date")]
    done = round((max(ends) - triggered).total_seconds(), 1) if ends else None
    return {
        "dag_wall_seconds": dag_wall,
        "pull_wall_seconds": pull_wall,
        "trigger_to_published_seconds": published,
        "trigger_to_done_seconds": done,
        "pull_shard_tasks": len({t["map_index"] for t in tries if t["task_id"] == SHARD_TASK}),
        "pull_shard_tries": len(shard_spans),
        "max_concurrent_pull_shards": max_overlap(shard_spans),
        "pull_shard_concurrency_seconds": concurrency(shard_spans),
        "max_concurrent_tasks": max_overlap(all_spans),
        "tasks": [
            {
                "dag_id": d,
                "task_id": t,
                **duration_stats(v),
                "peak_rss_mib": peak_by_task.get((d, t)),
            }
            for (d, t), v in by_task.items()
        ],
    }


def verify(
    settings, ids: dict[str, str], scenarios: dict[str, str], recorded: dict, analysis: dict, args
) -> tuple[list[dict], dict]:
    """Every check of what must hold, and the counts it read."""
    checks: list[dict] = []

    def check(name: str, passed: bool, detail: str) -> None:
        checks.append({"check": name, "passed": bool(passed), "detail": detail})
        (log.info if passed else log.error)(
            "%s: %s — %s", "ok" if passed else "FAILED", name, detail
        )

    n = len(ids)
    runs, tries, fault = recorded["runs"], recorded["tries"], recorded["fault"]
    states = {dag_id: runs[dag_id]["state"] if dag_id in runs else "not run" for dag_id in DAGS}
    check(
        "every DAG run succeeded",
        set(states.values()) == {"success"},
        ", ".join(f"{d}: {s}" for d, s in states.items()),
    )
    counts = {d: Counter(r["run_type"] for r in rs) for d, rs in recorded["all_runs"].items()}
    check(
        "one run of each DAG: the cycle triggered, the build and publication by their Assets",
        counts
        == {
            CYCLE_DAG: {"manual": 1},
            BUILD_DAG: {"asset_triggered": 1},
            PUBLISH_DAG: {"asset_triggered": 1},
        },
        "; ".join(f"{d}: {dict(c)}" for d, c in counts.items()),
    )
    retried = sorted({task_label(t) for t in tries if t["try_number"] > 1})
    final = {
        (t["dag_id"], task_label(t)): t["state"]
        for t in sorted(tries, key=lambda t: t["try_number"])
    }  # each one's last try
    if not args.no_kill:
        victim = fault["task"] if fault else None
        victim_tries = sorted(
            (t["try_number"], t["state"])
            for t in tries
            if t["dag_id"] == CYCLE_DAG and victim and task_label(t) == victim
        )
        check(
            "one pull_shard task killed with SIGKILL mid-read",
            bool(fault) and 0 < fault["landed_seen_before_kill"] < fault["shard_spreadsheets"],
            f"{victim} after {fault['landed_seen_before_kill']} of "
            f"{fault['shard_spreadsheets']} spreadsheets landed"
            if fault
            else "no kill",
        )
        check(
            "Airflow's retry completed the killed task",
            bool(fault)
            and victim_tries[-1:] == [(2, "success")]
            and victim_tries[0][1] != "success",
            f"tries (number, state): {victim_tries}; states seen: "
            f"{' → '.join(recorded['victim_states'])}",
        )
        # a Celery worker killed takes every task it ran with it (bench/celery_load.py)
        killed_tasks = sorted(fault.get("tasks") or [victim]) if fault else []
        check(
            "only the killed task was retried"
            if len(killed_tasks) <= 1
            else "only the tasks the kill took were retried",
            retried == killed_tasks,
            f"retried: {retried}",
        )
    else:
        check("no task was retried", not retried, f"retried: {retried}")
    unfinished = {k: s for k, s in final.items() if s not in ("success", "skipped")}
    check(
        "every task ended in success (or its branch was skipped)",
        not unfinished
        and [k for k, s in final.items() if s == "skipped"] == [(CYCLE_DAG, "remind_unchanged")],
        f"not successful: {unfinished}",
    )
    figures: dict = {}
    conn = psycopg2.connect(settings.dsn("admin"))
    try:
        cur = conn.cursor()
        cur.execute(
            """
            select r.spreadsheet_id, count(v.sheet_version_id)
            from ops.sheet_registry r
            left join raw.sheet_versions v using (spreadsheet_id)
            where r.period_code = %s group by r.spreadsheet_id""",
            (PERIOD,),
        )
        per_sheet = dict(cur.fetchall())
        cur.execute("select count(*), count(distinct spreadsheet_id) from raw.sheet_versions")
        versions, sheets = cur.fetchone()
        figures.update(registered=len(per_sheet), raw_versions=versions)
        landed = Counter(per_sheet.values())
        check(
            "every registered spreadsheet landed exactly one raw version",
            len(per_sheet) == n and landed == {1: n} and versions == sheets == n,
            f"{n} registered; raw versions per spreadsheet: {dict(landed)}; "
            f"{versions} versions of {sheets} spreadsheets",
        )
        cur.execute("""select count(*), count(distinct sheet_version_id)
                       from parsed.report_headers""")
        headers, distinct_headers = cur.fetchone()
        figures["parsed_reports"] = headers
        check(
            "each version parsed once",
            headers == distinct_headers == versions,
            f"{headers} report headers of {distinct_headers} versions",
        )
        cur.execute(
            """select count(*), count(*) filter (where finished_at is not null),
                              min(fetched), min(new_versions), min(unchanged), max(failed)
                       from ops.pull_runs where period_code = %s""",
            (PERIOD,),
        )
        pulls, finished, fetched, new, unchanged, failed = cur.fetchone()
        figures["pull_run"] = {
            "runs": pulls,
            "fetched": fetched,
            "new_versions": new,
            "unchanged": unchanged,
            "failed": failed,
        }
        # versions the killed tries committed, which their retries find unchanged (with a
        # Celery worker, every pull_shard it ran: bench/celery_load.py)
        kept = (
            sum(
                (
                    fault.get("committed_by_shard") or {"": fault["landed_committed_after_kill"]}
                ).values()
            )
            if fault
            else 0
        )
        check(
            "one finished pull that read every spreadsheet once",
            pulls == finished == 1
            and fetched == n
            and failed == 0
            and new + unchanged == n
            and unchanged == kept,
            f"{pulls} pull run(s), {finished} finished: fetched {fetched}, new {new}, "
            f"unchanged {unchanged} (the killed try's {kept} landed versions, found again by "
            f"its retry), failed {failed}",
        )
        cur.execute("select outcome, count(*) from raw.sheet_fetches group by outcome")
        figures["sheet_fetches"] = dict(cur.fetchall())
        cur.execute(
            """select unit_code, reporting_status from marts.fct_submission
                       where period_code = %s""",
            (PERIOD,),
        )
        rows = cur.fetchall()
        statuses = dict(rows)
        expected = expected_statuses(scenarios)
        wrong = {u: (statuses.get(u), s) for u, s in expected.items() if statuses.get(u) != s}
        figures["submissions"] = dict(Counter(statuses.values()))
        check(
            "one submission per expected unit, with the status its report deserves",
            len(rows) == len(statuses) == n and set(statuses) == set(ids) and not wrong,
            f"{len(rows)} rows, {len(statuses)} units of {n}; statuses "
            f"{figures['submissions']}; differing from the generated reports: "
            f"{len(wrong)}{' e.g. ' + str(list(wrong.items())[:3]) if wrong else ''}",
        )
        status = Counter(expected.values())
        cur.execute(
            """select expected_reports, actual_reports, on_time_reports, late_reports,
                              missing_reports
                       from marts.agg_reporting_rate where period_code = %s and unit_type = 'tat_ca'
                    """,
            (PERIOD,),
        )
        rate = cur.fetchall()
        cur.execute(
            """select expected_reports, actual_reports, on_time_reports, late_reports,
                              missing_reports
                       from marts.agg_province_summary where period_code = %s""",
            (PERIOD,),
        )
        summary = cur.fetchall()
        want = (
            n,
            status["on_time"] + status["late"],
            status["on_time"],
            status["late"],
            status["missing"],
        )
        figures["reporting_rate"] = rate
        check(
            "the reporting rate and the province summary count every unit",
            rate == [want] and summary == [want],
            f"(expected, actual, on time, late, missing): agg_reporting_rate {rate}, "
            f"agg_province_summary {summary}, generated {list(want)}",
        )
        grains = mart_grains(PROJECT_ROOT / "dbt_project")
        duplicates = {
            f"{mart}({', '.join(key)})": extra
            for (mart, key), extra in repeated_grain_keys(cur, grains).items()
        }
        check(
            "no mart repeats a key of its grain",
            not duplicates,
            f"{len(grains)} marts checked against their unique tests; duplicates: "
            f"{duplicates or 'none'}",
        )
        cur.execute("select count(*) from ops.feedback_writes")
        figures["feedback_writes"] = cur.fetchone()[0]
    finally:
        conn.close()
    return checks, figures


# ----------------------------------------------------------------------------- report
def _s(value) -> str:
    return "-" if value is None else (f"{value:,}" if isinstance(value, int) else f"{value}")


def render(result: dict, compact: bool = False) -> str:
    """The results as Markdown: the run and the machine, the figures, the fault; then (not
    ``compact``, which docs/benchmarks.md quotes) every check and every task's durations."""
    m, o, a = result["machine"], result["options"], result["analysis"]
    fault, figures = result.get("fault"), result["figures"]
    wall = a["dag_wall_seconds"]
    lines = [
        f"Run {result['started_at']} — `{result['command']}`; machine: {m['cpus']} CPUs "
        f"({m['cpu_model']}), {m['ram_gib']} GiB RAM, Python {m['python']}, {m['postgresql']};"
        f" load average (1/5/15 min) {m['load_average_start']} at the start, "
        f"{m['load_average_end']} at the end (other work on the machine). Airflow "
        f"{result['airflow_version']}, LocalExecutor, emulator latency {o['latency']} s a call.",
        "",
        "| units | shards × spreadsheets | parallelism / pool slots | pull_shard at once (max) "
        "| pull s | cycle DAG s | build DAG s | publish DAG s | trigger → published s "
        "| trigger → all done s | peak memory, Airflow MiB |",
        "|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| {o['units']:,} | {a['pull_shard_tasks']} × {o['shard_size']} | "
        f"{o['parallelism']} / {o['pool_slots']} | **{a['max_concurrent_pull_shards']}** | "
        f"{_s(a['pull_wall_seconds'])} | {_s(wall.get(CYCLE_DAG))} | {_s(wall.get(BUILD_DAG))} "
        f"| {_s(wall.get(PUBLISH_DAG))} | **{_s(a['trigger_to_published_seconds'])}** | "
        f"{_s(a.get('trigger_to_done_seconds'))} | {_s(result['peak_pss_mib_airflow'])} |",
        "",
    ]
    if fault:
        shard = result["xcoms"].get("killed_shard") or {}
        reads = (result.get("emulator_calls") or {}).get("calls", {}).get("sheets.spreadsheets.get")
        lines += [
            "| fault | injected | recovery | survived | lost |",
            "|---|---|---|---|---|",
            f"| a mapped pull task killed | SIGKILL of `{fault['task']}` (pid {fault['pid']}, "
            f"try {fault['try_number']}) after {fault['landed_seen_before_kill']} of its "
            f"{fault['shard_spreadsheets']} spreadsheets landed | Airflow's retry (`retries=1`):"
            f" {' → '.join(result['victim_states'])}; the retry read its "
            f"{shard.get('fetched', '?')} spreadsheets again: {shard.get('unchanged', '?')} "
            f"unchanged, {shard.get('new_versions', '?')} new | every DAG run succeeded; "
            f"{_s(figures.get('raw_versions'))} raw versions for "
            f"{_s(figures.get('registered'))} registered spreadsheets (one each); one "
            f"finished pull; {_s(reads)} reads served for them; "
            f"{_s(sum(figures.get('submissions', {}).values()))} submission rows, "
            f"statuses as generated | "
            f"{'**nothing**' if result['passed'] else '**see the failed checks**'} |",
            "",
        ]
    if compact:
        passed = sum(c["passed"] for c in result["checks"])
        lines.append(
            f"Checks: {passed} of {len(result['checks'])} passed; each check, every "
            "task's durations and what the columns mean: "
            "`bench/results/airflow_load.md`."
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
    for t in result["analysis"]["tasks"]:
        lines.append(
            f"| {t['dag_id'].removeprefix('tonghop_')} | {t['task_id']} | "
            f"{t['count']} | {t.get('min')} | {t.get('median')} | {t.get('max')} | "
            f"{t.get('sum')} | {_s(t.get('peak_rss_mib'))} |"
        )
    profile = ", ".join(f"{k}: {v:.1f} s" for k, v in a["pull_shard_concurrency_seconds"].items())
    lines += [
        "",
        f"Seconds with k `pull_shard` tasks running at once (k: s): {profile or '-'};"
        f" at most {a['max_concurrent_tasks']} tasks of any kind at once. *pull s*: "
        "`plan_pull` start → `finish_pull` end (the killed shard's retry included); "
        "*DAG s*: each run's start → end; *trigger → published*: the REST call → the "
        "end of the publish run; *all done*: → the end of the last run (the publication's "
        "`tell_units`, one batchUpdate per unit, runs alongside its `publish`); *reads served*: the emulator's "
        "`spreadsheets.get` count (the pull's, the killed try's and the "
        "publication's); *peak memory*: the summed PSS of every "
        "Airflow process (API server, scheduler, DAG processor, executor workers, "
        "tasks), sampled every 0.5 s; PostgreSQL and the emulator not counted.",
    ]
    return "\n".join(lines) + "\n"


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
        prog="python -m bench.airflow_load", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--units", type=int, default=3400)
    parser.add_argument(
        "--shard-size",
        type=int,
        default=200,
        help="spreadsheets per pull_shard task (TONGHOP_PULL_SHARD_SIZE)",
    )
    parser.add_argument(
        "--parallelism",
        type=int,
        default=4,
        help="tasks the LocalExecutor runs at once ([core] parallelism)",
    )
    parser.add_argument(
        "--pool-slots",
        type=int,
        default=None,
        help="slots of the tonghop_sheets_api pool (default: --parallelism)",
    )
    parser.add_argument(
        "--latency", type=float, default=0.0, help="seconds the emulator takes per call (default 0)"
    )
    parser.add_argument(
        "--kill-after",
        type=int,
        default=None,
        help="kill a shard's task once this many of its spreadsheets landed "
        "(default: half the shard)",
    )
    parser.add_argument("--no-kill", action="store_true", help="inject no fault")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--timeout", type=float, default=3600, help="seconds each DAG run may take")
    parser.add_argument(
        "--workdir",
        type=Path,
        default=None,
        help="where the province and the run go (default $TONGHOP_STATE_DIR/"
        "bench, shared with python -m bench: the province is reused)",
    )
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--name", default="airflow_load")
    parser.add_argument(
        "--render",
        type=Path,
        default=None,
        metavar="JSON",
        help="only write the .md of an earlier run's .json again, next to it",
    )
    args = parser.parse_args(argv)
    if args.pool_slots is None:
        args.pool_slots = args.parallelism
    return args


def main(argv: list[str] | None = None) -> int:
    from importlib.metadata import version

    from bench.run import Emulator, machine, prepare_province, register, warm_up
    from tonghop.settings import load_settings
    from tooling import localdb

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    args = parse_args(argv)
    if args.render:
        result = json.loads(args.render.read_text(encoding="utf-8"))
        result["analysis"] = analyse(result)
        args.render.with_suffix(".md").write_text(render(result), encoding="utf-8")
        return 0
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    result: dict = {
        "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": " ".join(
            ["python -m bench.airflow_load", *(sys.argv[1:] if argv is None else argv)]
        ),
        "machine": machine(),
        "airflow_version": version("apache-airflow"),
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
    folder = workdir / f"u{args.units}" / "airflow"
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    settings = load_settings()
    localdb.recreate_warehouse(WAREHOUSE_DB)
    register(settings, WAREHOUSE_DB, ids)
    drop_database(METADATA_DB, cluster.port)
    emulator_root = folder / "emulator"
    shutil.copytree(pristine, emulator_root)
    config = {"latency": args.latency, "read_quota_per_user": None}
    with Emulator(emulator_root, config, folder / "emulator.log") as emulator:
        result["emulator_warm_up_seconds"] = round(emulator.warm_up(sorted(ids.values())), 1)
        settings = settings.for_database(WAREHOUSE_DB).with_overrides(
            emulator_url=emulator.url, sheets_backend="emulator", output_dir=folder / "output"
        )
        recorded = run_cycle(args, settings, cluster.port, project, folder, emulator)
    result.update(
        {
            k: recorded[k]
            for k in (
                "triggered_at",
                "finished_at",
                "runs",
                "fault",
                "victim_states",
                "xcoms",
                "emulator_calls",
                "peak_pss_mib_airflow",
                "peak_rss_sum_mib_airflow",
                "memory_samples",
                "failed_task_logs",
            )
        }
    )
    analysis = analyse(recorded)
    checks, figures = verify(settings, ids, scenarios, recorded, analysis, args)
    result["machine"]["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    result.update(
        {
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
