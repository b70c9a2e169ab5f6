"""The pure parts of ``bench/airflow_load.py`` (the 3,400-unit cycle under a real scheduler):
how concurrency is read from task-instance records, when a shard's task is killed, what the
marts must say of each generated report, and the report it writes. The run itself takes
minutes at 3,400 units and is not part of the suite; its results are in
``bench/results/airflow_load.{json,md}``."""

from __future__ import annotations

import datetime as dt

from bench.airflow_load import (
    BUILD_DAG,
    CYCLE_DAG,
    PUBLISH_DAG,
    SHARD_TASK,
    analyse,
    concurrency,
    duration_stats,
    expected_statuses,
    max_overlap,
    render,
)
from testing.airflow import kill_threshold

T0 = dt.datetime(2026, 11, 23, 8, 0, tzinfo=dt.UTC)


def at(seconds: float) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


def test_overlap_counts_intervals_open_at_the_same_moment():
    assert max_overlap([]) == 0
    assert max_overlap([(at(0), at(10))]) == 1
    # 4 slots: four shards at once, the fifth starts when the first ends
    shards = [(at(0), at(10)), (at(1), at(12)), (at(2), at(11)), (at(3), at(9)), (at(9), at(20))]
    assert max_overlap(shards) == 4
    assert concurrency(shards) == {1: 9.0, 2: 2.0, 3: 2.0, 4: 7.0}


def test_an_interval_ending_when_another_starts_is_not_two_at_once():
    one_after_another = [(at(0), at(5)), (at(5), at(10)), (at(10), at(15))]
    assert max_overlap(one_after_another) == 1
    assert concurrency(one_after_another) == {1: 15.0}
    assert max_overlap(list(reversed(one_after_another))) == 1


def test_durations_summarised():
    assert duration_stats([]) == {"count": 0}
    assert duration_stats([3.0, 1.0, 2.04, 10.0]) == {
        "count": 4,
        "min": 1.0,
        "median": 2.5,
        "max": 10.0,
        "sum": 16.0,
    }


def test_a_shard_is_killed_in_the_middle_of_its_reads():
    assert kill_threshold(200, None) == 100
    assert kill_threshold(200, 50) == 50
    assert kill_threshold(200, 500) == 199  # never after its last read
    assert kill_threshold(1, None) == 1 and kill_threshold(3, 0) == 1


def test_the_status_each_generated_report_deserves():
    scenarios = {
        "A": "on_time",
        "B": "late",
        "C": "draft",
        "D": "untouched",
        "E": "errors",
        "F": "wrong_unit",
    }
    assert expected_statuses(scenarios) == {
        "A": "on_time",
        "B": "late",
        "C": "missing",
        "D": "missing",
        "E": "missing",
        "F": "missing",
    }


def _try(dag_id, task_id, start, end, *, map_index=-1, try_number=1, state="success", rss=None):
    return {
        "dag_id": dag_id,
        "task_id": task_id,
        "map_index": map_index,
        "try_number": try_number,
        "state": state,
        "start_date": at(start).isoformat(),
        "end_date": at(end).isoformat(),
        "duration": float(end - start),
        "peak_rss_mib": rss,
    }


def recorded_run() -> dict:
    tries = [
        _try(CYCLE_DAG, "plan_pull", 1, 3),
        _try(CYCLE_DAG, "shards", 3, 4),
        _try(CYCLE_DAG, SHARD_TASK, 5, 15, map_index=0, rss=180.0),
        _try(CYCLE_DAG, SHARD_TASK, 5, 9, map_index=1, state="failed"),
        _try(CYCLE_DAG, SHARD_TASK, 6, 16, map_index=2, rss=190.5),
        _try(CYCLE_DAG, SHARD_TASK, 39, 50, map_index=1, try_number=2),
        _try(CYCLE_DAG, "finish_pull", 51, 52),
        _try(CYCLE_DAG, "validate", 52, 60),
        _try(BUILD_DAG, "build_warehouse", 65, 100),
        _try(PUBLISH_DAG, "publish", 102, 110, map_index=0),
    ]
    runs = {
        dag: {
            "dag_run_id": f"{dag}-1",
            "state": "success",
            "start_date": at(a).isoformat(),
            "end_date": at(b).isoformat(),
        }
        for dag, a, b in ((CYCLE_DAG, 0, 61), (BUILD_DAG, 64, 101), (PUBLISH_DAG, 101, 111))
    }
    return {"tries": tries, "runs": runs, "triggered_at": at(-1).isoformat()}


def test_the_analysis_reads_every_try():
    analysis = analyse(recorded_run())
    assert analysis["dag_wall_seconds"] == {CYCLE_DAG: 61.0, BUILD_DAG: 37.0, PUBLISH_DAG: 10.0}
    assert analysis["pull_wall_seconds"] == 51.0
    assert analysis["trigger_to_published_seconds"] == 112.0
    assert (analysis["pull_shard_tasks"], analysis["pull_shard_tries"]) == (3, 4)
    assert analysis["max_concurrent_pull_shards"] == 3
    shard = next(t for t in analysis["tasks"] if t["task_id"] == SHARD_TASK)
    assert (shard["count"], shard["sum"], shard["peak_rss_mib"]) == (4, 35.0, 190.5)
    assert [t["task_id"] for t in analysis["tasks"]][:3] == ["plan_pull", "shards", SHARD_TASK]


def test_the_report_shows_the_figures_the_fault_and_every_check():
    recorded = recorded_run()
    result = {
        "started_at": T0.isoformat(),
        "command": "python -m bench.airflow_load",
        "machine": {
            "cpus": 2,
            "cpu_model": "AMD EPYC",
            "ram_gib": 23.5,
            "python": "3.11.7",
            "postgresql": "postgres 15",
            "load_average_start": [1.0, 1.0, 1.0],
            "load_average_end": [2.0, 2.0, 2.0],
        },
        "airflow_version": "3.3.2",
        "options": {
            "units": 3400,
            "shard_size": 200,
            "parallelism": 4,
            "pool_slots": 4,
            "latency": 0.0,
        },
        "analysis": analyse(recorded),
        "peak_pss_mib_airflow": 1500.0,
        "fault": {
            "task": "pull_shard[1]",
            "pid": 4242,
            "try_number": 1,
            "landed_seen_before_kill": 100,
            "shard_spreadsheets": 200,
        },
        "victim_states": ["killed", "up_for_retry", "running", "success"],
        "xcoms": {"killed_shard": {"fetched": 200, "unchanged": 100, "new_versions": 100}},
        "figures": {
            "raw_versions": 3400,
            "registered": 3400,
            "submissions": {"on_time": 1800, "late": 600, "missing": 1000},
        },
        "checks": [
            {"check": "every DAG run succeeded", "passed": True, "detail": "all"},
            {
                "check": "no mart repeats a key of its grain",
                "passed": False,
                "detail": "fct_submission: 1",
            },
        ],
        "passed": False,
    }
    text = render(result)
    assert "| 3,400 | 3 × 200 | 4 / 4 | **3** |" in text
    assert "SIGKILL of `pull_shard[1]`" in text and "killed → up_for_retry → running" in text
    assert "| no mart repeats a key of its grain | **FAILED** |" in text
    assert "**see the failed checks**" in text and "**nothing**" not in text
    result["passed"] = True
    assert "**nothing**" in render(result)
    short = render(result, compact=True)  # what docs/benchmarks.md quotes
    assert "| 3,400 | 3 × 200 |" in short and "SIGKILL of `pull_shard[1]`" in short
    assert "Checks: 1 of 2 passed" in short and "| check |" not in short
