"""How fine should the mapped pull be? Measured under a real Airflow scheduler.

Runs the reporting cycle's pull on the demo province (71 units) through Airflow's API server,
scheduler and DAG processor (LocalExecutor, on 127.0.0.1), once per shard size — 1 (a task per
spreadsheet) and 200 (the default, one task here) — against the Sheets emulator with a
per-call latency, and reports from Airflow's own task-instance records:

- the pull's wall time (``plan_pull`` start → ``finish_pull`` end) and the sum of the
  ``pull_shard`` tasks' run times;
- the cost of one more task: (wall time at size 1 − wall time at the default) / (extra tasks).

    .venv/bin/python bench/granularity.py [--sizes 1,200] [--latency 0.15]

Writes ``bench/results/granularity.json`` and ``.md``. Uses the local cluster of ``tonghop db
start`` (databases ``tonghop_granularity`` and ``airflow_granularity`` of its own).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PERIOD = "CB-2026-6T"
WAREHOUSE_DB = "tonghop_granularity"
METADATA_DB = "airflow_granularity"
DAG_ID = "tonghop_reporting_cycle"


def _api(services):
    import requests

    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {services.token()}"
    base = f"{services.base_url}/api/v2"

    def call(method: str, path: str, **kwargs):
        response = session.request(method, base + path, timeout=30, **kwargs)
        response.raise_for_status()
        return response.json()

    return call


def _when(text: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None


def measure(shard_size: int, latency: float, workdir: Path) -> dict:
    from sheets_emulator import EmulatorServer
    from sheets_emulator.faults import EmulatorConfig
    from tonghop.settings import load_settings
    from tooling import local_airflow, localdb
    from tooling.demo_setup import generate_into_emulator

    cluster = localdb.default_cluster()
    localdb.start(cluster)
    localdb.ensure_warehouse(WAREHOUSE_DB)
    with EmulatorServer(workdir / f"emulator-{shard_size}", host="127.0.0.1", port=0) as emu:
        settings = (
            load_settings()
            .for_database(WAREHOUSE_DB)
            .with_overrides(
                emulator_url=emu.url,
                sheets_backend="emulator",
                output_dir=workdir / f"output-{shard_size}",
            )
        )
        _, entries = generate_into_emulator(PERIOD, seed=3, root=emu.store.root, settings=settings)
        emu.configure(EmulatorConfig(latency=latency))
        env = local_airflow.airflow_env(settings, cluster.port)
        env = local_airflow.with_metadata_database(env, METADATA_DB, cluster.port)
        env["AIRFLOW_HOME"] = str(workdir / f"airflow-{shard_size}")
        env["TONGHOP_PG_DB"] = WAREHOUSE_DB
        env["TONGHOP_PULL_SHARD_SIZE"] = str(shard_size)
        local_airflow.migrate(env)
        with local_airflow.running_airflow(env) as services:
            call = _api(services)
            deadline = time.monotonic() + 120
            while True:
                try:
                    call("GET", f"/dags/{DAG_ID}")
                    break
                except Exception:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(1)
            call("PATCH", f"/dags/{DAG_ID}", json={"is_paused": False})
            run = call(
                "POST",
                f"/dags/{DAG_ID}/dagRuns",
                json={"logical_date": None, "conf": {"period_code": PERIOD, "full_pull": True}},
            )
            run_id = run["dag_run_id"]
            while run["state"] not in ("success", "failed"):
                time.sleep(2)
                services.check_alive()
                run = call("GET", f"/dags/{DAG_ID}/dagRuns/{run_id}")
            tis = call(
                "GET", f"/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances", params={"limit": 1000}
            )["task_instances"]
    if run["state"] != "success":
        raise RuntimeError(
            f"run {run_id} {run['state']}: {[(t['task_id'], t['state']) for t in tis]}"
        )
    by_task: dict[str, list[dict]] = {}
    for ti in tis:
        by_task.setdefault(ti["task_id"], []).append(ti)
    start = _when(by_task["plan_pull"][0]["start_date"])
    end = _when(by_task["finish_pull"][0]["end_date"])
    shard_seconds = sum(t["duration"] or 0 for t in by_task["pull_shard"])
    return {
        "shard_size": shard_size,
        "spreadsheets": len(entries),
        "pull_shard_tasks": len(by_task["pull_shard"]),
        "pull_wall_seconds": round((end - start).total_seconds(), 1),
        "pull_shard_task_seconds": round(shard_seconds, 1),
        "run_wall_seconds": round(
            (_when(run["end_date"]) - _when(run["start_date"])).total_seconds(), 1
        ),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1,200")
    parser.add_argument("--latency", type=float, default=0.15)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args(argv)
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    sizes = [int(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory(prefix="tonghop-granularity-") as tmp:
        results = [measure(size, args.latency, Path(tmp)) for size in sizes]
    base = max(results, key=lambda r: r["shard_size"])
    for r in results:
        extra = r["pull_shard_tasks"] - base["pull_shard_tasks"]
        r["seconds_per_extra_task"] = (
            round((r["pull_wall_seconds"] - base["pull_wall_seconds"]) / extra, 2)
            if extra
            else None
        )
        r["wall_ratio_to_default"] = round(r["pull_wall_seconds"] / base["pull_wall_seconds"], 2)
    machine = {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "latency_seconds": args.latency,
        "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "granularity.json").write_text(
        json.dumps({"machine": machine, "results": results}, indent=2), encoding="utf-8"
    )
    lines = [
        "| spreadsheets per task | tasks | pull wall time (s) | ratio to default | "
        "task run time, summed (s) | s per extra task |",
        "| ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        lines.append(
            f"| {r['shard_size']} | {r['pull_shard_tasks']} | {r['pull_wall_seconds']} "
            f"| {r['wall_ratio_to_default']} | {r['pull_shard_task_seconds']} | "
            f"{r['seconds_per_extra_task'] if r['seconds_per_extra_task'] is not None else '-'} |"
        )
    lines.append("")
    lines.append(
        f"{machine['cpus']} CPUs, Python {machine['python']}, LocalExecutor, emulator "
        f"latency {args.latency} s per call, {results[0]['spreadsheets']} spreadsheets; "
        f"{machine['measured_at']}"
    )
    (args.out / "granularity.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
