"""Running dbt (in-process, through dbt's programmatic entry point) as the transformer role."""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import logging
import os
import shutil
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

from tonghop.settings import Settings

log = logging.getLogger(__name__)


class DbtFailed(RuntimeError):
    """dbt finished with failures; the message lists them."""


#: the day a dbt command computes the date-dependent columns for (overdue, days late, the
#: versions received by then), read by the project's ``as_of_date()`` macro
#: (``macros/dates.sql``), empty for today. Passed in the environment, not as ``--vars``: dbt
#: throws away its whole saved parse whenever the ``--vars`` differ from the last command's
#: (about 15 s of a 50 s build of the demo province, on every new day and again for the
#: freshness check after it), while a changed environment variable only makes it parse again
#: the few files that read it. Set for every command (:func:`_run_dbt_locked`).
AS_OF_ENV = "TONGHOP_AS_OF_DATE"


def dbt_env(settings: Settings) -> dict[str, str]:
    """The variables profiles.yml reads, from the transformer's DSN."""
    url = urlparse(settings.dsn("transformer"))
    return {
        "TONGHOP_PG_HOST": url.hostname or "127.0.0.1",
        "TONGHOP_PG_PORT": str(url.port or 5432),
        "TONGHOP_TRANSFORMER_USER": unquote(url.username or "transformer"),
        "TONGHOP_TRANSFORMER_PASSWORD": unquote(url.password or ""),
        "TONGHOP_PG_DB": url.path.lstrip("/") or "tonghop",
    }


def target_dir(settings: Settings) -> Path:
    """dbt's output folder (manifest, run results, partial parse, compiled SQL, docs) for the
    warehouse database: ``target/<database>/``.

    One per database, so that builds of two databases from one checkout (the bench's sizes, the
    tests' own warehouses) neither overwrite each other's manifest and run results nor throw
    away each other's partial parse: dbt parses the whole project again whenever the profile's
    database differs from the one its saved parse was made for.
    """
    database = dbt_env(settings)["TONGHOP_PG_DB"]  # the one dbt connects to
    root = os.environ.get("TONGHOP_DBT_TARGET_DIR")
    return (Path(root) if root else Path(settings.dbt_project_dir) / "target") / database


#: the advisory lock (two keys, in the warehouse database) held while dbt runs; its name stays
#: "tonghop.dbt" from before the module moved, so that old and new workers share one lock
DBT_LOCK = "tonghop.dbt"


@contextlib.contextmanager
def one_dbt_at_a_time(settings: Settings) -> Iterator[None]:
    """Hold the warehouse database's dbt lock: one dbt command at a time per database.

    Two builds of one database at once (two cycles of a period started together, a rerun
    while the scheduled run builds) fail on each other's relations ("relation … already
    exists") and could interleave an incremental model's delete and insert; the second one
    waits here instead, then builds on what the first one left. The lock is PostgreSQL's, so
    it holds across processes and machines (Celery workers) and ends with the session if the
    process dies.
    """
    import psycopg2

    conn = psycopg2.connect(settings.dsn("transformer"))
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("select pg_try_advisory_lock(hashtext(%s), 0)", (DBT_LOCK,))
            if not cur.fetchone()[0]:
                log.info(
                    "dbt: another dbt command runs on database %s; waiting for it",
                    settings.warehouse_db,
                )
                cur.execute("select pg_advisory_lock(hashtext(%s), 0)", (DBT_LOCK,))
        yield
    finally:
        conn.close()  # ends the session, and the lock with it


def run_dbt(settings: Settings, args: list[str], as_of_date: dt.date | None = None) -> dict:
    """Run one dbt command (e.g. ["build"]) as of ``as_of_date`` (None: today) and summarise
    its results.

    Returns {"command", "success", "counts": {status: n}, "failures": [...]}; raises
    :class:`DbtFailed` when a model, seed, snapshot or test fails. One dbt command at a time
    per warehouse database (:func:`one_dbt_at_a_time`).
    """
    with one_dbt_at_a_time(settings):
        return _run_dbt_locked(settings, args, as_of_date)


#: dbt's event levels as logging's; its debug events (thousands a build) are left out
DBT_LEVELS = {"info": logging.INFO, "warn": logging.WARNING, "error": logging.ERROR}
dbt_log = logging.getLogger("dbt")


def _forward_dbt_event(event) -> None:
    level = DBT_LEVELS.get(getattr(event.info, "level", ""))
    if level is not None and event.info.msg:
        dbt_log.log(level, "%s", event.info.msg)


