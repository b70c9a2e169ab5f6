"""``python -m bench.readme``: copy ``bench/results/latest.md`` into the README, between the
``<!-- bench:latest -->`` markers of its "Benchmarks" section, and the short form of
``bench/results/airflow_load.json`` (``bench/airflow_load.py``) between the
``<!-- bench:airflow-load -->`` markers."""

from __future__ import annotations

import json
import re
import sys

from tonghop.settings import PROJECT_ROOT

START, END = "<!-- bench:latest -->", "<!-- /bench:latest -->"
LOAD_START, LOAD_END = "<!-- bench:airflow-load -->", "<!-- /bench:airflow-load -->"


def _replace(text: str, start: str, end: str, table: str) -> str | None:
    pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.S)
    if not pattern.search(text):
        print(f"README.md has no {start} … {end} block", file=sys.stderr)
        return None
    return pattern.sub(lambda _: f"{start}\n{table.strip()}\n{end}", text)


def main() -> int:
    from bench.airflow_load import render

    readme = PROJECT_ROOT / "README.md"
    results = PROJECT_ROOT / "bench" / "results"
    text = _replace(readme.read_text(encoding="utf-8"), START, END,
                    (results / "latest.md").read_text(encoding="utf-8"))
    if text is None:
        return 1
    load = results / "airflow_load.json"
    if load.exists():
        text = _replace(text, LOAD_START, LOAD_END, render(
            json.loads(load.read_text(encoding="utf-8")), compact=True))
        if text is None:
            return 1
    readme.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
