"""Airflow as the tests and the benchmarks drive it: its REST API (``/api/v2``) with a bearer
token, waiting for DAGs and runs, every try of a run's tasks, and the fault both inject (a
``pull_shard`` task killed with SIGKILL mid-read).

Shared by the tests that run Airflow as services (tests/test_season.py,
tests/test_review_season.py, tests/test_celery_topology.py) and the benchmarks
(``bench/airflow_load.py``, ``bench/celery_load.py``).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import signal
import time

import psycopg2
import requests

log = logging.getLogger("testing.airflow")

CYCLE_DAG = "tonghop_reporting_cycle"
SHARD_TASK = "pull_shard"
#: the process title Airflow's task runner gives the process running a task instance
TASK_TITLE = re.compile(r"^airflow worker -- ([0-9a-f]{8}-[0-9a-f-]{27})\b")


class ApiError(RuntimeError):
    """Airflow's API answered with an unexpected status; the message has its body."""


class Api:
    """Airflow's REST API (``/api/v2``) with a bearer token; errors carry the answer's body."""

    def __init__(self, base_url: str, token: str):
        self.base = f"{base_url}/api/v2"
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"

    def call(self, method: str, path: str, *, ok: tuple[int, ...] | None = None, **kwargs):
        """The answer's JSON; :class:`ApiError` with its body unless its status is one of
        ``ok`` (default: any 2xx)."""
        response = self.session.request(method, self.base + path, timeout=60, **kwargs)
        if not (response.status_code in ok if ok else response.ok):
            raise ApiError(f"{method} {path}: {response.status_code} {response.text[:2000]}")
        return response.json()

    def task_instances(self, dag_id: str, run_id: str) -> list[dict]:
        """Every task instance of a run (its latest try), page after page."""
        found: list[dict] = []
        while True:
            page = self.call(
                "GET",
                f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances",
                params={"limit": 100, "offset": len(found)},
            )
            found += page["task_instances"]
            if not page["task_instances"] or len(found) >= page["total_entries"]:
                return found

    def tries(self, dag_id: str, run_id: str, task_id: str, map_index: int) -> list[dict]:
        """Every try of one task instance (Airflow's task-instance history and the latest)."""
        return self.call(
            "GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/{map_index}/tries"
        )["task_instances"]

    def xcom(self, dag_id: str, run_id: str, task_id: str, map_index: int = -1):
        """What a task returned (its ``return_value`` XCom), deserialised."""
        body = self.call(
            "GET",
            f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/xcomEntries/return_value",
            params={"deserialize": "true", "map_index": map_index},
        )
        value = body["value"]
        return json.loads(value) if isinstance(value, str) else value


def task_label(ti: dict) -> str:
    """A task instance as the grid names it: task id, and [map index] when mapped."""
    return ti["task_id"] + ("" if ti["map_index"] < 0 else f"[{ti['map_index']}]")


def wait_for_dag(api: Api, services, dag_id: str, timeout: float = 300) -> dict:
    """The DAG as the API shows it, once the DAG processor has parsed and serialised it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        services.check_alive()
        response = api.session.get(f"{api.base}/dags/{dag_id}", timeout=30)
        if response.ok:
            return response.json()
        time.sleep(1)
    raise RuntimeError(
        f"{dag_id} not parsed within {timeout:.0f} s; import errors: "
        f"{api.call('GET', '/importErrors')}\n"
        f"{services.process_log_tail('dag-processor')}"
    )


def wait_for_run(
    api: Api,
    services,
    dag_id: str,
    run_id: str,
    timeout: float,
    watch=None,
    seen: dict | None = None,
) -> dict:
    """Poll a DAG run until it is finished (success or failed); ``watch(tis)`` is called on
    every poll (often while it is armed), ``seen`` collects every task instance id observed."""
    deadline = time.monotonic() + timeout
    while True:
        run = api.call("GET", f"/dags/{dag_id}/dagRuns/{run_id}")
        tis = api.task_instances(dag_id, run_id)
        for ti in tis:
            if seen is not None:
                seen[ti["id"]] = {
                    "dag_id": dag_id,
                    "task": task_label(ti),
                    "try_number": ti["try_number"],
                }
        if watch is not None:
            watch.poll(tis)
        if run["state"] in ("success", "failed"):
            return run
        if time.monotonic() > deadline:
            raise TimeoutError(
                f"{dag_id} run {run_id} not finished within {timeout:.0f} s: "
                f"{ {task_label(t): t['state'] for t in tis} }"
            )
        services.check_alive()
        time.sleep(0.3 if watch is not None and watch.armed else 2)


def wait_for_asset_run(api: Api, services, dag_id: str, timeout: float = 300) -> str:
    """The id of the run the scheduler made of a DAG because an Asset it waits on changed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = api.call("GET", f"/dags/{dag_id}/dagRuns")["dag_runs"]
        triggered = [r for r in runs if r["run_type"] == "asset_triggered"]
        if triggered:
            return triggered[0]["dag_run_id"]
        services.check_alive()
        time.sleep(2)
    raise RuntimeError(
        f"the scheduler made no asset-triggered run of {dag_id} within "
        f"{timeout:.0f} s\n{services.process_log_tail('scheduler', 3000)}"
    )