def _run_dbt_locked(settings: Settings, args: list[str], as_of_date: dt.date | None = None) -> dict:
    from dbt.cli.main import dbtRunner

    os.environ.update(dbt_env(settings))
    # read by every dbt command that writes to its target folder (dbt debug has none)
    os.environ["DBT_TARGET_PATH"] = str(target_dir(settings))
    # set for every command, the day's and the others (freshness, docs): see AS_OF_ENV
    os.environ[AS_OF_ENV] = as_of_date.isoformat() if as_of_date else ""
    project = str(settings.dbt_project_dir)
    argv = [*args, "--project-dir", project, "--profiles-dir", project]
    log.info("dbt %s%s", " ".join(args), f" (as of {as_of_date})" if as_of_date else "")
    # dbt's own lines reach whoever reads this process's log (an Airflow task log, the log
    # file of `tonghop run`) through logging, not straight to the console, without colours
    # (its own log file, logs/dbt.log, keeps every event, debug ones included, unless
    # DBT_LOG_LEVEL_FILE says otherwise: the tests keep info, ~10 MB less a build)
    os.environ.update({"DBT_LOG_LEVEL": "none", "DBT_USE_COLORS": "false"})
    os.environ.setdefault("DBT_LOG_LEVEL_FILE", "debug")
    result = dbtRunner(callbacks=[_forward_dbt_event]).invoke(argv)
    counts: Counter = Counter()
    failures = []
    timings = []
    # build/run/test return a list-like of node results; source freshness wraps it in .results
    nodes = getattr(result.result, "results", result.result)
    for node in nodes if hasattr(nodes, "__iter__") else []:
        status = str(getattr(node, "status", "unknown"))
        counts[status] += 1
        if getattr(node, "execution_time", None) is not None and hasattr(node, "node"):
            timings.append((round(float(node.execution_time), 2), node.node.unique_id))
        if status in ("error", "fail", "runtime error"):
            failures.append(
                {"node": node.node.unique_id, "status": status, "message": node.message}
            )
    slowest = [{"node": n, "seconds": t} for t, n in sorted(timings, reverse=True)[:5]]
    summary = {
        "command": " ".join(args),
        "success": bool(result.success),
        "counts": dict(counts),
        "failures": failures,
        "slowest": slowest,
    }
    for failure in failures:
        log.error("dbt %s: %s — %s", failure["status"], failure["node"], failure["message"])
    if not result.success:
        detail = "; ".join(f"{f['node']}: {f['message']}" for f in failures) or str(
            result.exception
        )
        raise DbtFailed(f"dbt {' '.join(args)} failed: {detail}")
    log.info(
        "dbt %s: %s; slowest: %s",
        " ".join(args),
        dict(counts),
        ", ".join(f"{s['node']} {s['seconds']}s" for s in slowest),
    )
    return summary


#: what `dbt docs generate --static` leaves in its target folder and the name it gets in the output folder
DOCS_FILES = {
    "static_index.html": "index.html",
    "manifest.json": "manifest.json",
    "catalog.json": "catalog.json",
}


#: the file in the docs folder that says which project and database the docs describe
DOCS_FINGERPRINT = "fingerprint.txt"
#: folders of the dbt project that are dbt's output, not its source
NOT_SOURCE = {"target", "logs", "dbt_packages"}


