"""What each test module costs in CPU seconds, everything it starts included.

The suite is CPU-bound on CI's two cores: its wall time is about its CPU seconds over two, so
the CPU seconds say where the time goes, whatever the machine's load. Each module starts
processes (Airflow's services and task processes, dbt, LibreOffice, PostgreSQL backends…) that
a profiler of the pytest process never sees, so this uses the kernel's process accounting
(BSD ``acct``: every process that ends writes its CPU time, command, pid and parent pid) and
gives each process to the module whose window it started in, on the pytest-xdist worker it
descends from (its parent chain, or PostgreSQL's postmaster of that worker).

``python -m bench.suite_cpu run [pytest args]`` — as root, with Debian's ``acct`` installed
(``apt-get install -y acct``; not in bootstrap: only this bench needs it): runs
``scripts/test.sh`` with process accounting on and this module as a pytest plugin (which
records each module's window, the worker's own CPU and the workers' postmasters), then writes
``bench/results/suite_cpu.{json,md}`` (``--out`` elsewhere). ``python -m bench.suite_cpu report
ACCT WINDOWS`` redoes the table from kept files.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: where the plugin appends one JSON line per module window (set by ``run``)
WINDOWS_ENV = "TONGHOP_SUITE_CPU_WINDOWS"
_current: dict = {"module": None, "start": 0.0, "cpu": 0.0}


# ------------------------------------------------------------------ the pytest plugin
def _own_cpu() -> float:
    t = os.times()
    return t.user + t.system


def _postmasters() -> list[int]:
    """PostgreSQL postmasters running now: postgres processes whose parent is not one."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if (proc / "comm").read_text().strip() != "postgres":
                continue
            ppid = (proc / "stat").read_text().rsplit(")", 1)[1].split()[1]
            if Path(f"/proc/{ppid}/comm").read_text().strip() != "postgres":
                found.append(int(proc.name))
        except OSError:
            continue
    return found


def _close_window(now: float) -> None:
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    path = os.environ.get(WINDOWS_ENV)
    if not (_current["module"] and worker and path):
        return  # the xdist controller sees every worker's tests: only workers record
    record = {
        "worker": worker,
        "pid": os.getpid(),
        "module": _current["module"],
        "start": _current["start"],
        "end": now,
        "own_cpu": _own_cpu() - _current["cpu"],
        "postmasters": _postmasters(),
    }
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(record) + "\n")


def pytest_runtest_logstart(nodeid, location):
    module = nodeid.split("::")[0]
    if module != _current["module"]:
        now = time.time()
        _close_window(now)
        _current.update(module=module, start=now, cpu=_own_cpu())


def pytest_sessionfinish(session, exitstatus):
    _close_window(time.time())


# ------------------------------------------------------------------ the report
def read_accounting(path: Path) -> list[dict]:
    """Every process record of an accounting file (``dump-acct``; times in 1/100 s)."""
    out = subprocess.run(["dump-acct", str(path)], capture_output=True, text=True, check=True)
    records = []
    for line in out.stdout.splitlines():
        f = [x.strip() for x in line.split("|")]
        if len(f) < 15:
            continue
        # dump-acct prints the start in local time, to the second
        started = time.mktime(time.strptime(f[14], "%a %b %d %H:%M:%S %Y"))
        records.append(
            {
                "comm": f[0],
                "cpu": (float(f[2]) + float(f[3])) / 100,
                "elapsed": float(f[4]) / 100,
                "pid": int(f[9]),
                "ppid": int(f[10]),
                "start": started,
            }
        )
    return records