def every_try(api: Api, dag_id: str, run_id: str) -> list[dict]:
    """Every try of every task instance of a run, with what the analysis needs."""
    out = []
    for ti in api.task_instances(dag_id, run_id):
        tries = (
            [ti]
            if ti["try_number"] <= 1
            else api.tries(dag_id, run_id, ti["task_id"], ti["map_index"])
        )
        for attempt in tries:
            out.append(
                {
                    "dag_id": dag_id,
                    "task_id": attempt["task_id"],
                    "map_index": attempt["map_index"],
                    "try_number": attempt["try_number"],
                    "state": attempt["state"],
                    "start_date": attempt["start_date"],
                    "end_date": attempt["end_date"],
                    "duration": attempt["duration"],
                    "pool": attempt["pool"],
                    "hostname": attempt.get("hostname"),
                    "pid": attempt.get("pid"),
                    "id": attempt.get("id") if attempt is ti else None,
                }
            )
    return out


# ----------------------------------------------------------------- the fault
def kill_threshold(shard_targets: int, kill_after: int | None) -> int:
    """After how many landed spreadsheets a shard's task is killed: ``kill_after`` or half the
    shard, at least one and always fewer than the shard (so that the kill is mid-read)."""
    wanted = kill_after if kill_after is not None else shard_targets // 2
    return max(1, min(wanted, shard_targets - 1))


class ShardKiller:
    """Kills one running ``pull_shard`` task with SIGKILL in the middle of its reads: once at
    least :func:`kill_threshold` of its spreadsheets have landed in ``raw.sheet_versions`` and
    not all of them (the first shard to get there, or shard ``map_index``). :meth:`poll` is
    given the run's task instances as the API lists them, as often as possible while
    :attr:`armed`.

    ``kill_with(ti, tis)`` kills something else instead of the task's own process (the whole
    Celery worker running it, ``tests/test_celery_topology.py``): it gets the task instance and
    the run's task instances, kills, and returns what it did (``pid``, and ``tasks``: the task
    labels it killed, which may be retried), or None to try again at the next poll."""

    def __init__(
        self,
        api: Api,
        run_id: str,
        loader_dsn: str,
        kill_after: int | None,
        enabled: bool = True,
        map_index: int | None = None,
        kill_with=None,
    ):
        self.api, self.run_id, self.kill_after = api, run_id, kill_after
        self.enabled, self.map_index, self.kill_with = enabled, map_index, kill_with
        self.conn = psycopg2.connect(loader_dsn)
        self.conn.autocommit = True
        self.shards: list[list[str]] | None = None
        self.killed: dict | None = None
        self.victim_states: list[str] = []

    @property
    def armed(self) -> bool:
        return self.enabled and self.killed is None

    def landed(self, spreadsheet_ids: list[str]) -> int:
        with self.conn.cursor() as cur:
            cur.execute(
                "select count(*) from raw.sheet_versions where spreadsheet_id = any(%s)",
                (spreadsheet_ids,),
            )
            return cur.fetchone()[0]

    def poll(self, tis: list[dict]) -> None:
        if self.killed is not None:
            state = next(
                (
                    t["state"]
                    for t in tis
                    if t["task_id"] == SHARD_TASK and t["map_index"] == self.killed["map_index"]
                ),
                None,
            )
            if state and (not self.victim_states or self.victim_states[-1] != state):
                self.victim_states.append(state)
            return
        if not self.enabled:
            return
        if self.shards is None:
            if not any(t["task_id"] == "shards" and t["state"] == "success" for t in tis):
                return
            self.shards = [
                [sid for sid, _ in shard["targets"]]
                for shard in self.api.xcom(CYCLE_DAG, self.run_id, "shards")
            ]
        for ti in tis:
            if (
                ti["task_id"] != SHARD_TASK
                or ti["state"] != "running"
                or ti["try_number"] != 1
                or self.map_index not in (None, ti["map_index"])
            ):
                continue
            targets = self.shards[ti["map_index"]]
            threshold = kill_threshold(len(targets), self.kill_after)
            landed = self.landed(targets)
            if threshold <= landed < len(targets):
                self.kill(ti, targets, landed, tis)
                return

    def kill(self, ti: dict, targets: list[str], landed: int, tis: list[dict]) -> None:
        killed_at = dt.datetime.now(dt.UTC)
        done = (self.kill_with or kill_task_process)(ti, tis)
        if done is None:
            log.warning(
                "could not kill %s (pid %s); trying the next poll", task_label(ti), ti.get("pid")
            )
            return
        time.sleep(1)  # an open landing transaction is rolled back by now
        committed = self.landed(targets)
        self.killed = {
            "task": task_label(ti),
            "map_index": ti["map_index"],
            "ti_id": ti["id"],
            "try_number": ti["try_number"],
            "hostname": ti.get("hostname"),
            "tasks": [task_label(ti)],
            **done,
            "killed_at": killed_at.isoformat(timespec="milliseconds"),
            "shard_spreadsheets": len(targets),
            "landed_seen_before_kill": landed,
            "landed_committed_after_kill": committed,
        }
        self.victim_states.append("killed")
        log.info(
            "SIGKILL sent to %s (pid %d) after %d of its %d spreadsheets landed; %d committed",
            task_label(ti),
            done["pid"],
            landed,
            len(targets),
            committed,
        )

    def close(self) -> None:
        self.conn.close()


