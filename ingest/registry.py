"""Which spreadsheet (or tab) belongs to which unit for which period (ops.sheet_registry)."""

from __future__ import annotations

from dataclasses import dataclass

from psycopg2.extras import execute_values


@dataclass(frozen=True)
class RegistryEntry:
    spreadsheet_id: str
    programme_code: str
    period_code: str
    unit_code: str
    layout: str = "per_unit"  # per_unit | per_period
    tab_title: str = ""  # the unit's tab in the per_period layout
    #: hash of what the pipeline last wrote in the unit's sheet (ingest.provision: a
    #: catalogue change since is written in place); None before it was recorded
    content_sha256: str | None = None
    #: the service account the pipeline reads and writes the spreadsheet as (one it is shared
    #: with; ``sheets.client.Identity``); None: the first of the pool
    service_account: str | None = None


def register(conn, entries: list[RegistryEntry]) -> int:
    """Record entries; an existing (spreadsheet, tab) keeps its owner. Returns rows added."""
    if not entries:
        return 0
    with conn.cursor() as cur:
        execute_values(
            cur,
            """
            insert into ops.sheet_registry
                (spreadsheet_id, tab_title, layout, programme_code, period_code, unit_code,
                 content_sha256, service_account)
            values %s
            on conflict do nothing""",
            [
                (
                    e.spreadsheet_id,
                    e.tab_title,
                    e.layout,
                    e.programme_code,
                    e.period_code,
                    e.unit_code,
                    e.content_sha256,
                    e.service_account,
                )
                for e in entries
            ],
        )
        added = cur.rowcount
    conn.commit()
    return added


def entries_for_period(conn, period_code: str) -> list[RegistryEntry]:
    with conn.cursor() as cur:
        cur.execute(
            """
            select spreadsheet_id, programme_code, period_code, unit_code, layout, tab_title,
                   content_sha256, service_account
            from ops.sheet_registry where period_code = %s
            order by unit_code""",
            (period_code,),
        )
        return [RegistryEntry(*row) for row in cur.fetchall()]


def record_content(conn, period_code: str, unit_codes: list[str], content_sha256: str) -> None:
    """What the pipeline wrote in these units' sheets of the period is now ``content_sha256``."""
    with conn.cursor() as cur:
        cur.execute(
            """
            update ops.sheet_registry set content_sha256 = %s
            where period_code = %s and unit_code = any(%s)""",
            (content_sha256, period_code, list(unit_codes)),
        )
    conn.commit()


def accounts_of(settings, spreadsheet_ids: list[str]) -> dict[str, str | None]:
    """The service account recorded for each of the spreadsheets (None: the first of the
    pool; a spreadsheet not registered is left out)."""
    import psycopg2

    conn = psycopg2.connect(settings.dsn("loader"))
    try:
        with conn.cursor() as cur:
            cur.execute(
                """
                select distinct on (spreadsheet_id) spreadsheet_id, service_account
                from ops.sheet_registry where spreadsheet_id = any(%s)
                order by spreadsheet_id, service_account nulls last""",
                (list(spreadsheet_ids),),
            )
            return dict(cur.fetchall())
    finally:
        conn.close()
