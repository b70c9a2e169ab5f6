"""History that grows for years at flat cost: the incremental build against a full refresh, one
added period at a time — ``python -m bench.history`` (options: ``--help``).

A province of N units (:mod:`bench.province`'s programme ``BX-KH84``) reports three periods a
year for Y years (:mod:`testing.history`: the 6-month report, an ad hoc one and the annual one;
several versions a report, a validation run every morning of a season), written straight into
raw, parsed and quality with COPY in the shapes the loader writes. Period after period:

1. the season but its last morning is landed, and the warehouse built as the pipeline builds it
   every morning — ``dbt build --exclude resource_type:seed`` (the catalogue unchanged), as of
   that day: **the period's build**, a whole season (~2.6 versions a unit) taken in at once;
2. the last morning is landed (a few units' corrections: ``--last-day-share``) and built as of
   it: **the day's build**, a small increment as most mornings bring;
3. the marts' and the intermediate tables' sizes (``pg_total_relation_size``);
4. every ``--full-every``-th period, the baseline: the same build with ``--full-refresh`` (what
   every build was before the history was incremental), and a check that it gives the same rows
   as the incremental builds did (a hash of every row of every mart and intermediate table).

Each build's time is split between models (with the snapshot) and tests (data and unit tests),
from dbt's run_results.json, with its slowest nodes. The goal (issue 23): the incremental
build's time does not grow with history. Results: ``bench/results/history.{json,md}``; copied
into docs/benchmarks.md by ``python -m bench.docs``. Uses the local cluster of ``tonghop db
start`` (database ``tonghop_history_bench``, dropped and made again).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DATABASE = "tonghop_history_bench"
RESULTS = ROOT / "bench" / "results"
#: what a build is here: the pipeline's morning build with the catalogue unchanged
BUILD = ["build", "--exclude", "resource_type:seed"]
#: a hash of every row of a relation, in any order (a 60-bit sum of md5s, and the row count)
ROWS_HASH = """select count(*), coalesce(sum(('x' || substr(md5(t::text), 1, 15))::bit(60)::bigint), 0)
               from {relation} t"""


def synthetic_project(folder: Path, units: int, years: list[int]) -> tuple[Path, list[str]]:
    """A copy of the dbt project in ``folder/project/dbt_project`` whose catalogue has the
    synthetic province of ``units`` units and three periods a year (the repository's seeds are
    never touched): (the copy's root, the province's period codes in order)."""
    from bench.province import write_catalogue
    from testing.history import add_periods

    project = Path(folder) / "project"
    if project.exists():
        shutil.rmtree(project)
    project.mkdir(parents=True)
    shutil.copytree(
        ROOT / "dbt_project",
        project / "dbt_project",
        ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"),
    )
    write_catalogue(project, units)
    return project, add_periods(project, years)


def relations(cur, schemas: tuple[str, ...]) -> list[str]:
    cur.execute(
        """select n.nspname || '.' || c.relname from pg_class c
           join pg_namespace n on n.oid = c.relnamespace
           where n.nspname = any(%s) and c.relkind = 'r' and c.relname not like '%%dbt%%'
           order by 1""",
        (list(schemas),),
    )
    return [name for (name,) in cur.fetchall()]


def sizes(conn) -> dict:
    """Bytes on disk (tables, indexes, TOAST) per schema, and per mart."""
    with conn.cursor() as cur:
        cur.execute(
            """select n.nspname, c.relname, pg_total_relation_size(c.oid)
               from pg_class c join pg_namespace n on n.oid = c.relnamespace
               where c.relkind = 'r' and n.nspname in
                   ('raw', 'parsed', 'quality', 'intermediate', 'marts')"""
        )
        rows = cur.fetchall()
    by_schema: dict[str, int] = {}
    for schema, _, size in rows:
        by_schema[schema] = by_schema.get(schema, 0) + size
    return {
        "schemas": by_schema,
        "marts": {name: size for schema, name, size in rows if schema == "marts"},
    }


def row_hashes(conn) -> dict[str, list[int]]:
    with conn.cursor() as cur:
        out = {}
        for relation in relations(cur, ("intermediate", "marts")):
            cur.execute(ROWS_HASH.format(relation=relation))
            out[relation] = [int(v) for v in cur.fetchone()]
    return out


def counts(conn) -> dict[str, int]:
    with conn.cursor() as cur:
        cur.execute(
            """select (select count(*) from raw.sheet_versions),
                      (select count(*) from quality.validation_runs),
                      (select count(*) from quality.rule_results),
                      (select count(*) from marts.fct_task_progress_history)"""
        )
        versions, runs, rule_results, task_history = cur.fetchone()
    return {
        "versions": versions,
        "validation_runs": runs,
        "rule_results": rule_results,
        "task_history_rows": task_history,
    }


#: the schemas whose tables hold the history and what is built over it
HISTORY_SCHEMAS = ("raw", "parsed", "quality", "catalogue", "intermediate", "marts")


def table_names(reader) -> dict[int, str]:
    with reader.cursor() as cur:
        cur.execute(
            "select relid, schemaname || '.' || relname from pg_statio_user_tables "
            "where schemaname = any(%s)",
            (list(HISTORY_SCHEMAS),),
        )
        return dict(cur.fetchall())


def table_blocks(reader) -> dict[int, int]:
    """Per table (and its indexes and TOAST) of the warehouse's schemas, the 8 kB pages read so
    far, from shared buffers or from disk: the work a build does on the data, whatever else the
    machine is doing (its wall time depends on that), and without PostgreSQL's own catalog,
    which dbt reads a lot of at every start."""
    with reader.cursor() as cur:
        cur.execute(
            """select relid, heap_blks_read + heap_blks_hit
                      + coalesce(idx_blks_read, 0) + coalesce(idx_blks_hit, 0)
                      + coalesce(toast_blks_read, 0) + coalesce(toast_blks_hit, 0)
                      + coalesce(tidx_blks_read, 0) + coalesce(tidx_blks_hit, 0)
               from pg_statio_user_tables where schemaname = any(%s)""",
            (list(HISTORY_SCHEMAS),),
        )
        return {relid: int(blocks) for relid, blocks in cur.fetchall()}


def pages_read(before: dict[int, int], after: dict[int, int]) -> int:
    """What the tables there after a build read during it (a table made by the build counts
    from zero; one it dropped — a table mart's previous copy — read nothing of the build's)."""
    return sum(blocks - before.get(relid, 0) for relid, blocks in after.items())


def build(settings, day: dt.date, reader, *, full: bool = False) -> dict:
    """One build as of ``day``: its wall time, the split between models and tests, and the
    pages it read from the warehouse's tables (:func:`table_blocks`)."""
    from pipeline.dbt import run_dbt, target_dir

    args = [*BUILD, *(["--full-refresh"] if full else [])]
    time.sleep(1)  # the counters of the sessions before (landing, measuring) flushed
    before = table_blocks(reader)
    started = time.monotonic()
    summary = run_dbt(settings, args, day)
    seconds = time.monotonic() - started
    time.sleep(1)  # dbt's sessions ended: their counters flushed
    after = table_blocks(reader)
    names = table_names(reader)
    results = json.loads((target_dir(settings) / "run_results.json").read_text(encoding="utf-8"))
    nodes = [(r["unique_id"], float(r["execution_time"])) for r in results["results"]]

    def total(*kinds: str) -> float:
        return round(sum(t for uid, t in nodes if uid.split(".")[0] in kinds), 1)

    return {
        "as_of_date": day.isoformat(),
        "full_refresh": full,
        "seconds": round(seconds, 1),
        "models_seconds": total("model", "snapshot"),
        "tests_seconds": total("test", "unit_test"),
        "pages_read": pages_read(before, after),
        "most_read": [
            {"table": names.get(relid, str(relid)), "pages": pages}
            for relid, pages in sorted(
                ((relid, blocks - before.get(relid, 0)) for relid, blocks in after.items()),
                key=lambda item: -item[1],
            )[:8]
        ],
        "nodes": summary["counts"],
        "slowest": [
            {"node": uid.split(".", 2)[-1], "seconds": round(t, 2)}
            for uid, t in sorted(nodes, key=lambda n: -n[1])[:6]
        ],
    }


