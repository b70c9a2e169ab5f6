"""``python -m bench.docs``: copy ``bench/results/latest.md`` into ``docs/benchmarks.md``, between
its ``<!-- bench:latest -->`` markers, the short form of ``bench/results/airflow_load.json``
(``bench/airflow_load.py``) between its ``<!-- bench:airflow-load -->`` markers, the short form
of ``bench/results/celery_load.json`` (``bench/celery_load.py``) between its
``<!-- bench:celery -->`` markers (and the same in ``docs/reliability.md``), and
``bench/results/granularity.md`` (``bench/granularity.py``) between its
``<!-- bench:granularity -->`` markers, ``bench/results/bi_candidates.md``
(``bench/bi_candidates.py``) between its ``<!-- bench:bi -->`` markers, and
``bench/results/quota_*.md`` (``bench/quota.py``) between its ``<!-- bench:quota -->`` markers,
and ``bench/results/history.md`` (``bench/history.py``) between its ``<!-- bench:history -->``
markers.

The bench itself writes only ``bench/results/``; this copies its tables into the documentation
when someone decides a run should be the published one (the README links to that page and
quotes no figure)."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from tonghop.settings import PROJECT_ROOT

START, END = "<!-- bench:latest -->", "<!-- /bench:latest -->"
LOAD_START, LOAD_END = "<!-- bench:airflow-load -->", "<!-- /bench:airflow-load -->"
GRAIN_START, GRAIN_END = "<!-- bench:granularity -->", "<!-- /bench:granularity -->"
BI_START, BI_END = "<!-- bench:bi -->", "<!-- /bench:bi -->"
QUOTA_START, QUOTA_END = "<!-- bench:quota -->", "<!-- /bench:quota -->"
HISTORY_START, HISTORY_END = "<!-- bench:history -->", "<!-- /bench:history -->"
CELERY_START, CELERY_END = "<!-- bench:celery -->", "<!-- /bench:celery -->"
#: the page the tables are copied into
PAGE = PROJECT_ROOT / "docs" / "benchmarks.md"
#: the Celery run's table also goes where the recovery is explained
RELIABILITY_PAGE = PROJECT_ROOT / "docs" / "reliability.md"


def _replace(text: str, start: str, end: str, table: str, page: Path = PAGE) -> str | None:
    pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.S)
    if not pattern.search(text):
        print(f"{page.name} has no {start} … {end} block", file=sys.stderr)
        return None
    return pattern.sub(lambda _: f"{start}\n{table.strip()}\n{end}", text)


def main(
    page: Path = PAGE,
    results: Path = PROJECT_ROOT / "bench" / "results",
    reliability_page: Path = RELIABILITY_PAGE,
) -> int:
    from bench import celery_load
    from bench.airflow_load import render

    text = _replace(
        page.read_text(encoding="utf-8"),
        START,
        END,
        (results / "latest.md").read_text(encoding="utf-8"),
        page,
    )
    if text is None:
        return 1
    load = results / "airflow_load.json"
    if load.exists():
        text = _replace(
            text,
            LOAD_START,
            LOAD_END,
            render(json.loads(load.read_text(encoding="utf-8")), compact=True),
            page,
        )
        if text is None:
            return 1
    granularity = results / "granularity.md"
    if granularity.exists():
        text = _replace(text, GRAIN_START, GRAIN_END, granularity.read_text(encoding="utf-8"), page)
        if text is None:
            return 1
    candidates = results / "bi_candidates.md"
    if candidates.exists():
        text = _replace(text, BI_START, BI_END, candidates.read_text(encoding="utf-8"), page)
        if text is None:
            return 1
    quota = sorted(results.glob("quota_*.md"))
    if quota:
        tables = "\n".join(path.read_text(encoding="utf-8") for path in quota)
        text = _replace(text, QUOTA_START, QUOTA_END, tables, page)
        if text is None:
            return 1
    history = results / "history.md"
    if history.exists():
        text = _replace(text, HISTORY_START, HISTORY_END, history.read_text(encoding="utf-8"), page)
        if text is None:
            return 1
    celery = results / "celery_load.json"
    if celery.exists():
        table = celery_load.render(json.loads(celery.read_text(encoding="utf-8")), compact=True)
        text = _replace(text, CELERY_START, CELERY_END, table, page)
        reliability = _replace(
            reliability_page.read_text(encoding="utf-8"),
            CELERY_START,
            CELERY_END,
            table,
            reliability_page,
        )
        if text is None or reliability is None:
            return 1
        reliability_page.write_text(reliability, encoding="utf-8")
    page.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
