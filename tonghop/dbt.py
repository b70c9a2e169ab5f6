"""Running dbt (in-process, through dbt's programmatic entry point) as the transformer role."""

from __future__ import annotations

import logging
import os
import shutil
from collections import Counter
from pathlib import Path
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


def run_dbt(settings: Settings, args: list[str]) -> dict:
    """Run one dbt command (e.g. ["build"]) and summarise its results.

    Returns {"command", "success", "counts": {status: n}, "failures": [...]}; raises
    :class:`DbtFailed` when a model, seed, snapshot or test fails.
    """
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
    run_dbt(settings, ["docs", "generate", "--static"])
    target = Path(settings.dbt_project_dir) / "target"
    folder = Path(settings.output_dir) / "dbt_docs"
    folder.mkdir(parents=True, exist_ok=True)
    for source, name in DOCS_FILES.items():
        shutil.copyfile(target / source, folder / name)
    log.info("dbt docs: %s", folder / "index.html")
    return folder
