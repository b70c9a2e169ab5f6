"""Ad hoc (đột xuất) reports requested from Airflow: a new period with its data window, due
date and, if not all assigned units, the units that must report.

The request is checked against the catalogue (known programme, a code that is not a catalogue
period, dates in order, units of the programme) with messages in Vietnamese for the official
who typed it, then stored in ``ops.adhoc_periods`` / ``ops.adhoc_period_units``. From then on
the period is part of the catalogue for the pipeline (``load_catalogue(settings=...)``) and for
dbt (``int_periods``), and the reporting calendar provisions and pulls it like any other.
Requesting the same code again updates it (e.g. a later due date). The last on-time moment
(``on_time_until``) defaults to the end of the due date, Vietnam time, as for catalogue periods.
"""

from __future__ import annotations

import datetime as dt
import re

import psycopg2

from tonghop.catalogue import SHEET_LAYOUTS, Period, deadline_vi, end_of_day, load_catalogue
from tonghop.settings import Settings
from tonghop.vn import VN_TZ

CODE = re.compile(r"^[A-Z0-9][A-Z0-9-]{2,40}$")


class AdhocRequestError(ValueError):
    """The request cannot be accepted; the message says why, in Vietnamese."""


def _date(value, field: str) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise AdhocRequestError(f"{field} “{value}” không phải ngày dạng YYYY-MM-DD.") from None


def _moment(value, due: dt.date) -> dt.datetime:
    """The last on-time moment asked for (ISO date and time; Vietnam time without an offset),
    by default the end of the due date."""
    if value in (None, ""):
        return end_of_day(due)
    if isinstance(value, dt.datetime):
        moment = value
    else:
        try:
            moment = dt.datetime.fromisoformat(str(value).strip())
        except ValueError:
            raise AdhocRequestError(
                f"Thời điểm hết hạn “{value}” không phải dạng YYYY-MM-DD HH:MM."
            ) from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=VN_TZ)).astimezone(VN_TZ)


def request_adhoc_period(
    settings: Settings,
    *,
    programme_code: str,
    period_code: str,
    period_name: str,
    data_from,
    data_to,
    due_date,
    opens_on=None,
    on_time_until=None,
    unit_codes: list[str] | None = None,
    sheet_layout: str | None = None,
    requested_by: str | None = None,
) -> dict:
    catalogue = load_catalogue(settings=settings)
    code = (period_code or "").strip().upper()
    if programme_code not in catalogue.programmes:
        raise AdhocRequestError(f"Chương trình “{programme_code}” không có trong danh mục.")
    if not CODE.match(code):
        raise AdhocRequestError(
            f"Mã kỳ “{period_code}” chỉ gồm chữ in hoa, số và dấu gạch ngang, ví dụ CB-2026-DX02."
        )
    existing = catalogue.periods.get(code)
    if existing and existing.period_kind != "dot_xuat":
        raise AdhocRequestError(f"Mã kỳ “{code}” đã là kỳ {existing.period_name} của danh mục.")
    name = " ".join((period_name or "").split())
    if not name:
        raise AdhocRequestError("Cần ghi tên kỳ báo cáo, ví dụ “Báo cáo đột xuất về …”.")
    start, end, due = (
        _date(data_from, "Ngày bắt đầu"),
        _date(data_to, "Ngày kết thúc"),
        _date(due_date, "Hạn nộp"),
    )
    opens = _date(opens_on, "Ngày mở") if opens_on else dt.datetime.now(VN_TZ).date()
    if start > end:
        raise AdhocRequestError("Ngày bắt đầu chốt số liệu phải trước ngày kết thúc.")
    if opens > due:
        raise AdhocRequestError("Hạn nộp phải sau ngày mở kỳ.")
    until = _moment(on_time_until, due)
    if until.date() < due:
        raise AdhocRequestError(
            f"Thời điểm hết hạn ({deadline_vi(until)}) không được trước ngày hạn nộp."
        )
    layout = (sheet_layout or "per_unit").strip()
    if layout not in SHEET_LAYOUTS:
        raise AdhocRequestError(
            f"Cách tạo bảng tính “{sheet_layout}” không hợp lệ; chọn "
            + " hoặc ".join(f"{k} ({v})" for k, v in SHEET_LAYOUTS.items())
            + "."
        )
    units = sorted({u.strip() for u in unit_codes or [] if u and u.strip()})
    assigned = catalogue.assigned_units(programme_code)
    unknown = [u for u in units if u not in assigned]
    if unknown:
        raise AdhocRequestError(
            "Các đơn vị không được giao nhiệm vụ của chương trình: " + ", ".join(unknown) + "."
        )
    conn = psycopg2.connect(settings.dsn("loader"))
    try:
        with conn, conn.cursor() as cur:
            cur.execute(
                """select distinct layout from ops.sheet_registry
                           where period_code = %s""",
                (code,),
            )
            made = [row[0] for row in cur.fetchall()]
            if made and made != [layout]:
                raise AdhocRequestError(
                    f"Kỳ “{code}” đã tạo bảng tính theo cách {made[0]} "
                    f"({SHEET_LAYOUTS.get(made[0], made[0])}); không đổi được cách tạo bảng "
                    "tính nữa."
                )
            cur.execute(
                """
                insert into ops.adhoc_periods (period_code, programme_code, period_name,
                    data_from, data_to, due_date, opens_on, on_time_until, sheet_layout,
                    requested_by)
                values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
                on conflict (period_code) do update set
                    programme_code = excluded.programme_code, period_name = excluded.period_name,
                    data_from = excluded.data_from, data_to = excluded.data_to,
                    due_date = excluded.due_date, opens_on = excluded.opens_on,
                    on_time_until = excluded.on_time_until,
                    sheet_layout = excluded.sheet_layout,
                    requested_by = excluded.requested_by, requested_at = now()""",
                (code, programme_code, name, start, end, due, opens, until, layout, requested_by),
            )
            cur.execute("delete from ops.adhoc_period_units where period_code = %s", (code,))
            cur.executemany(
                "insert into ops.adhoc_period_units values (%s, %s)", [(code, u) for u in units]
            )
    finally:
        conn.close()
    catalogue.add_adhoc_period(
        Period(
            programme_code,
            code,
            "dot_xuat",
            due.year,
            name,
            start,
            end,
            due,
            opens,
            until,
            sheet_layout=layout,
        ),
        units,
    )
    return {
        "period_code": code,
        "programme_code": programme_code,
        "period_name": name,
        "opens_on": opens.isoformat(),
        "due_date": due.isoformat(),
        "on_time_until": until.isoformat(),
        "sheet_layout": layout,
        "expected_units": len(catalogue.expected_units(code)),
    }
