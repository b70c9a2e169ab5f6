"""Unit history in the warehouse: a unit renamed between two periods keeps its history, and a
unit merged away can be followed to its successor.

Two periods of the same programme (CB-2026-6T, due 20/6; CB-2026-NAM, due 30/11) are landed
through the real pipeline (demo province in an emulator of its own, pull, validation; a sample
of the units, to keep the test quick) into a warehouse database of its own
(``tonghop_history``), and built with real dbt from a copy of the dbt project — so that
renaming a unit in the copy's ``seeds/catalogue/units.csv`` touches neither the repository nor
the other tests.
"""

from __future__ import annotations

import csv
import datetime as dt
import shutil
from pathlib import Path

import pytest

from tests.conftest import query

DATABASE = "tonghop_history"
FIRST, SECOND = "CB-2026-6T", "CB-2026-NAM"  # due 2026-06-20 and 2026-11-30
RENAMED_ON = dt.date(2026, 9, 1)  # between the two due dates
SEED = 21


def _units_csv(project: Path) -> Path:
    return project / "seeds" / "catalogue" / "units.csv"


def rename_unit(project: Path, unit_code: str, new_name: str, on: dt.date) -> str:
    """Rename a unit in the project's units.csv as the catalogue's keepers do: same code, new
    name, updated_on = the date the new name holds from. Returns the old name."""
    path = _units_csv(project)
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        fields, rows = reader.fieldnames, list(reader)
    [row] = [r for r in rows if r["unit_code"] == unit_code]
    old_name = row["unit_name"]
    row["unit_name"], row["updated_on"] = new_name, on.isoformat()
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return old_name


def marts(settings, sql: str, params: tuple = ()) -> list[tuple]:
    """What BI sees (as bi_reader)."""
    return query(settings.dsn("bi_reader"), sql, params)


def unit_facts(settings, unit_code: str, period_code: str) -> dict[str, list[tuple]]:
    return {
        "fct_indicator_value": marts(
            settings,
            """
            select * from marts.fct_indicator_value where unit_code = %s and period_code = %s
            order by indicator_code""",
            (unit_code, period_code),
        ),
        "fct_task_progress": marts(
            settings,
            """
            select * from marts.fct_task_progress where unit_code = %s and period_code = %s
            order by task_code""",
            (unit_code, period_code),
        ),
        "fct_submission": marts(
            settings,
            """
            select * from marts.fct_submission where unit_code = %s and period_code = %s""",
            (unit_code, period_code),
        ),
    }


def report_versions(settings) -> set[tuple]:
    return set(marts(settings, "select * from marts.fct_report_version"))


@pytest.fixture(scope="module")
def landed(settings, catalogue, tmp_path_factory):
    """Both periods landed and checked in tonghop_history, built once with the unchanged
    catalogue; returns the settings pointing at a copy of the dbt project."""
    from pipeline.dbt import run_dbt
    from testing.province import demo_province, land, own_warehouse, register_entries

    tmp = tmp_path_factory.mktemp("history")
    project = tmp / "dbt_project"
    shutil.copytree(
        Path(settings.dbt_project_dir),
        project,
        ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"),
    )
    with own_warehouse(settings, DATABASE, tmp, dbt_project_dir=project) as (own, server):
        manifests, entries = {}, []
        for period in (FIRST, SECOND):
            manifests[period], made = demo_province(server, period, seed=SEED)
            entries += made
        # a sample of the province (to keep the test quick): the communes that reported in
        # both periods, the merged units' successor, and some units of every scenario
        complete = [
            u
            for u in manifests[FIRST].units_with("on_time", "late")
            if u in manifests[SECOND].units_with("on_time") and u.startswith("CB-XA-")
        ]
        sample = set(complete[:2]) | {"CB-SO-NNMT"}
        for manifest in manifests.values():
            for scenario in set(manifest.scenarios.values()):
                sample |= set(manifest.units_with(scenario)[:2])
        register_entries(own, [e for e in entries if e.unit_code in sample])
        for period in (FIRST, SECOND):
            pulled, _ = land(own, catalogue, period)
            assert pulled.new_versions > 0
    # the data tests run in the build after the rename (fixture `renamed`), on the final state
    run_dbt(own, ["build", "--exclude", "resource_type:test"])
    return own, manifests


