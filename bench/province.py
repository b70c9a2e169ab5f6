"""A synthetic province of N units, in a private copy of the project.

The real seeds are never touched: the project (code, dbt project, GE project) is copied into the
bench's work folder, and the copy's catalogue gets one more programme, ``BX-KH84``: a clone of
Cao Bằng's plan (its 18 tasks, 10 indicators, task groups, report header) with N synthetic units
— provincial departments, the arts association, wards and communes in realistic proportions —
each assigned every task and every indicator (18 task rows and 10 indicator rows per sheet, "tens
of rows" as real plans give a commune), and one period, ``BX-2026-6T`` (the 6-month report of
2026, due 20/6/2026). Every stage run by the bench imports the code of the copy (``PYTHONPATH``)
and finds its resources there (``TONGHOP_HOME``), so the pipeline reads this catalogue exactly as
it reads the real one, and dbt seeds it.

Reports are filled by the demo generator (``tooling.demo.build_unit_report``: on time, late,
draft, untouched, with errors, wrong unit — the demo's weights) and written straight into the
emulator's store, one unit at a time (memory stays flat while generating 3,400 workbooks).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import random
import shutil
from pathlib import Path

from tonghop.settings import PROJECT_ROOT

SOURCE_PROGRAMME = "CB-KH84"
SOURCE_PERIOD = "CB-2026-6T"
PROGRAMME = "BX-KH84"
PERIOD = "BX-2026-6T"
#: what the copy needs to run every stage (and nothing generated: no target/, logs, Data Docs)
COPIED = (
    "tonghop",
    "sheets",
    "ingest",
    "expectations",
    "publish",
    "pipeline",
    "tooling",
    "testing",
    "sheets_emulator",
    "dbt_project",
    "bench",
)
IGNORED = shutil.ignore_patterns(
    "target", "logs", "dbt_packages", "uncommitted", "__pycache__", "results", ".user.yml"
)
#: unit types of a province in proportion (Cao Bằng: 14 departments, 1 association, 3 wards,
#: 53 communes); every province has at least one department and the association
TYPE_SHARES = (("so", 0.20), ("hoi", 0.014), ("ubnd_phuong", 0.042), ("ubnd_xa", 0.744))
TYPE_PREFIX = {"so": "SO", "hoi": "HOI", "ubnd_phuong": "PH", "ubnd_xa": "XA"}
TYPE_NAME = {
    "so": "Sở thử nghiệm số {n}",
    "hoi": "Hội Văn học nghệ thuật thử nghiệm {n}",
    "ubnd_phuong": "UBND phường Thử Nghiệm {n}",
    "ubnd_xa": "UBND xã Thử Nghiệm {n}",
}


def copy_project(target: Path) -> Path:
    """A fresh copy of the project's code, dbt project and GE project in ``target``."""
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    for name in COPIED:
        shutil.copytree(PROJECT_ROOT / name, target / name, ignore=IGNORED)
    return target