class KillsInTurn:
    """Several :class:`ShardKiller` in one run, each armed once the one before it has killed
    (the Celery test kills a whole worker, then a task's own process): polled as one by
    :func:`wait_until_done`, whose ``killed["tasks"]`` are every kill's."""

    def __init__(self, *killers: ShardKiller):
        self.killers = killers

    @property
    def armed(self) -> bool:
        return any(k.armed for k in self.killers)

    @property
    def killed(self) -> dict | None:
        done = [k.killed for k in self.killers if k.killed]
        return {"tasks": [t for d in done for t in d["tasks"]]} if done else None

    def poll(self, tis: list[dict]) -> None:
        for killer in self.killers:
            killer.poll(tis)
            if killer.killed is None:
                return

    def close(self) -> None:
        for killer in self.killers:
            killer.close()


def kill_task_process(ti: dict, tis: list[dict]) -> dict | None:
    """SIGKILL the process running task instance ``ti`` (found by its pid and title); what
    was killed, or None when no such process is found."""
    proc = find_task_process(ti["id"], ti.get("pid"))
    if proc is None:
        return None
    title = " ".join(proc_title(proc))
    os.kill(proc.pid, signal.SIGKILL)
    try:
        proc.wait(timeout=10)
    except Exception:
        pass
    return {"pid": proc.pid, "process_title": title}


def proc_title(proc) -> list[str]:
    try:
        return proc.cmdline()
    except Exception:
        return []


def find_task_process(ti_id: str, pid: int | None):
    """The process running task instance ``ti_id``: the pid Airflow recorded for it if that
    process's title names the task instance, else any process so titled."""
    import psutil

    def runs_it(proc) -> bool:
        found = TASK_TITLE.match(" ".join(proc_title(proc)))
        return bool(found) and found.group(1) == ti_id

    if pid:
        try:
            proc = psutil.Process(pid)
            if runs_it(proc):
                return proc
        except psutil.Error:
            pass
    for proc in psutil.process_iter():
        if runs_it(proc):
            return proc
    return None


# ----------------------------------------------------------------- in tests
RUN_TIMEOUT = 300  # seconds, each run
FAILED_STATES = {"failed", "upstream_failed", "up_for_retry", "removed"}


def task_instances(api: Api, dag_id: str, run_id: str) -> list[dict]:
    return api.call("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances")["task_instances"]


def states_of(tis: list[dict]) -> dict[str, str | None]:
    return {task_label(ti): ti["state"] for ti in tis}


def task_states(api: Api, dag_id: str, run_id: str) -> dict[str, str | None]:
    return states_of(task_instances(api, dag_id, run_id))


def why(services, dag_id: str, run_id: str, states: dict, run: dict) -> str:
    unfinished = {
        f"task_id={task.split('[')[0]}" for task, state in states.items() if state != "success"
    }
    logs = "\n".join(
        f"--- {name}\n{tail}"
        for name, tail in services.task_log_tails(dag_id, run_id).items()
        if name.split("/")[0] in unfinished
    )
    return (
        f"{dag_id} run {run_id}: {run.get('state')}; tasks: {states}\n{logs}\n"
        f"--- scheduler\n{services.process_log_tail('scheduler', 2000)}"
    )


def wait_until_done(api: Api, services, dag_id: str, run_id: str, killer=None) -> tuple[dict, dict]:
    """Poll a run until it succeeded (the test fails on a failed task or the timeout; only the
    tasks ``killer`` killed may wait for their retry)."""
    deadline = time.monotonic() + RUN_TIMEOUT
    while True:
        run = api.call("GET", f"/dags/{dag_id}/dagRuns/{run_id}")
        tis = task_instances(api, dag_id, run_id)
        states = states_of(tis)
        if killer is not None:
            killer.poll(tis)
        if run["state"] == "success":
            return run, states
        victims = set(killer.killed["tasks"]) if killer is not None and killer.killed else set()
        if run["state"] == "failed" or FAILED_STATES & {
            s for t, s in states.items() if t not in victims
        }:
            raise AssertionError(why(services, dag_id, run_id, states, run))
        if time.monotonic() > deadline:
            raise AssertionError(
                f"not finished within {RUN_TIMEOUT} s; "
                + why(services, dag_id, run_id, states, run)
            )
        services.check_alive()
        time.sleep(0.3 if killer is not None and killer.armed else 2)
