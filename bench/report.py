"""The bench's results: ``<name>.json`` (everything measured), ``<name>.md`` (the tables
docs/benchmarks.md quotes) and ``<name>.png`` (time and API calls against the number of units)."""

from __future__ import annotations

import json
from pathlib import Path

#: goals of issue 8
FULL_CYCLE_LIMIT_S = 600.0  # 3,400 units, zero-latency emulator, 2 cores
INCREMENTAL_LIMIT_S = 60.0
#: "memory stays flat per unit": the memory a stage needs per added unit between the larger
#: sizes is at most this factor (plus measurement noise) of what it needs between the smaller
#: ones — linear or better, never growing faster than the units
SLOPE_TOLERANCE = 1.25
SLOPE_NOISE_KIB = 8.0
GOAL_UNITS = 3400

MIB = 1024.0


#: Drive calls made after each read to keep the evidence of its received time (ingest/pull.py):
#: not reads of the content, so counted apart from the bound's listing + one read each
EVIDENCE_CALLS = ("drive.files.get", "drive.revisions.list")


def _reads(stage: dict) -> int:
    return sum(n for name, n in stage["api"]["calls"].items() if name not in EVIDENCE_CALLS)


def _evidence(stage: dict) -> int:
    return sum(stage["api"]["calls"].get(name, 0) for name in EVIDENCE_CALLS)


def cycle_figures(run: dict, cycle: dict, quota: int) -> dict:
    """One row of figures for a cycle of a run."""
    stages = cycle["stages"]
    pull = stages["pull"]
    baseline = run["baseline_a"]
    ours = _reads(pull)
    a_calls = baseline["api"]["total"]
    bound = cycle["bound_calls"]
    seconds = {
        "pull": pull["seconds"] - pull.get("land_seconds", 0.0),
        "land": pull.get("land_seconds", 0.0),
        "validate": stages["validate"]["seconds"],
        "build": stages["build"]["seconds"],
        "publish": stages["publish"]["seconds"],
    }
    peak = {
        "pull+land": pull["max_rss_kib"] / MIB,
        "validate": stages["validate"]["max_rss_kib"] / MIB,
        "build": stages["build"]["max_rss_kib"] / MIB,
        "publish": stages["publish"]["max_rss_kib"] / MIB,
    }
    calls = {
        name: stages[name]["api"]["total"] for name in ("pull", "validate", "build", "publish")
    }
    throttled = sum(int(s["api"]["faults"].get("429", 0)) for s in stages.values())
    return {
        "units": run["units"],
        "mode": run["mode"],
        "cycle": cycle["cycle"],
        "pull_mode": cycle["pull_mode"],
        "files_listed": cycle["files_listed"],
        "spreadsheets_read": cycle["spreadsheets_read"],
        "read_calls": ours,
        "bound_calls": bound,
        "evidence_calls": _evidence(pull),
        "baseline_a_calls": a_calls,
        "calls_vs_bound": ours / bound if bound else None,
        "calls_vs_a": ours / a_calls if a_calls else None,
        "stage_calls": calls,
        "cycle_calls": sum(calls.values()),
        "quota_s": {
            "ours": ours * 60.0 / quota,
            "a": a_calls * 60.0 / quota,
            "bound": bound * 60.0 / quota,
        },
        "seconds": seconds,
        "cycle_seconds": sum(seconds.values()),
        "read_land_seconds": pull["seconds"],
        "baseline_a_seconds": baseline["seconds"],
        "read_land_vs_a": pull["seconds"] / baseline["seconds"] if baseline["seconds"] else None,
        "peak_mib": peak,
        "baseline_a_peak_mib": baseline["max_rss_kib"] / MIB,
        "throttled": throttled,
        "dbt_build": stages["build"].get("dbt_build", {}),
        # what the build stage chose to redo (pipeline.dbt.build_warehouse)
        "catalogue_reloaded": (stages["build"].get("result") or {}).get("catalogue_reloaded"),
        "docs_generated": (stages["build"].get("result") or {}).get("docs_generated"),
        "cpu_seconds": {k: v.get("cpu_seconds") for k, v in stages.items()},
        "baseline_a_throttled": int(baseline["api"]["faults"].get("429", 0)),
    }


def figures(results: dict) -> list[dict]:
    quota = results["options"]["quota"]
    return [
        cycle_figures(run, cycle, quota)
        for run in results["runs"]
        for cycle in run["cycles"].values()
    ]