def run(
    units: int, years: list[int], full_every: int, last_day_share: float, seed: int, workdir: Path
) -> dict:
    import psycopg2

    from pipeline.dbt import run_dbt
    from testing.history import History
    from tonghop.settings import load_settings
    from tooling import localdb

    project, periods = synthetic_project(workdir, units, years)
    cluster = localdb.default_cluster()
    localdb.start(cluster)
    localdb.recreate_warehouse(DATABASE)
    settings = (
        load_settings()
        .for_database(DATABASE)
        .with_overrides(dbt_project_dir=project / "dbt_project", output_dir=workdir / "output")
    )
    started = time.monotonic()
    run_dbt(settings, ["seed"])
    history = History(project, seed=seed, last_day_share=last_day_share)
    admin = psycopg2.connect(settings.dsn("admin"))  # lands: one transaction per call
    reader = psycopg2.connect(settings.dsn("admin"))  # measures: holds no lock past a read
    reader.autocommit = True
    points = []
    try:
        for index, code in enumerate(periods, start=1):
            period = history.period(code)
            last = period.last_day
            before_last = last - dt.timedelta(days=1)
            landing = time.monotonic()
            season = history.land(admin, code, period.opens_on, before_last)
            landed_seconds = time.monotonic() - landing
            point = {
                "period": code,
                "periods": index,
                "landed": {
                    "versions": season.versions,
                    "runs": season.runs,
                    "rows": season.rows,
                    "seconds": round(landed_seconds, 1),
                },
                "period_build": build(settings, before_last, reader),
            }
            day = history.land(admin, code, last, last)
            point["last_day"] = {"versions": day.versions, "runs": day.runs}
            point["day_build"] = build(settings, last, reader)
            point["sizes"] = sizes(reader)
            point["counts"] = counts(reader)
            if index % full_every == 0 or index == len(periods):
                incremental = row_hashes(reader)
                point["full_build"] = build(settings, last, reader, full=True)
                full = row_hashes(reader)
                point["same_as_full_refresh"] = incremental == full
                point["differences"] = sorted(
                    name for name in full if incremental.get(name) != full[name]
                )
            points.append(point)
            print(_line(point), flush=True)
    finally:
        admin.close()
        reader.close()
    return {
        "benchmark": "history",
        "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "units": units,
        "years": years,
        "periods": periods,
        "last_day_share": last_day_share,
        "seed": seed,
        "total_seconds": round(time.monotonic() - started, 1),
        "points": points,
    }