def _read(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        return list(reader.fieldnames or []), list(reader)


def _append(path: Path, rows: list[dict[str, str]]) -> None:
    fields, existing = _read(path)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(existing + [{k: r.get(k, "") for k in fields} for r in rows])


def _clone_code(code: str) -> str:
    return "BX" + code[2:] if code.startswith("CB") else code


def unit_types(n_units: int) -> list[str]:
    """The unit type of each of ``n_units`` units, in order (departments first, as plans list)."""
    counts = {
        t: max(1, round(n_units * share)) if t in ("so", "hoi") else 0 for t, share in TYPE_SHARES
    }
    counts["ubnd_phuong"] = round(n_units * dict(TYPE_SHARES)["ubnd_phuong"])
    counts["ubnd_xa"] = n_units - counts["so"] - counts["hoi"] - counts["ubnd_phuong"]
    if counts["ubnd_xa"] < 0:  # tiny provinces: departments and communes only
        counts = {"so": 1, "hoi": 0, "ubnd_phuong": 0, "ubnd_xa": n_units - 1}
    return [t for t, _ in TYPE_SHARES for _ in range(counts[t])]


def write_catalogue(project: Path, n_units: int) -> list[str]:
    """Add programme BX-KH84 with ``n_units`` units to the copy's seeds; returns the unit codes."""
    seeds = project / "dbt_project" / "seeds" / "catalogue"

    def clone(name: str, key: str = "programme_code", **changes) -> list[dict[str, str]]:
        _, rows = _read(seeds / f"{name}.csv")
        out = []
        for row in rows:
            if row[key] != SOURCE_PROGRAMME:
                continue
            new = {**row, "programme_code": PROGRAMME}
            for column, change in changes.items():
                new[column] = change(row[column])
            out.append(new)
        return out

    programme = clone(
        "programmes",
        short_name=lambda s: f"{s} (benchmark)",
        locality=lambda _: "Tỉnh Thử Nghiệm",
        title=lambda s: f"{s} (tỉnh thử nghiệm, benchmark)",
    )
    _append(seeds / "programmes.csv", programme)
    _append(seeds / "task_groups.csv", clone("task_groups", task_group_code=_clone_code))
    tasks = clone("tasks", task_code=_clone_code, task_group_code=_clone_code)
    _append(seeds / "tasks.csv", tasks)
    indicators = clone("indicators", indicator_code=_clone_code, task_code=_clone_code)
    _append(seeds / "indicators.csv", indicators)
    _, periods = _read(seeds / "periods.csv")
    [period] = [p for p in periods if p["period_code"] == SOURCE_PERIOD]
    _append(seeds / "periods.csv", [{**period, "programme_code": PROGRAMME, "period_code": PERIOD}])
    units, codes, numbers = [], [], {}
    for unit_type in unit_types(n_units):
        numbers[unit_type] = numbers.get(unit_type, 0) + 1
        n = numbers[unit_type]
        code = f"BX-{TYPE_PREFIX[unit_type]}-{n:04d}"
        codes.append(code)
        name = TYPE_NAME[unit_type].format(n=n)
        units.append(
            {
                "unit_code": code,
                "unit_name": name,
                "short_name": name,
                "unit_type": unit_type,
                "locality": "Tỉnh Thử Nghiệm",
                "programme_scope": PROGRAMME,
                "contact_email": f"{code.lower()}@thunghiem.example.gov.vn",
                "valid_from": "2025-07-01",
                "updated_on": "2025-07-01",
            }
        )
    _append(seeds / "units.csv", units)
    assignments = []
    for code in codes:
        for task in tasks:
            digest = hashlib.sha256(f"{code}:{task['task_code']}".encode()).digest()
            assignments.append(
                {
                    "programme_code": PROGRAMME,
                    "task_code": task["task_code"],
                    "unit_code": code,
                    "role": "chu_tri" if digest[0] < 96 else "phoi_hop",
                    "source_ref": "Benchmark: mọi nhiệm vụ của kế hoạch",
                }
            )
    _append(seeds / "assignments.csv", assignments)
    _append(
        seeds / "indicator_assignments.csv",
        [
            {"programme_code": PROGRAMME, "indicator_code": i["indicator_code"], "unit_code": code}
            for code in codes
            for i in indicators
        ],
    )
    return codes


def fill_emulator(project: Path, root: Path, seed: int, now: dt.datetime) -> dict:
    """Every expected unit's filled report for BX-2026-6T into the emulator store at ``root``;
    returns {"units": {unit: spreadsheet id}, "scenarios": {unit: scenario}}."""
    from sheets.layout import app_properties, spreadsheet_title
    from sheets_emulator import SpreadsheetStore
    from tonghop.catalogue import Catalogue
    from tooling.demo import _modified_time, build_unit_report, pick_scenarios
    from tooling.demo_setup import demo_spreadsheet_id

    catalogue = Catalogue(project / "dbt_project" / "seeds" / "catalogue")
    period = catalogue.period(PERIOD)
    units = catalogue.expected_units(PERIOD)
    rng = random.Random(f"{PERIOD}:{seed}")
    scenarios = pick_scenarios(units, rng)
    store = SpreadsheetStore(root)
    ids = {}
    with store.batch():
        for unit in units:
            unit_seed = f"{PERIOD}:{seed}:{unit.unit_code}"
            scenario = scenarios[unit.unit_code]
            if _modified_time(period, scenario, random.Random(unit_seed)) > now:
                scenario = scenarios[unit.unit_code] = "untouched"
            report = build_unit_report(catalogue, unit, PERIOD, scenario, random.Random(unit_seed))
            ids[unit.unit_code] = store.put_workbook(
                demo_spreadsheet_id(PERIOD, unit.unit_code),
                report.workbook,
                name=spreadsheet_title(catalogue, unit.unit_code, PERIOD),
                modified_time=min(report.modified_time, now),
                app_properties=app_properties(unit.unit_code, PERIOD),
            )
    store.close()
    return {"units": ids, "scenarios": scenarios}


def change_one_unit(project: Path, root: Path, unit_code: str, seed: int, now: dt.datetime) -> str:
    """The unit edits its sheet (new figures, as a person in the browser): its workbook is
    replaced by another filled report and Drive's modifiedTime moves to ``now``."""
    from sheets.layout import app_properties, spreadsheet_title
    from sheets_emulator import SpreadsheetStore
    from tonghop.catalogue import Catalogue
    from tooling.demo import build_unit_report
    from tooling.demo_setup import demo_spreadsheet_id

    catalogue = Catalogue(project / "dbt_project" / "seeds" / "catalogue")
    unit = catalogue.unit(unit_code)
    report = build_unit_report(
        catalogue, unit, PERIOD, "on_time", random.Random(f"{PERIOD}:{seed}:{unit_code}:edited")
    )
    store = SpreadsheetStore(root)
    try:
        return store.put_workbook(
            demo_spreadsheet_id(PERIOD, unit_code),
            report.workbook,
            name=spreadsheet_title(catalogue, unit_code, PERIOD),
            modified_time=now,
            app_properties=app_properties(unit_code, PERIOD),
        )
    finally:
        store.close()


def province_key(n_units: int, seed: int) -> str:
    """What identifies a generated province (a folder generated for it can be reused)."""
    source = PROJECT_ROOT / "dbt_project" / "seeds" / "catalogue"
    digest = hashlib.sha256()
    for path in sorted(source.glob("*.csv")) + [
        PROJECT_ROOT / "tooling" / "demo.py",
        PROJECT_ROOT / "sheets" / "layout.py",
        PROJECT_ROOT / "sheets" / "template.py",
    ]:
        digest.update(path.read_bytes())
    return json.dumps({"units": n_units, "seed": seed, "sources": digest.hexdigest()[:16]})