def memory_slopes(rows: list[dict]) -> list[dict]:
    """Per stage, the extra peak memory per added unit (KiB/unit) between consecutive sizes of
    the full cycle in scale mode."""
    full = sorted(
        (r for r in rows if r["mode"] == "scale" and r["cycle"] == "full"), key=lambda r: r["units"]
    )
    out = []
    for a, b in zip(full, full[1:]):
        out.append(
            {
                "from": a["units"],
                "to": b["units"],
                "kib_per_unit": {
                    k: (b["peak_mib"][k] - a["peak_mib"][k]) * 1024 / (b["units"] - a["units"])
                    for k in a["peak_mib"]
                },
            }
        )
    return out


def goals(rows: list[dict]) -> list[dict]:
    """Each goal of the issue with what was measured and whether it is met."""
    out = []
    off = [r for r in rows if r["read_calls"] != r["bound_calls"]]
    out.append(
        {
            "goal": "API calls equal the physical bound (every size, mode and cycle)",
            "measured": "all equal"
            if not off
            else "; ".join(
                f"{r['units']} {r['mode']} {r['cycle']}: {r['read_calls']} vs {r['bound_calls']}"
                for r in off
            ),
            "met": not off and bool(rows),
        }
    )
    unchanged = [r for r in rows if r["cycle"] == "unchanged"]
    out.append(
        {
            "goal": "a cycle with nothing changed reads with one listing call (pull)",
            "measured": ", ".join(
                f"{r['units']} {r['mode']}: {r['stage_calls']['pull']}" for r in unchanged
            ),
            "met": bool(unchanged) and all(r["stage_calls"]["pull"] == 1 for r in unchanged),
        }
    )
    out.append(
        {
            "goal": "a cycle with nothing changed costs one listing call (whole cycle, "
            "publish included)",
            "measured": ", ".join(
                f"{r['units']} {r['mode']}: {r['cycle_calls']} "
                f"(pull {r['stage_calls']['pull']}, publish {r['stage_calls']['publish']})"
                for r in unchanged
            ),
            "met": bool(unchanged) and all(r["cycle_calls"] == 1 for r in unchanged),
        }
    )
    slopes = memory_slopes(rows)
    if slopes:
        first, last = slopes[0], slopes[-1]
        flat = {
            k: last["kib_per_unit"][k]
            <= first["kib_per_unit"][k] * SLOPE_TOLERANCE + SLOPE_NOISE_KIB
            for k in first["kib_per_unit"]
        }
        out.append(
            {
                "goal": "memory stays flat per unit as units grow: no stage needs more "
                "memory per added unit at the large sizes than at the small ones "
                f"(KiB per added unit, {first['from']}→{first['to']} vs "
                f"{last['from']}→{last['to']} units)",
                "measured": ", ".join(
                    f"{k} {first['kib_per_unit'][k]:.0f} → {last['kib_per_unit'][k]:.0f}"
                    for k in first["kib_per_unit"]
                ),
                "met": len(slopes) >= 2 and all(flat.values()),
            }
        )
    for cycle, limit, label in (
        ("full", FULL_CYCLE_LIMIT_S, "full cycle"),
        ("incremental", INCREMENTAL_LIMIT_S, "incremental cycle (one unit changed)"),
    ):
        [row] = [
            r
            for r in rows
            if r["mode"] == "scale" and r["cycle"] == cycle and r["units"] == GOAL_UNITS
        ] or [None]
        out.append(
            {
                "goal": f"{label} at {GOAL_UNITS:,} units, zero-latency emulator, within "
                f"{limit:.0f} s",
                "measured": f"{row['cycle_seconds']:.0f} s" if row else "not run",
                "met": bool(row) and row["cycle_seconds"] <= limit,
            }
        )
    return out


def _s(seconds: float) -> str:
    return f"{seconds:.1f}" if seconds < 100 else f"{seconds:.0f}"


def _cpu(row: dict) -> str:
    """CPU seconds of the cycle's stage processes (imports included; PostgreSQL, the emulator
    and LibreOffice not), which other work on the machine does not inflate."""
    values = [v for v in row["cpu_seconds"].values() if v is not None]
    return _s(sum(values)) if values else "–"


def _ratio(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}" if value < 10 else f"{value:.0f}"


