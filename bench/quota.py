"""The quota bench: a whole cycle under Google's quota model, with one or several service
accounts — ``python -m bench.quota`` (options: ``--help``).

The province of :mod:`bench.province` (N units, every report filled by the demo generator) in
an emulator that behaves as Google's quota does: 60 Sheets reads and 60 writes a minute per
user, 300 each per project, Drive's queries apart (12,000 a minute), 150 ms a call, and each
account seeing only the files shared with it. Each spreadsheet is shared with one of K service
accounts (taken in turn) and registered for it, as provisioning does. Our stages run as the DAGs
run them, each task a process of its own (:mod:`bench.stage`), the mapped ones side by side,
``--tasks`` at once (the Airflow pool's slots):

- **full cycle** (the first pull, every report new): ``plan_pull``, the ``pull_shard`` tasks,
  ``finish_pull``, ``validate``, ``build`` (dbt), then, as the publish DAG does, ``publish``
  beside ``plan_feedback`` and its ``tell_units`` shards;
- **incremental cycle**: one commune edits its sheet, then the same with a changed pull.

Measured: each stage's wall time and the whole cycle's (from the plan's start to the last
task's end), the emulator's calls by endpoint and by account and its 429s; against the quota's
own bound — the slower of the cycle's Sheets reads and its Sheets writes at the project's 300
a minute (what the issue calls 11.3 minutes at 3,400 units) — and against the bound of reads
*then* writes (the feedback is written after the build, which needs every report read).
Results: ``bench/results/quota_<K>.{json,md}`` (``--name``).
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
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg2
import requests

from bench import province
from bench.run import RESULTS, Emulator, machine, prepare_province, warm_up
from pipeline.cycle import anything_new, shard_kwargs
from tonghop.settings import load_settings, state_dir

log = logging.getLogger("bench.quota")

#: Google's published limits (tonghop.quota.Quota's defaults), as the emulator enforces them
GOOGLE = {
    "read_quota_per_user": 60,
    "read_quota_per_project": 300,
    "write_quota_per_user": 60,
    "write_quota_per_project": 300,
    "drive_quota_per_user": 12_000,
    "drive_quota_per_project": 12_000,
}
#: the issue's goals: a full cycle within 1.3 times the quota's own bound; an incremental one
#: (one unit changed) within a minute
FULL_GOAL_RATIO = 1.3
INCREMENTAL_GOAL_SECONDS = 60.0


def accounts(k: int) -> list[str]:
    return [f"tonghop-{n}@bench-quota.iam.gserviceaccount.com" for n in range(1, k + 1)]


def share_and_register(settings, db: str, root: Path, ids: dict[str, str], pool: list[str]):
    """Each spreadsheet shared with one account of ``pool`` (taken in turn) in the emulator's
    store and registered for it, as provisioning leaves them."""
    from ingest.registry import RegistryEntry, register
    from sheets_emulator import SpreadsheetStore
    from sheets_emulator.store import owner_permission, permission_id

    store = SpreadsheetStore(root)
    entries = []
    with store.batch():
        for n, (unit, sid) in enumerate(sorted(ids.items())):
            account = pool[n % len(pool)]
            shared = {
                "kind": "drive#permission",
                "id": permission_id("user", account),
                "type": "user",
                "role": "writer",
                "emailAddress": account,
            }
            store.update_file(
                sid, {"permissions": [owner_permission(store.owner_email), shared]}, touch=False
            )
            entries.append(
                RegistryEntry(
                    sid, province.PROGRAMME, province.PERIOD, unit, service_account=account
                )
            )
    store.close()
    conn = psycopg2.connect(settings.for_database(db).dsn("loader"))
    try:
        register(conn, entries)
    finally:
        conn.close()


class QuotaRun:
    """One size with K service accounts: a fresh database and emulator, a full cycle, one
    unit's edit, an incremental cycle."""

    def __init__(
        self,
        args,
        settings,
        n_units: int,
        k: int,
        folder: Path,
        pristine: Path,
        project: Path,
        made: dict,
    ):
        self.args, self.settings, self.n, self.k = args, settings, n_units, k
        self.folder, self.pristine, self.project, self.made = folder, pristine, project, made
        self.db = f"{args.db_prefix}_quota_{n_units}_{k}"
        self.pool = accounts(k)
        self.config = {**GOOGLE, "latency": args.latency, "enforce_sharing": True}
        self.emulator: Emulator | None = None

    def env(self) -> dict:
        env = dict(os.environ)
        env.update(
            {
                "PYTHONPATH": str(self.project),
                "TONGHOP_HOME": str(self.project),
                "TONGHOP_PG_DB": self.db,
                "TONGHOP_STATE_DIR": str(state_dir()),
                "TONGHOP_SHEETS_BACKEND": "emulator",
                "TONGHOP_EMULATOR_URL": self.emulator.url,
                "TONGHOP_SHEETS_QUOTA": "google",
                "TONGHOP_SHEETS_IDENTITIES": ",".join(self.pool),
                "TONGHOP_SHEETS_POOL_SLOTS": str(self.args.tasks),
                "TONGHOP_OUTPUT_DIR": str(self.folder / "output"),
                "GX_ANALYTICS_ENABLED": "false",
                "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
                "DO_NOT_TRACK": "1",
            }
        )
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        return env

    def task(self, name: str, label: str, kwargs: dict | None = None, **options) -> dict:
        """One task in a process of its own; its outcome (bench.stage) with its process's
        start and end (seconds since the cycle began are added by the caller)."""
        tag = f"{label}-{name}-{time.monotonic_ns()}"
        out = self.folder / f"{tag}.json"
        argv = [sys.executable, "-m", "bench.stage", name, "--out", str(out)]
        if kwargs is not None:
            path = self.folder / f"{tag}.kwargs.json"
            path.write_text(json.dumps(kwargs), encoding="utf-8")
            argv += ["--kwargs", str(path)]
        for key, value in options.items():
            argv += [f"--{key.replace('_', '-')}", str(value)]
        started = time.monotonic()
        with (self.folder / f"{tag}.log").open("w") as fh:
            done = subprocess.run(
                argv, cwd=self.project, env=self.env(), stdout=fh, stderr=subprocess.STDOUT
            )
        if done.returncode:
            raise RuntimeError(f"task {name} ({label}) failed: see {self.folder / tag}.log")
        outcome = json.loads(out.read_text())
        outcome.update({"began": started, "ended": time.monotonic()})
        return outcome

    def mapped(self, name: str, label: str, kwargs_list: list[dict]) -> list[dict]:
        """The mapped tasks, ``--tasks`` at once, in map-index order (as the pool runs them)."""
        with ThreadPoolExecutor(max_workers=self.args.tasks) as pool:
            return list(pool.map(lambda kw: self.task(name, label, kw), kwargs_list))

    def calls(self) -> dict:
        """The emulator's counts: by endpoint, 429s, and by account."""
        return requests.get(f"{self.emulator.url}/_emulator/stats", timeout=10).json()

    def reset_stats(self) -> None:
        """Zero the emulator's counts (its quota windows go on, as Google's do)."""
        requests.post(f"{self.emulator.url}/_emulator/reset-stats", timeout=10).raise_for_status()

    def cycle(self, label: str, mode: str) -> dict:
        self.emulator.reset()
        run_id = f"bench-quota-{label}-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}"
        t0 = time.monotonic()
        phases: dict[str, dict] = {}

        def phase(name: str, began: float) -> None:
            phases[name] = {"seconds": time.monotonic() - began}

        began = time.monotonic()
        plan = self.task("plan_pull", label, {"run_id": run_id, "mode": mode})
        shards = shard_kwargs(plan["result"])
        pulled_shards = self.mapped("pull_shard", label, shards)
        finished = self.task(
            "finish_pull",
            label,
            {"plan": plan["result"], "results": [s["result"] for s in pulled_shards]},
        )
        phase("read", began)
        read_stats = self.calls()
        self.reset_stats()
        pulled = finished["result"]
        began = time.monotonic()
        validated = self.task("validate", label, pull_run_id=pulled["pull_run_id"])
        phase("validate", began)
        tasks = {"plan_pull": plan, "finish_pull": finished, "validate": validated}
        write_stats: dict = {"calls": {}, "total": 0}
        if anything_new(pulled, validated["result"]):
            began = time.monotonic()
            tasks["build"] = self.task("build", label)
            phase("build", began)
            self.reset_stats()
            began = time.monotonic()
            with ThreadPoolExecutor(max_workers=1) as side:
                # the publish DAG: publish beside the feedback's plan and shards
                published = side.submit(self.task, "publish", label, None, run_id=run_id)
                told_plan = self.task("plan_feedback", label, {})
                told = self.mapped("feedback_shard", label, told_plan["result"])
                tasks["publish"] = published.result()
            tasks["plan_feedback"] = told_plan
            phase("feedback_and_publish", began)
            phases["feedback"] = {
                "seconds": max((t["ended"] for t in told), default=told_plan["ended"])
                - told_plan["began"]
            }
            phases["publish"] = {"seconds": tasks["publish"]["ended"] - tasks["publish"]["began"]}
            write_stats = self.calls()
        else:
            told = []
        total = time.monotonic() - t0
        reads = read_stats["calls"].get("sheets.spreadsheets.get", 0) + write_stats["calls"].get(
            "sheets.spreadsheets.get", 0
        )
        writes = write_stats["calls"].get("sheets.spreadsheets.batchUpdate", 0)
        return {
            "cycle": label,
            "pull_mode": pulled["mode"],
            "seconds": total,
            "phases": phases,
            "pull": {k: pulled[k] for k in ("fetched", "new_versions", "failed", "files_listed")},
            "pull_shards": len(shards),
            "pull_shard_seconds": [t["seconds"] for t in pulled_shards],
            # how much of the shards' time went waiting for the quota (the rest: the calls
            # themselves and landing): near 1 when the quota binds
            "pull_quota_wait_share": _wait_share(pulled_shards),
            "feedback_quota_wait_share": _wait_share(told),
            "feedback_shards": len(told),
            "feedback_shard_seconds": [t["seconds"] for t in told],
            "tabs_written": sum(t["result"].get("tabs_written", 0) for t in told),
            "feedback_failed": sum(t["result"].get("failed", 0) for t in told),
            "sheets_reads": reads,
            "sheets_writes": writes,
            "read_phase_calls": read_stats,
            "write_phase_calls": write_stats,
            "projection": plan["result"].get("projection"),
            "tasks": {
                name: {k: t.get(k) for k in ("seconds", "max_rss_kib", "cpu_seconds")}
                for name, t in tasks.items()
            },
        }

    def execute(self) -> dict:
        from tooling import localdb

        log.info(
            "== %d units, %d service account(s), %d tasks at once", self.n, self.k, self.args.tasks
        )
        localdb.recreate_warehouse(self.db)
        root = self.folder / "emulator"
        if root.exists():
            shutil.rmtree(root)
        shutil.copytree(self.pristine, root)
        share_and_register(self.settings, self.db, root, self.made["units"], self.pool)
        result = {
            "units": self.n,
            "service_accounts": self.k,
            "tasks_at_once": self.args.tasks,
            "emulator": self.config,
            "cycles": {},
        }
        with Emulator(root, self.config, self.folder / "emulator.log") as emulator:
            self.emulator = emulator
            result["emulator_warm_up_seconds"] = emulator.warm_up(
                sorted(self.made["units"].values())
            )
            result["cycles"]["full"] = self.cycle("full", "full")
            unit = changed_unit(self.made["scenarios"])
            province.change_one_unit(
                self.project, root, unit, self.args.seed, dt.datetime.now(dt.UTC)
            )
            result["changed_unit"] = unit
            result["cycles"]["incremental"] = self.cycle("incremental", "changed")
        result["goals"] = goals(result)
        return result


