"""The bench at a tiny size: 10 units, zero latency, no quota — real PostgreSQL, dbt, Great
Expectations and gspread against the emulator over HTTP, each stage in its own process.

Only deterministic things are asserted (API call counts against the physical bound, what an
unchanged cycle costs, the files and the table's columns); times and memory are measured by the
bench, never asserted here.
"""

from __future__ import annotations

import bisect
import json

import pytest

from bench.run import bound_calls, client_rate_limit, quota_seconds

UNITS = 10


def test_the_physical_bound_is_one_listing_call_per_thousand_files_plus_one_read_each():
    assert bound_calls(0, 0) == 1  # nothing changed: one listing call
    assert bound_calls(2, 1) == 2
    assert bound_calls(3400, 3400) == 4 + 3400
    assert bound_calls(1000, 1000) == 1 + 1000 and bound_calls(1001, 1001) == 2 + 1001
    assert quota_seconds(3400, 60) == pytest.approx(3400.0)  # ≥ 56.7 minutes


def test_our_client_limit_never_lets_a_minute_exceed_the_quota():
    """Simulated clock: the limiter set to the quota, with idle spells between bursts of
    demand; no 60-second window holds more calls than the quota, even with every call reaching
    Google up to a second late, and the quota is used, not wasted."""
    import random

    from sheets.quota import MemoryCounters, QuotaLimiter
    from tonghop.quota import Quota

    for per_minute in (60, 100, 300):
        now = [0.0]
        sent = []

        def sleep(seconds, now=now):
            now[0] += seconds

        quota = Quota(sheets_read_per_user=client_rate_limit(per_minute))
        limiter = QuotaLimiter(quota, "sa", MemoryCounters(clock=lambda now=now: now[0]), sleep)
        late = random.Random(per_minute)
        for spell in range(6):
            for _ in range(per_minute * 2):
                limiter.acquire("sheets_read")
                sent.append(now[0] + late.uniform(0, quota.margin_seconds))
            now[0] += 30.0 * spell  # idle
        sent.sort()
        busiest = max(bisect.bisect_left(sent, start + 60.0) - i for i, start in enumerate(sent))
        limit = min(per_minute, quota.sheets_read_per_project)
        assert busiest <= limit
        assert busiest >= limit * 0.9  # and the quota is used, not wasted
    assert client_rate_limit(None) is None


def test_stages_reach_this_checkouts_cluster_not_the_copys(tmp_path, monkeypatch):
    """Each stage imports the private copy of the project, whose default state folder (its own
    .local) holds no cluster secrets: the stage must be pointed at this checkout's."""
    from types import SimpleNamespace

    from bench.run import Run
    from tonghop.settings import state_dir

    monkeypatch.delenv("TONGHOP_STATE_DIR", raising=False)  # as on a fresh shell
    run = SimpleNamespace(
        project=tmp_path / "copy", db="bench_10_scale", rate=None, folder=tmp_path
    )
    env = Run.env(run, SimpleNamespace(url="http://127.0.0.1:1"))
    assert env["TONGHOP_STATE_DIR"] == str(state_dir())
    assert env["PYTHONPATH"] == env["TONGHOP_HOME"] == str(tmp_path / "copy")


@pytest.fixture(scope="module")
def bench_results(settings, tmp_path_factory):
    from bench.run import main

    tmp = tmp_path_factory.mktemp("bench")
    assert (
        main(
            [
                "--sizes",
                str(UNITS),
                "--quota-sizes",
                "none",
                "--workdir",
                str(tmp / "work"),
                "--out",
                str(tmp / "results"),
                "--name",
                "smoke",
            ]
        )
        == 0
    )
    return tmp / "results"


def test_the_bench_writes_json_markdown_and_a_plot(bench_results):
    for suffix in (".json", ".md", ".png"):
        path = bench_results / f"smoke{suffix}"
        assert path.exists() and path.stat().st_size > 0
    assert (bench_results / "smoke.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    table = (bench_results / "smoke.md").read_text(encoding="utf-8")
    for column in (
        "reads: ours",
        "(b)",
        "(a)",
        "ours/(b)",
        "ours/(a)",
        "quota min: ours",
        "pull s",
        "land s",
        "validate s",
        "build s",
        "publish s",
        "cycle s",
        "pull+land",
        "**Goals**",
    ):
        assert column in table, column


def test_api_calls_equal_the_physical_bound_in_every_cycle(bench_results):
    results = json.loads((bench_results / "smoke.json").read_text(encoding="utf-8"))
    rows = {r["cycle"]: r for r in results["figures"]}
    assert set(rows) == {"full", "unchanged", "incremental"}
    for row in rows.values():
        assert row["units"] == UNITS and row["mode"] == "scale"
        assert row["read_calls"] == row["bound_calls"], row
        # one Drive files.get after each read: the evidence of its received time
        assert row["evidence_calls"] == row["spreadsheets_read"], row
    assert rows["full"]["read_calls"] == 1 + UNITS
    assert rows["incremental"]["read_calls"] == 2 and rows["incremental"]["spreadsheets_read"] == 1
    [run] = results["runs"]
    assert run["cycles"]["incremental"]["new_versions"] == 1
    assert run["cycles"]["full"]["new_versions"] == UNITS


def test_an_unchanged_cycle_reads_with_exactly_one_listing_call(bench_results):
    results = json.loads((bench_results / "smoke.json").read_text(encoding="utf-8"))
    [run] = results["runs"]
    stages = run["cycles"]["unchanged"]["stages"]
    assert stages["pull"]["api"]["calls"] == {"drive.files.list": 1}
    assert stages["validate"]["api"]["total"] == 0
    assert stages["validate"]["result"]["reports"] == 0
    # as in the DAG: nothing landed or checked, so no build and no publication
    assert stages["build"]["skipped"] and stages["publish"]["skipped"]
    rows = {
        r["cycle"]: r
        for r in json.loads((bench_results / "smoke.json").read_text(encoding="utf-8"))["figures"]
    }
    assert rows["unchanged"]["cycle_calls"] == 1
    # what dbt build ran is recorded per kind of node (seeds are reloaded on every build)
    assert {"seed", "model", "test", "snapshot"} <= set(
        run["cycles"]["full"]["stages"]["build"]["dbt_build"]["node_seconds"]
    )


def test_the_usual_script_reads_every_tab_of_every_sheet_every_time(bench_results):
    results = json.loads((bench_results / "smoke.json").read_text(encoding="utf-8"))
    [run] = results["runs"]
    script = run["baseline_a"]
    assert script["result"]["spreadsheets"] == UNITS
    # one listing, then per spreadsheet: open_by_key, worksheets() and one read per tab
    assert script["api"]["total"] == 1 + 2 * UNITS + script["result"]["worksheets"]
    assert script["result"]["rows"] > 0
