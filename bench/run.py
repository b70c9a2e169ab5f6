"""The bench in one command: ``python -m bench`` (options: ``--help``).

For each size (default 80, 800 and 3,400 units) it generates a synthetic province
(:mod:`bench.province`) into a fresh emulator and a fresh warehouse database, then:

- **scale** mode (every size): the emulator answers with no latency and no quota, so wall
  time is our own work; the time the quota would take is computed from the call counts;
- **quota** mode (``--quota-sizes``, default the smallest size): Google's read quota
  (``--quota``, 60 a minute per user) and ``--latency`` (150 ms a call) are on, our client runs
  its rate limiter, the usual script runs as people write it.

In each mode, in the same run and on the same province: baseline (a), the usual script, reads
everything into its own schema (:mod:`bench.baseline`); then our cycles, each stage in a
process of its own (:mod:`bench.stage`) — **full** (first pull), **unchanged** (nothing edited
since), **incremental** (one unit edited its sheet). Baseline (b), the physical bound, is
computed: one listing call per 1,000 files plus one read per changed spreadsheet.
Results: ``bench/results/latest.{json,md,png}`` (see :mod:`bench.report`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import math
import os
import platform
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import psycopg2
import requests

from bench import province
from pipeline.cycle import anything_new
from tonghop.settings import PROJECT_ROOT, load_settings, state_dir

log = logging.getLogger("bench")

RESULTS = PROJECT_ROOT / "bench" / "results"
CYCLES = ("full", "unchanged", "incremental")
STAGES = ("pull", "validate", "build", "publish")
#: the stages as the issue names them (land is measured inside the pull, see bench.stage)
REPORTED_STAGES = ("pull", "land", "validate", "build", "publish")
LIST_PAGE = 1000


# ----------------------------------------------------------------------------- helpers
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def client_rate_limit(quota_per_minute: int | None) -> int | None:
    """Our client's per-user limit under a per-user quota of ``quota_per_minute``: the quota
    itself (``sheets.quota.QuotaLimiter`` never lets more through in any minute)."""
    return quota_per_minute or None


def client_quota(per_user: int | None) -> str:
    """``TONGHOP_SHEETS_QUOTA`` for our stages: Sheets reads and writes at ``per_user`` a
    minute per user (the project's and Drive's limits Google's), or none."""
    if not per_user:
        return "none"
    return json.dumps({"sheets_read_per_user": per_user, "sheets_write_per_user": per_user})


def quota_seconds(calls: int, quota_per_minute: int) -> float:
    """The time a per-minute read quota needs for that many calls (calls / quota minutes)."""
    return calls * 60.0 / quota_per_minute


def bound_calls(files_listed: int, changed: int) -> int:
    """Baseline (b): one listing call per 1,000 files (at least one) + one read per changed
    spreadsheet."""
    return max(1, math.ceil(files_listed / LIST_PAGE)) + changed


class Emulator:
    """The Sheets/Drive emulator as a process of its own (its CPU and memory are not ours)."""

    def __init__(self, root: Path, config: dict, log_path: Path):
        self.root, self.config, self.log_path = root, config, log_path
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> Emulator:
        config_path = self.log_path.with_suffix(".config.json")
        config_path.write_text(json.dumps(self.config))
        self.log = self.log_path.open("w")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "sheets_emulator",
                "serve",
                "--root",
                str(self.root),
                "--port",
                str(self.port),
                "--config",
                str(config_path),
            ],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            cwd=PROJECT_ROOT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"emulator exited, see {self.log_path}")
            try:
                if requests.get(f"{self.url}/_emulator/health", timeout=1).ok:
                    return self
            except requests.ConnectionError:
                time.sleep(0.2)
        raise RuntimeError("emulator did not start within 60 s")

    def warm_up(self, spreadsheet_ids: list[str]) -> float:
        """Read every spreadsheet once, unmeasured, with no latency or quota, so that the
        emulator holds them all parsed in its cache (as Google holds its files): neither the
        script nor our pull, whichever runs first, pays for the emulator's opening of .xlsx
        files. Returns the seconds it took."""
        from concurrent.futures import ThreadPoolExecutor

        started = time.perf_counter()
        requests.post(f"{self.url}/_emulator/config", json={}, timeout=10).raise_for_status()
        session = requests.Session()

        def read(spreadsheet_id: str) -> None:
            session.get(
                f"{self.url}/v4/spreadsheets/{spreadsheet_id}",
                params={"includeGridData": "true", "fields": "spreadsheetId"},
                timeout=120,
            ).raise_for_status()

        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(read, spreadsheet_ids))
        self.reset()
        return time.perf_counter() - started

    def reset(self) -> None:
        """Fresh quota windows (the config again) and zeroed call counts."""
        requests.post(
            f"{self.url}/_emulator/config", json=self.config, timeout=10
        ).raise_for_status()
        requests.post(f"{self.url}/_emulator/reset-stats", timeout=10).raise_for_status()

    def stats(self) -> dict:
        stats = requests.get(f"{self.url}/_emulator/stats", timeout=10).json()
        return {
            "calls": {k: v for k, v in stats.get("calls", {}).items() if v},
            "total": stats.get("total", 0),
            "faults": stats.get("faults", {}),
        }

    def __exit__(self, *exc) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log.close()