def _wait_share(tasks: list[dict]) -> float | None:
    """The share of the tasks' time spent waiting for the quota (their limiters' own count)."""
    seconds = sum(t["seconds"] for t in tasks)
    waited = sum(t["result"].get("quota_wait_seconds") or 0.0 for t in tasks)
    return round(waited / seconds, 3) if seconds else None


def changed_unit(scenarios: dict[str, str]) -> str:
    on_time = sorted(u for u, s in scenarios.items() if s == "on_time")
    return next((u for u in on_time if "-XA-" in u), on_time[0] if on_time else min(scenarios))


def quota_bound_seconds(calls: int, accounts: int) -> float:
    """The time Google's quota needs for ``calls`` of one kind (reads, or writes) with that many
    service accounts: 60 a minute each, 300 at most for the project (the issue's bound: 3,400
    reads with five accounts, 11.3 minutes)."""
    return calls * 60.0 / min(60 * accounts, 300)


def cycle_bound(cycle: dict, accounts: int) -> float:
    """The slower of the cycle's Sheets reads and writes at the quota."""
    return max(
        quota_bound_seconds(cycle["sheets_reads"], accounts),
        quota_bound_seconds(cycle["sheets_writes"], accounts),
    )


def goals(result: dict) -> list[dict]:
    full, incremental = result["cycles"]["full"], result["cycles"]["incremental"]
    k = result["service_accounts"]
    bound = cycle_bound(full, k)
    sequential = quota_bound_seconds(full["sheets_reads"], k) + quota_bound_seconds(
        full["sheets_writes"], k
    )
    return [
        {
            "goal": f"full cycle within {FULL_GOAL_RATIO}× the quota's own bound (the slower of "
            "reads and writes at the quota: 60 a minute per account, 300 at most)",
            "bound_seconds": bound,
            "measured_seconds": full["seconds"],
            "ratio": full["seconds"] / bound if bound else None,
            "met": bool(bound) and full["seconds"] <= FULL_GOAL_RATIO * bound,
        },
        {
            "goal": f"full cycle within {FULL_GOAL_RATIO}× the bound of reads *then* writes at "
            "the quota (the feedback follows the build, which needs every report read)",
            "bound_seconds": sequential,
            "measured_seconds": full["seconds"],
            "ratio": full["seconds"] / sequential if sequential else None,
            "met": bool(sequential) and full["seconds"] <= FULL_GOAL_RATIO * sequential,
        },
        {
            "goal": f"incremental cycle (one unit changed) within {INCREMENTAL_GOAL_SECONDS:.0f} s",
            "bound_seconds": None,
            "measured_seconds": incremental["seconds"],
            "ratio": None,
            "met": incremental["seconds"] <= INCREMENTAL_GOAL_SECONDS,
        },
    ]


