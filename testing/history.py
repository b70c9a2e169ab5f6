"""Years of reporting history, synthetic, written straight into raw, parsed, quality and ops in
the shapes the loader writes (``tonghop/sql/warehouse.sql``, ``expectations/landed.py``), with
PostgreSQL's COPY: what the incremental models (``dbt_project/macros/history.sql``) are measured
and checked on, without going through the Sheets emulator (far too slow for years of it).

The province is the benchmark's (:mod:`bench.province`: programme ``BX-KH84``, N units, each
assigned its 18 tasks and 10 indicators); :func:`add_periods` gives it three periods a year —
the 6-month report (due 20/6), an ad hoc one (25/8) and the annual one (30/11), as Cao Bằng's
catalogue has them. Each period is a season as the calendar runs it: a pull and a validation
run every morning from its opening day to the end of its 14-day late window, whatever they
find. Each unit, by a seeded draw (the demo's scenarios, :data:`tooling.demo.SCENARIO_WEIGHTS`):

- the blank sheet as provisioned, read on the opening day (every unit: "Chưa điền");
- then a draft or two, a report on time or late, a report with errors or a wrong unit code,
  each read the morning after the unit's edit — several versions a report, about 2.6 on
  average;
- on the window's last day, a few units (``last_day_share``) correct their report once more:
  a small, fixed increment, as a late-window morning brings.

Every version is checked once, by the run of the morning it was read (validation checks the
versions not yet parsed): ~40 rule results a filled report (17 for a blank one), its issues and
its quarantined rows as validation stores them. The Sheets API response (``payload``) is a
stand-in of a few hundred bytes: raw keeps it, and no model reads it.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import random
import re
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

VN = ZoneInfo("Asia/Ho_Chi_Minh")
PROGRAMME = "BX-KH84"
#: days after the due date a period stays open for late reports (tonghop.calendar)
LATE_WINDOW_DAYS = 14
#: the periods of a year, cloned from Cao Bằng's catalogue of 2026
KINDS = ("6T", "DX01", "NAM")
SOURCE_YEAR = 2026
#: the demo's scenario weights (tooling.demo.SCENARIO_WEIGHTS), a draft more often corrected
SCENARIOS = {"on_time": 55, "late": 15, "draft": 8, "untouched": 7, "errors": 10, "wrong_unit": 5}
STATUS_VI = {
    "chua_trien_khai": "Chưa triển khai",
    "dang_trien_khai": "Đang triển khai",
    "hoan_thanh": "Hoàn thành",
    "dang_thuc_hien_thuong_xuyen": "Đang thực hiện thường xuyên",
}
FEEDBACK = (
    (
        "kho_khan",
        "Khó khăn",
        "Kinh phí bố trí cho hoạt động văn học, nghệ thuật ở cơ sở còn hạn hẹp.",
    ),
    ("kien_nghi", "Kiến nghị", "Đề nghị có cơ chế khuyến khích nghệ nhân tham gia truyền dạy."),
    ("kho_khan", "Khó khăn", "Đội ngũ làm công tác văn hóa ở cơ sở còn kiêm nhiệm nhiều việc."),
)


def _read(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        return list(reader.fieldnames or []), list(reader)


def _write(path: Path, fields: list[str], rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def add_periods(project: Path, years: list[int]) -> list[str]:
    """Three periods a year for ``BX-KH84`` in the copy's seeds (6-month, ad hoc, annual: Cao
    Bằng's of 2026 with the years moved), and its units valid from before the first; returns
    the period codes in order."""
    seeds = project / "dbt_project" / "seeds" / "catalogue"
    fields, periods = _read(seeds / "periods.csv")
    source = {p["period_code"]: p for p in periods if p["programme_code"] == "CB-KH84"}
    kept = [p for p in periods if p["programme_code"] != PROGRAMME]
    codes = []
    for year in years:
        shift = {str(SOURCE_YEAR): str(year), str(SOURCE_YEAR - 1): str(year - 1)}
        for kind in KINDS:
            row = dict(source[f"CB-{SOURCE_YEAR}-{kind}"])
            for column in (
                "year",
                "period_name",
                "data_from",
                "data_to",
                "due_date",
                "on_time_until",
                "opens_on",
                "estimated_from",
            ):
                row[column] = re.sub(r"\d{4}", lambda m, s=shift: s.get(m[0], m[0]), row[column])
            if str(year) not in row["period_name"]:
                row["period_name"] += f" năm {year}"
            row["programme_code"] = PROGRAMME
            row["period_code"] = f"BX-{year}-{kind}"
            kept.append(row)
            codes.append(row["period_code"])
    _write(seeds / "periods.csv", fields, kept)
    fields, units = _read(seeds / "units.csv")
    for unit in units:
        if unit["unit_code"].startswith("BX-"):
            unit["valid_from"] = unit["updated_on"] = f"{years[0] - 1}-01-01"
    _write(seeds / "units.csv", fields, units)
    return codes


def require_review(project: Path, period_codes: list[str]) -> None:
    """The periods ``period_codes`` of the copy's catalogue require review (issue 24): a valid
    version counts once the Sở accepted it (the synthetic units have no parent to review first)."""
    seeds = project / "dbt_project" / "seeds" / "catalogue"
    fields, periods = _read(seeds / "periods.csv")
    for period in periods:
        if period["period_code"] in period_codes:
            period["review_required"] = "true"
    _write(seeds / "periods.csv", fields, periods)


def land_review(conn, period_code: str, decisions: list[tuple], read_at: dt.datetime) -> int:
    """One reading of the Sở's review sheet of the period, as ``ingest.review`` lands it: the
    sheet's rows and, parsed, each row holding a decision — ``decisions`` as (row number, unit
    code, sheet version id, 'chap_nhan' or 'tra_lai', reason). No Drive revision is kept, so
    each decision is dated at the reading (int_review_decisions). Returns the reading's id."""
    text = {"chap_nhan": "Chấp nhận", "tra_lai": "Trả lại"}
    rows = [
        [unit, str(version), text[code], reason or ""]
        for _, unit, version, code, reason in decisions
    ]
    sha = hashlib.sha256(json.dumps([period_code, read_at.isoformat(), rows]).encode()).hexdigest()
    with conn.cursor() as cur:
        cur.execute(
            """insert into raw.review_readings (period_code, reviewer_code, spreadsheet_id,
                   read_at, content_sha256, payload, revisions, service_account, pull_run_id)
               values (%s, 'tong_hop', %s, %s, %s, %s, '[]', 'history', 'history-review')
               returning review_reading_id""",
            (period_code, f"bx-review-{period_code}", read_at, sha, json.dumps(rows)),
        )
        [reading] = cur.fetchone()
        for row_number, unit, version, code, reason in decisions:
            cur.execute(
                """insert into parsed.review_decisions (review_reading_id, row_number, unit_code,
                       sheet_version_id, decision_text, decision_code, reason, cell_ref)
                   values (%s, %s, %s, %s, %s, %s, %s, %s)""",
                (reading, row_number, unit, version, text[code], code, reason, f"C{row_number}"),
            )
        cur.execute("select pg_stat_force_next_flush()")
    conn.commit()
    return reading