def attribute(records: list[dict], windows: list[dict]) -> dict:
    """CPU seconds per module (and per command within it); what no worker started."""
    workers = {w["pid"]: w["worker"] for w in windows}
    postmasters: dict[int, str] = {}
    for w in windows:
        for pid in w["postmasters"]:
            postmasters.setdefault(pid, w["worker"])
    by_pid = defaultdict(list)
    for r in records:
        by_pid[r["pid"]].append(r)

    def parent(r):
        # the process of that pid alive when r started (pids are reused over a long run)
        for p in by_pid.get(r["ppid"], []):
            if p["start"] - 1 <= r["start"] <= p["start"] + p["elapsed"] + 1:
                return p
        return None

    def worker_of(r):
        cur = r
        for _ in range(64):
            if cur["ppid"] in workers:
                return workers[cur["ppid"]]
            if cur["ppid"] in postmasters:
                return postmasters[cur["ppid"]]
            if cur["pid"] in postmasters:
                return postmasters[cur["pid"]]
            cur = parent(cur)
            if cur is None:
                return None
        return None

    def module_of(worker, started):
        # the accounting gives the start to the whole second (truncated): a process a module
        # starts as it begins is counted there, not in the module before that ended that second
        mine = [w for w in windows if w["worker"] == worker]
        for slack in (0, 1):
            for w in mine:
                if w["start"] - slack <= started + 0.99 <= w["end"] + slack:
                    return w["module"]
        return "(between modules)"

    modules: dict = defaultdict(lambda: defaultdict(float))
    unattributed: dict = defaultdict(float)
    for r in records:
        if r["pid"] in workers:
            continue  # a worker's own CPU comes from its windows
        worker = worker_of(r)
        if worker is None:
            unattributed[r["comm"]] += r["cpu"]
        else:
            modules[module_of(worker, r["start"])][r["comm"]] += r["cpu"]
    for w in windows:
        modules[w["module"]]["(pytest worker)"] += w["own_cpu"]
    wall = defaultdict(float)
    for w in windows:
        wall[w["module"]] += w["end"] - w["start"]
    rows = [
        {
            "module": m,
            "cpu_s": round(sum(c.values()), 1),
            "wall_s": round(wall.get(m, 0.0), 1),
            "by_command": {k: round(v, 1) for k, v in sorted(c.items(), key=lambda x: -x[1])},
        }
        for m, c in modules.items()
    ]
    rows.sort(key=lambda r: -r["cpu_s"])
    return {
        "total_cpu_s": round(sum(r["cpu"] for r in records), 1),
        "modules": rows,
        "unattributed": {k: round(v, 1) for k, v in unattributed.items() if v >= 0.5},
    }


def markdown(result: dict, top: int = 25) -> str:
    modules = result["modules"]
    attributed = sum(r["cpu_s"] for r in modules)
    run = ""
    if "wall_s" in result:
        run = (
            f" — {result['when']}, {result['machine']}: wall {result['wall_s']:,.0f} s with "
            f"{result['workers']} workers, pytest's exit status {result['status']}"
        )
    lines = [
        f"**The suite's CPU by module**{run}. {result['total_cpu_s']:,.0f} CPU s in all "
        f"processes that ended, {attributed:,.0f} s given to a module.",
        "",
        "| module | CPU s | share | wall s | where the CPU went (s) |",
        "|---|---:|---:|---:|---|",
    ]
    for r in modules[:top]:
        where = ", ".join(f"{k} {v:.0f}" for k, v in list(r["by_command"].items())[:4])
        share = r["cpu_s"] / attributed if attributed else 0
        lines.append(
            f"| `{r['module']}` | {r['cpu_s']:,.0f} | {share:.0%} | {r['wall_s']:,.0f} | {where} |"
        )
    rest = modules[top:]
    if rest:
        lines.append(
            f"| {len(rest)} other modules | {sum(r['cpu_s'] for r in rest):,.0f} | "
            f"{sum(r['cpu_s'] for r in rest) / attributed:.0%} | | |"
        )
    return "\n".join(lines) + "\n"


def _run(args) -> int:
    if os.geteuid() != 0 or subprocess.run(["which", "accton"], capture_output=True).returncode:
        print("suite_cpu: needs root and Debian's acct (apt-get install -y acct)", file=sys.stderr)
        return 3
    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    acct, windows = work / "pacct", work / "windows.jsonl"
    for f in (acct, windows):
        f.unlink(missing_ok=True)
    acct.touch()
    env = dict(os.environ, **{WINDOWS_ENV: str(windows)})
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    started = time.time()
    subprocess.run(["accton", str(acct)], check=True, capture_output=True)
    try:
        status = subprocess.run(
            ["bash", str(ROOT / "scripts" / "test.sh"), "-p", "bench.suite_cpu", *args.pytest],
            env=env,
        ).returncode
    finally:
        subprocess.run(["accton", "off"], capture_output=True)
    result = attribute(read_accounting(acct), _windows(windows))
    result.update(
        when=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d"),
        machine=f"{os.cpu_count()} CPUs",
        wall_s=round(time.time() - started),
        workers=int(os.environ.get("TONGHOP_TEST_WORKERS", "2")),
        status=status,
    )
    _write(result, Path(args.out))
    return status


def _windows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def _write(result: dict, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "suite_cpu.json").write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    (out / "suite_cpu.md").write_text(markdown(result), encoding="utf-8")
    print(markdown(result))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.suite_cpu", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="the whole suite under process accounting")
    run.add_argument("--workdir", default=str(ROOT / ".local" / "suite_cpu"))
    run.add_argument("--out", default=str(ROOT / "bench" / "results"))
    run.add_argument("pytest", nargs="*", help="arguments for pytest (after --)")
    report = sub.add_parser("report", help="the table again from kept files")
    report.add_argument("acct")
    report.add_argument("windows")
    report.add_argument("--out", default=str(ROOT / "bench" / "results"))
    args, rest = parser.parse_known_args(argv)
    if args.command == "run":
        args.pytest = [*args.pytest, *rest]
        return _run(args)
    if rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    result = attribute(read_accounting(Path(args.acct)), _windows(Path(args.windows)))
    _write(result, Path(args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
