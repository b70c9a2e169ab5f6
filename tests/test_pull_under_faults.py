"""A pull through a storm of 429s, 5xx, timeouts and slow answers ends with the same warehouse
as a clean run: a clean full pull afterwards finds nothing new, and the marts built from the
faulted pull equal what the generator made (which is what a clean cycle gives: see
test_reporting_cycle)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ingest.pull import pull_period
from sheets.client import make_client
from sheets.http import RetryPolicy
from tests.conftest import query

PERIOD = "CB-2026-NAM"  # used by no other test against the database


@pytest.fixture(scope="module")
def province(settings, emulator):
    from tooling.demo_setup import generate_into_emulator

    settings = settings.with_overrides(emulator_url=emulator.url, sheets_backend="emulator")
    manifest, entries = generate_into_emulator(
        PERIOD, seed=3, root=emulator.store.root, settings=settings
    )
    return settings, [e.spreadsheet_id for e in entries], manifest


def test_faults_survived_and_nothing_lost_or_doubled(province, emulator, catalogue):
    from sheets_emulator import EmulatorConfig

    settings, ids, manifest = province
    storm = EmulatorConfig(
        faults=[
            {"endpoint": "sheets.spreadsheets.get", "status": 503, "times": 4},
            {"endpoint": "sheets.spreadsheets.get", "status": 429, "every": 4},
            {"endpoint": "sheets.spreadsheets.get", "status": 500, "probability": 0.1, "seed": 5},
            {
                "endpoint": "sheets.spreadsheets.get",
                "kind": "timeout",
                "delay": 1.0,
                "spreadsheet_id": ids[3],
                "times": 1,
            },
            {"endpoint": "drive.files.list", "status": 503, "times": 1},
            {"endpoint": "*", "kind": "slow", "delay": 0.01, "probability": 0.2, "seed": 9},
        ]
    )
    client = make_client(
        settings,
        RetryPolicy(
            max_tries=8,
            base_seconds=0.01,
            cap_seconds=0.05,
            jitter_seconds=0.01,
            timeout_seconds=0.5,
        ),
    )
    emulator.configure(storm)
    emulator.reset_stats()
    try:
        faulted = pull_period(settings, catalogue, PERIOD, client=client, mode="full")
        faults = emulator.stats().get("faults", {})
    finally:
        emulator.configure(EmulatorConfig())
    assert faults.get("503", 0) >= 5 and faults.get("429", 0) > 0 and faults.get("timeout") == 1
    assert client.http_client.retries >= sum(faults.get(k, 0) for k in ("429", "500", "503"))
    assert (faulted.failed, faulted.new_versions) == (0, len(ids))

    clean = pull_period(settings, catalogue, PERIOD, mode="full")
    assert (clean.failed, clean.new_versions, clean.unchanged) == (0, 0, len(ids))
    [(versions, distinct)] = query(
        settings.dsn("admin"),
        """
        select count(*), count(distinct spreadsheet_id) from raw.sheet_versions
        where spreadsheet_id = any(%s)""",
        (ids,),
    )
    assert versions == distinct == len(ids)  # one version each: nothing lost, no doubles

    from pipeline.cycle import stage_build, stage_validate

    stage_validate(settings, PERIOD, faulted.pull_run_id)
    stage_build(settings)
    statuses = dict(
        query(
            settings.dsn("bi_reader"),
            """
        select unit_code, reporting_status from marts.fct_submission where period_code = %s""",
            (PERIOD,),
        )
    )
    assert statuses == manifest.expected_status()
    assert set(statuses.values()) >= {"on_time", "missing"}
    totals = dict(
        query(
            settings.dsn("bi_reader"),
            """
        select indicator_code, sum(value_number) from marts.fct_indicator_value
        where period_code = %s group by indicator_code""",
            (PERIOD,),
        )
    )
    codes = [
        c for c, i in catalogue.indicators.items() if i.programme_code == manifest.programme_code
    ]
    for code in codes:
        assert Decimal(totals.get(code) or 0) == manifest.indicator_total(code), code
    assert sum(totals.values()) > 0