@dataclass
class Period:
    code: str
    opens_on: dt.date
    due_date: dt.date
    on_time_until: dt.datetime

    @property
    def last_day(self) -> dt.date:
        """The last morning of the season: the end of the late window."""
        return self.due_date + dt.timedelta(days=LATE_WINDOW_DAYS)

    @property
    def days(self) -> list[dt.date]:
        n = (self.last_day - self.opens_on).days + 1
        return [self.opens_on + dt.timedelta(days=i) for i in range(n)]


@dataclass
class Version:
    """One version of a unit's report: read on the morning of ``day``, last edited at
    ``modified``."""

    unit_code: str
    day: dt.date
    modified: dt.datetime
    kind: str  # blank | draft | valid | errors | wrong_unit


@dataclass
class Catalogue:
    units: list[str]
    tasks: list[tuple[str, bool]]  # (task code, has an end)
    indicators: list[tuple[str, str]]  # (indicator code, value kind)
    rules: list[tuple[str, str, str]]  # (rule code, part, severity)
    periods: dict[str, Period] = field(default_factory=dict)


def read_catalogue(project: Path) -> Catalogue:
    seeds = project / "dbt_project" / "seeds" / "catalogue"
    _, units = _read(seeds / "units.csv")
    _, tasks = _read(seeds / "tasks.csv")
    _, indicators = _read(seeds / "indicators.csv")
    _, rules = _read(seeds / "validation_rules.csv")
    _, periods = _read(seeds / "periods.csv")
    return Catalogue(
        units=[u["unit_code"] for u in units if u["programme_scope"] == PROGRAMME],
        tasks=[
            (t["task_code"], t["timing"] != "thuong_xuyen" or bool(t["deadline"]))
            for t in tasks
            if t["programme_code"] == PROGRAMME
        ],
        indicators=[
            (i["indicator_code"], i["value_kind"])
            for i in indicators
            if i["programme_code"] == PROGRAMME
        ],
        rules=[(r["rule_code"], r["part"], r["severity"]) for r in rules],
        periods={
            p["period_code"]: Period(
                p["period_code"],
                dt.date.fromisoformat(p["opens_on"]),
                dt.date.fromisoformat(p["due_date"]),
                dt.datetime.fromisoformat(p["on_time_until"]),
            )
            for p in periods
            if p["programme_code"] == PROGRAMME
        },
    )


