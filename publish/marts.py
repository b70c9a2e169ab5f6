"""Reading the marts (as bi_reader) and writing their values the Vietnamese way.

Shared by the summary spreadsheet and the draft report, so that both show a figure the same
way: "97,2%", "1.250", "20/6/2026".
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from tonghop.layout import vi_date
from tonghop.vn import VN_TZ


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
    """1250 -> "1.250", 2.5 -> "2,5" (Vietnamese separators); "" for None."""
    if value is None:
        return ""
    value = plain_number(value)
    if isinstance(value, int):
        return f"{value:,}".replace(",", ".")
    text = f"{value:,.2f}".rstrip("0").rstrip(".")
    return text.replace(",", " ").replace(".", ",").replace(" ", ".")


def pct_vi(rate: Any, digits: int = 1) -> str:
    """0.9718 -> "97,2%"; "" for None."""
    if rate is None:
        return ""
    return f"{float(rate) * 100:.{digits}f}%".replace(".", ",")


def date_vi(value: Any) -> str:
    """A date (or a timestamp, taken in Vietnam's time) as "20/6/2026"; "" for None."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = value.astimezone(VN_TZ).date()
    return vi_date(value)
