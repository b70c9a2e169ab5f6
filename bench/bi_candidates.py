"""Which BI tool serves the dashboard: the candidates measured on this machine.

For each candidate that installs from the registries this project reaches (PyPI, Debian, npm):

- **Apache Superset** (PyPI, ``bi/requirements-superset.lock``): installed into a new virtual
  environment with an empty uv cache (what CI does on a fresh machine): time, downloaded bytes,
  size on disk and of uv's cache; its metadata database set up (``bi/setup_metadata.py``); the server started as
  the stack starts it (``bi/run-server.sh``, 2 gunicorn workers) until /health answers;
  resident memory of the whole process tree after start, and after the dashboard was opened and
  rendered in headless Chromium for each period (``bi/dashboards/``, loaded by
  ``bi/load_dashboards.py``) against the demo province landed in a warehouse of its own;
- **Evidence** (npm, ``@evidence-dev/evidence`` with its PostgreSQL connector, the lighter
  "BI as code" candidate): installed with an empty npm cache: time and size on disk. Not run:
  see the choice in the written table.

Metabase is not measured: none of its releases is on a reachable registry (the table says what
was looked up). The pull stage's numbers are not here: only the BI layer.

    .venv/bin/python bench/bi_candidates.py [--skip-evidence]

Writes ``bench/results/bi_candidates.json`` and ``.md``; ``python -m bench.docs`` copies the
table into docs/benchmarks.md. Uses the local cluster of ``tonghop db start`` (databases
``tonghop_bi_bench`` and ``superset_bi_bench`` of its own) and ports 127.0.0.1:58088.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WAREHOUSE_DB = "tonghop_bi_bench"
METADATA_DB = "superset_bi_bench"
PERIODS = ("CB-2026-6T", "CB-2026-NAM")
PORT = 58088
EVIDENCE_PACKAGES = (
    "@evidence-dev/evidence@40.1.8",
    "@evidence-dev/postgres@1.0.10",
    "@evidence-dev/core-components",
    "typescript@5",
)
#: what was looked up for Metabase, and what each registry answered (2026-12-05)
METABASE_LOOKUPS = [
    (
        "PyPI",
        "pip index versions metabase",
        "only API clients (metabase 1.4.5, metabase-api …): no server",
    ),
    (
        "npm",
        "npm view metabase",
        "metabase@0.1.0, one version, no dependencies, no description: not Metabase; @metabase/embedding-sdk-react is a client",
    ),
    (
        "Debian bookworm",
        "apt-cache search metabase",
        "libmetabase-fact-perl only (a Perl library of another project)",
    ),
    (
        "Maven Central",
        "mvn dependency:get",
        "not reachable from this machine (unknown host); Metabase's jar is published on its own download site, not Maven Central",
    ),
]


def du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def measure_superset_install(work: Path) -> dict:
    uv = shutil.which("uv") or str(ROOT / ".local" / "tools" / "bin" / "uv")
    venv, cache = work / "venv", work / "uv-cache"
    env = {**os.environ, "UV_CACHE_DIR": str(cache), "UV_PYTHON_DOWNLOADS": "never"}
    started = time.monotonic()
    subprocess.run([uv, "venv", "-q", "--python", "python3.11", str(venv)], env=env, check=True)
    subprocess.run(
        [
            uv,
            "pip",
            "sync",
            "-q",
            "--python",
            str(venv / "bin" / "python"),
            "--require-hashes",
            str(ROOT / "bi" / "requirements-superset.lock"),
        ],
        env=env,
        check=True,
    )
    seconds = time.monotonic() - started
    packages = sum(
        1
        for line in (ROOT / "bi" / "requirements-superset.lock").read_text().splitlines()
        if "==" in line and not line.startswith((" ", "#"))
    )
    return {
        "install_seconds": round(seconds, 1),
        "packages": packages,
        "cache_mb": round(du(cache) / 1e6, 1),
        "installed_mb": round(du(venv) / 1e6, 1),
    }


def measure_evidence_install(work: Path) -> dict:
    npm = shutil.which("npm")
    if not npm:
        return {"skipped": "npm is not installed"}
    project = work / "evidence"
    project.mkdir()
    (project / "package.json").write_text('{"name": "bi-bench", "private": true}\n')
    started = time.monotonic()
    run = subprocess.run(
        [
            npm,
            "install",
            "--no-audit",
            "--no-fund",
            "--legacy-peer-deps",
            "--cache",
            str(work / "npm-cache"),
            *EVIDENCE_PACKAGES,
        ],
        cwd=project,
        capture_output=True,
        text=True,
    )
    seconds = time.monotonic() - started
    if run.returncode != 0:
        return {"failed": run.stderr[-2000:]}
    modules = project / "node_modules"
    return {
        "install_seconds": round(seconds, 1),
        "packages": sum(1 for _ in modules.glob("*/package.json"))
        + sum(1 for _ in modules.glob("@*/*/package.json")),
        "cache_mb": round(du(work / "npm-cache") / 1e6, 1),
        "installed_mb": round(du(modules) / 1e6, 1),
    }


def measure_superset_running(work: Path) -> dict:
    from pipeline.dbt import run_dbt
    from sheets_emulator import EmulatorServer  # noqa: F401  (the province needs the emulator)
    from testing import superset as bi
    from testing.province import demo_province, land, own_warehouse, register_entries
    from tonghop.catalogue import load_catalogue
    from tonghop.settings import load_settings
    from tooling import localdb

    cluster = localdb.default_cluster()
    localdb.start(cluster)
    catalogue = load_catalogue()
    settings = load_settings()
    with own_warehouse(settings, WAREHOUSE_DB, work / "province", recreate=True) as (own, server):
        for period in PERIODS:
            _, entries = demo_province(server, period, seed=5)
            register_entries(own, entries)
            land(own, catalogue, period)
    run_dbt(own, ["build", "--exclude-resource-type", "test"])
    stack = bi.local_stack(
        settings, work, metadata_db=METADATA_DB, warehouse_db=WAREHOUSE_DB, port=PORT
    )
    log = work / "superset.log"
    started = time.monotonic()
    bi.metadata_database(settings.dsn("admin"), stack, work / "no-cache", log)  # cold: set up
    setup_seconds = time.monotonic() - started
    with bi.server(stack, log) as process:
        started = time.monotonic()
        bi.wait_healthy(stack.url, process)
        healthy = time.monotonic() - started
        time.sleep(5)
        rss_started = bi.process_tree_rss(process.pid)
        started = time.monotonic()
        bi.run_script(stack, "load_dashboards.py", log)
        load_seconds = time.monotonic() - started
        with bi.chromium(work / "chromium", width=1600, height=3000) as driver:
            bi.sign_in(driver, stack.url, bi.ADMIN, stack.admin_password())
            started = time.monotonic()
            driver.get(f"{stack.url}/superset/dashboard/tong-hop/")
            bi.wait_settled(driver)
            first_render = time.monotonic() - started
            per_period = []
            for period in PERIODS:
                started = time.monotonic()
                bi.choose_period(driver, "NATIVE_FILTER-ky-bao-cao", period)
                time.sleep(1)
                bi.wait_settled(driver)
                per_period.append(round(time.monotonic() - started, 1))
            rss_rendered = bi.process_tree_rss(process.pid)
    return {
        "metadata_setup_seconds": round(setup_seconds, 1),
        "start_to_healthy_seconds": round(healthy, 1),
        "rss_after_start_mb": round(rss_started / 1e6),
        "rss_after_render_mb": round(rss_rendered / 1e6),
        "load_dashboards_seconds": round(load_seconds, 1),
        "first_render_seconds": round(first_render, 1),
        "period_change_seconds": per_period,
        "units": len(catalogue.expected_units(PERIODS[0])),
        "workers": stack.workers,
    }


def render(data: dict) -> str:
    s, e = data["superset"], data.get("evidence", {})
    install = data["superset_install"]
    lines = [
        "| | Apache Superset 6.1.0 | Evidence 40 | Metabase |",
        "| --- | ---: | ---: | --- |",
        f"| from | PyPI (`bi/requirements-superset.lock`, {install['packages']} packages) | npm "
        f"({e.get('packages', '-')} packages) | no reachable registry |",
        f"| install, empty cache (s) | {install['install_seconds']} | {e.get('install_seconds', '-')} | - |",
        f"| package cache after it (MB) | {install['cache_mb']} | {e.get('cache_mb', '-')} | - |",
        f"| on disk (MB) | {install['installed_mb']} | {e.get('installed_mb', '-')} | - |",
        f"| metadata database set up, cold (s) | {s['metadata_setup_seconds']} | none (static site) | - |",
        f"| start to healthy (s) | {s['start_to_healthy_seconds']} | not run | - |",
        f"| resident memory after start (MB, {s['workers']} workers) | {s['rss_after_start_mb']} | not run | - |",
        f"| resident memory after the dashboard was rendered (MB) | {s['rss_after_render_mb']} | not run | - |",
        f"| dashboard loaded from the repository (s) | {s['load_dashboards_seconds']} | - | - |",
        f"| first render / a period chosen (s) | {s['first_render_seconds']} / "
        f"{', '.join(str(x) for x in s['period_change_seconds'])} | - | - |",
        "",
        f"{data['machine']['cpus']} CPUs (shared with other work: timings are indicative), "
        f"Python {data['machine']['python']}, {s['units']} units per period, "
        f"{len(PERIODS)} periods; {data['machine']['when']}",
        "",
        *(
            [
                f"Ratios: Evidence's install took {e['install_seconds'] / install['install_seconds']:.1f}× "
                f"Superset's; rendering the dashboard for {len(PERIODS)} periods added "
                f"{(s['rss_after_render_mb'] / s['rss_after_start_mb'] - 1) * 100:.0f} % to Superset's "
                "resident memory after start.",
                "",
            ]
            if "install_seconds" in e
            else []
        ),
        "Metabase, looked up on each registry this project reaches:",
        "",
        *[f"- {where} (`{how}`): {found}" for where, how, found in METABASE_LOOKUPS],
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--skip-evidence", action="store_true")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    parser.add_argument(
        "--render", action="store_true", help="only write the .md again from the .json"
    )
    args = parser.parse_args(argv)
    if args.render:
        data = json.loads((args.out / "bi_candidates.json").read_text(encoding="utf-8"))
        (args.out / "bi_candidates.md").write_text(render(data), encoding="utf-8")
        return 0
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    with tempfile.TemporaryDirectory(prefix="bi-bench-") as tmp:
        work = Path(tmp)
        data = {
            "machine": {
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            },
            "superset_install": measure_superset_install(work / "install"),
        }
        if not args.skip_evidence:
            (work / "npm").mkdir()
            data["evidence"] = measure_evidence_install(work / "npm")
        data["superset"] = measure_superset_running(work)
        data["metabase"] = [dict(zip(("registry", "lookup", "found"), x)) for x in METABASE_LOOKUPS]
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "bi_candidates.json").write_text(
        json.dumps(data, indent=2) + "\n", encoding="utf-8"
    )
    (args.out / "bi_candidates.md").write_text(render(data), encoding="utf-8")
    print(render(data))
    return 0


if __name__ == "__main__":
    sys.exit(main())