@pytest.fixture(scope="module")
def renamed(landed):
    """A commune with a complete report in both periods, its facts before the rename; then the
    commune renamed from RENAMED_ON in the project copy and the warehouse built again."""
    from pipeline.dbt import run_dbt

    settings, _ = landed
    candidates = marts(
        settings,
        """
        select first.unit_code
        from marts.fct_submission as first
        inner join marts.fct_submission as second
            on second.unit_code = first.unit_code and second.period_code = %s
        where first.period_code = %s and first.unit_type = 'ubnd_xa'
            and first.first_complete_sheet_version_id is not null
            and second.first_complete_sheet_version_id is not null
            and first.validation_status = 'hop_le' and second.validation_status = 'hop_le'
        order by first.unit_code""",
        (SECOND, FIRST),
    )
    assert candidates, "no commune with a complete report in both periods: change SEED"
    unit = candidates[0][0]
    before = {
        "facts": {period: unit_facts(settings, unit, period) for period in (FIRST, SECOND)},
        "versions": report_versions(settings),
        "history": marts(
            settings,
            """
            select unit_code, unit_name, version_valid_from, version_valid_to,
                   is_current_version, unit_version_key
            from marts.dim_unit_history""",
        ),
    }
    new_name = "UBND xã Thử Đổi Tên"
    old_name = rename_unit(Path(settings.dbt_project_dir), unit, new_name, RENAMED_ON)
    assert old_name != new_name
    run_dbt(settings, ["build"])
    return {"settings": settings, "unit": unit, "old": old_name, "new": new_name, "before": before}


def test_before_the_rename_every_unit_has_one_version_named_as_in_the_catalogue(renamed, catalogue):
    history = renamed["before"]["history"]
    assert {code: name for code, name, *_ in history} == {
        code: unit.unit_name for code, unit in catalogue.units.items()
    }
    assert len(history) == len(catalogue.units)
    assert all(is_current and valid_to is None for *_, valid_to, is_current, _ in history)
    both = renamed["before"]["facts"]
    assert list(both[FIRST]["fct_submission"])  # the unit is expected in both
    assert list(both[SECOND]["fct_submission"])


def test_the_renamed_unit_has_two_versions_split_at_the_rename_date(renamed, catalogue):
    settings, unit = renamed["settings"], renamed["unit"]
    versions = marts(
        settings,
        """
        select unit_name, version_valid_from, version_valid_to, is_current_version
        from marts.dim_unit_history where unit_code = %s
        order by version_valid_from""",
        (unit,),
    )
    assert versions == [
        (renamed["old"], catalogue.unit(unit).valid_from, RENAMED_ON, False),
        (renamed["new"], RENAMED_ON, None, True),
    ]
    others = marts(
        settings,
        """
        select unit_code, count(*) from marts.dim_unit_history
        where unit_code <> %s group by unit_code having count(*) <> 1""",
        (unit,),
    )
    assert others == []
    [(n_units,)] = marts(settings, "select count(distinct unit_code) from marts.dim_unit_history")
    assert n_units == len(catalogue.units)


def test_each_period_names_the_unit_as_it_was_on_its_due_date(renamed):
    settings, unit = renamed["settings"], renamed["unit"]
    rows = marts(
        settings,
        """
        select submission.period_code, submission.unit_code, submission.unit_name_at_period,
               history.unit_name, history.version_valid_from, history.version_valid_to,
               submission.due_date
        from marts.fct_submission as submission
        left join marts.dim_unit_history as history
            on history.unit_version_key = submission.unit_version_key
        where submission.unit_code = %s order by submission.due_date""",
        (unit,),
    )
    by_period = {period: (code, at_period, named) for period, code, at_period, named, *_ in rows}
    assert by_period[FIRST] == (unit, renamed["old"], renamed["old"])
    assert by_period[SECOND] == (unit, renamed["new"], renamed["new"])
    # every period of the programme (landed or not): the name in force on its due date
    for period, _code, at_period, named, valid_from, valid_to, due in rows:
        assert at_period == named == (renamed["old"] if due < RENAMED_ON else renamed["new"])
        assert valid_from <= due and (valid_to is None or due < valid_to), period
    # the first period still points at the very version it pointed at before the rename
    [before_first] = renamed["before"]["facts"][FIRST]["fct_submission"]
    [(key_first,)] = marts(
        settings,
        """
        select unit_version_key from marts.fct_submission
        where unit_code = %s and period_code = %s""",
        (unit, FIRST),
    )
    columns = [
        c
        for (c,) in marts(
            settings,
            """
        select column_name from information_schema.columns
        where table_schema = 'marts' and table_name = 'fct_submission'
        order by ordinal_position""",
        )
    ]
    assert before_first[columns.index("unit_version_key")] == key_first
    # every expected report of every unit names a version, and only one
    [(unnamed, doubled)] = marts(
        settings,
        """
        select count(*) filter (where unit_version_key is null),
               count(*) - count(distinct (period_code, unit_code))
        from marts.fct_submission""",
    )
    assert (unnamed, doubled) == (0, 0)


