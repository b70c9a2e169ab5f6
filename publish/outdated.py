"""Which periods' publications are out of date, worked out from the database.

A publish run used to publish exactly the periods named by the build that triggered it: when a
build failed, its periods stayed unpublished, and after a period's closing pull nothing would
trigger them again. Now every publication records the fingerprint of the marts it read
(``ops.publications``), and a publish run publishes every period whose marts no longer match
its last publication, among:

- the periods the triggering build named;
- the periods live on the marts' as-of day (open or in their late window:
  :func:`tonghop.calendar.live_periods`) that have reports, whose date-dependent figures
  move every day;
- the periods whose marts hold a report version or validation run newer than their last
  publication read (or that were never published but have reports) — a late correction of a
  closed period, or a period a failed build left behind.

The fingerprint is an md5 of the period's rows in the marts the publication reads (the summary
sheet, the report), so equal figures are not published twice, and a run that found nothing out
of date publishes nothing.
"""

from __future__ import annotations

import datetime as dt
import logging

import psycopg2

from publish.marts import query, reading_marts
from tonghop.calendar import live_periods
from tonghop.catalogue import Catalogue
from tonghop.settings import Settings

log = logging.getLogger(__name__)

#: the marts a publication reads, and the order that makes their rows' text stable
PUBLISHED_MARTS = {
    "agg_province_summary": "period_code",
    "agg_reporting_rate": "unit_type",
    "fct_submission": "unit_code",
    "agg_indicator_totals": "indicator_code",
    "fct_indicator_value": "unit_code, indicator_code",
    "agg_task_group_summary": "task_group_code",
    "fct_feedback": "unit_code, row_key",
}


def marts_fingerprint(conn, period_code: str) -> str:
    """md5 of the period's rows in :data:`PUBLISHED_MARTS` (read in ``conn``'s transaction,
    so in the publication's own snapshot)."""
    parts = " || ".join(
        f"coalesce((select md5(string_agg(t::text, '|' order by {order})) "
        f"from marts.{mart} t where t.period_code = %(p)s), '-')"
        for mart, order in PUBLISHED_MARTS.items()
    )
    [row] = query(conn, f"select md5({parts}) as fingerprint", {"p": period_code})
    return row["fingerprint"]


def marts_state(conn) -> dict:
    """The marts' as-of day and, per period, the newest report version and validation run."""
    [as_of] = query(conn, "select max(as_of_date) as as_of_date from marts.agg_province_summary")
    newest = query(
        conn,
        """
        select period_code, max(sheet_version_id) as latest_sheet_version_id
        from marts.fct_report_version group by period_code""",
    )
    return {
        "as_of_date": as_of["as_of_date"],
        "latest": {r["period_code"]: r["latest_sheet_version_id"] for r in newest},
    }


def last_publications(settings: Settings) -> dict[str, dict]:
    """Period -> its latest publication (fingerprint, latest version read)."""
    conn = psycopg2.connect(settings.dsn("loader"))
    try:
        rows = query(
            conn,
            """
            select distinct on (period_code) period_code, marts_fingerprint,
                   latest_sheet_version_id, run_id
            from ops.publications order by period_code, publication_id desc""",
        )
    finally:
        conn.close()
    return {r["period_code"]: r for r in rows}


def periods_to_publish(settings: Settings, catalogue: Catalogue, triggered: list[str]) -> list[str]:
    """The periods whose publication is out of date (see the module's docstring), sorted."""
    published = last_publications(settings)
    with reading_marts(settings) as conn:
        state = marts_state(conn)
        as_of: dt.date | None = state["as_of_date"]
        candidates = set(triggered) & set(catalogue.periods)
        if as_of:
            # live periods that have reports (one not provisioned yet has nothing to show)
            candidates |= set(live_periods(catalogue, as_of)) & set(state["latest"])
        for period, latest in state["latest"].items():
            before = published.get(period)
            if period in catalogue.periods and (
                before is None or (latest or 0) > (before["latest_sheet_version_id"] or 0)
            ):
                candidates.add(period)
        outdated = sorted(
            p
            for p in candidates
            if published.get(p, {}).get("marts_fingerprint") != marts_fingerprint(conn, p)
        )
    log.info(
        "publish: %d period(s) out of date of %d considered (marts as of %s): %s",
        len(outdated),
        len(candidates),
        as_of,
        ", ".join(outdated) or "none",
    )
    return outdated


def record_publication(
    settings: Settings,
    period_code: str,
    run_id: str,
    fingerprint: str,
    as_of_date,
    latest_sheet_version_id,
    folder: str,
) -> None:
    """Append the publication to ``ops.publications`` (after its folder is in place)."""
    conn = psycopg2.connect(settings.dsn("loader"))
    try:
        with conn.cursor() as cur:
            cur.execute(
                """
                insert into ops.publications (period_code, run_id, marts_fingerprint,
                    as_of_date, latest_sheet_version_id, folder)
                values (%s, %s, %s, %s, %s, %s)""",
                (period_code, run_id, fingerprint, as_of_date, latest_sheet_version_id, folder),
            )
        conn.commit()
    finally:
        conn.close()
