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
import re
import resource
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


#: a dbt node's name without the hash dbt appends to a generic test's (a long hex string is
#: what a secrets scan flags in the results)
NODE_HASH = re.compile(r"\.[0-9a-f]{10}$")


def node_name(unique_id: str) -> str:
    return NODE_HASH.sub("", unique_id.split(".", 2)[-1])


def statements_available(reader) -> bool:
    """Whether the server keeps per-statement counters (``pg_stat_statements`` in its
    ``shared_preload_libraries``): then each build lists the dbt nodes that read most."""
    with reader.cursor() as cur:
        cur.execute("select current_setting('shared_preload_libraries')")
        if "pg_stat_statements" not in cur.fetchone()[0]:
            return False
        cur.execute("create extension if not exists pg_stat_statements")
    return True


def reset_statements(reader) -> None:
    with reader.cursor() as cur:
        cur.execute("select pg_stat_statements_reset()")


def nodes_reading_most(reader, limit: int = 12) -> list[dict]:
    """The dbt nodes whose statements read most pages since the last reset: dbt names its node
    in a comment at the top of each statement, but for the insert into a table mart's new
    table (named here after the table) and its own queries about the catalog, made again and
    again (``dbt metadata``: pg_stat_statements counts them under the first node that sent
    them)."""
    with reader.cursor() as cur:
        cur.execute(
            r"""select case
                    when calls > 20 then 'dbt metadata'
                    else coalesce(
                        substring(query from '"node_id": "([^"]+)"'),
                        'insert into ' || substring(query from
                            '^\s*insert into "[^"]+"\."[^"]+"\."([^"]+)__dbt_tmp"'),
                        'other')
                    end,
                    sum(shared_blks_hit + shared_blks_read), sum(total_exec_time)
               from pg_stat_statements where dbid = (select oid from pg_database
                                                     where datname = current_database())
               group by 1 order by 2 desc limit %s""",
            (limit,),
        )
        return [
            {
                "node": node if " " in node or "." not in node else node_name(node),
                "pages": int(pages),
                "seconds": round(ms / 1000, 2),
            }
            for node, pages, ms in cur.fetchall()
        ]


def cluster_cpu_seconds(data_dir: Path) -> float | None:
    """CPU seconds the local PostgreSQL cluster has used since it started: its postmaster's own,
    the children it reaped (a session that ended) and those still running — what a build costs
    the database whatever else the machine does, unlike its wall time. None when /proc or the
    postmaster's pid cannot be read."""
    try:
        postmaster = int((data_dir / "postmaster.pid").read_text().split()[0])
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # ended meanwhile
            pid, ppid = int(entry.name), int(fields[1])
            if pid == postmaster:  # utime, stime, cutime, cstime
                total += sum(int(v) for v in fields[11:15])
            elif ppid == postmaster:
                total += int(fields[11]) + int(fields[12])
        return total / ticks
    except (OSError, ValueError, IndexError):
        return None


def process_cpu_seconds() -> float:
    """CPU seconds of this process (dbt runs in it) and its reaped children."""
    own, children = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def build(settings, day: dt.date, reader, *, full: bool = False) -> dict:
    """One build as of ``day``: its wall time, the split between models and tests, and the
    pages it read from the warehouse's tables (:func:`table_blocks`)."""
    from pipeline.dbt import run_dbt, target_dir
    from tooling import localdb

    args = [*BUILD, *(["--full-refresh"] if full else [])]
    time.sleep(1)  # the counters of the sessions before (landing, measuring) flushed
    statements = statements_available(reader)
    if statements:
        reset_statements(reader)
    before = table_blocks(reader)
    data_dir = localdb.default_cluster().data_dir
    cpu_before = (cluster_cpu_seconds(data_dir), process_cpu_seconds())
    load = os.getloadavg()[0]
    started = time.monotonic()
    summary = run_dbt(settings, args, day)
    seconds = time.monotonic() - started
    cpu_after = (cluster_cpu_seconds(data_dir), process_cpu_seconds())
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
        "cpu_seconds": {
            "postgres": round(cpu_after[0] - cpu_before[0], 1)
            if None not in (cpu_before[0], cpu_after[0])
            else None,
            "dbt": round(cpu_after[1] - cpu_before[1], 1),
        },
        "load_average": round(load, 1),
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
            {"node": node_name(uid), "seconds": round(t, 2)}
            for uid, t in sorted(nodes, key=lambda n: -n[1])[:6]
        ],
        **({"nodes_reading_most": nodes_reading_most(reader)} if statements else {}),
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


def _pages_mb(pages: int) -> str:
    return f"{pages * 8192 / 1e6:,.0f}"


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


def _cpu(b: dict) -> float | None:
    """CPU seconds of a build: dbt's process and PostgreSQL's (None when not measured)."""
    cpu = b.get("cpu_seconds") or {}
    if cpu.get("postgres") is None:
        return None
    return cpu["postgres"] + cpu["dbt"]