# ----------------------------------------------------------------------------- report
def markdown(results: dict) -> str:
    m = results["machine"]
    lines = [
        f"Quota bench {results['started_at']} — `{results['command']}`; machine: {m['cpus']} "
        f"CPUs ({m['cpu_model']}), {m['ram_gib']} GiB RAM, Python {m['python']}, "
        f"{m['postgresql']}; load average (1/5/15 min) {m['load_average_start']} at the start, "
        f"{m.get('load_average_end')} at the end (other work on the machine). Emulator: Google's "
        "quota model (60 reads and 60 writes a minute per account, 300 each per project, Drive "
        f"apart), {results['options']['latency']} s a call, each account seeing only its sheets.",
        "",
        "| units | accounts | tasks at once | cycle | pull | sheets read | Sheets reads | Sheets "
        "writes | 429s | read s | validate s | build s | feedback s | publish s | **cycle s** | "
        "quota bound s | cycle / bound |",
        "|---:|---:|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for run in results["runs"]:
        for name, c in run["cycles"].items():
            p = c["phases"]
            bound = cycle_bound(c, run["service_accounts"])
            faults = sum(
                s.get("faults", {}).get("429", 0)
                for s in (c["read_phase_calls"], c["write_phase_calls"])
            )
            lines.append(
                f"| {run['units']:,} | {run['service_accounts']} | {run['tasks_at_once']} | {name} "
                f"| {c['pull_mode']} | {c['pull']['fetched']:,} | {c['sheets_reads']:,} | "
                f"{c['sheets_writes']:,} | {faults} | {p['read']['seconds']:.1f} | "
                f"{p['validate']['seconds']:.1f} | {p.get('build', {}).get('seconds', 0):.1f} | "
                f"{p.get('feedback', {}).get('seconds', 0):.1f} | "
                f"{p.get('publish', {}).get('seconds', 0):.1f} | **{c['seconds']:.1f}** | "
                f"{bound:.1f} | {c['seconds'] / bound:.2f} |"
                if bound
                else f"| {run['units']:,} | {run['service_accounts']} | {run['tasks_at_once']} | "
                f"{name} | {c['pull_mode']} | {c['pull']['fetched']:,} | {c['sheets_reads']:,} | "
                f"{c['sheets_writes']:,} | {faults} | {p['read']['seconds']:.1f} | "
                f"{p['validate']['seconds']:.1f} | {p.get('build', {}).get('seconds', 0):.1f} | "
                f"{p.get('feedback', {}).get('seconds', 0):.1f} | "
                f"{p.get('publish', {}).get('seconds', 0):.1f} | **{c['seconds']:.1f}** | – | – |"
            )
    lines += [
        "",
        "**Goals**",
        "",
        "| units | accounts | goal | bound s | measured s | ratio | |",
        "|---:|---:|---|---:|---:|---:|---|",
    ]
    for run in results["runs"]:
        for g in run["goals"]:
            bound = f"{g['bound_seconds']:.0f}" if g["bound_seconds"] else "–"
            ratio = f"{g['ratio']:.2f}" if g["ratio"] else "–"
            lines.append(
                f"| {run['units']:,} | {run['service_accounts']} | {g['goal']} | {bound} | "
                f"{g['measured_seconds']:.0f} | {ratio} | {'met' if g['met'] else 'not met'} |"
            )
    lines += [
        "",
        "**Calls by account** (full cycle: read phase, then feedback and publish)",
        "",
        "| units | accounts | account | spreadsheets.get | files.get | files.list | batchUpdate |",
        "|---:|---:|---|---:|---:|---:|---:|",
    ]
    for run in results["runs"]:
        full = run["cycles"]["full"]
        users = {}
        for stats in (full["read_phase_calls"], full["write_phase_calls"]):
            for user, calls in (stats.get("users") or {}).items():
                mine = users.setdefault(user, {})
                for endpoint, n in calls.items():
                    mine[endpoint] = mine.get(endpoint, 0) + n
        for user, calls in sorted(users.items()):
            lines.append(
                f"| {run['units']:,} | {run['service_accounts']} | {user} | "
                f"{calls.get('sheets.spreadsheets.get', 0):,} | {calls.get('drive.files.get', 0):,} "
                f"| {calls.get('drive.files.list', 0):,} | "
                f"{calls.get('sheets.spreadsheets.batchUpdate', 0):,} |"
            )
    return "\n".join(lines) + "\n"


def write_results(results: dict, out: Path, name: str) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    json_path, md_path = out / f"{name}.json", out / f"{name}.md"
    json_path.write_text(json.dumps(results, indent=1, default=str) + "\n", encoding="utf-8")
    md_path.write_text(markdown(results), encoding="utf-8")
    return [json_path, md_path]


# ----------------------------------------------------------------------------- the limiter
def _limiter_task(dsn: str, k: int, seconds: float, work: float, out) -> None:
    """One process: calls (no HTTP) of K accounts taken as a shard takes them, each followed by
    ``work`` seconds (the call's own time), for ``seconds``; puts (calls, seconds waited)."""
    from sheets.quota import PostgresCounters, QuotaLimiter, soonest_first
    from tonghop.quota import Quota

    counters = PostgresCounters(dsn)
    limiters = {a: QuotaLimiter(Quota(), a, counters) for a in accounts(k)}
    items = [(accounts(k)[n % k], n) for n in range(100_000)]
    end, calls = time.monotonic() + seconds, 0
    for account, _ in soonest_first(items, lambda i: i[0], limiters.get, "sheets_read"):
        limiters[account].acquire("sheets_read")
        if time.monotonic() > end:
            break
        calls += 1
        time.sleep(work)
    out.put((calls, sum(lim.waited for lim in limiters.values())))


def limiter_rate(settings, db: str, tasks: int, k: int, seconds: float, work: float) -> dict:
    """Sheets reads a minute the limiter lets through to ``tasks`` processes on the
    warehouse's counters, with K accounts under Google's quota, each call taking ``work``."""
    import multiprocessing

    dsn = settings.for_database(db).dsn("loader")
    conn = psycopg2.connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute("delete from ops.api_quota")  # fresh counters
        conn.commit()
    finally:
        conn.close()
    queue = multiprocessing.Queue()
    procs = [
        multiprocessing.Process(target=_limiter_task, args=(dsn, k, seconds, work, queue))
        for _ in range(tasks)
    ]
    for proc in procs:
        proc.start()
    outcomes = [queue.get() for _ in procs]
    for proc in procs:
        proc.join()
    from tonghop.quota import Quota

    calls = sum(c for c, _ in outcomes)
    return {
        "tasks": tasks,
        "accounts": k,
        "seconds": seconds,
        "work_seconds": work,
        "calls_per_minute": round(calls * 60 / seconds, 1),
        "limiter_allows_per_minute": round(Quota().calls_per_second("sheets_read", k) * 60, 1),
        "waited_share": round(sum(w for _, w in outcomes) / (tasks * seconds), 2),
    }


def limiter_markdown(results: dict) -> str:
    m = results["machine"]
    lines = [
        f"The limiter alone {results['started_at']} — `{results['command']}`: Sheets reads a "
        "minute it lets through to processes sharing the warehouse's counters, each call then "
        "taking its *work* (no HTTP); machine load average "
        f"{m['load_average_start']} at the start.",
        "",
        "| tasks at once | accounts | work a call, s | reads a minute | the limiter allows | "
        "share of time waiting |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results["limiter"]:
        lines.append(
            f"| {r['tasks']} | {r['accounts']} | {r['work_seconds']} | {r['calls_per_minute']} | "
            f"{r['limiter_allows_per_minute']} | {r['waited_share']} |"
        )
    return "\n".join(lines) + "\n"


def redraw(path: Path) -> list[Path]:
    """The goals and the Markdown again from a run's JSON (``--redraw``)."""
    results = json.loads(path.read_text(encoding="utf-8"))
    for run in results["runs"]:
        run["goals"] = goals(run)
    return write_results(results, path.parent, path.stem)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.quota", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--units", type=int, default=3400)
    parser.add_argument("--accounts", type=int, default=5, help="service accounts (default 5)")
    parser.add_argument(
        "--tasks",
        type=int,
        default=None,
        help="tasks at once (the pool's slots; default accounts + 1)",
    )
    parser.add_argument("--latency", type=float, default=0.15, help="seconds a call (0.15)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--name", default=None, help="default quota_<accounts>")
    parser.add_argument("--db-prefix", default="bench")
    parser.add_argument(
        "--redraw", type=Path, default=None, help="a results JSON: redraw its goals and Markdown"
    )
    parser.add_argument(
        "--limiter-only",
        default=None,
        help="work seconds a call, comma-separated: measure the limiter alone (no emulator, "
        "no HTTP), --seconds each, into quota_limiter.{json,md}",
    )
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args(argv)
    args.tasks = args.tasks or args.accounts + 1
    args.name = args.name or f"quota_{args.accounts}"
    return args


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    args = parse_args(argv)
    if args.redraw:
        for path in redraw(args.redraw):
            print(path)
        return 0
    workdir = (args.workdir or state_dir() / "bench").resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    from tooling import localdb

    localdb.start(localdb.default_cluster())
    settings = load_settings()
    if args.limiter_only:
        db = f"{args.db_prefix}_quota_limiter"
        localdb.recreate_warehouse(db)
        results = {
            "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "command": " ".join(["python -m bench.quota", *(argv or sys.argv[1:])]),
            "machine": machine(),
            "limiter": [
                limiter_rate(settings, db, args.tasks, args.accounts, args.seconds, float(w))
                for w in args.limiter_only.split(",")
            ],
        }
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "quota_limiter.json").write_text(json.dumps(results, indent=1) + "\n")
        (args.out / "quota_limiter.md").write_text(limiter_markdown(results))
        print(args.out / "quota_limiter.md")
        return 0
    warm_up()
    results = {
        "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": " ".join(["python -m bench.quota", *(argv or sys.argv[1:])]),
        "machine": machine(),
        "options": {
            "units": args.units,
            "accounts": args.accounts,
            "tasks": args.tasks,
            "latency": args.latency,
            "seed": args.seed,
        },
        "runs": [],
    }
    project, pristine, made = prepare_province(args, args.units, workdir)
    folder = workdir / f"u{args.units}" / f"quota-{args.accounts}"
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    started = time.perf_counter()
    run = QuotaRun(args, settings, args.units, args.accounts, folder, pristine, project, made)
    results["runs"].append(run.execute())
    results["seconds"] = time.perf_counter() - started
    results["machine"]["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    for path in write_results(results, args.out, args.name):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
