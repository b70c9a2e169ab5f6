"""A stage that cannot finish before its period's deadline says so when it starts.

When a stage knows how many items it has to do — the spreadsheets a pull reads, the tabs the
feedback writes, the sheets provisioning makes —, it projects its finish: now plus the time
Google's quota needs for their calls (``tonghop.quota.seconds_for``: each bucket at the rate the
limiter lets through with the configured service accounts; the bound no code beats, so a
projection past the deadline is a certainty, not a guess). Past the period's deadline
(``tonghop.calendar.work_deadline``), the operators' alert channel is told at once, with the
projected finish and what would help (more service accounts, a raised quota), while the stage
goes on; the projection is logged and returned either way.
"""

from __future__ import annotations

import datetime as dt
import logging

from tonghop import alerts
from tonghop.calendar import work_deadline
from tonghop.catalogue import Catalogue
from tonghop.quota import BUCKETS, items_per_second, seconds_for
from tonghop.settings import Settings
from tonghop.vn import VN_TZ

log = logging.getLogger(__name__)


def project(
    settings: Settings,
    catalogue: Catalogue,
    period_code: str,
    items: int,
    cost: dict[str, float],
    *,
    now: dt.datetime | None = None,
) -> dict:
    """When ``items`` items of ``cost`` (calls per item by bucket) started ``now`` finish at
    the quota, against the period's deadline (JSON-able; times in Vietnam time)."""
    from sheets.client import identities

    now = (now or dt.datetime.now(dt.UTC)).astimezone(VN_TZ)
    accounts = len(identities(settings))
    quota = settings.sheets_quota
    seconds = seconds_for(items, cost, quota, accounts)
    finish = now + dt.timedelta(seconds=seconds)
    deadline = work_deadline(catalogue.period(period_code), now)
    rate = items_per_second(cost, quota, accounts)
    return {
        "period_code": period_code,
        "items": items,
        "calls": {b: round(items * cost.get(b, 0)) for b in BUCKETS if cost.get(b)},
        "service_accounts": accounts,
        "items_per_minute": None if rate == float("inf") else round(rate * 60, 1),
        "quota_seconds": round(seconds, 1),
        "started": now.isoformat(timespec="seconds"),
        "projected_finish": finish.isoformat(timespec="seconds"),
        "deadline": deadline.isoformat(timespec="seconds") if deadline else None,
        "late": bool(deadline and finish > deadline),
        "late_seconds": round((finish - deadline).total_seconds(), 1)
        if deadline and finish > deadline
        else 0.0,
    }


def warn_if_late(
    settings: Settings,
    catalogue: Catalogue,
    period_code: str,
    stage: str,
    items: int,
    cost: dict[str, float],
    *,
    context: dict | None = None,
    now: dt.datetime | None = None,
) -> dict:
    """:func:`project`, logged; past the deadline, an alert (:func:`tonghop.alerts.
    deadline_at_risk`) with what would help."""
    projection = project(settings, catalogue, period_code, items, cost, now=now)
    log.info(
        "%s of %s: %d item(s), %s at the quota with %d service account(s): projected to "
        "finish at %s (deadline %s)",
        stage,
        period_code,
        items,
        f"{projection['quota_seconds'] / 60:.1f} min",
        projection["service_accounts"],
        projection["projected_finish"],
        projection["deadline"],
    )
    if projection["late"]:
        projection["advice"] = (
            "more service accounts (each adds its own per-user quota, up to the project's) "
            "or a quota raised by Google; the stage goes on meanwhile"
        )
        alerts.deadline_at_risk(stage, projection, context)
    return projection