def markdown(results: dict) -> str:
    rows = figures(results)
    m = results["machine"]
    opts = results["options"]
    lines = [
        f"Bench run {results['started_at']} — `{results['command']}`; "
        f"machine: {m['cpus']} CPUs ({m['cpu_model']}), {m['ram_gib']} GiB RAM, "
        f"Python {m['python']}, {m['postgresql']}; load average (1/5/15 min) "
        f"{m.get('load_average_start')} at the start, {m.get('load_average_end', '–')} at the "
        f"end (other work on the machine). Quota figures use "
        f"{opts['quota']} reads a minute per user.",
        "",
        "**API calls and time** (scale mode: emulator with no latency and no quota; "
        "wall seconds of each stage; *quota min*: the minutes Google's read quota needs for "
        "those calls; *cycle CPU s*: CPU time of our stage processes, imports included, "
        "PostgreSQL, the emulator and LibreOffice not). (a) = the usual gspread + pandas "
        "script, (b) = the physical bound.",
        "",
        "| units | cycle | reads: ours | (b) | (a) | ours/(b) | ours/(a) | quota min: ours | (b) "
        "| (a) | pull s | land s | validate s | build s | publish s | cycle s | cycle CPU s "
        "| read+land s: ours / (a) |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        if r["mode"] != "scale":
            continue
        s = r["seconds"]
        lines.append(
            f"| {r['units']:,} | {r['cycle']} | {r['read_calls']:,} | {r['bound_calls']:,} | "
            f"{r['baseline_a_calls']:,} | {_ratio(r['calls_vs_bound'])} | "
            f"{_ratio(r['calls_vs_a'])} | {r['quota_s']['ours'] / 60:.1f} | "
            f"{r['quota_s']['bound'] / 60:.1f} | {r['quota_s']['a'] / 60:.1f} | "
            f"{_s(s['pull'])} | {_s(s['land'])} | {_s(s['validate'])} | {_s(s['build'])} | "
            f"{_s(s['publish'])} | **{_s(r['cycle_seconds'])}** | {_cpu(r)} | "
            f"{_s(r['read_land_seconds'])} / {_s(r['baseline_a_seconds'])} = "
            f"{_ratio(r['read_land_vs_a'])} |"
        )
    quota_rows = [r for r in rows if r["mode"] == "quota"]
    if quota_rows:
        lines += [
            "",
            f"**Under the quota** ({opts['quota']} reads a minute per user, "
            f"{opts['latency'] * 1000:.0f} ms a call; our client limits itself, (a) retries its "
            "429s with gspread's BackOffHTTPClient; calls as the emulator received them, "
            "429s included):",
            "",
            "| units | cycle | reads: ours | (b) | (a) | read+land s: ours | (a) | ours/(a) | "
            "429s: ours | (a) | cycle s |",
            "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for r in quota_rows:
            lines.append(
                f"| {r['units']:,} | {r['cycle']} | {r['read_calls']:,} | {r['bound_calls']:,} "
                f"| {r['baseline_a_calls']:,} | {_s(r['read_land_seconds'])} | "
                f"{_s(r['baseline_a_seconds'])} | {_ratio(r['read_land_vs_a'])} | "
                f"{r['throttled']} | {r['baseline_a_throttled']} | {_s(r['cycle_seconds'])} |"
            )
    lines += [
        "",
        "**Peak memory** (MiB, peak RSS of the stage's own process, "
        "`VmHWM`; pull and land share a process):",
        "",
        "| units | cycle | pull+land | validate | build | publish | (a) script |",
        "|---:|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        if r["mode"] != "scale":
            continue
        p = r["peak_mib"]
        lines.append(
            f"| {r['units']:,} | {r['cycle']} | {p['pull+land']:.0f} | "
            f"{p['validate']:.0f} | {p['build']:.0f} | {p['publish']:.0f} | "
            f"{r['baseline_a_peak_mib']:.0f} |"
        )
    builds = [r for r in rows if r["mode"] == "scale" and r["dbt_build"]]
    if builds:
        lines += [
            "",
            "**Where the build's time goes** (`dbt build` alone: elapsed seconds, and "
            "the sum of its nodes' seconds by kind — nodes run 4 at a time; the build "
            "stage also runs `source freshness`, and `docs generate` when the project "
            "changed; *catalogue loaded*: the seeds were reloaded, which happens only when "
            "their files changed):",
            "",
            "| units | cycle | build stage s | dbt build elapsed s | catalogue loaded | "
            "docs generated | seeds | models | tests | snapshot |",
            "|---:|---|---:|---:|---|---|---:|---:|---:|---:|",
        ]
        for r in builds:
            b = r["dbt_build"]
            n = b.get("node_seconds", {})
            lines.append(
                f"| {r['units']:,} | {r['cycle']} | {_s(r['seconds']['build'])} | "
                f"{_s(b.get('elapsed_seconds', 0))} | "
                f"{_yes(r.get('catalogue_reloaded'))} | {_yes(r.get('docs_generated'))} | "
                f"{_s(n.get('seed', 0))} | "
                f"{_s(n.get('model', 0))} | {_s(n.get('test', 0))} | "
                f"{_s(n.get('snapshot', 0))} |"
            )
    slopes = memory_slopes(rows)
    if slopes:
        lines += [
            "",
            "Peak memory per added unit (KiB per unit, full cycle):",
            "",
            "| units | " + " | ".join(slopes[0]["kib_per_unit"]) + " |",
            "|---|" + "---:|" * len(slopes[0]["kib_per_unit"]),
        ]
        for sl in slopes:
            lines.append(
                f"| {sl['from']:,} → {sl['to']:,} | "
                + " | ".join(f"{v:.0f}" for v in sl["kib_per_unit"].values())
                + " |"
            )
    lines += ["", "**Goals**", "", "| goal | measured | |", "|---|---|---|"]
    for g in goals(rows):
        lines.append(f"| {g['goal']} | {g['measured']} | {'met' if g['met'] else '**not met**'} |")
    return "\n".join(lines) + "\n"


def _yes(flag) -> str:
    return "–" if flag is None else ("yes" if flag else "no")


def plot(results: dict, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [r for r in figures(results) if r["mode"] == "scale"]
    by = {
        c: sorted((r for r in rows if r["cycle"] == c), key=lambda r: r["units"])
        for c in ("full", "unchanged", "incremental")
    }
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.8))
    units = [r["units"] for r in by["full"]]
    left.plot(units, [r["cycle_seconds"] for r in by["full"]], "o-", label="ours: full cycle")
    left.plot(
        [r["units"] for r in by["incremental"]],
        [r["cycle_seconds"] for r in by["incremental"]],
        "o-",
        label="ours: incremental (1 unit changed)",
    )
    left.plot(
        units, [r["read_land_seconds"] for r in by["full"]], "s--", label="ours: read + land (full)"
    )
    left.plot(
        units,
        [r["baseline_a_seconds"] for r in by["full"]],
        "^-",
        label="(a) script: read + to_sql",
    )
    left.plot(
        units,
        [r["quota_s"]["bound"] for r in by["full"]],
        ":",
        color="grey",
        label="(b) quota time of the bound (full)",
    )
    left.axhline(
        FULL_CYCLE_LIMIT_S,
        color="tab:blue",
        lw=0.8,
        ls="--",
        label=f"goal: full cycle ≤ {FULL_CYCLE_LIMIT_S:.0f} s at {GOAL_UNITS:,}",
    )
    left.axhline(
        INCREMENTAL_LIMIT_S,
        color="tab:orange",
        lw=0.8,
        ls="--",
        label=f"goal: incremental ≤ {INCREMENTAL_LIMIT_S:.0f} s at {GOAL_UNITS:,}",
    )
    left.set(
        xscale="log",
        yscale="log",
        xlabel="units",
        ylabel="seconds",
        title="Wall time (zero-latency emulator)",
    )
    left.legend(fontsize=8)
    right.plot(units, [r["read_calls"] for r in by["full"]], "o-", label="ours: full")
    right.plot(
        [r["units"] for r in by["incremental"]],
        [r["read_calls"] for r in by["incremental"]],
        "o-",
        label="ours: incremental",
    )
    right.plot(
        [r["units"] for r in by["unchanged"]],
        [r["read_calls"] for r in by["unchanged"]],
        "o-",
        label="ours: unchanged",
    )
    right.plot(
        units, [r["baseline_a_calls"] for r in by["full"]], "^-", label="(a) script (every cycle)"
    )
    right.plot(units, [r["bound_calls"] for r in by["full"]], "k:", label="(b) bound: full")
    right.set(
        xscale="log", yscale="log", xlabel="units", ylabel="API calls", title="API calls per cycle"
    )
    right.legend(fontsize=8)
    for axis in (left, right):
        axis.set_xticks(units, [f"{u:,}" for u in units])
        axis.minorticks_off()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def write_results(results: dict, folder: Path, name: str = "latest") -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    json_path = folder / f"{name}.json"
    # the measurements first, so that nothing measured is lost to a mistake below
    json_path.write_text(
        json.dumps(results, ensure_ascii=False, indent=2, default=str), encoding="utf-8"
    )
    rows = figures(results)
    payload = {**results, "figures": rows, "goals": goals(rows)}
    json_path.write_text(
        json.dumps(payload, ensure_ascii=False, indent=2, default=str), encoding="utf-8"
    )
    md_path = folder / f"{name}.md"
    md_path.write_text(markdown(results), encoding="utf-8")
    paths = [json_path, md_path]
    if any(r["mode"] == "scale" for r in rows):
        paths.append(plot(results, folder / f"{name}.png"))
    return paths


def main(argv: list[str] | None = None) -> int:
    """``python -m bench.report RESULTS.json``: write the Markdown and the plot again."""
    import sys

    path = Path((argv or sys.argv[1:])[0])
    results = json.loads(path.read_text(encoding="utf-8"))
    results.pop("figures", None), results.pop("goals", None)
    for written in write_results(results, path.parent, path.stem):
        print(written)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
