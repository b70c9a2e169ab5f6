"""The fingerprint of a warehouse database: what two runs over the same unit reports must
share, whatever happened on the way. The fault suite (``tests/test_faults.py``), the
Celery topology's test and bench (``tests/test_celery_topology.py``,
``bench/celery_load.py``) compare a run with a clean one through it.

A **fingerprint** holds:

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

:func:`served` is what the emulator serves now, hashed as the pull hashes it, and
:func:`lost_or_doubled` everything a run lost, doubled or damaged against a clean one.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import psycopg2

from testing.grains import mart_grains, repeated_grain_keys

ROOT = Path(__file__).resolve().parent.parent

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


# ------------------------------------------------------------------ against what is served
def served(settings, ids: list[str]) -> set[tuple[str, str]]:
    """(spreadsheet, content SHA-256) of what the Sheets backend of ``settings`` serves now
    for each spreadsheet, read with a clean client and hashed as the puller hashes it."""
    from ingest.land import content_sha256 as landed_sha256
    from sheets.client import make_client, read_spreadsheet, without_check_tabs

    client = make_client(settings)
    return {(i, landed_sha256(without_check_tabs(read_spreadsheet(client, i)))) for i in ids}


def lost_or_doubled(
    reference: Fingerprint, candidate: Fingerprint, settings, ids: list[str], *, marts: bool
) -> list[str]:
    """Everything lost, doubled or damaged: the fingerprints' :func:`differences`, and what
    the Sheets backend of ``settings`` serves for the spreadsheets ``ids`` that raw does not
    hold."""
    out = differences(reference, candidate, marts=marts)
    kept = {(s, sha) for s, sha, *_ in candidate.raw}
    missing = served(settings, ids) - kept
    if missing:
        out.append(f"raw: {len(missing)} spreadsheet(s) served by the emulator not kept")
    return out