def _at(day: dt.date, hour: int, minute: int = 0, second: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=VN)


def season(catalogue: Catalogue, period: Period, seed: int, last_day_share: float) -> list[Version]:
    """Every version of every unit's report for the period, in the order they are read."""
    days = period.days
    due_index = days.index(period.due_date)
    versions: list[Version] = []
    scenario_names, weights = zip(*SCENARIOS.items(), strict=True)

    def edit(unit: str, rng: random.Random, lo: int, hi: int, kind: str) -> int:
        """An edit on a day of [lo, hi] (indices into days), read the next morning."""
        i = rng.randint(lo, max(lo, hi))
        edited = days[i]
        modified = _at(edited, rng.randint(8, 22), rng.randint(0, 59), rng.randint(0, 59))
        versions.append(Version(unit, edited + dt.timedelta(days=1), modified, kind))
        return i + 1

    last_day_units = set(
        random.Random(f"{period.code}:{seed}:last-day").sample(
            catalogue.units, max(1, round(len(catalogue.units) * last_day_share))
        )
    )
    for unit in catalogue.units:
        rng = random.Random(f"{period.code}:{seed}:{unit}")
        # the blank sheet, provisioned the day before the window opens
        versions.append(Version(unit, days[0], _at(days[0] - dt.timedelta(days=1), 15), "blank"))
        scenario = rng.choices(scenario_names, weights)[0]
        # edits happen from the opening day to the day before the window's last morning
        next_day = 0
        late_end = len(days) - 3
        if scenario in ("draft", "on_time", "late", "errors") and rng.random() < 0.6:
            next_day = edit(unit, rng, 0, due_index - 4, "draft")
        if scenario == "draft" and rng.random() < 0.5:
            next_day = edit(unit, rng, next_day, due_index - 1, "draft")
        elif scenario == "on_time":
            edit(unit, rng, next_day, due_index, "valid")
        elif scenario == "late":
            edit(unit, rng, due_index + 1, late_end, "valid")
        elif scenario in ("errors", "wrong_unit"):
            next_day = edit(unit, rng, next_day, due_index - 1, scenario)
            if rng.random() < 0.6:
                edit(unit, rng, next_day, late_end, "valid")
        if unit in last_day_units:
            modified = _at(days[-2], rng.randint(8, 22), rng.randint(0, 59))
            versions.append(Version(unit, days[-1], modified, "valid"))
    versions.sort(key=lambda v: (v.day, v.unit_code))
    return versions


