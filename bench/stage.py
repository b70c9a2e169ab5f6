"""One measured stage, in a process of its own: ``python -m bench.stage STAGE [options]``.

Run by the bench with the working directory and ``PYTHONPATH`` of the project copy (so the
synthetic catalogue is the one read) and the environment of the bench's warehouse database and
emulator. Writes one JSON object into ``--out``:

- ``seconds``: wall time of the stage's work, measured in this process around the stage function
  (interpreter start-up and imports are left out: they do not grow with units);
- ``max_rss_kib``: the process's peak resident memory since it started (``VmHWM``):
  the interpreter, the imported libraries and everything the stage held at its peak — the
  honest number for "how big a worker does this need"; PostgreSQL's own memory is not in it;
- ``land_seconds`` (pull only): the part of the pull spent in ``ingest.land.land_version`` (the
  pull lands each spreadsheet as it reads it, in the same process, so pull and land share one
  peak memory figure);
- ``result``: what the stage function returned (the DAG's XCom).
"""

from __future__ import annotations

import argparse
import json
import logging
import resource
import sys
import time
from pathlib import Path


def own_peak_kib() -> int:
    """This process's peak resident memory since it started (``VmHWM``): ``ru_maxrss`` would
    also count the parent's memory at the fork (Linux keeps the larger of the memory before
    and after exec), here the bench runner's, which grows with the province it generated."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # not Linux


def _timed_land(counter: dict):
    import ingest.pull

    original = ingest.pull.land_version

    def land_version(*args, **kwargs):
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            counter["seconds"] += time.perf_counter() - started
            counter["calls"] += 1

    ingest.pull.land_version = land_version


def _capture_dbt_build(extra: dict) -> dict:
    """Where `dbt build`'s time goes: its elapsed time and, per kind of node (seed, model,
    test, snapshot), the sum of the nodes' execution times (dbt runs several at once, so the
    sums can exceed the elapsed time), read from dbt's run_results.json right after it."""
    import pipeline.dbt

    original = pipeline.dbt._run_dbt_locked  # what build_warehouse runs each command with
    captured: dict = {}

    def run_dbt(settings, args, *more, **options):  # as _run_dbt_locked (its as_of_date, …)
        outcome = original(settings, args, *more, **options)
        if args[:1] == ["build"]:
            path = pipeline.dbt.target_dir(settings) / "run_results.json"
            results = json.loads(path.read_text(encoding="utf-8"))
            by_kind: dict[str, float] = {}
            for node in results["results"]:
                kind = node["unique_id"].split(".", 1)[0]
                by_kind[kind] = by_kind.get(kind, 0.0) + float(node["execution_time"])
            captured.update({"elapsed_seconds": results["elapsed_time"], "node_seconds": by_kind})
        return outcome

    pipeline.dbt._run_dbt_locked = run_dbt
    return captured


def _plan_pull(settings, run_id: str, mode: str) -> dict:
    from bench.province import PERIOD
    from pipeline import cycle

    return cycle.stage_plan_pull(settings, PERIOD, run_id, mode=mode)


def _plan_feedback(settings) -> list:
    from bench.province import PERIOD
    from pipeline import cycle

    return cycle.stage_plan_feedback(settings, PERIOD)


def _pull_shard(settings, pull_run_id: str, targets: list) -> dict:
    from pipeline import cycle

    return cycle.stage_pull_shard(settings, pull_run_id, targets)


def _finish_pull(settings, plan: dict, results: list) -> dict:
    from pipeline import cycle

    return cycle.stage_finish_pull(settings, plan, results)


def _feedback_shard(settings, period_code: str, spreadsheet_ids: list) -> dict:
    from pipeline import cycle

    return cycle.stage_feedback_shard(settings, period_code, spreadsheet_ids)


#: the DAGs' mapped path, one task each (bench/quota.py runs the shards side by side)
SHARDED = {
    "plan_pull": _plan_pull,
    "pull_shard": _pull_shard,
    "finish_pull": _finish_pull,
    "plan_feedback": _plan_feedback,
    "feedback_shard": _feedback_shard,
}


def run(stage: str, args: argparse.Namespace) -> dict:
    from bench.province import PERIOD
    from pipeline import cycle
    from tonghop.settings import load_settings

    settings = load_settings()
    extra: dict = {}
    if stage == "pull":
        land = {"seconds": 0.0, "calls": 0}
        _timed_land(land)
        started = time.perf_counter()
        result = cycle.stage_pull(settings, PERIOD, args.run_id, mode=args.mode)
        extra = {"land_seconds": land["seconds"], "land_calls": land["calls"]}
    elif stage == "validate":
        started = time.perf_counter()
        result = cycle.stage_validate(settings, PERIOD, args.pull_run_id)
    elif stage == "build":
        dbt_build = _capture_dbt_build(extra)
        started = time.perf_counter()
        result = cycle.stage_build(settings)
        extra["dbt_build"] = dbt_build
    elif stage == "publish":
        started = time.perf_counter()
        result = cycle.stage_publish(settings, PERIOD, args.run_id)
    elif stage in SHARDED:
        # the stages of the DAGs' mapped path (bench/quota.py), keyword arguments from a file
        kwargs = json.loads(Path(args.kwargs).read_text(encoding="utf-8")) if args.kwargs else {}
        started = time.perf_counter()
        result = SHARDED[stage](settings, **kwargs)
    elif stage == "baseline":
        from bench.baseline import run_script

        started = time.perf_counter()
        result = run_script(settings, schema=args.schema)
    else:
        raise SystemExit(f"unknown stage {stage!r}")
    seconds = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "stage": stage,
        "seconds": seconds,
        **extra,
        "max_rss_kib": own_peak_kib(),
        # CPU time of this process (imports included), which other work on the machine
        # does not inflate as it does wall time
        "cpu_seconds": usage.ru_utime + usage.ru_stime,
        "result": result,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.stage")
    parser.add_argument(
        "stage", choices=["pull", "validate", "build", "publish", "baseline", *SHARDED]
    )
    parser.add_argument("--kwargs", help="a JSON file of the stage's keyword arguments")
    parser.add_argument("--run-id")
    parser.add_argument("--pull-run-id")
    parser.add_argument("--mode", default="auto")
    parser.add_argument("--schema", default="baseline_script")
    parser.add_argument("--out", required=True, help="file to write the JSON outcome into")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING,
        stream=sys.stderr,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
    )
    outcome = run(args.stage, args)
    with open(args.out, "w", encoding="utf-8") as fh:
        json.dump(outcome, fh, ensure_ascii=False, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main())
