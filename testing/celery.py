"""The production topology (``tooling/local_celery.py``) as the test and the benchmark drive it:
a Celery worker killed under a task, and the dead worker's messages handed back to the queue as
Redis does after the visibility timeout.

Shared by ``tests/test_celery_topology.py`` and ``bench/celery_load.py``.
"""

from __future__ import annotations

import json
import time

import psycopg2

from testing.airflow import SHARD_TASK, Api, task_label


def metadata_query(pg_port: int, dbname: str, query: str, params: tuple = ()) -> list[tuple]:
    """A query on Airflow's metadata database ``dbname`` of the local cluster, as its admin."""
    from tonghop.settings import ADMIN_ROLE, load_local_secrets

    conn = psycopg2.connect(
        host="127.0.0.1",
        port=pg_port,
        user=ADMIN_ROLE,
        password=load_local_secrets()["admin"],
        dbname=dbname,
    )
    try:
        with conn.cursor() as cur:
            cur.execute(query, params)
            return cur.fetchall()
    finally:
        conn.close()


def kill_worker_running(topology, api: Api, dag_id: str, run_id: str, ti: dict) -> dict:
    """SIGKILL the worker running task instance ``ti`` (named by its ``hostname``), with every
    process under it; what was killed: the worker, its processes, and the run's tasks it was
    running (``tasks``, ``ti_ids``; ``shards``: the map indexes of its ``pull_shard`` tasks),
    read from the API after the kill, when none can start there any more. The caller starts it
    again (compose's restart policy) when it has measured what it needs."""
    worker = ti["hostname"]
    done = topology.kill_worker(worker)
    running = [
        t
        for t in api.task_instances(dag_id, run_id)
        if t["state"] == "running" and t["hostname"] == worker
    ]
    return {
        **done,
        "tasks": sorted(task_label(t) for t in running),
        "ti_ids": [t["id"] for t in running],
        "shards": sorted(t["map_index"] for t in running if t["task_id"] == SHARD_TASK),
    }


def unacked_messages(topology) -> set[str]:
    """The Celery task ids of the messages Redis holds as delivered and not acknowledged."""
    import redis

    client = redis.Redis(
        host="127.0.0.1", port=topology.placement.redis_port, password=topology.redis_password
    )
    try:
        return {json.loads(payload)[0]["headers"]["id"] for payload in client.hvals("unacked")}
    finally:
        client.close()


def active_tasks(topology) -> dict[str, set[str]] | None:
    """The Celery task ids each live worker is running (``celery inspect active``), or None
    when not every worker answered."""
    from celery import Celery

    app = Celery(broker=topology.broker_url)
    try:
        replies = app.control.inspect(timeout=2.0).active() or {}
    finally:
        app.close()
    if len(replies) < len(topology.workers):
        return None
    return {node: {t["id"] for t in tasks} for node, tasks in replies.items()}


def redeliver(topology, pg_port: int, metadata_db: str, killed_ti_ids: list[str], timeout=120):
    """What Redis does with a dead worker's messages after the visibility timeout, now.

    Waits until no live worker runs anything and every message left unacknowledged is one whose
    Celery task never ended (Celery's state ``STARTED``: the dead worker's), then hands them
    back to the queue (kombu's own restore, with a timeout of 0) and waits for Celery's result
    of each. Returns ``killed`` (the messages of the tries the kill took: their Celery ids,
    ``task_instance_history.external_executor_id``), ``stale`` (every message the dead worker
    held: those, and any of a task whose try had ended but whose Celery task had not returned
    yet), the state of their tries in Airflow, and ``results`` (Celery's state of each after
    the redelivery)."""
    from kombu import Connection

    killed = {
        celery_id
        for (celery_id,) in metadata_query(
            pg_port,
            metadata_db,
            "select external_executor_id from task_instance_history "
            "where task_instance_id = any(%s::uuid[])",
            (killed_ti_ids,),
        )
    }

    def celery_states(ids: set[str]) -> dict[str, str]:
        return dict(
            metadata_query(
                pg_port,
                metadata_db,
                "select task_id, status from celery_taskmeta where task_id = any(%s)",
                (list(ids),),
            )
        )

    deadline = time.monotonic() + timeout
    while True:
        stale = unacked_messages(topology)
        active = active_tasks(topology)
        settled = (
            active is not None
            and not any(active.values())
            and set(celery_states(stale).values()) <= {"STARTED"}
            and killed <= stale
        )
        if settled or time.monotonic() > deadline:
            break
        time.sleep(1)
    tries = metadata_query(
        pg_port,
        metadata_db,
        "select external_executor_id, state from task_instance"
        " where external_executor_id = any(%s)"
        " union all select external_executor_id, state from task_instance_history"
        " where external_executor_id = any(%s)",
        (list(stale), list(stale)),
    )
    with Connection(topology.broker_url, transport_options={"visibility_timeout": 0}) as conn:
        conn.default_channel.qos.restore_visible(num=1000)
    results: dict[str, str] = {}
    deadline = time.monotonic() + timeout
    while len(results) < len(stale) and time.monotonic() < deadline:
        time.sleep(1)
        results = {k: v for k, v in celery_states(stale).items() if v != "STARTED"}
    return {
        "killed": sorted(killed),
        "stale": sorted(stale),
        "settled": settled,
        "try_states": dict(tries),
        "results": results,
    }


def tries_by_worker(pg_port: int, metadata_db: str, run_ids: list[str]) -> list[dict]:
    """Every try of the runs ``run_ids`` that ran (skipped ones left out), counted per worker
    (``task_instance.hostname``, the history's too) and task: tries and their seconds."""
    rows = metadata_query(
        pg_port,
        metadata_db,
        "select hostname, task_id, count(*), coalesce(sum(duration), 0) from ("
        " select hostname, task_id, state, duration, run_id from task_instance"
        " union all select hostname, task_id, state, duration, run_id from task_instance_history"
        ") t where state <> 'skipped' and run_id = any(%s) group by hostname, task_id order by 1, 2",
        (run_ids,),
    )
    return [
        {"worker": w, "task_id": t, "tries": n, "seconds": round(float(s), 1)}
        for w, t, n, s in rows
    ]
