"""Running dbt (in-process, through dbt's programmatic entry point) as the transformer role."""

from __future__ import annotations

import logging
import os
from collections import Counter
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
    for node in (result.result or []) if hasattr(result.result, "__iter__") else []:
        status = str(getattr(node, "status", "unknown"))
        counts[status] += 1
        if status in ("error", "fail"):
            failures.append({"node": node.node.unique_id, "status": status,
                             "message": node.message})
    summary = {"command": " ".join(args), "success": bool(result.success),
               "counts": dict(counts), "failures": failures}
    for failure in failures:
        log.error("dbt %s: %s — %s", failure["status"], failure["node"], failure["message"])
    if not result.success:
        detail = "; ".join(f"{f['node']}: {f['message']}" for f in failures) or \
            str(result.exception)
        raise DbtFailed(f"dbt {' '.join(args)} failed: {detail}")
    log.info("dbt %s: %s", " ".join(args), dict(counts))
    return summary