def fingerprint(files: list[Path], root: Path, *extra: str) -> str:
    """A SHA-256 over the files' paths (relative to ``root``) and contents, and ``extra``."""
    digest = hashlib.sha256()
    for item in extra:
        digest.update(item.encode() + b"\0")
    for path in sorted(files):
        digest.update(str(path.relative_to(root)).encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _files_under(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()] if folder.is_dir() else []


def catalogue_fingerprint(project_dir: Path) -> str:
    """What the seed tables are made from: the seed files (CSV and their column types) and
    dbt_project.yml (their configuration)."""
    project_dir = Path(project_dir)
    return fingerprint(
        [*_files_under(project_dir / "seeds"), project_dir / "dbt_project.yml"], project_dir
    )


#: the dbt project's folders that define what the models compute (not its tests or docs pages)
DEFINITIONS = ("models", "macros", "seeds", "snapshots")
#: each ad hoc period that has reports, and a hash of its definition now (a request made again
#: may move its dates or change its units; who asked and when changes nothing the models compute)
ADHOC_DEFINITIONS = """
    select periods.period_code, md5(
        (to_jsonb(periods) - 'requested_by' - 'requested_at')::text
        || coalesce((select string_agg(units.unit_code, ',' order by units.unit_code)
                     from ops.adhoc_period_units as units
                     where units.period_code = periods.period_code), ''))
    from ops.adhoc_periods as periods
    where exists (select 1 from parsed.report_headers as headers
                  where headers.period_code = periods.period_code)"""


@dataclass(frozen=True)
class HistoryDefinitions:
    """What the incremental history (dbt_project/macros/history.sql) is computed with, besides
    the landed rows. An incremental build takes in new reports only: the rows already built
    stay as they were computed, so when one of these changes, the history is built again in
    full (:func:`history_stale`)."""

    #: the dbt project's definitions (models, macros, seeds — the catalogue —, snapshots,
    #: dbt_project.yml) and dbt's version
    project: str
    #: ad hoc period code -> hash of its definition (ops.adhoc_periods and its units), for the
    #: periods that have reports: a new period adds one, which changes no row already built
    adhoc_periods: dict[str, str]


def history_definitions(settings: Settings) -> HistoryDefinitions:
    import psycopg2
    from dbt.version import __version__ as dbt_version

    project_dir = Path(settings.dbt_project_dir)
    files = [p for folder in DEFINITIONS for p in _files_under(project_dir / folder)]
    conn = psycopg2.connect(settings.dsn("transformer"))
    try:
        with conn.cursor() as cur:
            cur.execute(ADHOC_DEFINITIONS)
            adhoc = dict(cur.fetchall())
    finally:
        conn.close()
    project = fingerprint([*files, project_dir / "dbt_project.yml"], project_dir, dbt_version)
    return HistoryDefinitions(project, adhoc)


def history_stale(settings: Settings, now: HistoryDefinitions) -> str | None:
    """Why the history must be built in full before it takes in more (None: it need not): what
    ``ops.history_builds`` recorded at the last build differs from ``now`` — never built
    through the pipeline, the dbt project or the catalogue changed, an ad hoc period with
    reports defined again."""
    import psycopg2

    conn = psycopg2.connect(settings.dsn("transformer"))
    try:
        with conn.cursor() as cur:
            cur.execute("select definitions, adhoc_periods from ops.history_builds")
            rows = cur.fetchall()
    finally:
        conn.close()
    if len(rows) != 1:
        return "no build of the history recorded"
    project, adhoc = rows[0]
    if project != now.project:
        return "the dbt project, its catalogue or dbt changed"
    redefined = sorted(
        code for code, defined in adhoc.items() if now.adhoc_periods.get(code) != defined
    )
    if redefined:
        return "ad hoc period(s) defined again: " + ", ".join(redefined)
    return None


def record_history_build(settings: Settings, built: HistoryDefinitions) -> None:
    """What the history was built with, after a build that succeeded (``ops.history_builds``)."""
    import psycopg2
    from psycopg2.extras import Json

    conn = psycopg2.connect(settings.dsn("transformer"))
    try:
        with conn, conn.cursor() as cur:
            cur.execute("delete from ops.history_builds")
            cur.execute(
                "insert into ops.history_builds (definitions, adhoc_periods) values (%s, %s)",
                (built.project, Json(built.adhoc_periods)),
            )
    finally:
        conn.close()


def docs_fingerprint(settings: Settings) -> str:
    """What dbt's documentation site is made from: every source file of the dbt project, the
    warehouse's own DDL (the sources' columns), the database and dbt's version. Row counts are
    not in it (dbt's PostgreSQL catalog has no table statistics), so new data alone does not
    change the site."""
    from importlib import resources

    from dbt.version import __version__ as dbt_version

    project_dir = Path(settings.dbt_project_dir)
    files = [
        p
        for p in _files_under(project_dir)
        if not NOT_SOURCE & set(p.relative_to(project_dir).parts)
    ]
    ddl = resources.files("tonghop.sql").joinpath("warehouse.sql").read_text(encoding="utf-8")
    return fingerprint(files, project_dir, settings.warehouse_db, dbt_version, ddl)


def catalogue_loaded(settings: Settings, wanted: str) -> bool:
    """Whether the warehouse holds the catalogue of these seed files: the fingerprint recorded
    at the last load is ``wanted`` (no load has happened since, see dbt_project.yml) and every
    seed table exists."""
    import psycopg2

    seeds = sorted(p.stem for p in (Path(settings.dbt_project_dir) / "seeds").rglob("*.csv"))
    conn = psycopg2.connect(settings.dsn("transformer"))
    try:
        with conn.cursor() as cur:
            cur.execute("select fingerprint from ops.catalogue_loads")
            recorded = {row[0] for row in cur.fetchall()}
            cur.execute(
                "select count(to_regclass('catalogue.' || quote_ident(s))) "
                "from unnest(%s::text[]) s",
                (seeds,),
            )
            present = cur.fetchone()[0]
    finally:
        conn.close()
    return recorded == {wanted} and present == len(seeds)


def record_catalogue_load(settings: Settings, loaded: str) -> None:
    import psycopg2

    conn = psycopg2.connect(settings.dsn("transformer"))
    try:
        with conn, conn.cursor() as cur:
            cur.execute("delete from ops.catalogue_loads")
            cur.execute("insert into ops.catalogue_loads (fingerprint) values (%s)", (loaded,))
    finally:
        conn.close()


def build_warehouse(settings: Settings, as_of_date: dt.date | None = None) -> dict:
    """`dbt source freshness`, `dbt build` and the docs site, as one job under the dbt lock.

    ``as_of_date`` is the day the date-dependent columns (overdue, days late, which versions
    were received by then) are computed for — the day of the run that asked for the build
    (the calendar's day, or the day of the pull that landed); None: today in Vietnam.

    The seeds (the catalogue: thousands of assignment rows in a big province) are reloaded only
    when their files changed since the load recorded in ``ops.catalogue_loads``; otherwise
    ``dbt build --exclude resource_type:seed`` builds on the tables already there. The history
    (the incremental models) takes in only what is new, unless what it is computed with changed
    since the last build (:func:`history_definitions`, recorded in ``ops.history_builds``): then
    the build is ``--full-refresh`` (``history_rebuilt`` says why). The docs site is generated
    again only when the project changed (:func:`docs_fingerprint`).
    """
    with one_dbt_at_a_time(settings):
        freshness = _run_dbt_locked(settings, ["source", "freshness"], as_of_date)
        wanted = catalogue_fingerprint(Path(settings.dbt_project_dir))
        reload = not catalogue_loaded(settings, wanted)
        definitions = history_definitions(settings)
        stale = history_stale(settings, definitions)
        args = ["build"]
        if stale:
            log.info("dbt: building the history in full (--full-refresh): %s", stale)
            args.append("--full-refresh")
        if reload:
            built = _run_dbt_locked(settings, args, as_of_date)
            record_catalogue_load(settings, wanted)
        else:
            log.info(
                "dbt: the catalogue (seed files) is unchanged since it was loaded; "
                "building without reloading it"
            )
            built = _run_dbt_locked(
                settings, [*args, "--exclude", "resource_type:seed"], as_of_date
            )
        record_history_build(settings, definitions)
        built["as_of_date"] = as_of_date.isoformat() if as_of_date else None
        built["freshness"] = freshness["counts"]
        built["catalogue_reloaded"] = reload
        built["history_rebuilt"] = stale
        folder, built["docs_generated"] = _docs_locked(settings, as_of_date=as_of_date)
        built["docs_path"] = str(folder / "index.html")
    return built


def generate_docs(settings: Settings, *, force: bool = False) -> Path:
    """dbt's documentation site (one self-contained page, plus the manifest and the catalog it
    is built from) in ``<output>/dbt_docs/``; generated again only when the project changed
    since the site there was made (or ``force``). Returns the folder."""
    with one_dbt_at_a_time(settings):
        return _docs_locked(settings, force=force)[0]


def _docs_locked(
    settings: Settings, *, force: bool = False, as_of_date: dt.date | None = None
) -> tuple[Path, bool]:
    target = target_dir(settings)
    folder = Path(settings.output_dir) / "dbt_docs"
    stamp = folder / DOCS_FINGERPRINT
    wanted = docs_fingerprint(settings)
    complete = all((folder / name).is_file() for name in DOCS_FILES.values())
    if not force and complete and stamp.is_file() and stamp.read_text().strip() == wanted:
        log.info("dbt docs: the project is unchanged since %s was generated", folder)
        return folder, False
    folder.mkdir(parents=True, exist_ok=True)
    stamp.unlink(missing_ok=True)
    # copied under the lock: another build of this database rewrites its target folder
    _run_dbt_locked(settings, ["docs", "generate", "--static"], as_of_date)
    for source, name in DOCS_FILES.items():
        shutil.copyfile(target / source, folder / name)
    stamp.write_text(wanted + "\n")
    log.info("dbt docs: %s", folder / "index.html")
    return folder, True