class _Copy:
    """Rows for one table, as COPY's text format."""

    def __init__(self, table: str, columns: tuple[str, ...]):
        self.table, self.columns, self.buffer, self.rows = table, columns, io.StringIO(), 0

    def add(self, *values) -> None:
        self.buffer.write("\t".join(_text(v) for v in values) + "\n")
        self.rows += 1


def _text(value) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, dict | list):
        value = json.dumps(value, ensure_ascii=False)
    return str(value).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


#: what the loader writes, table by table (the columns set here; the rest keep their default)
TABLES = {
    "ops.sheet_registry": (
        "spreadsheet_id",
        "tab_title",
        "layout",
        "programme_code",
        "period_code",
        "unit_code",
        "registered_at",
    ),
    "ops.pull_runs": (
        "pull_run_id",
        "programme_code",
        "period_code",
        "mode",
        "started_at",
        "finished_at",
        "files_listed",
        "fetched",
        "new_versions",
        "unchanged",
        "failed",
        "listed_at",
    ),
    "raw.sheet_versions": (
        "sheet_version_id",
        "spreadsheet_id",
        "spreadsheet_title",
        "drive_modified_time",
        "fetched_at",
        "content_sha256",
        "payload",
        "pull_run_id",
        "read_at",
        "modified_after",
    ),
    "quality.validation_runs": (
        "validation_run_id",
        "pull_run_id",
        "period_code",
        "started_at",
        "finished_at",
        "ruleset_version",
        "sheet_versions",
        "reports",
        "rows_checked",
        "errors",
        "warnings",
        "gx_success",
    ),
    "parsed.report_headers": (
        "sheet_version_id",
        "unit_code",
        "period_code",
        "validation_run_id",
        "spreadsheet_id",
        "registry_tab_title",
        "claimed_unit_code",
        "claimed_period_code",
        "reporter_name",
        "submitted_text",
        "is_submitted",
        "parsed_at",
        "part_sha256",
        "has_content",
    ),
    "parsed.task_rows": (
        "sheet_version_id",
        "unit_code",
        "period_code",
        "row_key",
        "tab_title",
        "row_number",
        "task_code",
        "status_text",
        "status_code",
        "result_text",
        "evidence_text",
    ),
    "parsed.indicator_rows": (
        "sheet_version_id",
        "unit_code",
        "period_code",
        "row_key",
        "tab_title",
        "row_number",
        "indicator_code",
        "value_text",
        "value_number",
        "value_reading",
    ),
    "parsed.feedback_rows": (
        "sheet_version_id",
        "unit_code",
        "period_code",
        "row_key",
        "tab_title",
        "row_number",
        "kind",
        "kind_text",
        "content_text",
    ),
    "quality.validation_issues": (
        "issue_id",
        "validation_run_id",
        "sheet_version_id",
        "unit_code",
        "period_code",
        "part",
        "row_key",
        "tab_title",
        "cell_ref",
        "rule_code",
        "severity",
        "blocks_version",
        "message_vi",
    ),
    "quality.rule_results": (
        "validation_run_id",
        "sheet_version_id",
        "unit_code",
        "period_code",
        "part",
        "rule_code",
        "severity",
        "rows_checked",
        "rows_failed",
    ),
    "quality.quarantined_rows": (
        "validation_run_id",
        "sheet_version_id",
        "unit_code",
        "period_code",
        "part",
        "row_key",
        "tab_title",
        "row_number",
        "rule_codes",
        "row_data",
        "quarantined_at",
    ),
}
#: tables whose id is an identity column the loader never sets (written here with OVERRIDING
#: SYSTEM VALUE through a temporary table, the sequence moved past them afterwards)
IDENTITIES = {
    "raw.sheet_versions": "sheet_version_id",
    "quality.validation_runs": "validation_run_id",
    "quality.validation_issues": "issue_id",
}
TASKS_TAB, INDICATORS_TAB, FEEDBACK_TAB = "Nhiệm vụ", "Chỉ tiêu", "Khó khăn, kiến nghị"


