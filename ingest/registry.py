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


def register(conn, entries: list[RegistryEntry]) -> int:
    """Record entries; an existing (spreadsheet, tab) keeps its owner. Returns rows added."""
    if not entries:
        return 0
    with conn.cursor() as cur:
        execute_values(
            cur,
            """
            insert into ops.sheet_registry
                (spreadsheet_id, tab_title, layout, programme_code, period_code, unit_code)
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
            select spreadsheet_id, programme_code, period_code, unit_code, layout, tab_title
            from ops.sheet_registry where period_code = %s
            order by unit_code""",
            (period_code,),
        )
        return [RegistryEntry(*row) for row in cur.fetchall()]