def _read(b: dict) -> str:
    """A build's cost: wall seconds, CPU seconds (dbt and PostgreSQL) and what it read from the
    warehouse, in MB of 8 kB pages."""
    cpu = _cpu(b)
    return (
        f"{b['seconds']:.0f} s"
        + (f" (CPU {cpu:.0f} s)" if cpu is not None else "")
        + f", {_pages_mb(b['pages_read'])} MB"
    )


def _ratio(a: dict, b: dict) -> str:
    """a against b: wall time / CPU time / pages read."""
    cpu_a, cpu_b = _cpu(a), _cpu(b)
    return (
        f"{a['seconds'] / b['seconds']:.2f} / "
        + (f"{cpu_a / cpu_b:.2f}" if cpu_a is not None and cpu_b else "–")
        + f" / {a['pages_read'] / b['pages_read']:.2f}"
    )


def _slope(xs: list[float], ys: list[float]) -> float:
    """The least-squares slope of ys over xs."""
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    den = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / den if den else 0.0


def _growing_nodes(first: dict, last: dict, limit: int = 4) -> list[tuple[str, int, int]]:
    """The dbt nodes whose reads grew most between two builds (name, MB then, MB now)."""
    then = {n["node"]: n["pages"] for n in first.get("nodes_reading_most", [])}
    now = {n["node"]: n["pages"] for n in last.get("nodes_reading_most", [])}
    grew = sorted(now, key=lambda node: -(now[node] - then.get(node, 0)))
    return [
        (node, round(then.get(node, 0) * 8192 / 1e6), round(now[node] * 8192 / 1e6))
        for node in grew[:limit]
        if now[node] > then.get(node, 0)
    ]


def render(result: dict) -> str:
    points = result["points"]
    first, last = points[0], points[-1]
    base = first["day_build"]
    lines = [
        f"**History at flat cost** — {result['units']:,} units, {len(result['periods'])} periods "
        f"({len(result['years'])} years × 3), measured {result['measured_at'][:10]} on "
        f"{result['machine']['cpus']} CPUs shared with other work (`python -m bench.history`; "
        f"the whole run {result['total_seconds'] / 60:.0f} min). Each build is `dbt build` as the "
        "morning's build runs it (models, snapshot, data and unit tests): its wall time; its "
        "CPU time, dbt's process and the PostgreSQL cluster's (what the work costs whatever "
        "else the machine does: the load average at the start of each day's build is given); "
        "and the MB it read from the warehouse's tables and indexes (8 kB pages, in memory or "
        "on disk). Ratios are wall / CPU / read.",
        "",
        "| periods | versions in raw | the period's build | the day's build | day ÷ first day "
        "| load | full refresh | full ÷ day | same rows | marts MB | intermediate MB | "
        "raw + parsed + quality MB |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|:---:|---:|---:|---:|",
    ]
    for p in points:
        day, full = p["day_build"], p.get("full_build")
        schemas = p["sizes"]["schemas"]
        landed = sum(schemas.get(s, 0) for s in ("raw", "parsed", "quality"))
        same = ("yes" if p["same_as_full_refresh"] else "NO") if full else "–"
        lines.append(
            f"| {p['periods']} ({p['period']}) | {p['counts']['versions']:,} | "
            f"{_read(p['period_build'])} | {_read(day)} | {_ratio(day, base)} | "
            f"{day.get('load_average', '–')} | "
            + (f"{_read(full)} | {_ratio(full, day)}" if full else "– | –")
            + f" | {same} | {_mb(schemas.get('marts', 0))} | "
            f"{_mb(schemas.get('intermediate', 0))} | {_mb(landed)} |"
        )
    index = [p["periods"] for p in points]
    day_seconds = [p["day_build"]["seconds"] for p in points]
    day_cpu = [_cpu(p["day_build"]) for p in points]
    day_pages = [p["day_build"]["pages_read"] * 8192 / 1e6 for p in points]
    marts = [p["sizes"]["schemas"].get("marts", 0) / 1e6 for p in points]
    fulls = [p for p in points if p.get("full_build")]
    later = points[1:] or points
    cpu_text = (
        f"; its CPU time {day_cpu[0]:.0f} s at the first period and {day_cpu[-1]:.0f} s at the "
        f"last ({min(day_cpu):.0f} to {max(day_cpu):.0f} s, fitted "
        f"{_slope(index, day_cpu):+.1f} s a period)"
        if None not in day_cpu
        else ""
    )
    lines += [
        "",
        f"Each season adds about {first['landed']['versions']:,} versions to raw "
        f"({first['landed']['runs']} daily validation runs; its last morning, the day's build, "
        f"{first['last_day']['versions']:,}). While the history grew "
        f"{last['counts']['versions'] / first['counts']['versions']:.0f}-fold, the day's build "
        f"took {day_seconds[0]:.0f} s of wall time at the first period and "
        f"{day_seconds[-1]:.0f} s at the last ({min(day_seconds):.0f} to "
        f"{max(day_seconds):.0f} s, fitted {_slope(index, day_seconds):+.1f} s a period)"
        f"{cpu_text}, and read {day_pages[0]:,.0f} MB, then {day_pages[-1]:,.0f} MB "
        f"(fitted {_slope(index, day_pages):+,.0f} MB a period). The period's build, a whole "
        "season taken in at once, read "
        f"{min(p['period_build']['pages_read'] for p in later) * 8192 / 1e6:,.0f} to "
        f"{max(p['period_build']['pages_read'] for p in later) * 8192 / 1e6:,.0f} MB from the "
        "second period on (the first makes every table from nothing). The marts grow by "
        f"{_slope(index, marts):,.0f} MB a period.",
    ]
    if fulls:
        lines += [
            "",
            "A full refresh (what every build was before the history was incremental) took "
            + ", ".join(
                f"{p['full_build']['seconds']:.0f} s at {p['periods']}"
                + (f" (CPU {_cpu(p['full_build']):.0f} s)" if _cpu(p["full_build"]) else "")
                for p in (fulls[0], fulls[-1])
            )
            + " periods; every one gave the same rows as the incremental builds: "
            + ("yes" if all(p["same_as_full_refresh"] for p in fulls) else "NO")
            + ".",
        ]
    growing = _growing_nodes(first["day_build"], last["day_build"])
    if growing:
        lines += [
            "",
            "What the day's build reads more of at the last period than at the first (dbt nodes, "
            "from `pg_stat_statements`; `insert into <mart>`: a table mart built from scratch; "
            "`other`: statements without a node's name, such as commits and the analyses of "
            "hooks): "
            + ", ".join(f"`{node}` {then:,} → {now:,} MB" for node, then, now in growing)
            + ".",
        ]
    lines += [
        "",
        "Slowest nodes of the last day's build: "
        + ", ".join(f"`{n['node']}` {n['seconds']} s" for n in last["day_build"]["slowest"])
        + ".",
    ]
    return "\n".join(lines) + "\n"


