"""The morning freshness check: a live period whose pulls stopped is reported, on the clock of
the pulls' listings; a period not live, or pulled recently, is not. (Through the calendar DAG
in tests/test_season.py.)"""

from __future__ import annotations

import datetime as dt

import psycopg2
import pytest

DATABASE = "tonghop_freshness"
VN = dt.timezone(dt.timedelta(hours=7))
PERIOD = "CB-2026-6T"  # opens 1/6/2026, on time until 20/6, closes 4/7


@pytest.fixture
def warehouse(settings):
    from tooling import localdb

    localdb.ensure_warehouse(DATABASE)
    own = settings.for_database(DATABASE)
    conn = psycopg2.connect(own.dsn("admin"))
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("delete from ops.pull_runs")
    conn.close()
    return own


def record_pull(
    settings,
    run_id: str,
    listed_at: dt.datetime | None,
    *,
    mode: str = "changed",
    finished: bool = True,
) -> None:
    conn = psycopg2.connect(settings.dsn("loader"))
    with conn, conn.cursor() as cur:
        cur.execute(
            """
            insert into ops.pull_runs (pull_run_id, programme_code, period_code, mode,
                started_at, finished_at, listed_at)
            values (%s, 'CB-KH84', %s, %s, now(), %s, %s)""",
            (run_id, PERIOD, mode, dt.datetime.now(dt.UTC) if finished else None, listed_at),
        )
    conn.close()


def test_a_live_period_without_a_pull_for_36_hours_is_reported(warehouse, catalogue, alert_webhook):
    from pipeline.freshness import check_freshness

    morning = dt.datetime(2026, 6, 10, 6, 0, tzinfo=VN)
    record_pull(warehouse, "pull-1", morning - dt.timedelta(hours=48))
    # a pull of named units, an unfinished pull, and this morning's pull (listed after the
    # check's moment) do not count as the period's pulls running
    record_pull(warehouse, "pull-2", morning - dt.timedelta(hours=2), mode="units")
    record_pull(warehouse, "pull-3", morning - dt.timedelta(hours=1), finished=False)
    record_pull(warehouse, "pull-4", morning + dt.timedelta(seconds=20))
    result = check_freshness(warehouse, catalogue, morning)
    [stale] = result["stale"]
    assert (stale["period_code"], stale["last_pull_run_id"], stale["hours"]) == (
        PERIOD,
        "pull-1",
        48.0,
    )
    [alert] = alert_webhook
    assert "pulls stalled" in alert["text"] and PERIOD in alert["text"]
    assert "Không có lượt tải mới" in alert["text"]


def test_a_recent_pull_or_a_period_not_live_is_not_reported(warehouse, catalogue, alert_webhook):
    from pipeline.freshness import check_freshness

    morning = dt.datetime(2026, 6, 10, 6, 0, tzinfo=VN)
    record_pull(warehouse, "pull-1", morning - dt.timedelta(hours=24))
    assert check_freshness(warehouse, catalogue, morning)["stale"] == []
    # after the period closed (4/7), no pull is expected
    assert (
        check_freshness(warehouse, catalogue, dt.datetime(2026, 7, 20, 6, 0, tzinfo=VN))["stale"]
        == []
    )
    assert alert_webhook == []


def test_before_its_first_pull_a_period_is_stale_36_hours_after_it_opened(
    warehouse, catalogue, alert_webhook
):
    from pipeline.freshness import check_freshness

    assert (
        check_freshness(warehouse, catalogue, dt.datetime(2026, 6, 2, 6, 0, tzinfo=VN))["stale"]
        == []
    )
    [stale] = check_freshness(warehouse, catalogue, dt.datetime(2026, 6, 3, 6, 0, tzinfo=VN))[
        "stale"
    ]
    assert stale["last_pull_at"] is None and stale["hours"] == 48.0