def recreate_database(settings, name: str) -> None:
    from tooling import localdb

    localdb.recreate_warehouse(name)
    conn = psycopg2.connect(settings.for_database(name).dsn("admin"))
    try:
        with conn.cursor() as cur:
            cur.execute("create schema baseline_script authorization loader")
        conn.commit()
    finally:
        conn.close()


def register(settings, db: str, ids: dict[str, str]) -> None:
    from ingest.registry import RegistryEntry
    from ingest.registry import register as add

    conn = psycopg2.connect(settings.for_database(db).dsn("loader"))
    try:
        add(
            conn,
            [
                RegistryEntry(sid, province.PROGRAMME, province.PERIOD, unit)
                for unit, sid in ids.items()
            ],
        )
    finally:
        conn.close()


def machine() -> dict:
    import psutil

    pg = "?"
    try:
        from tooling.localdb import find_pg_bindir

        pg = subprocess.run(
            [str(find_pg_bindir() / "postgres"), "--version"], text=True, capture_output=True
        ).stdout.strip()
    except Exception:
        pass
    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpus": os.cpu_count(),
        "cpu_model": cpu,
        "ram_gib": round(psutil.virtual_memory().total / 2**30, 1),
        "python": platform.python_version(),
        "postgresql": pg,
        "os": platform.platform(),
        # other work on the machine while the bench ran (1, 5, 15 minutes)
        "load_average_start": [round(x, 2) for x in os.getloadavg()],
    }