def plot(result: dict, path: Path) -> Path:
    """Seconds of each build, and the marts' size, against the periods of history."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    points = result["points"]
    index = [p["periods"] for p in points]
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.6))
    left.plot(index, [p["day_build"]["seconds"] for p in points], "o-", label="the day's build")
    left.plot(
        index, [p["period_build"]["seconds"] for p in points], "s-", label="the period's build"
    )
    fulls = [p for p in points if p.get("full_build")]
    left.plot(
        [p["periods"] for p in fulls],
        [p["full_build"]["seconds"] for p in fulls],
        "^--",
        label="full refresh (every build before)",
    )
    if all(_cpu(p["day_build"]) is not None for p in points):
        left.plot(
            index,
            [_cpu(p["day_build"]) for p in points],
            "o:",
            color="tab:blue",
            label="the day's build, CPU (dbt + PostgreSQL)",
        )
        left.plot(
            [p["periods"] for p in fulls],
            [_cpu(p["full_build"]) for p in fulls],
            "^:",
            color="tab:green",
            label="full refresh, CPU",
        )
    left.set(
        xlabel="periods of history (3 a year)",
        ylabel="seconds (wall, or CPU)",
        title=f"dbt build, {result['units']:,} units",
        ylim=(0, None),
    )
    left.legend(fontsize=8)
    right.plot(
        index,
        [p["day_build"]["pages_read"] * 8192 / 1e9 for p in points],
        "o-",
        label="read by the day's build",
    )
    right.plot(
        [p["periods"] for p in fulls],
        [p["full_build"]["pages_read"] * 8192 / 1e9 for p in fulls],
        "^--",
        label="read by a full refresh",
    )
    right.plot(
        index,
        [p["sizes"]["schemas"].get("marts", 0) / 1e9 for p in points],
        "s:",
        label="size of the marts",
    )
    right.set(
        xlabel="periods of history (3 a year)",
        ylabel="GB",
        yscale="log",
        title="Pages read (8 kB, memory or disk) and the marts' size",
    )
    right.legend(fontsize=8)
    for axis in (left, right):
        axis.set_xticks(index)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def write_results(result: dict, folder: Path, name: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.json").write_text(
        json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    (folder / f"{name}.md").write_text(render(result), encoding="utf-8")
    plot(result, folder / f"{name}.png")


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
    parser.add_argument(
        "--render",
        type=Path,
        metavar="JSON",
        help="draw the Markdown and the chart again from a results file, without measuring",
    )
    args = parser.parse_args(argv)
    if args.render:
        result = json.loads(args.render.read_text(encoding="utf-8"))
        write_results(result, args.render.parent, args.render.stem)
        print(render(result))
        return 0
    years = [int(y) for y in args.years.split(",")]
    result = run(args.units, years, args.full_every, args.last_day_share, args.seed, args.workdir)
    write_results(result, args.out, args.name)
    print(render(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
