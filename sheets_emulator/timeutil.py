"""RFC 3339 timestamps as Drive prints them ("2026-06-18T09:15:00.000Z")."""

from __future__ import annotations

import datetime as dt

TimeLike = dt.datetime | dt.date | str


def now_utc() -> dt.datetime:
    """Out: the current time, UTC, millisecond precision."""
    now = dt.datetime.now(dt.UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def parse_time(value: TimeLike) -> dt.datetime:
    """In: a datetime (naive = UTC), a date, or an RFC 3339 string. Out: aware UTC datetime."""
    if isinstance(value, str):
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        parsed = dt.datetime.fromisoformat(text)
    elif isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, dt.date):
        parsed = dt.datetime(value.year, value.month, value.day)
    else:
        raise TypeError(f"not a time: {value!r}")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)


def format_time(value: TimeLike) -> str:
    """In: a time. Out: RFC 3339 UTC with milliseconds, e.g. ``2026-06-18T09:15:00.000Z``."""
    moment = parse_time(value)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