# ----------------------------------------------------------------------------- one run
class Run:
    """One size in one mode: a fresh database and emulator, baseline (a), then our cycles."""

    def __init__(
        self,
        args,
        settings,
        n_units: int,
        mode: str,
        folder: Path,
        pristine: Path,
        project: Path,
        ids: dict[str, str],
        scenarios: dict[str, str],
    ):
        self.args, self.settings, self.n, self.mode = args, settings, n_units, mode
        self.folder, self.pristine, self.project = folder, pristine, project
        self.ids, self.scenarios = ids, scenarios
        self.db = f"{args.db_prefix}_{n_units}_{mode}"
        quota = mode == "quota"
        self.config = {
            "latency": args.latency if quota else 0.0,
            "read_quota_per_user": args.quota if quota else None,
        }
        self.rate = client_rate_limit(args.quota) if quota else None

    def env(self, emulator: Emulator) -> dict:
        env = dict(os.environ)
        env.update(
            {
                "PYTHONPATH": str(self.project),
                "TONGHOP_HOME": str(self.project),
                "TONGHOP_PG_DB": self.db,
                # the cluster and its secrets are this checkout's, not the copy's (its .local)
                "TONGHOP_STATE_DIR": str(state_dir()),
                "TONGHOP_SHEETS_BACKEND": "emulator",
                "TONGHOP_EMULATOR_URL": emulator.url,
                "TONGHOP_SHEETS_QUOTA": client_quota(self.rate),
                "TONGHOP_OUTPUT_DIR": str(self.folder / "output"),
                "GX_ANALYTICS_ENABLED": "false",
                "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
                "DO_NOT_TRACK": "1",
            }
        )
        # stages import their libraries from cached bytecode, as on any deployed worker
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        return env

    def stage(self, emulator: Emulator, name: str, label: str, **options) -> dict:
        emulator.reset()
        out = self.folder / f"{label}-{name}.json"
        argv = [sys.executable, "-m", "bench.stage", name, "--out", str(out)]
        for key, value in options.items():
            if value is not None:
                argv += [f"--{key.replace('_', '-')}", str(value)]
        log_path = self.folder / f"{label}-{name}.log"
        started = time.perf_counter()
        with log_path.open("w") as fh:
            done = subprocess.run(
                argv, cwd=self.project, env=self.env(emulator), stdout=fh, stderr=subprocess.STDOUT
            )
        process_seconds = time.perf_counter() - started
        if done.returncode:
            raise RuntimeError(f"stage {name} ({label}) failed: see {log_path}")
        outcome = json.loads(out.read_text())
        outcome["process_seconds"] = process_seconds
        outcome["api"] = emulator.stats()
        log.info(
            "%s u=%d %s %s: %.1f s, %d API calls, peak %.0f MiB",
            self.mode,
            self.n,
            label,
            name,
            outcome["seconds"],
            outcome["api"]["total"],
            outcome["max_rss_kib"] / 1024,
        )
        return outcome

    def cycle(self, emulator: Emulator, label: str, pull_mode: str) -> dict:
        run_id = f"bench-{label}-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}"
        stages = {"pull": self.stage(emulator, "pull", label, run_id=run_id, mode=pull_mode)}
        pulled = stages["pull"]["result"]
        stages["validate"] = self.stage(
            emulator, "validate", label, pull_run_id=pulled["pull_run_id"]
        )
        if anything_new(pulled, stages["validate"]["result"]):
            stages["build"] = self.stage(emulator, "build", label)
            stages["publish"] = self.stage(emulator, "publish", label, run_id=run_id)
        else:
            # what the DAG does (tonghop_reporting_cycle's anything_new branch): nothing
            # landed or checked, so the marts are current and neither runs
            stages["build"] = skipped_stage()
            stages["publish"] = skipped_stage()
        changed = pulled["fetched"] + pulled["failed"]
        bound = bound_calls(pulled["files_listed"], changed)
        return {
            "cycle": label,
            "pull_mode": pulled["mode"],
            "files_listed": pulled["files_listed"],
            "spreadsheets_read": pulled["fetched"],
            "new_versions": pulled["new_versions"],
            "stages": stages,
            "bound_calls": bound,
        }

    def execute(self) -> dict:
        log.info(
            "== %d units, %s mode (emulator %s; client limit %s/min)",
            self.n,
            self.mode,
            self.config,
            self.rate,
        )
        recreate_database(self.settings, self.db)
        register(self.settings, self.db, self.ids)
        emulator_root = self.folder / "emulator"
        if emulator_root.exists():
            shutil.rmtree(emulator_root)
        shutil.copytree(self.pristine, emulator_root)
        result = {
            "units": self.n,
            "mode": self.mode,
            "emulator": self.config,
            "client_requests_per_minute": self.rate,
            "cycles": {},
        }
        with Emulator(emulator_root, self.config, self.folder / "emulator.log") as emulator:
            result["emulator_warm_up_seconds"] = emulator.warm_up(sorted(self.ids.values()))
            result["baseline_a"] = self.stage(emulator, "baseline", "baseline-a")
            result["cycles"]["full"] = self.cycle(emulator, "full", "full")
            result["cycles"]["unchanged"] = self.cycle(emulator, "unchanged", "changed")
            unit = self.changed_unit()
            province.change_one_unit(
                self.project, emulator_root, unit, self.args.seed, dt.datetime.now(dt.UTC)
            )
            result["changed_unit"] = unit
            result["cycles"]["incremental"] = self.cycle(emulator, "incremental", "changed")
        return result

    def changed_unit(self) -> str:
        """The first commune that reported on time (the usual unit to correct a figure)."""
        on_time = sorted(u for u, s in self.scenarios.items() if s == "on_time")
        return next(
            (u for u in on_time if "-XA-" in u),
            on_time[0] if on_time else sorted(self.scenarios)[0],
        )


def skipped_stage() -> dict:
    """A stage the cycle does not run: no time, no memory, no call."""
    return {
        "skipped": True,
        "seconds": 0.0,
        "max_rss_kib": 0,
        "cpu_seconds": 0.0,
        "process_seconds": 0.0,
        "result": {},
        "api": {"total": 0, "calls": {}, "faults": {}},
    }


