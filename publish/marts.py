"""Reading the marts (as bi_reader) and writing their values the Vietnamese way.

Shared by the summary spreadsheet and the draft report, so that both show a figure the same
way: "97,2%", "1.250", "20/6/2026".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import psycopg2

from sheets.layout import vi_date
from tonghop.errors import connection_lost
from tonghop.settings import Settings
from tonghop.vn import VN_TZ, format_vi


def query(conn, sql: str, params: tuple = ()) -> list[dict]:
    """Rows as dicts."""
    with conn.cursor() as cur:
        cur.execute(sql, params)
        names = [d.name for d in cur.description]
        return [dict(zip(names, row)) for row in cur.fetchall()]


def plain_number(value: Any) -> Any:
    """A Decimal as int when whole, else float; other values unchanged (for spreadsheets)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def number_vi(value: Any) -> str:
    """A figure of the marts as people read it: 1250 -> "1.250", 2.5 -> "2,5", at most two
    decimals (:func:`tonghop.vn.format_vi`, the one formatter); "" for None."""
    return format_vi(value, decimals=2)


def pct_vi(rate: Any, digits: int = 1) -> str:
    """0.9718 -> "97,2%"; "" for None."""
    if rate is None:
        return ""
    return f"{float(rate) * 100:.{digits}f}%".replace(".", ",")


def date_vi(value: Any) -> str:
    """A date (or a timestamp, taken in Vietnam's time) as "20/6/2026"; "" for None."""
    if value is None:
        return ""
    return vi_date(local_date(value))


def local_date(value: dt.date | dt.datetime | None) -> dt.date | None:
    """The day of a date or a timestamp in Vietnam's time (None stays None)."""
    if isinstance(value, dt.datetime):
        return value.astimezone(VN_TZ).date()
    return value


def local_time(value: dt.datetime | None) -> dt.datetime | None:
    """A timestamp as Vietnam's wall-clock time, to the second, without a time zone: what a
    date-time cell holds (neither Excel nor Sheets keeps a zone); None stays None."""
    if value is None:
        return None
    return value.astimezone(VN_TZ).replace(tzinfo=None, microsecond=0)


@contextmanager
def reading_marts(settings: Settings, lost: list | None = None) -> Iterator:
    """A bi_reader connection in one read-only, repeatable-read transaction over the marts.

    Every mart is locked (ACCESS SHARE, what any read takes) before the first read, so the
    transaction's snapshot is taken after the locks: a ``dbt build`` running meanwhile swaps a
    mart in only after this transaction ends, or before it starts. Without the locks, a mart
    swapped in after the snapshot reads as an EMPTY table (its rows were written after the
    snapshot) — tests/test_bi_consistency.py.

    When the connection itself is lost (even while the locks are awaited), it is appended to
    ``lost`` before the error goes on: closing it here would hide that from the caller.
    """
    conn = psycopg2.connect(settings.dsn("bi_reader"))
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("""
                select format('%I.%I', n.nspname, c.relname)
                from pg_class c join pg_namespace n on n.oid = c.relnamespace
                where n.nspname = 'marts' and c.relkind in ('r', 'v', 'm', 'p')
                  and c.relname not like '%\\_\\_dbt\\_%'
                  and has_table_privilege(c.oid, 'select')""")
            names = [name for (name,) in cur.fetchall()]
        conn.autocommit = False
        conn.set_session(readonly=True, isolation_level="REPEATABLE READ")
        if names:
            with conn.cursor() as cur:
                cur.execute(f"lock table {', '.join(names)} in access share mode")
        yield conn
    except (psycopg2.OperationalError, psycopg2.InterfaceError) as exc:
        if lost is not None and connection_lost(conn, exc):
            lost.append(conn)
        raise
    finally:
        conn.close()
