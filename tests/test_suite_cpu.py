"""bench/suite_cpu.py gives each process's CPU to the module it started in, on its worker."""

from __future__ import annotations

from bench.suite_cpu import attribute, markdown


def proc(pid, ppid, comm, cpu, start, elapsed=5.0):
    return {"pid": pid, "ppid": ppid, "comm": comm, "cpu": cpu, "start": start, "elapsed": elapsed}


WINDOWS = [
    # gw0: module a from 100 to 200, then b; gw1: module c; their postmasters 50 and 60
    {
        "worker": "gw0",
        "pid": 10,
        "module": "a",
        "start": 100,
        "end": 200,
        "own_cpu": 7.0,
        "postmasters": [50],
    },
    {
        "worker": "gw0",
        "pid": 10,
        "module": "b",
        "start": 200,
        "end": 300,
        "own_cpu": 1.0,
        "postmasters": [50],
    },
    {
        "worker": "gw1",
        "pid": 11,
        "module": "c",
        "start": 100,
        "end": 300,
        "own_cpu": 2.0,
        "postmasters": [60],
    },
]


def test_processes_go_to_the_module_and_worker_they_descend_from():
    records = [
        proc(10, 1, "[pytest-xdist]", 99.0, 90, 300),  # the workers: from their windows
        proc(11, 1, "[pytest-xdist]", 99.0, 90, 300),
        proc(20, 10, "airflow", 3.0, 110, 150),  # a service a's fixture started
        proc(21, 20, "airflow worker", 4.0, 150, 10),  # its task, though a ran on
        proc(22, 10, "dbt", 5.0, 250),  # b's
        proc(50, 1, "postgres", 0.5, 90, 300),  # gw0's postmaster: its backends by time
        proc(51, 50, "postgres", 2.0, 120),  # a's
        proc(52, 50, "postgres", 3.0, 220),  # b's
        proc(61, 60, "postgres", 6.0, 150),  # gw1's cluster: c's
        proc(70, 1, "chromium", 8.0, 150),  # nobody's
        proc(71, 999, "orphan", 1.0, 150),  # its parent never ended under accounting
    ]
    result = attribute(records, WINDOWS)
    cpu = {r["module"]: r["cpu_s"] for r in result["modules"]}
    assert cpu == {"a": 3 + 4 + 2 + 7, "b": 5 + 3 + 1, "c": 6 + 2, "(between modules)": 0.5}
    assert result["modules"][0]["module"] == "a"  # the dearest first
    a = next(r for r in result["modules"] if r["module"] == "a")
    assert a["by_command"] == {
        "(pytest worker)": 7,
        "airflow worker": 4,
        "airflow": 3,
        "postgres": 2,
    }
    assert result["unattributed"] == {"chromium": 8.0, "orphan": 1.0}
    assert result["total_cpu_s"] == sum(r["cpu"] for r in records)
    table = markdown(result)
    assert "| `a` | 16 |" in table and "chromium" not in table
