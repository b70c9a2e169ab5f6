"""What the fault suite (``tests/test_faults.py``) compares, and the report it writes.

It compares warehouses through their **fingerprint** (``testing/fingerprint.py``, shared with
the Celery topology's test and bench: every raw version kept, intact and once, the landed rows
and the marts of a run against a clean one's, no mart repeating a key of its grain), re-exported
here as the suite has always used it.

The report (:func:`write_report`) goes to the test state folder
(``$TONGHOP_STATE_DIR/results/faults.{md,json}``, git-ignored), so that running the tests never
changes a tracked file. Only with ``TONGHOP_UPDATE_DOCS=1`` does it also rewrite the tracked
copies: ``tests/results/faults.{md,json}`` and the table in ``docs/reliability.md``.

:func:`run_stages` is the whole cycle as the scenarios run it, in the suite's process or in one
of their own.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from testing.fingerprint import (  # noqa: F401 (the suite's names for them)
    LANDED_TABLES,
    RUN_COLUMNS,
    RUN_MARTS,
    Fingerprint,
    canonical,
    content_sha256,
    differences,
    fingerprint,
    lost_or_doubled,
    served,
)
from tonghop.settings import state_dir

ROOT = Path(__file__).resolve().parent.parent
#: the tracked copies, rewritten only with TONGHOP_UPDATE_DOCS=1
RESULTS = Path(__file__).resolve().parent / "results"
DOCS_PAGE = ROOT / "docs" / "reliability.md"
UPDATE_DOCS = "TONGHOP_UPDATE_DOCS"
BEGIN = "<!-- faults-report:begin (written by tests/test_faults.py with TONGHOP_UPDATE_DOCS=1) -->"
END = "<!-- faults-report:end -->"


# ------------------------------------------------------------------ a whole cycle
def run_stages(settings, period_code: str, run_id: str) -> dict:
    """Every stage of a cycle, as Airflow's tasks call them: pull, validate, `dbt build` (the
    build stage without its source freshness check and docs site, which write no data),
    feedback (the units' tabs, from the marts) and publish (without LibreOffice's PDF, which is
    not reproducible and never compared)."""
    from pipeline.cycle import stage_feedback, stage_pull, stage_validate
    from pipeline.dbt import run_dbt
    from publish.bundle import publish_period

    pulled = stage_pull(settings, period_code)
    validated = stage_validate(settings, period_code, pulled["pull_run_id"])
    built = run_dbt(settings, ["build"])
    told = stage_feedback(settings, period_code)
    published = publish_period(settings, period_code, run_id, pdf=False).as_dict()
    return {
        "pull": pulled,
        "validate": validated,
        "feedback": told,
        "build": built,
        "publish": published,
    }


# ------------------------------------------------------------------ the report
@dataclass
class Outcome:
    scenario: str  # short name
    injected: str  # what was done to the pipeline
    how_often: str  # calls faulted, retries seen, kills, restarts
    recovery: str  # what Airflow or an operator does next (the retry, the rerun)
    survived: str  # what came through
    compared: str  # what was compared with the reference
    lost: list[str]  # computed differences; empty = nothing
    seconds: float

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def render(outcomes: list[Outcome], reference: str, reference_seconds: float = 0.0) -> str:
    """The Markdown table (and the lines around it) that goes into docs/reliability.md."""
    lines = [
        f"Reference: {reference}.",
        "",
        "| fault | injected | how often | recovery | survived | lost |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for o in outcomes:
        lost = (
            f"**nothing** ({o.compared} equal)" if not o.lost else "**" + "; ".join(o.lost) + "**"
        )
        cells = [o.scenario, o.injected, o.how_often, o.recovery, o.survived, lost]
        lines.append(
            "| " + " | ".join(c.replace("|", "/").replace("\n", " ") for c in cells) + " |"
        )
    total = sum(o.seconds for o in outcomes)
    lines += [
        "",
        f"The reference took {reference_seconds:.0f} s and the {len(outcomes)} "
        f"scenarios {total:.0f} s (their own databases and emulators; wall time on "
        'the machine that ran the suite). "Lost" is computed: '
        "**nothing** only when raw, the landed rows and (where built) the marts equal "
        "the reference's and no mart repeats a key of its grain.",
    ]
    return "\n".join(lines)


def state_results() -> Path:
    """Where a test run writes the report: the test state folder (``TONGHOP_STATE_DIR``, which
    tests/conftest.py sets to ``.local/test``), never a tracked file."""
    return state_dir() / "results"


def update_docs_requested() -> bool:
    return os.environ.get(UPDATE_DOCS, "").strip() == "1"


def _write(folder: Path, payload: dict, table: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "faults.json").write_text(
        json.dumps(payload, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    path = folder / "faults.md"
    path.write_text(table + "\n", encoding="utf-8")
    return path


def replace_block(text: str, table: str) -> str:
    """``text`` with what lies between the BEGIN and END markers replaced by ``table``."""
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    return text[:start] + "\n" + table + "\n" + text[end:]


def write_report(
    outcomes: list[Outcome], reference: str, *, reference_seconds: float = 0.0
) -> Path:
    """Write ``faults.{md,json}`` into the test state folder (:func:`state_results`); with
    ``TONGHOP_UPDATE_DOCS=1``, also into the tracked ``tests/results/`` and the table of
    ``docs/reliability.md``. Returns the state folder's ``faults.md``."""
    payload = {
        "reference": reference,
        "reference_seconds": reference_seconds,
        "outcomes": [o.as_dict() for o in outcomes],
    }
    table = render(outcomes, reference, reference_seconds)
    path = _write(state_results(), payload, table)
    if update_docs_requested():
        _write(RESULTS, payload, table)
        text = DOCS_PAGE.read_text(encoding="utf-8")
        DOCS_PAGE.write_text(replace_block(text, table), encoding="utf-8")
    return path
