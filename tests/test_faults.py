"""Faults survived, nothing lost: the pipeline under Google's bad days, a database restarted or
crashed under a stage, a killed process, a rerun and two cycles at once, compared with a clean
run.

One demo province (CB-2026-6T, seed 7; a sample of its units with every demo scenario among
them, so that the suite stays quick) is generated once. A **reference** cycle runs on it
cleanly in a database of its own (pull → validate → feedback → dbt build → publish, the
functions Airflow's tasks call; the build without its freshness check and docs site, the
publication without LibreOffice's PDF, which is not reproducible and never compared). Each
scenario then runs on a fresh database (or a copy of the reference's) and a fresh copy of the
province in its own emulator, injects its fault, does what Airflow or an operator would do next
(the task's retry, the next cycle, nothing), and is compared with the reference through
``tests/faults_support.py``: every raw version kept, intact and once; the landed rows equal; the
marts equal where the scenario builds them; no duplicate key in any mart. A fault of the Sheets
API, of the pull or of validation is compared up to the landed rows (dbt builds the marts from
them alone: no build needed); a scenario whose fault concerns dbt or the whole cycle (restart,
rerun, two cycles) builds and compares the marts. ``test_the_comparison_sees_what_a_fault_could_do``
damages the reference's warehouse nine ways (in a transaction rolled back) and checks that each
is reported: "nothing lost" can fail.

Where a fault must hit inside a stage, the test holds the stage there with a lock of its own
(on a spreadsheet's key, on the table the stage writes next) and waits until PostgreSQL shows it
waiting (``pg_stat_activity``), so the kill or crash lands at the same point on every run.

Each scenario records what was injected, how often, and what was survived or lost; at the end,
when every scenario ran, the table is written to the test state folder
(``$TONGHOP_STATE_DIR/results/faults.{md,json}``, git-ignored: a test run changes no tracked
file). With ``TONGHOP_UPDATE_DOCS=1`` it also goes to the tracked
``tests/results/faults.{md,json}`` and into docs/reliability.md (``tests/faults_support.py``).
Nothing is faked: real PostgreSQL (restarted and crashed for real), dbt, Great Expectations,
and gspread over HTTP to the emulator, whose faults are set through
``POST /_emulator/config``.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import psycopg2
import psycopg2.errors
import pytest
import requests

from tests import faults_support as fs

PERIOD = "CB-2026-6T"
SEED = 7
PER_SCENARIO = 4  # units of each demo scenario in the sample
REF_DB = "tonghop_faults_ref"
LANDED_DB = "tonghop_faults_landed"  # the reference after pull and validation, before dbt
DB = "tonghop_faults"  # each scenario's database, made afresh; the reference is built
# in it too, then copied to REF_DB (one name for every build:
# dbt's partial parse stays valid from one to the next)
SCENARIOS = ("storm", "restart", "crash-pull", "crash-validate", "sigkill", "rerun", "concurrent")
#: production's number of tries (RetryPolicy), with waits shortened to keep the suite quick
FAST_RETRIES = {
    "max_tries": 6,
    "base_seconds": 0.01,
    "cap_seconds": 0.05,
    "jitter_seconds": 0.01,
    "timeout_seconds": 1.0,
}


# ------------------------------------------------------------------ the world and the report
@dataclass
class World:
    root: Path  # the generated province (never served itself: copied per emulator)
    tmp: Path
    manifest: object
    entries: list  # the sample's registry entries

    @property
    def ids(self) -> list[str]:
        return sorted(e.spreadsheet_id for e in self.entries)


@dataclass
class Reference:
    settings: object
    server: object
    fp: fs.Fingerprint
    published: dict


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> World:
    from tooling.demo_setup import generate_into_emulator

    tmp = tmp_path_factory.mktemp("faults")
    manifest, entries = generate_into_emulator(
        PERIOD, seed=SEED, root=tmp / "province", register=False
    )
    sample: set[str] = set()
    for scenario in sorted(set(manifest.scenarios.values())):
        sample |= set(manifest.units_with(scenario)[:PER_SCENARIO])
    return World(tmp / "province", tmp, manifest, [e for e in entries if e.unit_code in sample])


@pytest.fixture(scope="module")
def emulators(world):
    """A factory of emulators, each serving its own copy of the province."""
    from sheets_emulator import EmulatorServer

    started = []

    def start(name: str, province: bool = True):
        root = world.tmp / f"emulator-{name}"
        if province:
            shutil.copytree(world.root, root)
        server = EmulatorServer(root, host="127.0.0.1", port=0).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="module")
def report():
    """Outcomes by scenario; when every scenario ran (passed or not), the table is written
    as the module ends: into the test state folder, and with TONGHOP_UPDATE_DOCS=1 also into
    tests/results and docs/reliability.md (a run of some of them writes nothing, so that the
    table is always the whole suite's)."""
    outcomes: dict[str, fs.Outcome] = {}
    state: dict[str, str] = {}
    yield outcomes, state
    if set(outcomes) == set(SCENARIOS) and "reference" in state:
        fs.write_report(
            [outcomes[k] for k in SCENARIOS],
            state["reference"],
            reference_seconds=state.get("reference_seconds", 0.0),
        )


# ------------------------------------------------------------------ helpers
def fresh_database(settings, name: str, template: str | None = None) -> None:
    """Drop and create a warehouse database (a copy of ``template`` if given), structure and
    grants applied as `tonghop db start` applies them."""
    from tooling import localdb

    localdb.recreate_warehouse(name, template)


def own_settings(settings, name: str, world: World, server=None):
    changes = {"output_dir": world.tmp / f"output-{name}-{time.monotonic_ns()}"}
    if server is not None:
        changes.update(emulator_url=server.url, sheets_backend="emulator")
    return settings.for_database(name).with_overrides(**changes)


def register_sample(own, world: World) -> None:
    from ingest.registry import register

    conn = psycopg2.connect(own.dsn("loader"))
    try:
        register(conn, world.entries)
    finally:
        conn.close()


def env_for(own) -> dict[str, str]:
    """The environment a task process of this warehouse gets (as Airflow's connections give)."""
    return {
        **os.environ,
        "TONGHOP_PG_DB": own.warehouse_db,
        "TONGHOP_EMULATOR_URL": own.emulator_url,
        "TONGHOP_SHEETS_BACKEND": "emulator",
        "TONGHOP_OUTPUT_DIR": str(own.output_dir),
        "PYTHONUNBUFFERED": "1",
    }


def one(dsn: str, query: str, params: tuple = ()):
    conn = psycopg2.connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute(query, params)
            return cur.fetchone()[0]
    finally:
        conn.close()


def wait_for(condition, what: str, timeout: float = 120.0, every: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out waiting for {what}")


class InThread:
    """A stage function running in a thread of this process, as in a task's process: a crash
    of the database concerns the stage's connection, not its process."""

    def __init__(self, function):
        self.result = self.error = None
        self._thread = threading.Thread(target=self._run, args=(function,), daemon=True)
        self._thread.start()

    def _run(self, function) -> None:
        try:
            self.result = function()
        except BaseException as exc:
            self.error = exc

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def join(self, timeout: float) -> bool:
        """Whether the stage ended within ``timeout`` seconds."""
        self._thread.join(timeout)
        return not self._thread.is_alive()


@dataclass
class Crash:
    failed_after: float | None  # seconds from the crash to the stage's end (None: it hung)
    recovered: bool  # the server's log shows the crash recovery at the next start


def crash_under(stage: InThread, hang_after: float = 60.0) -> Crash:
    """`pg_ctl stop -m immediate` of the cluster (a crash: every server process quits at once,
    no checkpoint), wait for the stage to end while the server is down, then start it again
    (PostgreSQL recovers from its WAL)."""
    from tooling import localdb

    cluster = localdb.default_cluster()
    log_start = cluster.log_file.stat().st_size if cluster.log_file.exists() else 0
    crashed = time.monotonic()
    localdb.stop(cluster, mode="immediate")
    ended = stage.join(hang_after)
    failed_after = time.monotonic() - crashed if ended else None
    localdb.start(cluster)
    with cluster.log_file.open("rb") as log:
        log.seek(log_start)
        recovery = log.read().decode("utf-8", "replace")
    return Crash(failed_after, "automatic recovery in progress" in recovery)


def how_it_failed(crash: Crash, error: BaseException | None, says: str) -> str:
    """The "how often" of a crash scenario: when and with what the stage failed."""
    if crash.failed_after is None:
        return "1 crash; the task did NOT fail: it hung"
    from tonghop.errors import WarehouseConnectionLost

    clear = (
        f" ({says})"
        if isinstance(error, WarehouseConnectionLost)
        else f": {' '.join(str(error).split())[:120]}"
    )
    return (
        f"1 crash; the task failed {crash.failed_after:.1f} s after it, the server still "
        f"down, with `{type(error).__name__}`{clear}"
    )


def loader_waiting(own, on: str) -> str | None:
    """The statement of the loader's session of this database that waits for a lock of kind
    ``on``: 'advisory', or 'relation' in a transaction that has written already (its
    transaction id is assigned)."""
    query = one(
        own.dsn("admin"),
        """
        select string_agg(query, '; ')
        from pg_stat_activity where datname = %s and usename = 'loader'
          and wait_event_type = 'Lock' and wait_event = %s
          and (%s = 'advisory' or backend_xid is not null)""",
        (own.warehouse_db, on, on),
    )
    return " ".join(query.split()) if query else None


def served(own, ids: list[str]) -> set[tuple[str, str]]:
    """(spreadsheet, content SHA-256) of what the emulator serves now for each spreadsheet
    (``testing.fingerprint.served``)."""
    return fs.served(own, ids)


def lost_against(reference: Reference, fp: fs.Fingerprint, own, ids, *, marts: bool) -> list[str]:
    """Everything lost, doubled or damaged: the fingerprints' differences, and what the
    emulator serves that raw does not hold (``testing.fingerprint.lost_or_doubled``)."""
    return fs.lost_or_doubled(reference.fp, fp, own, ids, marts=marts)


def configure(server, config: dict) -> None:
    """Set the emulator's faults at run time, as an operator would: POST /_emulator/config."""
    requests.post(f"{server.url}/_emulator/config", json=config, timeout=10).raise_for_status()
    requests.post(f"{server.url}/_emulator/reset-stats", timeout=10).raise_for_status()


def faults_seen(server) -> Counter:
    stats = requests.get(f"{server.url}/_emulator/stats", timeout=10).json()
    return Counter(stats.get("faults", {}))


def fast_client(own):
    from sheets.client import make_client
    from sheets.http import RetryPolicy

    return make_client(own, RetryPolicy(**FAST_RETRIES))


def describe(faults: Counter) -> str:
    names = {
        "429": "429",
        "500": "500",
        "502": "502",
        "503": "503",
        "timeout": "timeouts",
        "slow": "slow",
    }
    return ", ".join(f"{names.get(k, k)} ×{v}" for k, v in sorted(faults.items()))


def summary_spreadsheets(server) -> list[str]:
    """The summary spreadsheets in the emulator's Drive (not in the bin), marked or not."""
    from gspread.urls import DRIVE_FILES_API_V3_URL

    from sheets_emulator import emulator_client

    files = (
        emulator_client(server.url)
        .http_client.request(
            "get",
            DRIVE_FILES_API_V3_URL,
            params={"q": "trashed=false", "pageSize": 1000, "fields": "files(id,name)"},
        )
        .json()["files"]
    )
    return [f["id"] for f in files if f["name"].startswith("Tổng hợp")]


def summary_values(server) -> dict[str, list[list[str]]]:
    """Every tab of the period's summary spreadsheet, as shown."""
    from sheets_emulator import emulator_client

    [summary] = summary_spreadsheets(server)
    spreadsheet = emulator_client(server.url).open_by_key(summary)
    return {ws.title: ws.get_all_values() for ws in spreadsheet.worksheets()}


def answers_per_report(own) -> Counter:
    """How many times each checked report (version × unit) was answered ("written")."""
    conn = psycopg2.connect(own.dsn("admin"))
    try:
        with conn.cursor() as cur:
            cur.execute("""
                select h.sheet_version_id, h.unit_code, count(f.*)
                from parsed.report_headers h
                left join ops.feedback_writes f on f.sheet_version_id = h.sheet_version_id
                     and f.unit_code = h.unit_code and f.outcome = 'written'
                group by 1, 2""")
            return Counter(n for *_, n in cur.fetchall())
    finally:
        conn.close()


# ------------------------------------------------------------------ the clean run
REVIEW_MARTS = {"fct_report_review", "fct_review_decision", "agg_indicator_totals_by_level"}


@pytest.fixture(scope="module")
def reference(settings, world, emulators, report) -> Reference:
    started = time.monotonic()
    from pipeline.cycle import stage_feedback, stage_pull, stage_validate
    from pipeline.dbt import run_dbt
    from publish.bundle import publish_period

    server = emulators("reference")
    own = own_settings(settings, DB, world, server)
    fresh_database(settings, DB)
    register_sample(own, world)
    pulled = stage_pull(own, PERIOD)
    stage_validate(own, PERIOD, pulled["pull_run_id"])
    fresh_database(settings, LANDED_DB, template=DB)  # for the restart scenario
    run_dbt(own, ["build"])  # the build stage without its freshness check and docs site
    told = stage_feedback(own, PERIOD)  # after the build: the tabs say what the marts say
    # the publish stage without the PDF (LibreOffice's, not reproducible, so never compared)
    published = publish_period(own, PERIOD, "reference", pdf=False).as_dict()
    fresh_database(settings, REF_DB, template=DB)  # kept while DB serves the scenarios
    own = own_settings(settings, REF_DB, world, server)
    fp = fs.fingerprint(own.dsn("admin"))

    # the reference itself: all served content kept once and intact, every report answered,
    # every mart there and filled, no duplicate key
    n = len(world.ids)
    assert (pulled["new_versions"], pulled["failed"], told["tabs_written"]) == (n, 0, n)
    assert served(own, world.ids) == {(s, sha) for s, sha, *_ in fp.raw}
    assert fp.versions == n and not fp.corrupt and not fp.doubled
    # the review marts stay empty: the faults' period does not require review (the catalogue's
    # periods.review_required is off), so no report has a reviewer
    assert {m for m, rows in fp.marts.items() if not rows} == REVIEW_MARTS
    assert len(fp.marts) >= 20 + len(REVIEW_MARTS)
    assert not any(fp.duplicates.values()), fp.duplicates
    _, state = report
    state["reference"] = (
        f"a clean cycle (pull → validate → `dbt build` → feedback → publish) of {n} units of "
        f"the demo province for {PERIOD} (seed {SEED}; every demo scenario among them) in a "
        f"database of its own: {fp.summary()}; raw checksum `{fp.digests()['raw'][:12]}`"
    )
    state["reference_seconds"] = time.monotonic() - started
    return Reference(own, server, fp, published)


# ------------------------------------------------------------------ the comparison itself
#: what a fault could do to the warehouse, each of which the comparison must see
DAMAGE = {
    "a version lost": "delete from raw.sheet_versions where sheet_version_id = "
    "(select max(sheet_version_id) from raw.sheet_versions)",
    "a version landed twice": """
        insert into raw.sheet_versions (spreadsheet_id, spreadsheet_title, drive_modified_time,
            fetched_at, content_sha256, payload, pull_run_id)
        select spreadsheet_id, spreadsheet_title, drive_modified_time, now(), content_sha256,
               payload, 'again' from raw.sheet_versions limit 1""",
    "a payload damaged": """
        update raw.sheet_versions set payload = jsonb_set(payload, '{properties,title}', '"x"')
        where sheet_version_id = (select min(sheet_version_id) from raw.sheet_versions)""",
    "a receipt time moved": """
        update raw.sheet_versions set drive_modified_time = drive_modified_time + interval '1 s'
        where sheet_version_id = (select min(sheet_version_id) from raw.sheet_versions)""",
    "a parsed row lost": "delete from parsed.indicator_rows "
    "where ctid = (select min(ctid) from parsed.indicator_rows)",
    "an issue lost": "delete from quality.validation_issues "
    "where issue_id = (select min(issue_id) from quality.validation_issues)",
    "a mart row doubled": "insert into marts.fct_submission "
    "select * from marts.fct_submission limit 1",
    "a mart figure changed": """
        update marts.agg_indicator_totals set total_value = total_value + 1
        where ctid = (select min(ctid) from marts.agg_indicator_totals
                      where total_value is not null)""",
    "a mart row lost": "delete from marts.fct_indicator_value "
    "where ctid = (select min(ctid) from marts.fct_indicator_value)",
}


#: damage the warehouse itself refuses: every mart's key is a constraint (a duplicate never
#: reaches BI, docs/architecture.md)
REFUSED = {"a mart row doubled": psycopg2.errors.UniqueViolation}


def test_the_comparison_sees_what_a_fault_could_do(reference):
    """Each kind of damage, done to the reference's own warehouse (in a transaction rolled
    back), makes the comparison report a loss, or the warehouse refuses it: the scenarios'
    "nothing lost" can fail."""
    conn = psycopg2.connect(reference.settings.dsn("admin"))
    try:
        with conn.cursor() as cur:
            cur.execute("set session_replication_role = replica")  # past raw's triggers
        conn.commit()
        assert fs.differences(reference.fp, fs.fingerprint(conn)) == []
        conn.rollback()
        missed = []
        for damage, statement in DAMAGE.items():
            if damage in REFUSED:
                with pytest.raises(REFUSED[damage]), conn.cursor() as cur:
                    cur.execute(statement)
                conn.rollback()
                continue
            with conn.cursor() as cur:
                cur.execute(statement)
                assert cur.rowcount == 1, damage
            if not fs.differences(reference.fp, fs.fingerprint(conn)):
                missed.append(damage)
            conn.rollback()
    finally:
        conn.close()
    assert not missed, missed


# ------------------------------------------------------------------ the scenarios
def test_rerun_of_a_finished_cycle(settings, reference, report):
    """Every stage again on (a copy of) the reference's warehouse and on its Drive (the DAG
    runs cleared: pull, validate, `dbt build`, feedback, publish, as the reference ran them):
    nothing new landed, checked or answered; the same marts and the same published files."""
    started = time.monotonic()
    fresh_database(settings, DB, template=REF_DB)
    own = reference.settings.for_database(DB)
    result = fs.run_stages(own, PERIOD, "rerun")
    fp = fs.fingerprint(own.dsn("admin"))
    ids = sorted({s for s, *_ in reference.fp.raw})
    lost = lost_against(reference, fp, own, ids, marts=True)
    same_files = result["publish"]["content_sha256"] == reference.published["content_sha256"]
    if not same_files:
        lost.append("the published files differ from the reference's")
    outcomes, _ = report
    pulled, checked = result["pull"], result["validate"]
    outcomes["rerun"] = fs.Outcome(
        scenario="rerun of a finished cycle",
        injected="every stage of the reference's finished cycle run again on (a copy of) its "
        "warehouse and on its Drive, as clearing its DAG runs does (pull, validate, "
        "feedback, `dbt build`, publish)",
        how_often="1 rerun",
        recovery="none needed",
        survived=f"pull ({pulled['mode']}) read {pulled['fetched']} spreadsheets, landed "
        f"{pulled['new_versions']}; validation checked {checked['reports']} reports; "
        f"{result['feedback']['tabs_written']} check tabs rewritten; the published "
        f"files {'are byte-identical' if same_files else 'DIFFER'} "
        f"(content sha256 `{result['publish']['content_sha256'][:12]}`)",
        compared="raw, landed rows and marts",
        lost=lost,
        seconds=time.monotonic() - started,
    )
    assert (pulled["new_versions"], checked["reports"], result["feedback"]["tabs_written"]) == (
        0,
        0,
        0,
    )
    assert not lost, lost


BUILD = (
    "import json; from pipeline.dbt import run_dbt; "
    "from tonghop.settings import load_settings; "
    "print(json.dumps(run_dbt(load_settings(), ['build'])['counts']))"
)


def test_postgres_restarted_during_dbt_build(settings, world, reference, report):
    """`pg_ctl restart -m fast` while `dbt build` runs (in its own process, as an Airflow
    task), on the reference's landed tables: the build fails; the task's retry builds the
    same marts."""
    from pipeline.dbt import run_dbt
    from tooling import localdb

    started = time.monotonic()
    fresh_database(settings, DB, template=LANDED_DB)
    own = own_settings(settings, DB, world)
    log = world.tmp / "restart-build.log"
    with log.open("w") as out:
        build = subprocess.Popen(
            [sys.executable, "-c", BUILD], env=env_for(own), stdout=out, stderr=subprocess.STDOUT
        )
        # restarted once the build writes its incremental models (their delete + insert)
        incremental = """select count(*) from information_schema.tables
                         where table_schema = 'intermediate' and table_type = 'BASE TABLE'
                           and table_name <> 'dbt_incremental_state'"""
        wait_for(
            lambda: build.poll() is not None or one(own.dsn("admin"), incremental),
            "the build to reach the incremental models",
            every=0.05,
        )
        assert build.poll() is None, "the build ended before the restart"
        localdb.restart(localdb.default_cluster())
        build.wait(timeout=600)
    first_attempt = build.returncode
    tail = [
        line
        for line in log.read_text(errors="replace").splitlines()
        if "Done. PASS=" in line or "DbtFailed" in line or "OperationalError" in line
    ]
    retry = run_dbt(own, ["build"])  # Airflow's retry of build_warehouse
    fp = fs.fingerprint(own.dsn("admin"))
    lost = fs.differences(reference.fp, fp)
    outcomes, _ = report
    outcomes["restart"] = fs.Outcome(
        scenario="PostgreSQL restarted during `dbt build`",
        injected="`pg_ctl restart -m fast` of the warehouse's cluster while `dbt build` runs "
        "(once it writes its incremental models)",
        how_often=f"1 restart; the build {'failed' if first_attempt else 'still succeeded'}"
        + (f" ({tail[0].split('Done. ')[-1].strip()})" if tail else ""),
        recovery="the task's retry: `dbt build` again",
        survived=f"the retry built every model and passed every test "
        f"({retry['counts'].get('success', 0)} nodes built, "
        f"{retry['counts'].get('pass', 0)} tests passed)",
        compared="raw, landed rows and marts",
        lost=lost,
        seconds=time.monotonic() - started,
    )
    assert first_attempt != 0, "the restart did not hit the build"
    assert not lost, lost


def test_postgres_crash_while_the_pull_lands(settings, world, emulators, reference, report):
    """PostgreSQL crashes (`pg_ctl stop -m immediate`) while a `pull_shard` task is inside the
    transaction landing a spreadsheet, its version written and not committed (held there by a
    lock the test takes on raw.sheet_fetches, the transaction's next write). The task fails at
    once with a clear error; at the next start the versions committed before are there and the
    cut one is not; Airflow's retry of the task, then `finish_pull` and `validate`, give the
    reference's raw and landed rows."""
    from pipeline.cycle import stage_finish_pull, stage_plan_pull, stage_pull_shard, stage_validate
    from tonghop.errors import WarehouseConnectionLost

    started = time.monotonic()
    server = emulators("crash-pull")
    own = own_settings(settings, DB, world, server)
    fresh_database(settings, DB)
    register_sample(own, world)
    ids = world.ids
    plan = stage_plan_pull(own, PERIOD, f"pull-crash-{time.monotonic_ns()}")  # plan_pull task
    targets = plan["targets"]  # read in this order
    cut = len(targets) // 2
    held = targets[cut][0]
    count = "select count(*) from raw.sheet_versions"
    holder = psycopg2.connect(own.dsn("admin"))
    try:
        with holder.cursor() as cur:
            # the pull stops before landing spreadsheet `cut` (the key ingest.land locks it
            # with); then, its next write blocked, it is let in: it writes the version and
            # waits, inside its transaction, to record the fetch
            cur.execute("select pg_advisory_lock(hashtext(%s))", (held,))
            shard = InThread(lambda: stage_pull_shard(own, plan["pull_run_id"], targets))
            wait_for(
                lambda: not shard.running or loader_waiting(own, "advisory"),
                "the pull to reach the held spreadsheet",
            )
            cur.execute("lock table raw.sheet_fetches in exclusive mode")
            cur.execute("select pg_advisory_unlock(hashtext(%s))", (held,))
            statement = wait_for(
                lambda: not shard.running or loader_waiting(own, "relation"),
                "the pull to write the version and wait inside its transaction",
            )
            assert shard.running, f"the pull ended before the crash: {shard.error}"
            cur.execute(count)
            committed = cur.fetchone()[0]
            crash = crash_under(shard)
    finally:
        holder.close()
    after_crash = one(own.dsn("admin"), count)
    cut_kept = one(
        own.dsn("admin"),
        "select count(*) from raw.sheet_versions where spreadsheet_id = %s",
        (held,),
    )
    retried = stage_pull_shard(own, plan["pull_run_id"], targets)  # Airflow's retry
    pulled = stage_finish_pull(own, plan, [retried])
    stage_validate(own, PERIOD, pulled["pull_run_id"])
    fp = fs.fingerprint(own.dsn("admin"), marts=False)
    lost = lost_against(reference, fp, own, ids, marts=False)
    if after_crash != committed:
        lost.append(f"raw after the crash: {after_crash} versions, {committed} committed before it")
    if crash.failed_after is None:
        lost.append("the pull hung after the crash")
    error = shard.error
    outcomes, _ = report
    outcomes["crash-pull"] = fs.Outcome(
        scenario="PostgreSQL crashed while the pull lands",
        injected="`pg_ctl stop -m immediate` (a crash: every server process quits at once, no "
        "checkpoint) while a `pull_shard` task is inside the transaction landing "
        f"spreadsheet {cut + 1} of {len(targets)}, its version written and not "
        "committed; then started again",
        how_often=how_it_failed(crash, error, "where it was, what is kept, that the retry is safe"),
        recovery="PostgreSQL's crash recovery at start (from the WAL); Airflow's retry of the "
        "`pull_shard` task (the same spreadsheets, the same pull run), then "
        "`finish_pull` and `validate`",
        survived=f"the {committed} versions committed before the crash survived it and the "
        f"one cut was {'rolled back' if not cut_kept else 'KEPT'} ({after_crash} "
        f"after recovery); the retry landed "
        f"{retried['new_versions']} and found {retried['unchanged']} unchanged",
        compared="raw and landed rows",
        lost=lost,
        seconds=time.monotonic() - started,
    )
    assert "insert into raw.sheet_fetches" in statement, statement
    assert crash.recovered, "the server did not recover from a crash at start"
    assert isinstance(error, WarehouseConnectionLost), repr(error)
    assert f"at spreadsheet {held} ({cut + 1} of {len(targets)}" in str(error), str(error)
    assert f"the {cut} landed before it are kept" in str(error), str(error)
    assert committed == cut and cut_kept == 0
    assert (retried["new_versions"], retried["unchanged"]) == (len(ids) - cut, cut)
    assert not lost, lost


def test_postgres_crash_during_validation(settings, world, emulators, reference, report):
    """PostgreSQL crashes (`pg_ctl stop -m immediate`) while `validate_landed` stores a run's
    results: the parsed rows and issues written in its transaction, not committed (held there
    by a lock the test takes on quality.rule_results, its next table). The task fails at once
    with a clear error; nothing of the cut run is kept; Airflow's retry of the task checks every
    report and gives the reference's landed rows."""
    from pipeline.cycle import stage_pull, stage_validate
    from tonghop.errors import WarehouseConnectionLost

    started = time.monotonic()
    server = emulators("crash-validate")
    own = own_settings(settings, DB, world, server)
    fresh_database(settings, DB)
    register_sample(own, world)
    ids = world.ids
    pulled = stage_pull(own, PERIOD)
    stored = """select (select count(*) from parsed.report_headers)
                     + (select count(*) from quality.validation_runs)
                     + (select count(*) from quality.validation_issues)"""
    holder = psycopg2.connect(own.dsn("admin"))
    try:
        with holder.cursor() as cur:
            cur.execute("lock table quality.rule_results in exclusive mode")
            validation = InThread(lambda: stage_validate(own, PERIOD, pulled["pull_run_id"]))
            statement = wait_for(
                lambda: not validation.running or loader_waiting(own, "relation"),
                "validation to write its results and wait inside its transaction",
            )
            assert validation.running, f"validation ended before the crash: {validation.error}"
            # the tables its transaction has written to (a row lock on each)
            cur.execute("""
                select coalesce(array_agg(distinct l.relation::regclass::text), '{}')
                from pg_locks l join pg_stat_activity a using (pid)
                join pg_class c on c.oid = l.relation
                where a.datname = current_database() and a.usename = 'loader'
                  and l.mode = 'RowExclusiveLock' and l.granted and c.relkind = 'r'""")
            tables = sorted(cur.fetchone()[0])
            crash = crash_under(validation)
    finally:
        holder.close()
    after_crash = one(own.dsn("admin"), stored)
    retried = stage_validate(own, PERIOD, pulled["pull_run_id"])  # Airflow's retry
    fp = fs.fingerprint(own.dsn("admin"), marts=False)
    lost = lost_against(reference, fp, own, ids, marts=False)
    if after_crash:
        lost.append(f"{after_crash} row(s) of the cut validation run kept after the crash")
    if crash.failed_after is None:
        lost.append("validation hung after the crash")
    error = validation.error
    outcomes, _ = report
    outcomes["crash-validate"] = fs.Outcome(
        scenario="PostgreSQL crashed during validation",
        injected="`pg_ctl stop -m immediate` while the `validate` task stores the results of "
        f"{len(ids)} reports, {len(tables)} tables written in its transaction "
        f"({', '.join(tables)}) and not committed; then started again",
        how_often=how_it_failed(
            crash,
            error,
            "what it was doing, that nothing of the run is kept, that the retry is safe",
        ),
        recovery="PostgreSQL's crash recovery at start; Airflow's retry of the `validate` task "
        "(the same pull run)",
        survived=f"{'nothing' if not after_crash else 'SOME'} of the cut run kept "
        f"({after_crash} parsed reports, validation runs or issues after recovery); "
        f"the retry checked {retried['reports']} reports "
        f"({retried['errors']} errors, {retried['warnings']} warnings)",
        compared="raw and landed rows",
        lost=lost,
        seconds=time.monotonic() - started,
    )
    assert "insert into quality.rule_results" in statement, statement
    assert crash.recovered, "the server did not recover from a crash at start"
    assert isinstance(error, WarehouseConnectionLost), repr(error)
    assert f"while storing the results of {len(ids)} report(s)" in str(error), str(error)
    assert "parsed.report_headers" in tables and "quality.validation_issues" in tables, tables
    assert retried["reports"] == len(ids)
    assert not lost, lost


PUBLISH = (
    "import sys; from publish.bundle import publish_period; "
    "from tonghop.settings import load_settings; "
    f"publish_period(load_settings(), {PERIOD!r}, sys.argv[1], pdf=False)"
)


#: a whole cycle in a process of its own (as `tonghop run`, with the reference's stages), its
#: result on its last line of output (after dbt's own)
CYCLE = (
    "import json, logging, sys; from tests.faults_support import run_stages; "
    "from tonghop.settings import load_settings; logging.basicConfig(level=logging.INFO); "
    f"print(json.dumps(run_stages(load_settings(), {PERIOD!r}, sys.argv[1]), "
    "default=str))"
)


def test_two_cycles_at_once(settings, world, emulators, reference, report):
    """Two cycles of the same period started together in two processes (as a scheduled run and
    `tonghop run`): both succeed, each version is landed, checked and answered once, one
    summary spreadsheet, and the marts equal the reference's."""
    started = time.monotonic()
    server = emulators("concurrent")
    own = own_settings(settings, DB, world, server)
    fresh_database(settings, DB)
    register_sample(own, world)
    ids = world.ids
    logs = [world.tmp / f"concurrent-{i}.log" for i in (1, 2)]
    outputs = [world.tmp / f"concurrent-{i}.json" for i in (1, 2)]
    procs = []
    for i, (path, output) in enumerate(zip(logs, outputs), 1):
        with path.open("w") as err, output.open("w") as out:
            procs.append(
                subprocess.Popen(
                    [sys.executable, "-c", CYCLE, f"cycle-{i}"],
                    cwd=fs.ROOT,
                    env=env_for(own),
                    stdout=out,
                    stderr=err,
                )
            )
    # meanwhile, once a cycle builds (the CPU of both validations spent), the publish tasks
    # of two runs at once (a cleared publish while the cycle publishes), from the reference's
    # marts into a Drive without the summary yet, Drive answering in 0.5 s: one spreadsheet,
    # not two
    drive = emulators("concurrent-publish", province=False)
    configure(drive, {"latency": 0.5})
    wait_for(
        lambda: (
            any(p.poll() is not None for p in procs)
            or one(
                own.dsn("admin"),
                """
        select count(*) from pg_stat_activity where datname = %s and usename = 'transformer'
        """,
                (DB,),
            )
        ),
        "a cycle to start its build",
        timeout=600,
        every=0.2,
    )
    publisher = reference.settings.with_overrides(emulator_url=drive.url)
    publishes = [
        subprocess.Popen(
            [sys.executable, "-c", PUBLISH, f"publish-{i}"],
            env=env_for(publisher),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for i in (1, 2)
    ]
    for p in procs + publishes:
        p.wait(timeout=900)
    configure(drive, {})
    texts = [o.read_text(errors="replace") for o in outputs]
    results = [
        json.loads(t.strip().splitlines()[-1]) if p.returncode == 0 else None
        for p, t in zip(procs, texts)
    ]
    fp = fs.fingerprint(own.dsn("admin"))
    lost = lost_against(reference, fp, own, ids, marts=True)
    answers = answers_per_report(own)
    summaries = summary_spreadsheets(server)
    if answers != Counter({1: len(ids)}):
        lost.append(f"check tabs: answers per report {dict(answers)}")
    if len(summaries) != 1:
        lost.append(f"{len(summaries)} summary spreadsheets")
    failed = [i + 1 for i, p in enumerate(procs) if p.returncode != 0]
    if failed:
        lost.append(f"cycle(s) {failed} failed (see {', '.join(str(logs[i - 1]) for i in failed)})")
    ok = [r for r in results if r]
    created = summary_spreadsheets(drive)
    if [p.returncode for p in publishes] != [0, 0]:
        lost.append("a publish task failed")
    if len(created) != 1:
        lost.append(f"two publishes at once made {len(created)} summary spreadsheets")
    elif summary_values(drive) != summary_values(reference.server):
        lost.append("the summary spreadsheet differs from the reference's")
    waited = sum(
        path.read_text(errors="replace").count("waiting for it") for path in logs + outputs
    )
    outcomes, _ = report
    outcomes["concurrent"] = fs.Outcome(
        scenario="two cycles at once for the same period",
        injected="a whole cycle (pull, validate, `dbt build`, feedback, publish) started "
        "twice at the same moment, in two processes, on one warehouse and one "
        "province; while they build, two publish tasks at once (from the "
        "reference's marts) into a Drive without the summary",
        how_often=f"2 cycles, 2 publishes; {waited} dbt command(s) waited for the other's",
        recovery="none needed: validation, dbt and the summary spreadsheet take a "
        "per-period (dbt: per-database) PostgreSQL advisory lock; landing and the check tabs, "
        "one per spreadsheet",
        survived="both cycles succeeded: landed "
        f"{' + '.join(str(r['pull']['new_versions']) for r in ok)}"
        f" versions, checked {' + '.join(str(r['validate']['reports']) for r in ok)} "
        f"reports, wrote {' + '.join(str(r['feedback']['tabs_written']) for r in ok)} "
        f"check tabs; {len(summaries)} summary spreadsheet; two publishes at once "
        f"(Drive answering in 0.5 s) made {len(created)}; published files "
        + (
            "identical to the reference's"
            if ok
            and all(
                r["publish"]["content_sha256"] == reference.published["content_sha256"] for r in ok
            )
            else "DIFFERENT"
        ),
        compared="raw, landed rows and marts",
        lost=lost,
        seconds=time.monotonic() - started,
    )
    assert not lost, lost
    assert sum(r["pull"]["new_versions"] for r in ok) == len(ids)
    assert sum(r["validate"]["reports"] for r in ok) == len(ids)


def pull_storm(victim: str) -> dict:
    """The pull's storm; ``victim`` (if any) answers 503 to all six tries."""
    return {
        "faults": [
            # quota: the listing throttled twice, then every 4th read
            {"endpoint": "drive.files.list", "status": 429, "times": 2},
            # one spreadsheet answers 503 to all six tries of the first pull
            *(
                [
                    {
                        "endpoint": "sheets.spreadsheets.get",
                        "spreadsheet_id": victim,
                        "status": 503,
                        "times": 6,
                    }
                ]
                if victim
                else []
            ),
            {"endpoint": "sheets.spreadsheets.get", "status": 429, "every": 4},
            {"endpoint": "sheets.spreadsheets.get", "status": 500, "probability": 0.1, "seed": 11},
            {"endpoint": "sheets.spreadsheets.get", "status": 502, "every": 7},
            # the answer comes after the client's timeout (1 s)
            {"endpoint": "sheets.spreadsheets.get", "kind": "timeout", "delay": 1.5, "every": 20},
            {"endpoint": "*", "kind": "slow", "delay": 0.1, "probability": 0.3, "seed": 3},
        ]
    }


FEEDBACK_STORM = {
    "faults": [
        {"endpoint": "sheets.spreadsheets.batchUpdate", "status": 503, "times": 2},
        {"endpoint": "sheets.spreadsheets.batchUpdate", "status": 429, "every": 4},
        {
            "endpoint": "sheets.spreadsheets.batchUpdate",
            "kind": "timeout",
            "delay": 1.5,
            "every": 15,
        },
        {"endpoint": "*", "kind": "slow", "delay": 0.1, "probability": 0.2, "seed": 5},
    ]
}
PUBLISH_STORM = {
    "faults": [
        {"endpoint": "drive.files.list", "status": 429, "times": 1},
        {"endpoint": "drive.files.create", "status": 500, "times": 1},
        # done, but answered after the client's timeout: the client creates it again
        {"endpoint": "drive.files.create", "kind": "slow", "delay": 1.5, "times": 1},
        {"endpoint": "sheets.spreadsheets.get", "kind": "timeout", "delay": 1.5, "times": 1},
        {"endpoint": "sheets.spreadsheets.batchUpdate", "status": 503, "times": 2},
    ]
}


def test_sheets_api_storm(settings, world, emulators, reference, catalogue, report):
    """429 storms, 5xx, timeouts and slow answers on every Sheets/Drive call of a cycle: the
    pull (one spreadsheet fails all six tries of the first pull; the next pull reads it again),
    the units' check tabs, and the summary spreadsheet. Sheets faults reach the warehouse only
    through what is landed, so raw and the landed rows are compared (the marts are built from
    them alone: the restart, rerun and two-cycle scenarios compare marts); the summary is
    published from the reference's marts into this scenario's Drive, where it is created, and
    compared cell by cell with the reference's."""
    from expectations.landed import validate_landed
    from ingest.pull import pull_period
    from publish.bundle import publish_period
    from publish.unit_feedback import write_feedback
    from testing.marts import build_submission_states

    started = time.monotonic()
    server = emulators("storm")
    own = own_settings(settings, DB, world, server)
    fresh_database(settings, DB)
    register_sample(own, world)
    ids = world.ids
    victim = ids[len(ids) // 2]
    seen: dict[str, Counter] = {}
    retries = Counter()
    try:
        configure(server, pull_storm(victim))
        client = fast_client(own)
        first = pull_period(own, catalogue, PERIOD, client=client)
        validate_landed(own, catalogue, PERIOD, first.pull_run_id)
        seen["pull"] = faults_seen(server)
        retries["pull"] = client.http_client.retries

        build_submission_states(own)  # the tabs say what the marts say
        configure(server, FEEDBACK_STORM)
        client = fast_client(own)
        told = write_feedback(own, catalogue, PERIOD, client=client)
        seen["feedback"] = faults_seen(server)
        retries["feedback"] = client.http_client.retries

        # the next cycles, the storm still on: what failed is read and answered again (a
        # spreadsheet unlucky enough to fail six tries again waits for the cycle after)
        configure(server, pull_storm(victim=""))
        client = fast_client(own)
        later = []
        while not later or (later[-1].failed and len(later) < 3):
            later.append(pull_period(own, catalogue, PERIOD, client=client))
            validate_landed(own, catalogue, PERIOD, later[-1].pull_run_id)
        build_submission_states(own)
        again = write_feedback(own, catalogue, PERIOD, client=client)
        seen["next cycle"] = faults_seen(server)
        retries["next cycle"] = client.http_client.retries

        configure(server, PUBLISH_STORM)
        client = fast_client(own)
        publisher = reference.settings.with_overrides(
            emulator_url=server.url, output_dir=own.output_dir
        )
        published = publish_period(publisher, PERIOD, "storm", client=client, pdf=False)
        after_storm = wait_for(
            lambda: len(summary_spreadsheets(server)) > 1 and summary_spreadsheets(server),
            "the late create's duplicate",
            timeout=10,
        )
        seen["publish"] = faults_seen(server)
        retries["publish"] = client.http_client.retries
        configure(server, {})
        # the next cycle's publish
        republished = publish_period(publisher, PERIOD, "storm-next", pdf=False)
    finally:
        configure(server, {})
    fp = fs.fingerprint(own.dsn("admin"), marts=False)
    lost = lost_against(reference, fp, own, ids, marts=False)
    answers = answers_per_report(own)
    if answers != Counter({1: len(ids)}):
        lost.append(f"check tabs: answers per report {dict(answers)}")
    summaries = summary_spreadsheets(server)
    if (
        summaries != [published.spreadsheet_id]
        or republished.spreadsheet_id != published.spreadsheet_id
    ):
        kept = "the same" if republished.spreadsheet_id == published.spreadsheet_id else "another"
        lost.append(
            f"summary spreadsheets after the next publish: {len(summaries)}, {kept} one kept"
        )
    elif summary_values(server) != summary_values(reference.server):
        lost.append("the summary spreadsheet differs from the reference's")
    if {published.content_sha256, republished.content_sha256} != {
        reference.published["content_sha256"]
    }:
        lost.append("the published files differ from the reference's")
    total = sum(seen.values(), Counter())
    outcomes, _ = report
    outcomes["storm"] = fs.Outcome(
        scenario="Sheets/Drive API storm",
        injected="429 (quota), 500/502/503, timeouts (an error after the client's 1 s) and "
        "slow answers (0.1 s) on the pull's listing and reads, the check tabs' "
        "batchUpdates, and the summary's list/create/get/batchUpdate; one "
        "spreadsheet answers 503 to all 6 tries of the first pull; the summary's "
        "create is done but answered after the client's timeout (1.5 s)",
        how_often="; ".join(
            f"{phase}: {describe(c)}; {retries[phase]} retries" for phase, c in seen.items()
        ),
        recovery="the client's retries (6 tries, exponential backoff); what still failed is "
        "read again by the next cycle's pull and answered by its feedback; the "
        "duplicate summary left by the retried create is trashed by the next publish",
        survived=f"first pull: {first.new_versions} of {len(ids)} landed, {first.failed} "
        f"failed after 6 tries; the next "
        f"{'pull' if len(later) == 1 else f'{len(later)} pulls'} landed "
        f"{sum(p.new_versions for p in later)} more; "
        f"{told.tabs_written} + {again.tabs_written} check tabs written, each report "
        f"answered once; {len(after_storm)} summary spreadsheets after the storm's "
        f"publish, {len(summaries)} after the next (the one written kept), its "
        f"{len(published.row_counts)} tabs equal to the reference's, the files "
        f"byte-identical",
        compared="raw and landed rows",
        lost=lost,
        seconds=time.monotonic() - started,
    )
    assert (
        total["429"]
        and total["timeout"]
        and total["slow"]
        and total["500"] + total["502"] + total["503"]
    ), total
    assert retries["pull"] >= sum(seen["pull"][k] for k in ("429", "500", "502", "503"))
    assert victim in first.failures and later[-1].failed == 0 and len(after_storm) == 2
    assert not lost, lost


PULL = (
    "import json; from pipeline.cycle import stage_pull; "
    "from tonghop.settings import load_settings; "
    f"print(json.dumps(stage_pull(load_settings(), {PERIOD!r})))"
)


def test_pull_killed_while_landing(settings, world, emulators, reference, report):
    """The pull's process killed with SIGKILL inside a landing transaction (held there by a
    lock the test takes on one spreadsheet): what it landed stays, the open transaction is
    rolled back, and the task's retry lands the rest."""
    from pipeline.cycle import stage_pull, stage_validate

    started = time.monotonic()
    server = emulators("sigkill")
    own = own_settings(settings, DB, world, server)
    fresh_database(settings, DB)
    register_sample(own, world)
    ids = world.ids
    held = ids[len(ids) // 2]  # (the pull reads in the order of the ids)
    count = "select count(*) from raw.sheet_versions"
    holder = psycopg2.connect(own.dsn("admin"))
    try:
        with holder.cursor() as cur:  # the key ingest.land locks a spreadsheet with
            cur.execute("select pg_advisory_xact_lock(hashtext(%s))", (held,))
        pull = subprocess.Popen(
            [sys.executable, "-c", PULL],
            env=env_for(own),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(
            lambda: one(
                own.dsn("admin"),
                """
            select count(*) from pg_stat_activity where datname = %s and usename = 'loader'
              and wait_event_type = 'Lock' and wait_event = 'advisory'""",
                (DB,),
            ),
            "the pull to wait inside its landing transaction",
        )
        os.kill(pull.pid, signal.SIGKILL)
        pull.wait(timeout=30)
        landed_before = one(own.dsn("admin"), count)  # committed before the kill
    finally:
        holder.rollback()
        holder.close()
    wait_for(
        lambda: (
            not one(
                own.dsn("admin"),
                """
        select count(*) from pg_stat_activity where datname = %s and usename = 'loader'""",
                (DB,),
            )
        ),
        "the killed pull's session to end",
    )
    after_kill = one(own.dsn("admin"), count)
    finished = one(
        own.dsn("admin"), "select count(*) from ops.pull_runs where finished_at is not null"
    )
    held_landed = one(
        own.dsn("admin"),
        "select count(*) from raw.sheet_versions where spreadsheet_id = %s",
        (held,),
    )
    retried = stage_pull(own, PERIOD)  # Airflow's retry of the pull task
    stage_validate(own, PERIOD, retried["pull_run_id"])
    fp = fs.fingerprint(own.dsn("admin"), marts=False)
    lost = lost_against(reference, fp, own, ids, marts=False)
    if after_kill != landed_before:  # the open transaction must have added nothing
        lost.append(f"raw changed after the kill: {landed_before} → {after_kill} versions")
    outcomes, _ = report
    outcomes["sigkill"] = fs.Outcome(
        scenario="pull killed (SIGKILL) while landing",
        injected="`kill -9` of the pull's process while it is inside the transaction landing "
        f"spreadsheet {ids.index(held) + 1} of {len(ids)}",
        how_often=f"1 kill, {pull.returncode} exit status; {landed_before} versions landed "
        "before it",
        recovery="the task's retry: the pull again (no finished pull recorded, so a full one), "
        "then validation",
        survived=f"the open transaction rolled back ({after_kill} versions after the kill, none "
        f"half-landed; {finished} pull recorded as finished); the retry landed "
        f"{retried['new_versions']} and found {retried['unchanged']} unchanged",
        compared="raw and landed rows",
        lost=lost,
        seconds=time.monotonic() - started,
    )
    assert pull.returncode == -signal.SIGKILL
    assert 0 < landed_before < len(ids) and held_landed == 0 and finished == 0
    assert not lost, lost
