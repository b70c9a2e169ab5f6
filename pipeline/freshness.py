"""Is each live period's pull running? An alert when it is not.

The build's ``dbt source freshness`` only runs inside a build, and a build only after a pull
landed something, so a pull that stopped (a broken connection, a paused DAG, a scheduler that
is down) would never be noticed there. The calendar checks every morning instead: for each
period live that day (:func:`tonghop.calendar.live_periods`), the latest finished pull of the
period (any mode but a re-read of named units) must be less than :data:`FRESHNESS_HOURS` old —
measured on the Drive server's clock at the pull's listing (``ops.pull_runs.listed_at``), the
clock the check's own day is on — or, before the first pull, the period's opening must be less
than that old. A period that is stale is reported to the data engineers
(:func:`tonghop.alerts.send`): which period, since when, the last pull's run.
"""

from __future__ import annotations

import datetime as dt
import logging

import psycopg2

from tonghop import alerts
from tonghop.calendar import RUN_TIME, live_periods
from tonghop.catalogue import Catalogue
from tonghop.settings import Settings
from tonghop.vn import VN_TZ

log = logging.getLogger(__name__)

#: a live period whose latest pull is older than this is stale (the calendar pulls daily)
FRESHNESS_HOURS = 36


def last_pulls(
    conn, period_codes: list[str], now: dt.datetime
) -> dict[str, tuple[dt.datetime, str]]:
    """Period -> (time of its latest finished pull that listed Drive by ``now``, that pull's
    run id). A pull the same morning's calendar started after ``now`` does not hide that the
    pulls before it had stopped."""
    with conn.cursor() as cur:
        cur.execute(
            """
            select distinct on (period_code) period_code,
                   coalesce(listed_at, started_at) as pulled_at, pull_run_id
            from ops.pull_runs
            where period_code = any(%s) and finished_at is not null and mode <> 'units'
              and coalesce(listed_at, started_at) <= %s
            order by period_code, coalesce(listed_at, started_at) desc""",
            (period_codes, now),
        )
        return {period: (when, run) for period, when, run in cur.fetchall()}


def stale_periods(settings: Settings, catalogue: Catalogue, now: dt.datetime) -> list[dict]:
    """The periods live at ``now`` whose pulls stopped (see the module's docstring)."""
    day = now.astimezone(VN_TZ).date()
    live = live_periods(catalogue, day)
    if not live:
        return []
    conn = psycopg2.connect(settings.dsn("loader"))
    try:
        pulls = last_pulls(conn, live, now)
    finally:
        conn.close()
    limit = dt.timedelta(hours=FRESHNESS_HOURS)
    stale = []
    for code in live:
        period = catalogue.period(code)
        opened = dt.datetime.combine(period.opens_on or period.due_date, RUN_TIME, tzinfo=VN_TZ)
        when, run = pulls.get(code, (None, None))
        since = when or opened
        if now - since > limit:
            stale.append(
                {
                    "period_code": code,
                    "period_name": period.period_name,
                    "last_pull_at": when.isoformat() if when else None,
                    "last_pull_run_id": run,
                    "hours": round((now - since).total_seconds() / 3600, 1),
                }
            )
    return stale


def check_freshness(settings: Settings, catalogue: Catalogue, now: dt.datetime) -> dict:
    """Alert once for all the stale live periods at ``now``; the result for the task's XCom."""
    stale = stale_periods(settings, catalogue, now)
    if stale:
        names = "; ".join(
            f"{s['period_code']} ({'chưa có lượt tải nào' if not s['last_pull_at'] else 'lượt tải cuối ' + s['last_pull_at']})"
            for s in stale
        )
        alerts.send(
            f"[tonghop] Không có lượt tải mới / pulls stalled: {len(stale)} kỳ báo cáo "
            f"đang mở không được tải trong {FRESHNESS_HOURS} giờ qua: {names}",
            {"checked_at": now.isoformat(), "freshness_hours": FRESHNESS_HOURS, "stale": stale},
        )
    else:
        log.info("freshness: every live period was pulled within %d hours", FRESHNESS_HOURS)
    return {"checked_at": now.isoformat(), "stale": stale}
