"""Running dbt (in-process, through dbt's programmatic entry point) as the transformer role."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
from collections import Counter
from pathlib import Path
from typing import Iterator
from urllib.parse import unquote, urlparse

from tonghop.settings import Settings

log = logging.getLogger(__name__)


class DbtFailed(RuntimeError):
    """dbt finished with failures; the message lists them."""


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


#: the advisory lock (two keys, in the warehouse database) held while dbt runs
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
                log.info("dbt: another dbt command runs on database %s; waiting for it",
                         settings.warehouse_db)
                cur.execute("select pg_advisory_lock(hashtext(%s), 0)", (DBT_LOCK,))
        yield
    finally:
        conn.close()          # ends the session, and the lock with it


def run_dbt(settings: Settings, args: list[str]) -> dict:
    """Run one dbt command (e.g. ["build"]) and summarise its results.

    Returns {"command", "success", "counts": {status: n}, "failures": [...]}; raises
    :class:`DbtFailed` when a model, seed, snapshot or test fails. One dbt command at a time
    per warehouse database (:func:`one_dbt_at_a_time`).
    """
    with one_dbt_at_a_time(settings):
        return _run_dbt_locked(settings, args)


def _run_dbt_locked(settings: Settings, args: list[str]) -> dict:
    from dbt.cli.main import dbtRunner

    os.environ.update(dbt_env(settings))
    project = str(settings.dbt_project_dir)
    argv = [*args, "--project-dir", project, "--profiles-dir", project]
    log.info("dbt %s", " ".join(args))
    result = dbtRunner().invoke(argv)
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
            failures.append({"node": node.node.unique_id, "status": status,
                             "message": node.message})
    slowest = [{"node": n, "seconds": t} for t, n in sorted(timings, reverse=True)[:5]]
    summary = {"command": " ".join(args), "success": bool(result.success),
               "counts": dict(counts), "failures": failures, "slowest": slowest}
    for failure in failures:
        log.error("dbt %s: %s — %s", failure["status"], failure["node"], failure["message"])
    if not result.success:
        detail = "; ".join(f"{f['node']}: {f['message']}" for f in failures) or \
            str(result.exception)
        raise DbtFailed(f"dbt {' '.join(args)} failed: {detail}")
    log.info("dbt %s: %s; slowest: %s", " ".join(args), dict(counts),
             ", ".join(f"{s['node']} {s['seconds']}s" for s in slowest))
    return summary


#: what `dbt docs generate --static` leaves in target/ and the name it gets in the output folder
DOCS_FILES = {"static_index.html": "index.html", "manifest.json": "manifest.json",
              "catalog.json": "catalog.json"}


def generate_docs(settings: Settings) -> Path:
    """Generate dbt's documentation site (one self-contained page, plus the manifest and the
    catalog it is built from) into ``<output>/dbt_docs/`` and return that folder."""
    target = Path(settings.dbt_project_dir) / "target"
    folder = Path(settings.output_dir) / "dbt_docs"
    folder.mkdir(parents=True, exist_ok=True)
    # copied under the lock too: another build of this database rewrites target/
    with one_dbt_at_a_time(settings):
        _run_dbt_locked(settings, ["docs", "generate", "--static"])
        for source, name in DOCS_FILES.items():
            shutil.copyfile(target / source, folder / name)
    log.info("dbt docs: %s", folder / "index.html")
    return folder
