"""``python -m bench.readme``: copy ``bench/results/latest.md`` into the README, between the
``<!-- bench:latest -->`` markers of its "Benchmarks" section."""

from __future__ import annotations

import re
import sys

from tonghop.settings import PROJECT_ROOT

START, END = "<!-- bench:latest -->", "<!-- /bench:latest -->"


def main() -> int:
    readme = PROJECT_ROOT / "README.md"
    table = (PROJECT_ROOT / "bench" / "results" / "latest.md").read_text(encoding="utf-8")
    text = readme.read_text(encoding="utf-8")
    pattern = re.compile(re.escape(START) + ".*?" + re.escape(END), re.S)
    if not pattern.search(text):
        print(f"README.md has no {START} … {END} block", file=sys.stderr)
        return 1
    readme.write_text(pattern.sub(lambda _: f"{START}\n{table.strip()}\n{END}", text),
                      encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
