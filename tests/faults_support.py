"""What the fault suite (``tests/test_faults.py``) compares, and the report it writes.

A **fingerprint** of a warehouse database is what two runs over the same unit reports must
share, whatever happened on the way:

- ``raw``: every version kept, as the multiset of (spreadsheet, SHA-256 of its content, title,
  Drive modifiedTime); each payload is hashed again here and must still give its SHA-256.
  Left out: ``sheet_version_id`` (an identity: landing order changes with retries),
  ``fetched_at`` and ``pull_run_id`` (when and by which run it was read);
- ``landed``: the rows of ``parsed.*``, ``quality.validation_issues``,
  ``quality.rule_results``, ``quality.quarantined_rows`` and ``ops.sheet_registry``, with every
  ``*sheet_version_id`` replaced by that version's content SHA-256, and the run ids and
  timestamps of the runs left out (``validation_run_id``, ``parsed_at``, ``quarantined_at``,
  ``issue_id``, ``registered_at``);
- ``marts``: every table and view of ``marts`` read as JSON rows, with the same replacement
  and the same run columns left out (``validation_run_id``, ``pull_run_id``, ``fetched_at``, ``read_at``),
  except ``fct_validation_run``, whose rows *are* the runs: a retried or rerun cycle rightly
  adds runs to it (its grain is still checked);
- ``duplicates``: rows sharing a key of their grain, for every mart, the grain read from the
  ``unique`` and ``unique_combination_of_columns`` tests of the marts' ``_<group>__models.yml``; and
  versions stored twice in a row with the same content in raw.

Not compared: ``raw.sheet_fetches``, ``quality.validation_runs``, ``ops.pull_runs`` and
``ops.feedback_writes`` record attempts, and a fault rightly adds attempts (the suite checks
what matters in them itself: every report answered once).

The report (:func:`write_report`) goes to the test state folder
(``$TONGHOP_STATE_DIR/results/faults.{md,json}``, git-ignored), so that running the tests never
changes a tracked file. Only with ``TONGHOP_UPDATE_DOCS=1`` does it also rewrite the tracked
copies: ``tests/results/faults.{md,json}`` and the table in ``docs/reliability.md``.

:func:`run_stages` is the whole cycle as the scenarios run it, in the suite's process or in one
of their own.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import psycopg2

from testing.grains import mart_grains, repeated_grain_keys
from tonghop.settings import state_dir

ROOT = Path(__file__).resolve().parent.parent
#: the tracked copies, rewritten only with TONGHOP_UPDATE_DOCS=1
RESULTS = Path(__file__).resolve().parent / "results"
DOCS_PAGE = ROOT / "docs" / "reliability.md"
UPDATE_DOCS = "TONGHOP_UPDATE_DOCS"
BEGIN = "<!-- faults-report:begin (written by tests/test_faults.py with TONGHOP_UPDATE_DOCS=1) -->"
END = "<!-- faults-report:end -->"

#: columns left out everywhere: ids and times of runs, which a retry or rerun rightly changes
#: (read_at: when Google answered a read, the fetch time by Google's clock)
RUN_COLUMNS = frozenset(
    {
        "validation_run_id",
        "pull_run_id",
        "fetched_at",
        "parsed_at",
        "quarantined_at",
        "issue_id",
        "registered_at",
        "read_at",
    }
)
LANDED_TABLES = (
    "parsed.report_headers",
    "parsed.task_rows",
    "parsed.indicator_rows",
    "parsed.feedback_rows",
    "quality.validation_issues",
    "quality.rule_results",
    "quality.quarantined_rows",
    "ops.sheet_registry",
)
#: marts whose rows are the runs themselves (grain checked, content not compared)
RUN_MARTS = frozenset({"fct_validation_run"})


def canonical(value) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def content_sha256(payload: dict) -> str:
    """As ingest.land hashes a spreadsheet (kept apart so that a change there is noticed)."""
    return hashlib.sha256(canonical(payload).encode("utf-8")).hexdigest()


def digest(rows: Counter) -> str:
    return hashlib.sha256("\n".join(sorted(rows.elements())).encode("utf-8")).hexdigest()


@dataclass
class Fingerprint:
    raw: Counter = field(default_factory=Counter)
    #: versions whose payload no longer hashes to the SHA-256 stored with it
    corrupt: list[str] = field(default_factory=list)
    #: versions equal to the version before them (landed twice)
    doubled: int = 0
    landed: dict[str, Counter] = field(default_factory=dict)
    marts: dict[str, Counter] = field(default_factory=dict)
    #: mart -> rows sharing a key of its grain
    duplicates: dict[str, int] = field(default_factory=dict)

    @property
    def versions(self) -> int:
        return sum(self.raw.values())

    @property
    def mart_rows(self) -> int:
        return sum(sum(c.values()) for c in self.marts.values())

    def digests(self) -> dict[str, str]:
        out = {"raw": digest(Counter(canonical(k) for k in self.raw.elements()))}
        out.update({t: digest(c) for t, c in self.landed.items()})
        out.update({f"marts.{m}": digest(c) for m, c in self.marts.items()})
        return out

    def summary(self) -> str:
        landed = sum(sum(c.values()) for c in self.landed.values())
        return (
            f"{self.versions} raw versions, {landed} landed rows, {len(self.marts)} marts "
            f"with {self.mart_rows} rows"
        )


def fingerprint(source, *, marts: bool = True) -> Fingerprint:
    """Read one warehouse database: ``source`` is its admin's DSN, or an open connection (read
    in its current transaction)."""
    fp = Fingerprint()
    conn = psycopg2.connect(source) if isinstance(source, str) else source
    try:
        if isinstance(source, str):
            conn.set_session(readonly=True, isolation_level="REPEATABLE READ")
        with conn.cursor() as cur:
            cur.execute("""
                select sheet_version_id, spreadsheet_id, content_sha256, spreadsheet_title,
                       drive_modified_time, payload
                from raw.sheet_versions order by spreadsheet_id, sheet_version_id""")
            version_sha: dict[int, str] = {}
            previous = (None, None)
            for version_id, spreadsheet_id, sha, title, modified, payload in cur:
                version_sha[version_id] = sha
                if content_sha256(payload) != sha:
                    fp.corrupt.append(f"{spreadsheet_id} v{version_id}")
                if previous == (spreadsheet_id, sha):
                    fp.doubled += 1
                previous = (spreadsheet_id, sha)
                fp.raw[
                    (spreadsheet_id, sha, title, modified.isoformat() if modified else None)
                ] += 1
            for table in LANDED_TABLES:
                fp.landed[table] = _rows(cur, table, version_sha)
            if marts:
                cur.execute("""
                    select table_name from information_schema.tables
                    where table_schema = 'marts' order by table_name""")
                names = [n for (n,) in cur.fetchall()]
                grains = mart_grains(ROOT / "dbt_project")
                repeated = repeated_grain_keys(cur, {n: grains.get(n, []) for n in names})
                for name in names:
                    if name not in RUN_MARTS:
                        fp.marts[name] = _rows(cur, f"marts.{name}", version_sha)
                    fp.duplicates[name] = sum(
                        n for (mart, _), n in repeated.items() if mart == name
                    )
    finally:
        if isinstance(source, str):
            conn.close()
    return fp


def _rows(cur, relation: str, version_sha: dict[int, str]) -> Counter:
    cur.execute(f"select to_jsonb(t) from {relation} t")
    rows: Counter = Counter()
    for (row,) in cur:
        clean = {}
        for key, value in row.items():
            if key in RUN_COLUMNS:
                continue
            if key.endswith("sheet_version_id") and value is not None:
                value = version_sha.get(value, f"unknown version {value}")
            clean[key] = value
        rows[canonical(clean)] += 1
    return rows


def differences(reference: Fingerprint, candidate: Fingerprint, *, marts: bool = True) -> list[str]:
    """What the candidate lost, gained or damaged compared with the reference (empty: none)."""
    out = []
    lost = reference.raw - candidate.raw
    extra = candidate.raw - reference.raw
    if lost:
        out.append(f"raw: {sum(lost.values())} version(s) lost")
    if extra:
        out.append(f"raw: {sum(extra.values())} version(s) not in the reference")
    if candidate.corrupt:
        out.append(f"raw: {len(candidate.corrupt)} payload(s) not matching their SHA-256")
    if candidate.doubled:
        out.append(f"raw: {candidate.doubled} version(s) landed twice")
    for table, rows in reference.landed.items():
        out += _table_difference(table, rows, candidate.landed.get(table, Counter()))
    if marts:
        for mart in sorted(set(reference.marts) | set(candidate.marts)):
            out += _table_difference(
                f"marts.{mart}",
                reference.marts.get(mart, Counter()),
                candidate.marts.get(mart, Counter()),
            )
        out += [
            f"marts.{m}: {n} row(s) duplicating a key of its grain"
            for m, n in sorted(candidate.duplicates.items())
            if n
        ]
        missing = set(reference.duplicates) - set(candidate.duplicates)
        out += [f"marts.{m}: missing" for m in sorted(missing)]
    return out


def _table_difference(name: str, expected: Counter, actual: Counter) -> list[str]:
    lost, extra = expected - actual, actual - expected
    if not lost and not extra:
        return []
    parts = []
    if lost:
        parts.append(f"{sum(lost.values())} row(s) lost or changed")
    if extra:
        parts.append(f"{sum(extra.values())} row(s) extra or changed")
    return [f"{name}: " + ", ".join(parts)]


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