def test_dim_unit_shows_the_current_name(renamed):
    settings, unit = renamed["settings"], renamed["unit"]
    [(name, effective, count)] = marts(
        settings,
        """
        select unit_name, info_effective_from, version_count from marts.dim_unit
        where unit_code = %s""",
        (unit,),
    )
    assert (name, effective, count) == (renamed["new"], RENAMED_ON, 2)


def test_facts_of_the_earlier_period_are_unchanged_and_nothing_is_lost(renamed):
    settings, unit = renamed["settings"], renamed["unit"]
    before = renamed["before"]
    after = unit_facts(settings, unit, FIRST)
    assert before["facts"][FIRST]["fct_indicator_value"], "the unit reported no indicator"
    assert before["facts"][FIRST]["fct_task_progress"], "the unit reported no task"
    assert after["fct_indicator_value"] == before["facts"][FIRST]["fct_indicator_value"]
    assert after["fct_task_progress"] == before["facts"][FIRST]["fct_task_progress"]
    later = unit_facts(settings, unit, SECOND)
    assert later["fct_indicator_value"] == before["facts"][SECOND]["fct_indicator_value"]
    assert later["fct_task_progress"] == before["facts"][SECOND]["fct_task_progress"]
    assert report_versions(settings) == before["versions"]
    assert len(before["versions"]) > 0


def test_a_merged_unit_can_be_followed_to_its_successor(landed, catalogue):
    settings, _ = landed
    with (Path(settings.dbt_project_dir) / "seeds" / "catalogue" / "unit_changes.csv").open(
        encoding="utf-8", newline=""
    ) as fh:
        changes = list(csv.DictReader(fh))
    successors: dict[str, set[str]] = {}
    predecessors: dict[str, set[str]] = {}
    for change in changes:
        if change["from_unit_code"] and change["to_unit_code"]:
            successors.setdefault(change["from_unit_code"], set()).add(change["to_unit_code"])
            predecessors.setdefault(change["to_unit_code"], set()).add(change["from_unit_code"])
    assert successors.get("CB-SO-TNMT") == {"CB-SO-NNMT"}

    dim = {
        code: (succ, pred, valid_to, active)
        for code, succ, pred, valid_to, active in marts(
            settings,
            """select unit_code, successor_unit_codes, predecessor_unit_codes, valid_to,
                            is_active from marts.dim_unit""",
        )
    }
    assert set(dim) == set(catalogue.units)  # closed units are kept
    succ, _, valid_to, active = dim["CB-SO-TNMT"]
    assert succ == "CB-SO-NNMT"
    assert valid_to == catalogue.unit("CB-SO-TNMT").valid_to and not active
    assert "CB-SO-TNMT" in dim["CB-SO-NNMT"][1].split(", ")
    assert dim["CB-SO-NNMT"][3]  # the successor is active
    for code, (succ, pred, _, _) in dim.items():  # the whole lineage, both ways
        assert set(succ.split(", ") if succ else []) == successors.get(code, set()), code
        assert set(pred.split(", ") if pred else []) == predecessors.get(code, set()), code

    [(kind, from_name, to_name, change_date)] = marts(
        settings,
        """
        select change_kind, from_unit_name, to_unit_name, change_date
        from marts.dim_unit_change where from_unit_code = 'CB-SO-TNMT'""",
    )
    assert (kind, from_name, to_name) == (
        "sap_nhap",
        catalogue.unit("CB-SO-TNMT").unit_name,
        catalogue.unit("CB-SO-NNMT").unit_name,
    )
    assert change_date > catalogue.unit("CB-SO-TNMT").valid_to

    # the merged unit is no longer asked to report; its successor is, under its own code
    expected = {
        (p, u)
        for p, u in marts(
            settings,
            """
        select period_code, unit_code from marts.fct_submission
        where unit_code in ('CB-SO-TNMT', 'CB-SO-NNMT')""",
        )
    }
    assert expected == {
        (period, unit.unit_code)
        for period in catalogue.periods
        for unit in catalogue.expected_units(period)
        if unit.unit_code in ("CB-SO-TNMT", "CB-SO-NNMT")
    }
    assert {(FIRST, "CB-SO-NNMT"), (SECOND, "CB-SO-NNMT")} <= expected
    assert not {u for _, u in expected} & {"CB-SO-TNMT"}