def _mb(size: int) -> str:
    return f"{size / 1e6:,.0f}"


def _line(point: dict) -> str:
    full = point.get("full_build")
    return (
        f"{point['period']}: period build {_read(point['period_build'])}; day build "
        f"{_read(point['day_build'])}"
        + (
            f"; full refresh {_read(full)}, same rows: {point['same_as_full_refresh']}"
            if full
            else ""
        )
        + f"; marts {_mb(point['sizes']['schemas'].get('marts', 0))} MB"
    )


def _read(b: dict) -> str:
    """A build's cost: wall seconds (models + tests, summed over dbt's threads) and what it
    read from the database, in MB of 8 kB pages."""
    return (
        f"{b['seconds']:.0f} s ({b['models_seconds']:.0f} + {b['tests_seconds']:.0f}), "
        f"{b['pages_read'] * 8192 / 1e6:,.0f} MB"
    )


def render(result: dict) -> str:
    points = result["points"]
    lines = [
        f"**History at flat cost** — {result['units']:,} units, {len(result['periods'])} "
        f"periods ({len(result['years'])} years × 3), measured {result['measured_at'][:10]} on "
        f"{result['machine']['cpus']} CPUs (`python -m bench.history`; the whole run "
        f"{result['total_seconds'] / 60:.0f} min). A build is `dbt build` as each morning runs it: "
        "its wall time (with the seconds dbt's threads spent on models and snapshot + on data "
        "and unit tests), and what it read of the warehouse's tables and indexes (8 kB pages, "
        "from memory or disk: the work done, whatever else the machine was doing; PostgreSQL's "
        "own catalog, which dbt reads at every start, left out). Sizes in MB "
        "(`pg_total_relation_size`: tables, indexes, TOAST).",
        "",
        "| periods | versions in raw | the period's build | the day's build | full refresh | "
        "full ÷ day (read) | same rows | marts MB | intermediate MB | raw + parsed + quality MB |",
        "|---:|---:|---|---|---|---:|:---:|---:|---:|---:|",
    ]
    for p in points:
        day, full = p["day_build"], p.get("full_build")
        schemas = p["sizes"]["schemas"]
        landed = sum(schemas.get(s, 0) for s in ("raw", "parsed", "quality"))
        ratio = f"{full['pages_read'] / max(day['pages_read'], 1):.1f}" if full else "–"
        same = ("yes" if p["same_as_full_refresh"] else "NO") if full else "–"
        lines.append(
            f"| {p['periods']} ({p['period']}) | {p['counts']['versions']:,} | "
            f"{_read(p['period_build'])} | {_read(day)} | {_read(full) if full else '–'} | "
            f"{ratio} | {same} | {_mb(schemas.get('marts', 0))} | "
            f"{_mb(schemas.get('intermediate', 0))} | {_mb(landed)} |"
        )
    first, last = points[0], points[-1]
    grew = last["counts"]["versions"] / max(first["counts"]["versions"], 1)
    lines += [
        "",
        f"Each season adds about {first['landed']['versions']:,} versions ("
        f"{first['landed']['runs']} daily validation runs); its last morning "
        f"{first['last_day']['versions']:,}. While the history grew {grew:.0f}-fold, the day's "
        f"build read {first['day_build']['pages_read'] * 8192 / 1e6:,.0f} MB at the first "
        f"period and {last['day_build']['pages_read'] * 8192 / 1e6:,.0f} MB at the last "
        f"({first['day_build']['seconds']:.0f} s and {last['day_build']['seconds']:.0f} s), the "
        f"period's {first['period_build']['pages_read'] * 8192 / 1e6:,.0f} MB and "
        f"{last['period_build']['pages_read'] * 8192 / 1e6:,.0f} MB.",
        "",
        "Slowest nodes of the last day's build: "
        + ", ".join(f"`{n['node']}` {n['seconds']} s" for n in last["day_build"]["slowest"])
        + "; of the last full refresh: "
        + ", ".join(
            f"`{n['node']}` {n['seconds']} s" for n in last.get("full_build", {}).get("slowest", [])
        )
        + ".",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--units", type=int, default=3400)
    parser.add_argument(
        "--years",
        default="2024,2025,2026",
        help="the reporting years, comma-separated (three periods each)",
    )
    parser.add_argument(
        "--full-every",
        type=int,
        default=1,
        help="the full-refresh baseline every N periods (and at the last)",
    )
    parser.add_argument(
        "--last-day-share",
        type=float,
        default=0.02,
        help="the share of units whose correction the season's last morning reads",
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workdir", type=Path, default=ROOT / ".local" / "bench" / "history")
    parser.add_argument("--name", default="history", help="results file name (without suffix)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    years = [int(y) for y in args.years.split(",")]
    result = run(args.units, years, args.full_every, args.last_day_share, args.seed, args.workdir)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{args.name}.json").write_text(
        json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    (args.out / f"{args.name}.md").write_text(render(result), encoding="utf-8")
    print(render(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
