"""Airflow's REST API as the tests drive it: a client, and waiting for DAGs and runs.

Shared by the tests that run Airflow as services (tests/test_airflow_scheduler.py,
tests/test_season.py): the API server, scheduler and DAG processor started by
:func:`tonghop.local_airflow.running_airflow`.
"""

from __future__ import annotations

import time

import pytest

from bench.airflow_load import Api as BenchApi
from bench.airflow_load import task_label
from bench.airflow_load import wait_for_asset_run as bench_wait_for_asset_run
from bench.airflow_load import wait_for_dag as bench_wait_for_dag

RUN_TIMEOUT = 300          # seconds, each run
FAILED_STATES = {"failed", "upstream_failed", "up_for_retry", "removed"}


class Api(BenchApi):
    """Airflow's REST API with a bearer token (bench.airflow_load's client), failing the test
    with the answer's body unless its status is one of ``ok``."""

    def call(self, method: str, path: str, *, ok: tuple[int, ...] = (200,), **kwargs):
        response = self.session.request(method, self.base + path, timeout=30, **kwargs)
        assert response.status_code in ok, \
            f"{method} {path}: {response.status_code} {response.text[:2000]}"
        return response.json()


def wait_for_dag(api: Api, services, dag_id: str, timeout: float = 120) -> dict:
    """The DAG as the API shows it, once the DAG processor has parsed and serialised it."""
    return bench_wait_for_dag(api, services, dag_id, timeout)


def task_instances(api: Api, dag_id: str, run_id: str) -> list[dict]:
    return api.call("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances")["task_instances"]


def states_of(tis: list[dict]) -> dict[str, str | None]:
    return {task_label(ti): ti["state"] for ti in tis}


def task_states(api: Api, dag_id: str, run_id: str) -> dict[str, str | None]:
    return states_of(task_instances(api, dag_id, run_id))


def why(services, dag_id: str, run_id: str, states: dict, run: dict) -> str:
    unfinished = {f"task_id={task.split('[')[0]}" for task, state in states.items()
                  if state != "success"}
    logs = "\n".join(f"--- {name}\n{tail}" for name, tail in
                     services.task_log_tails(dag_id, run_id).items()
                     if name.split("/")[0] in unfinished)
    return (f"{dag_id} run {run_id}: {run.get('state')}; tasks: {states}\n{logs}\n"
            f"--- scheduler\n{services.process_log_tail('scheduler', 2000)}")


def wait_until_done(api: Api, services, dag_id: str, run_id: str, killer=None
                    ) -> tuple[dict, dict]:
    """Poll a run until it succeeded (the test fails on a failed task or the timeout; only the
    task ``killer`` killed may wait for its retry)."""
    deadline = time.monotonic() + RUN_TIMEOUT
    while True:
        run = api.call("GET", f"/dags/{dag_id}/dagRuns/{run_id}")
        tis = task_instances(api, dag_id, run_id)
        states = states_of(tis)
        if killer is not None:
            killer.poll(tis)
        if run["state"] == "success":
            return run, states
        victim = killer.killed["task"] if killer is not None and killer.killed else None
        if run["state"] == "failed" or FAILED_STATES & {s for t, s in states.items()
                                                        if t != victim}:
            pytest.fail(why(services, dag_id, run_id, states, run))
        if time.monotonic() > deadline:
            pytest.fail(f"not finished within {RUN_TIMEOUT} s; "
                        + why(services, dag_id, run_id, states, run))
        services.check_alive()
        time.sleep(0.3 if killer is not None and killer.armed else 2)


def wait_for_asset_run(api: Api, services, dag_id: str, timeout: float = 120) -> str:
    """The id of the run the scheduler made of a DAG because an Asset it waits on changed."""
    return bench_wait_for_asset_run(api, services, dag_id, timeout)