@dataclass
class Landed:
    """What one :meth:`History.land` call wrote: rows per table."""

    rows: dict[str, int]
    versions: int
    runs: int


class History:
    """The seasons of a synthetic province, landed a span of days at a time."""

    def __init__(self, project: Path, *, seed: int = 7, last_day_share: float = 0.02):
        self.catalogue = read_catalogue(project)
        self.seed, self.last_day_share = seed, last_day_share
        self._seasons: dict[str, list[Version]] = {}

    def period(self, code: str) -> Period:
        return self.catalogue.periods[code]

    def versions(self, code: str) -> list[Version]:
        if code not in self._seasons:
            self._seasons[code] = season(
                self.catalogue, self.period(code), self.seed, self.last_day_share
            )
        return self._seasons[code]

    def land(
        self, conn, code: str, first: dt.date, last: dt.date, *, first_run_id: int | None = None
    ) -> Landed:
        """Every morning of period ``code`` from ``first`` to ``last`` (inclusive): its pull, its
        validation run and the versions they read, as the loader (admin's connection: the
        identity columns are written as numbered here, the runs from ``first_run_id`` when
        given — a run whose id was taken before others committed)."""
        period = self.period(code)
        with conn.cursor() as cur:
            cur.execute(
                """select (select coalesce(max(sheet_version_id), 0) from raw.sheet_versions),
                          (select coalesce(max(validation_run_id), 0) from quality.validation_runs),
                          (select coalesce(max(issue_id), 0) from quality.validation_issues)"""
            )
            next_version, next_run, next_issue = (n + 1 for n in cur.fetchone())
        if first_run_id is not None:
            next_run = first_run_id
        copies = {table: _Copy(table, columns) for table, columns in TABLES.items()}
        units = {u: i for i, u in enumerate(self.catalogue.units)}
        if first == period.opens_on:
            for unit in self.catalogue.units:
                copies["ops.sheet_registry"].add(
                    self.spreadsheet_id(code, unit),
                    "",
                    "per_unit",
                    PROGRAMME,
                    code,
                    unit,
                    _at(period.opens_on - dt.timedelta(days=1), 14),
                )
        by_day: dict[dt.date, list[Version]] = {}
        for version in self.versions(code):
            if first <= version.day <= last:
                by_day.setdefault(version.day, []).append(version)
        day, runs, landed = first, 0, 0
        while day <= last:
            todays = by_day.get(day, [])
            pull = f"hist-{code}-{day:%Y%m%d}"
            read = _at(day, 6)
            copies["ops.pull_runs"].add(
                pull,
                PROGRAMME,
                code,
                "full" if day == period.opens_on else "changed",
                read,
                read + dt.timedelta(minutes=5),
                len(todays),
                len(todays),
                len(todays),
                0,
                0,
                read,
            )
            run = next_run
            next_run += 1
            counts = {"rows": 0, "errors": 0, "warnings": 0}
            for version in todays:
                rng = random.Random(f"{code}:{self.seed}:{version.unit_code}:{version.day}")
                next_issue = self._version(
                    copies,
                    code,
                    version,
                    next_version,
                    run,
                    next_issue,
                    read,
                    rng,
                    counts,
                    units[version.unit_code],
                )
                next_version += 1
            copies["quality.validation_runs"].add(
                run,
                pull,
                code,
                read + dt.timedelta(minutes=10),
                read + dt.timedelta(minutes=12),
                "synthetic",
                len(todays),
                len(todays),
                counts["rows"],
                counts["errors"],
                counts["warnings"],
                counts["errors"] == 0,
            )
            runs += 1
            landed += len(todays)
            day += dt.timedelta(days=1)
        _copy_all(conn, copies)
        return Landed({t: c.rows for t, c in copies.items()}, landed, runs)

    def spreadsheet_id(self, code: str, unit: str) -> str:
        return "bx-" + hashlib.sha256(f"{code}:{unit}".encode()).hexdigest()[:40]

    def _version(
        self,
        copies,
        code,
        version,
        sheet_version_id,
        run,
        next_issue,
        read,
        rng,
        counts,
        unit_index,
    ) -> int:
        unit = version.unit_code
        sid = self.spreadsheet_id(code, unit)
        kind = version.kind
        content = hashlib.sha256(f"{sid}:{version.modified.isoformat()}:{kind}".encode())
        read_at = read + dt.timedelta(seconds=unit_index % 3600)
        copies["raw.sheet_versions"].add(
            sheet_version_id,
            sid,
            f"Báo cáo {code} – {unit}",
            version.modified,
            read_at,
            content.hexdigest(),
            {
                "spreadsheetId": sid,
                "properties": {"title": f"Báo cáo {code} – {unit}", "locale": "vi_VN"},
                "sheets": [],
            },
            f"hist-{code}-{version.day:%Y%m%d}",
            read_at,
            version.modified,
        )
        submitted = kind in ("valid", "errors", "wrong_unit")
        filled = kind != "blank"
        copies["parsed.report_headers"].add(
            sheet_version_id,
            unit,
            code,
            run,
            sid,
            "",
            "BX-XA-9999" if kind == "wrong_unit" else unit,
            code,
            "Nguyễn Văn A" if filled else None,
            "Đã nộp" if submitted else "Chưa nộp",
            submitted,
            read + dt.timedelta(minutes=11),
            content.hexdigest(),
            filled,
        )
        issues: list[tuple] = []  # (part, row_key, tab, cell, rule, severity, blocks)
        failed_rows: dict[tuple[str, str], list[str]] = {}
        tasks = []
        for row, (task, has_end) in enumerate(self.catalogue.tasks, start=2):
            key = f"{TASKS_TAB}!{row}"
            if not filled:
                status = None
            elif has_end:
                status = rng.choice(("chua_trien_khai", "dang_trien_khai", "hoan_thanh"))
            else:
                status = rng.choice(("chua_trien_khai", "dang_thuc_hien_thuong_xuyen"))
            if kind == "errors" and rng.random() < 0.08:
                status = None
                issues.append(
                    (
                        "tasks",
                        key,
                        TASKS_TAB,
                        f"{TASKS_TAB}!G{row}",
                        "task.status_required",
                        "error",
                        False,
                    )
                )
            active = status not in (None, "chua_trien_khai")
            tasks.append((key, row, task, status))
            copies["parsed.task_rows"].add(
                sheet_version_id,
                unit,
                code,
                key,
                TASKS_TAB,
                row,
                task,
                STATUS_VI.get(status),
                status,
                f"Đã tổ chức {rng.randint(1, 30)} hoạt động." if active else None,
                "Kế hoạch của đơn vị" if active else None,
            )
        indicators = []
        for row, (indicator, value_kind) in enumerate(self.catalogue.indicators, start=2):
            key = f"{INDICATORS_TAB}!{row}"
            value = None
            if filled and not (kind == "draft" and rng.random() < 0.5):
                value = (
                    round(rng.uniform(0, 500), 1) if value_kind == "money" else rng.randint(0, 1500)
                )
            if kind == "errors" and rng.random() < 0.1:
                value = None
            if filled and value is None:
                issues.append(
                    (
                        "indicators",
                        key,
                        INDICATORS_TAB,
                        f"{INDICATORS_TAB}!E{row}",
                        "indicator.value_missing",
                        "error",
                        False,
                    )
                )
            indicators.append((key, row, indicator, value))
            copies["parsed.indicator_rows"].add(
                sheet_version_id,
                unit,
                code,
                key,
                INDICATORS_TAB,
                row,
                indicator,
                None if value is None else str(value).replace(".", ","),
                value,
                "empty" if value is None else "number",
            )
        feedback = []
        for row, (fb_kind, fb_text, text) in enumerate(
            FEEDBACK[: rng.randint(0, 3)] if filled else (), start=2
        ):
            key = f"{FEEDBACK_TAB}!{row}"
            feedback.append((key, row))
            copies["parsed.feedback_rows"].add(
                sheet_version_id, unit, code, key, FEEDBACK_TAB, row, fb_kind, fb_text, text
            )
        if not filled:
            issues.append(
                ("header", None, TASKS_TAB, f"{TASKS_TAB}!G2", "sheet.not_filled", "error", True)
            )
        if kind == "wrong_unit":
            issues.append(
                ("header", None, "Thông tin", "Thông tin!B5", "identity.unit", "error", True)
            )
        if filled and kind == "valid" and rng.random() < 0.2:
            row = rng.randrange(len(indicators))
            key = indicators[row][0]
            issues.append(
                (
                    "indicators",
                    key,
                    INDICATORS_TAB,
                    f"{INDICATORS_TAB}!E{row + 2}",
                    "indicator.value_interpreted",
                    "warning",
                    False,
                )
            )
        for part, key, tab, cell, rule, severity, blocks in issues:
            copies["quality.validation_issues"].add(
                next_issue,
                run,
                sheet_version_id,
                unit,
                code,
                part,
                key,
                tab,
                cell,
                rule,
                severity,
                blocks,
                f"Vấn đề {rule} ở ô {cell}.",
            )
            next_issue += 1
            if severity == "error" and key is not None:
                failed_rows.setdefault(
                    ("tasks" if tab == TASKS_TAB else "indicators", key), []
                ).append(rule)
            counts["errors" if severity == "error" else "warnings"] += 1
        blocking = [rule for *_, rule, severity, blocks in issues if blocks]
        # the rows an error keeps out of the marts: each row with an error, every row of a
        # version rejected as a whole
        for part, rows, tab in (
            ("tasks", tasks, TASKS_TAB),
            ("indicators", indicators, INDICATORS_TAB),
        ):
            for key, row, code_value, _ in rows:
                rules = failed_rows.get((part, key), []) + blocking
                if rules:
                    copies["quality.quarantined_rows"].add(
                        run,
                        sheet_version_id,
                        unit,
                        code,
                        part,
                        key,
                        tab,
                        row,
                        "{" + ",".join(sorted(set(rules))) + "}",
                        {"row_key": key, "code": code_value},
                        read + dt.timedelta(minutes=11),
                    )
        rows_of = {
            "header": 1,
            "tasks": len(tasks),
            "indicators": len(indicators),
            "feedback": len(feedback),
        }
        failed = {}
        for *_, rule, _severity, _blocks in issues:
            failed[rule] = failed.get(rule, 0) + 1
        for rule, part, severity in self.catalogue.rules:
            if not filled and part != "header":
                continue  # a sheet nobody filled is not checked cell by cell
            copies["quality.rule_results"].add(
                run,
                sheet_version_id,
                unit,
                code,
                part,
                rule,
                severity,
                rows_of[part],
                failed.get(rule, 0),
            )
        counts["rows"] += len(tasks) + len(indicators) + len(feedback)
        return next_issue


def _copy_all(conn, copies: dict[str, _Copy]) -> None:
    """COPY every table's rows, in the order of the foreign keys, in one transaction."""
    with conn.cursor() as cur:
        for table, copy in copies.items():
            if not copy.rows:
                continue
            copy.buffer.seek(0)
            columns = ", ".join(copy.columns)
            if table in IDENTITIES:
                temp = "landing_" + table.replace(".", "_")
                cur.execute(
                    f"create temporary table {temp} on commit drop as "
                    f"select {columns} from {table} limit 0"
                )
                cur.copy_expert(f"copy {temp} ({columns}) from stdin", copy.buffer)
                cur.execute(
                    f"insert into {table} ({columns}) overriding system value "
                    f"select {columns} from {temp}"
                )
                identity = IDENTITIES[table]
                cur.execute(
                    f"select setval(pg_get_serial_sequence('{table}', '{identity}'), "
                    f"(select max({identity}) from {table}))"
                )
            else:
                cur.copy_expert(f"copy {table} ({columns}) from stdin", copy.buffer)
        # the tables' change counters published at the commit, not up to 10 s later: the build
        # that follows reads them (ops.analyze_landed_tables)
        cur.execute("select pg_stat_force_next_flush()")
    conn.commit()