def prepare_province(args, n_units: int, workdir: Path) -> tuple[Path, Path, dict]:
    """The project copy with the catalogue of ``n_units`` and the pristine emulator folder
    (generated once per size and seed, reused by later runs while the sources are the same)."""
    folder = workdir / f"u{n_units}"
    project = province.copy_project(folder / "project")
    province.write_catalogue(project, n_units)
    pristine = folder / "pristine"
    marker = folder / "pristine.json"
    key = province.province_key(n_units, args.seed)
    if marker.exists() and json.loads(marker.read_text()).get("key") == key and pristine.exists():
        made = json.loads(marker.read_text())
        log.info("reusing the generated province of %d units (%s)", n_units, pristine)
    else:
        if pristine.exists():
            shutil.rmtree(pristine)
        started = time.perf_counter()
        made = province.fill_emulator(project, pristine, args.seed, dt.datetime.now(dt.UTC))
        made["key"] = key
        made["seconds"] = time.perf_counter() - started
        marker.write_text(json.dumps(made))
        log.info("generated %d units' reports in %.0f s", n_units, made["seconds"])
    return project, pristine, made


#: what the stages import: compiled to bytecode once before anything is measured
WARM_UP = (
    "great_expectations",
    "dbt.cli.main",
    "dbt.adapters.postgres",
    "gspread",
    "pandas",
    "sqlalchemy",
    "docx",
    "matplotlib.pyplot",
    "openpyxl",
    "psycopg2",
    "scipy.stats",
)


def warm_up() -> None:
    """Import the stages' libraries once with bytecode writing on (an environment with
    PYTHONDONTWRITEBYTECODE would otherwise compile Great Expectations from source in every
    stage, ~10 s that no deployed worker pays)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    code = f"import importlib\nfor m in {WARM_UP!r}:\n    importlib.import_module(m)"
    subprocess.run([sys.executable, "-c", code], env=env, check=True, cwd=PROJECT_ROOT)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--sizes",
        default="80,800,3400",
        help="numbers of units, comma-separated (default 80,800,3400)",
    )
    parser.add_argument(
        "--latency",
        type=float,
        default=0.15,
        help="seconds per API call in quota mode (default 0.15)",
    )
    parser.add_argument(
        "--quota",
        type=int,
        default=60,
        help="read requests a minute per user in quota mode (default 60)",
    )
    parser.add_argument(
        "--quota-sizes",
        default=None,
        help="sizes also run with the quota and latency on (default: the "
        "smallest size; 'none' for no quota run)",
    )
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument(
        "--workdir",
        type=Path,
        default=None,
        help="where provinces, databases' runs and logs go (default $TONGHOP_STATE_DIR/bench)",
    )
    parser.add_argument(
        "--out", type=Path, default=RESULTS, help="folder of latest.json, latest.md and latest.png"
    )
    parser.add_argument("--name", default="latest", help="file name of the results")
    parser.add_argument(
        "--db-prefix",
        default="bench",
        help="warehouse databases are <prefix>_<units>_<mode>, recreated",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    from bench.report import write_results

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    args = parse_args(argv)
    sizes = sorted({int(s) for s in args.sizes.split(",") if s.strip()})
    if args.quota_sizes in (None, ""):
        quota_sizes = sizes[:1]
    elif args.quota_sizes == "none":
        quota_sizes = []
    else:
        quota_sizes = [int(s) for s in args.quota_sizes.split(",")]
    workdir = (args.workdir or state_dir() / "bench").resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    from tooling import localdb

    localdb.start(localdb.default_cluster())  # idempotent: the cluster of this checkout
    settings = load_settings()
    warm_up()
    results = {
        "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": " ".join(["python -m bench", *(argv or sys.argv[1:])]),
        "machine": machine(),
        "options": {
            "sizes": sizes,
            "quota_sizes": quota_sizes,
            "latency": args.latency,
            "quota": args.quota,
            "seed": args.seed,
        },
        "runs": [],
    }
    started = time.perf_counter()
    # every size at scale first, then the quota runs (long, and bound by the quota)
    plan = [(n, "scale") for n in sizes] + [(n, "quota") for n in sizes if n in quota_sizes]
    for n_units, mode in plan:
        project, pristine, made = prepare_province(args, n_units, workdir)
        folder = workdir / f"u{n_units}" / mode
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        run = Run(
            args,
            settings,
            n_units,
            mode,
            folder,
            pristine,
            project,
            made["units"],
            made["scenarios"],
        )
        results["runs"].append(run.execute())
        results["seconds"] = time.perf_counter() - started
        try:  # after each run: partial results
            write_results(results, args.out, args.name)
        except Exception:
            log.exception("could not write the partial results")
    results["seconds"] = time.perf_counter() - started
    results["machine"]["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    paths = write_results(results, args.out, args.name)
    print("\n".join(str(p) for p in paths))
    return 0
