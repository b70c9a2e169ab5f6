"""The programme catalogue, read from the dbt seeds (the one source of truth).

``dbt_project/seeds/catalogue/*.csv`` describe each programme (plan): its units, task groups,
tasks, who is assigned what, the indicators units report, and the reporting periods. dbt loads
them as tables; Python reads the same files through this module.
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from pathlib import Path

from tonghop.settings import PROJECT_ROOT
from tonghop.vn import VN_TZ

CATALOGUE_DIR = PROJECT_ROOT / "dbt_project" / "seeds" / "catalogue"

TIMING_LABELS = {
    "thuong_xuyen": "Thường xuyên",
    "hang_nam": "Hằng năm",
    "co_thoi_han": "Có thời hạn",
}
ROLE_LABELS = {"chu_tri": "Chủ trì", "phoi_hop": "Phối hợp"}
PERIOD_KIND_LABELS = {"6_thang": "6 tháng", "nam": "Năm", "dot_xuat": "Đột xuất"}
#: where a period's due date comes from (seed column ``due_date_basis``)
DUE_DATE_BASIS_LABELS = {
    "ke_hoach": "Theo kế hoạch",
    "yeu_cau": "Theo văn bản yêu cầu báo cáo đột xuất",
    "gia_dinh": "Giả định (kế hoạch không quy định)",
}
#: how a period's sheets are made (seed column ``sheet_layout``), as units are told
SHEET_LAYOUTS = {
    "per_unit": "mỗi đơn vị một bảng tính",
    "per_period": "một bảng tính chung của kỳ, mỗi đơn vị một trang",
}
#: said after a due date the plan does not give, wherever it is shown
ASSUMED_DUE_DATE_NOTE = "(ngày giả định: kế hoạch không quy định ngày báo cáo)"
#: task timings that never end: units report what was done, not a completion
ONGOING_TIMINGS = frozenset({"thuong_xuyen"})
#: how a catalogue value the province has yet to fill in starts (the Sở's phone, the office in
#: charge: the plans do not give them), e.g. "CẦN BỔ SUNG: số điện thoại của phòng phụ trách".
#: Such a value is never shown to units; :meth:`Catalogue.placeholders` lists them.
PLACEHOLDER_PREFIX = "CẦN BỔ SUNG"


def _date(text: str) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None


def end_of_day(day: dt.date) -> dt.datetime:
    """The last second of ``day`` in Vietnam time: the last on-time moment of a deadline read
    "chậm nhất vào ngày …" (that day included), the default of ad hoc periods."""
    return dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=VN_TZ)


def _moment(text: str) -> dt.datetime | None:
    """A catalogue moment: ISO date and time; without an offset it is Vietnam time."""
    if not text:
        return None
    moment = dt.datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=VN_TZ)
    return moment.astimezone(VN_TZ)


def deadline_vi(on_time_until: dt.datetime) -> str:
    """The one wording of a deadline for units and the Sở, from the last on-time moment:
    "chậm nhất 23 giờ 59 phút ngày 20/06/2026" (Vietnam time; the seconds are not said, the
    whole stated minute is on time)."""
    moment = on_time_until.astimezone(VN_TZ) if on_time_until.tzinfo else on_time_until
    return (
        f"chậm nhất {moment.hour} giờ {moment.minute:02d} phút ngày "
        f"{moment.day:02d}/{moment.month:02d}/{moment.year}"
    )


def vi_day(day: dt.date) -> str:
    """20/06/2026: the dates of the estimate and deadline wording."""
    return f"{day.day:02d}/{day.month:02d}/{day.year}"


def estimate_start(data_to: dt.date, on_time_until: dt.datetime) -> dt.date | None:
    """The first day whose figures are estimates ("ước thực hiện") when a period's data window
    ends after its last on-time day (an annual report due 30/11 for figures to 14/12: from 1/12);
    None when the window ends on or before it. The rule for a period whose catalogue row (or ad
    hoc request) gives no ``estimated_from``; dbt's ``int_periods`` applies the same rule."""
    last_on_time_day = on_time_until.astimezone(VN_TZ).date()
    return last_on_time_day + dt.timedelta(days=1) if data_to > last_on_time_day else None


def estimate_note_vi(estimated_from: dt.date | None, data_to: dt.date) -> str:
    """'Số liệu từ 01/12/2026 đến 14/12/2026 là số ước thực hiện' ('' without estimates)."""
    if estimated_from is None:
        return ""
    if estimated_from == data_to:
        return f"Số liệu ngày {vi_day(data_to)} là số ước thực hiện"
    return f"Số liệu từ {vi_day(estimated_from)} đến {vi_day(data_to)} là số ước thực hiện"


def due_date_note_vi(is_assumed: bool) -> str:
    """'(ngày giả định: …)' after a due date the plan does not give, '' otherwise."""
    return ASSUMED_DUE_DATE_NOTE if is_assumed else ""


def estimate_clause_vi(estimated_from: dt.date | None, data_to: dt.date) -> str:
    """'bao gồm số ước thực hiện từ 01/12/2026 đến 14/12/2026' for the summary and the report
    ('' without estimates)."""
    if estimated_from is None:
        return ""
    if estimated_from == data_to:
        return f"bao gồm số ước thực hiện ngày {vi_day(data_to)}"
    return f"bao gồm số ước thực hiện từ {vi_day(estimated_from)} đến {vi_day(data_to)}"


def is_placeholder(value: str | None) -> bool:
    """A catalogue value still to be filled in by the province (:data:`PLACEHOLDER_PREFIX`)."""
    return bool(value) and value.strip().upper().startswith(PLACEHOLDER_PREFIX)


@dataclass(frozen=True)
class Contact:
    """Whom a unit asks for help: the consolidating body of the programme (programmes.csv:
    consolidating_body, contact_office, contact_phone, contact_email). A part the province has
    not filled in yet is '' here."""

    body: str
    office: str = ""
    phone: str = ""
    email: str = ""

    @classmethod
    def of(cls, programme: dict[str, str]) -> Contact:
        def given(key: str) -> str:
            value = (programme.get(key) or "").strip()
            return "" if is_placeholder(value) else value

        return cls(
            body=given("consolidating_body"),
            office=given("contact_office"),
            phone=given("contact_phone"),
            email=given("contact_email"),
        )

    def line_vi(self) -> str:
        """'Liên hệ khi cần hỗ trợ: Sở …, <office>; điện thoại …; thư điện tử ….' (the parts
        given)."""
        who = ", ".join(filter(None, [self.body, self.office]))
        parts = [who] if who else []
        if self.phone:
            parts.append(f"điện thoại {self.phone}")
        if self.email:
            parts.append(f"thư điện tử {self.email}")
        return "Liên hệ khi cần hỗ trợ: " + "; ".join(parts) + "." if parts else ""


def _read(name: str, folder: Path) -> list[dict[str, str]]:
    with (folder / f"{name}.csv").open(encoding="utf-8", newline="") as fh:
        return [{k: (v or "").strip() for k, v in row.items()} for row in csv.DictReader(fh)]


@dataclass(frozen=True)
class Unit:
    unit_code: str
    unit_name: str
    short_name: str
    unit_type: str
    locality: str
    programme_scope: str
    contact_email: str
    valid_from: dt.date | None
    valid_to: dt.date | None
    #: the unit that consolidates (and, when a period requires review, first reviews) its
    #: reports; seed column ``parent_unit_code`` ('' for none). Which level actually reviews a
    #: period's report is the warehouse's rule (dbt ``int_review_levels``): only a parent in
    #: existence on the period's due date.
    parent_unit_code: str = ""


@dataclass(frozen=True)
class Task:
    programme_code: str
    task_code: str
    task_group_code: str
    task_no: str
    #: the text units read: the plan's words with the scan's OCR errors corrected
    task_text: str
    timing: str
    deadline: dt.date | None = None
    #: the plan's words verbatim (OCR errors included): seed column ``task_text_source``
    task_text_source: str = ""

    @property
    def is_ongoing(self) -> bool:
        """An ongoing ("Thường xuyên") task without a deadline never finishes: units report
        "Đang thực hiện thường xuyên" and what was done, not "Hoàn thành"."""
        return self.timing in ONGOING_TIMINGS and self.deadline is None


@dataclass(frozen=True)
class Indicator:
    programme_code: str
    indicator_code: str
    indicator_name: str
    unit_of_measure: str
    value_kind: str  # count | money
    task_code: str
    target_value: Decimal | None
    target_operator: str
    target_period_kind: str
    target_scope: str

    @property
    def is_count(self) -> bool:
        return self.value_kind == "count"

    @property
    def target_label(self) -> str:
        """'≥ 5/năm' for the sheet; '' when the plan sets no target."""
        if self.target_value is None:
            return ""
        op = {">=": "≥", "<=": "≤", "=": "="}.get(self.target_operator, self.target_operator)
        per = {"nam": "/năm", "6_thang": "/6 tháng"}.get(self.target_period_kind, "")
        value = (
            int(self.target_value)
            if self.target_value == int(self.target_value)
            else self.target_value
        )
        return f"{op} {value}{per}"


@dataclass(frozen=True)
class Period:
    programme_code: str
    period_code: str
    period_kind: str
    year: int
    period_name: str
    data_from: dt.date
    data_to: dt.date
    due_date: dt.date
    opens_on: dt.date | None
    #: the last on-time moment (inclusive, aware, Vietnam time); a version received at or
    #: before it is on time. Seed column ``on_time_until``; None → the end of ``due_date``.
    on_time_until: dt.datetime | None = None
    #: the first day of the data window whose figures are estimates ("ước thực hiện"), the
    #: window's last day being the end; None: no estimate. Seed column ``estimated_from``;
    #: empty → ``estimate_start`` (the day after the last on-time day when the window ends
    #: later).
    estimated_from: dt.date | None = None
    #: where the due date comes from: ke_hoach (the plan gives it, ``due_date_source`` quotes
    #: it), yeu_cau (an ad hoc request), gia_dinh (assumed: the plan gives no date)
    due_date_basis: str = "yeu_cau"
    due_date_source: str = ""
    #: how the period's sheets are made (``SHEET_LAYOUTS``): per_unit, one spreadsheet per
    #: unit; per_period, one shared spreadsheet with a tab per unit. Seed column
    #: ``sheet_layout``; for an ad hoc period, chosen when it is requested.
    sheet_layout: str = "per_unit"
    #: whether a valid report counts only once its reviewers accepted it (the Sở, after the
    #: unit's parent where there is one): seed column ``review_required``; ad hoc periods: no
    review_required: bool = False

    def __post_init__(self):
        moment = self.on_time_until or end_of_day(self.due_date)
        if moment.tzinfo is None:
            raise ValueError(f"{self.period_code}: on_time_until needs a time zone")
        if moment < dt.datetime.combine(self.due_date, dt.time(0), tzinfo=VN_TZ):
            raise ValueError(
                f"{self.period_code}: on_time_until {moment} is before the due date {self.due_date}"
            )
        object.__setattr__(self, "on_time_until", moment.astimezone(VN_TZ))
        estimated_from = self.estimated_from or estimate_start(self.data_to, moment)
        if estimated_from is not None and not self.data_from < estimated_from <= self.data_to:
            raise ValueError(
                f"{self.period_code}: estimated_from {estimated_from} is outside "
                f"the data window {self.data_from} – {self.data_to}"
            )
        object.__setattr__(self, "estimated_from", estimated_from)
        if self.sheet_layout not in SHEET_LAYOUTS:
            raise ValueError(
                f"{self.period_code}: sheet_layout {self.sheet_layout!r} is not "
                f"one of {', '.join(SHEET_LAYOUTS)}"
            )
        if self.due_date_basis not in DUE_DATE_BASIS_LABELS:
            raise ValueError(
                f"{self.period_code}: due_date_basis {self.due_date_basis!r} is "
                f"not one of {', '.join(DUE_DATE_BASIS_LABELS)}"
            )

    @property
    def deadline_vi(self) -> str:
        return deadline_vi(self.on_time_until)

    @property
    def has_estimate(self) -> bool:
        return self.estimated_from is not None

    @property
    def estimate_note_vi(self) -> str:
        """'Số liệu từ 01/12/2026 đến 14/12/2026 là số ước thực hiện', or ''."""
        return estimate_note_vi(self.estimated_from, self.data_to)

    @property
    def is_due_date_assumed(self) -> bool:
        return self.due_date_basis == "gia_dinh"

    @property
    def due_date_note_vi(self) -> str:
        """Said after the deadline wherever it is shown: '(giả định: …)' for a due date the
        plan does not give, '' otherwise."""
        return ASSUMED_DUE_DATE_NOTE if self.is_due_date_assumed else ""

    @property
    def deadline_with_basis_vi(self) -> str:
        """'chậm nhất 23 giờ 59 phút ngày 20/06/2025 (giả định: …)'."""
        return " ".join(filter(None, [self.deadline_vi, self.due_date_note_vi]))


@dataclass(frozen=True)
class Assignment:
    programme_code: str
    task_code: str
    unit_code: str
    role: str


class Catalogue:
    """All programmes, read once from the seed CSVs."""

    def __init__(self, folder: Path = CATALOGUE_DIR):
        self.folder = folder
        self.programmes = {r["programme_code"]: r for r in _read("programmes", folder)}
        self.task_groups = {r["task_group_code"]: r for r in _read("task_groups", folder)}
        self.units = {
            r["unit_code"]: Unit(
                unit_code=r["unit_code"],
                unit_name=r["unit_name"],
                short_name=r["short_name"],
                unit_type=r["unit_type"],
                locality=r["locality"],
                programme_scope=r["programme_scope"],
                contact_email=r["contact_email"],
                valid_from=_date(r["valid_from"]),
                valid_to=_date(r["valid_to"]),
                parent_unit_code=r.get("parent_unit_code", ""),
            )
            for r in _read("units", folder)
        }
        self.tasks = {
            r["task_code"]: Task(
                programme_code=r["programme_code"],
                task_code=r["task_code"],
                task_group_code=r["task_group_code"],
                task_no=r["task_no"],
                task_text=r["task_text"],
                timing=r["timing"],
                deadline=_date(r["deadline"]),
                task_text_source=r.get("task_text_source") or r["task_text"],
            )
            for r in _read("tasks", folder)
        }
        self.assignments = [
            Assignment(r["programme_code"], r["task_code"], r["unit_code"], r["role"])
            for r in _read("assignments", folder)
        ]
        self.indicators = {
            r["indicator_code"]: Indicator(
                programme_code=r["programme_code"],
                indicator_code=r["indicator_code"],
                indicator_name=r["indicator_name"],
                unit_of_measure=r["unit_of_measure"],
                value_kind=r["value_kind"],
                task_code=r["task_code"],
                target_value=Decimal(r["target_value"]) if r["target_value"] else None,
                target_operator=r["target_operator"],
                target_period_kind=r["target_period_kind"],
                target_scope=r["target_scope"],
            )
            for r in _read("indicators", folder)
        }
        self.indicator_assignments = [
            (r["programme_code"], r["indicator_code"], r["unit_code"])
            for r in _read("indicator_assignments", folder)
        ]
        self.periods = {
            r["period_code"]: Period(
                programme_code=r["programme_code"],
                period_code=r["period_code"],
                period_kind=r["period_kind"],
                year=int(r["year"]),
                period_name=r["period_name"],
                data_from=_date(r["data_from"]),
                data_to=_date(r["data_to"]),
                due_date=_date(r["due_date"]),
                opens_on=_date(r["opens_on"]),
                on_time_until=_moment(r["on_time_until"]),
                estimated_from=_date(r["estimated_from"]),
                due_date_basis=r["due_date_basis"],
                due_date_source=r["due_date_source"],
                sheet_layout=r["sheet_layout"],
                review_required=(r.get("review_required") or "").lower() in ("true", "1", "yes"),
            )
            for r in _read("periods", folder)
        }
        #: ad hoc periods limited to some units: period_code -> unit codes
        self.period_units: dict[str, set[str]] = {}

    # -------------------------------------------------------------- lookups
    def contact(self, programme_code: str) -> Contact:
        """The consolidating body's contact shown to the programme's units."""
        return Contact.of(self.programmes[programme_code])

    def placeholders(self, programme_code: str | None = None) -> list[str]:
        """'programmes.csv CB-KH84 contact_phone' for every value still to be filled in
        (:data:`PLACEHOLDER_PREFIX`), of one programme or all."""
        return [
            f"programmes.csv {code} {key}"
            for code, row in sorted(self.programmes.items())
            if programme_code in (None, code)
            for key, value in row.items()
            if is_placeholder(value)
        ]

    def period(self, period_code: str) -> Period:
        try:
            return self.periods[period_code]
        except KeyError:
            raise KeyError(
                f"Unknown period {period_code!r}; known: {', '.join(sorted(self.periods))}"
            ) from None

    def previous_period(self, period_code: str) -> Period | None:
        """The latest earlier period of the same programme and kind (6 tháng → 6 tháng of the
        year before); None for ad hoc reports and for a programme's first period."""
        period = self.period(period_code)
        if period.period_kind == "dot_xuat":
            return None
        earlier = [
            p
            for p in self.periods.values()
            if p.programme_code == period.programme_code
            and p.period_kind == period.period_kind
            and p.data_to < period.data_from
        ]
        return max(earlier, key=lambda p: p.data_to, default=None)

    def unit(self, unit_code: str) -> Unit:
        try:
            return self.units[unit_code]
        except KeyError:
            raise KeyError(f"Unknown unit {unit_code!r}") from None

    @cached_property
    def _assignments_by_unit(self) -> dict[tuple[str, str], list[Assignment]]:
        result: dict[tuple[str, str], list[Assignment]] = {}
        for a in self.assignments:
            result.setdefault((a.programme_code, a.unit_code), []).append(a)
        return result

    def tasks_for(self, programme_code: str, unit_code: str) -> list[tuple[Task, str]]:
        """(task, role) pairs assigned to the unit, in plan order."""
        pairs = [
            (self.tasks[a.task_code], a.role)
            for a in self._assignments_by_unit.get((programme_code, unit_code), [])
        ]
        return sorted(pairs, key=lambda p: _plan_order(p[0]))

    def value_kind_of(self, indicator_code: str) -> str | None:
        """'count' or 'money' for a known indicator, None otherwise (for the parser)."""
        indicator = self.indicators.get(indicator_code)
        return indicator.value_kind if indicator else None

    def indicators_for(self, programme_code: str, unit_code: str) -> list[Indicator]:
        codes = [
            c for p, c, u in self.indicator_assignments if p == programme_code and u == unit_code
        ]
        return sorted((self.indicators[c] for c in codes), key=lambda i: i.indicator_code)

    def add_adhoc_period(self, period: Period, unit_codes: list[str] | None = None) -> None:
        """An ad hoc (đột xuất) period requested at run time (ops.adhoc_periods); with
        ``unit_codes``, only those units must report."""
        if period.programme_code not in self.programmes:
            raise KeyError(f"Unknown programme {period.programme_code!r}")
        self.periods[period.period_code] = period
        if unit_codes:
            self.period_units[period.period_code] = set(unit_codes)

    def assigned_units(self, programme_code: str) -> set[str]:
        """Codes of the units assigned at least one task of the programme."""
        return {u for p, u in self._assignments_by_unit if p == programme_code}

    def expected_units(self, period_code: str) -> list[Unit]:
        """Units that must report for the period: assigned at least one task of its programme
        (and, for an ad hoc period with a list of units, on that list) and in existence on the
        due date."""
        period = self.period(period_code)
        assigned = self.assigned_units(period.programme_code)
        if period_code in self.period_units:
            assigned &= self.period_units[period_code]
        units = [self.units[code] for code in assigned]
        return sorted(
            (u for u in units if _active_on(u, period.due_date)), key=lambda u: u.unit_code
        )


def _active_on(unit: Unit, day: dt.date) -> bool:
    return (unit.valid_from is None or unit.valid_from <= day) and (
        unit.valid_to is None or day <= unit.valid_to
    )


def _plan_order(task: Task) -> tuple:
    """Tasks sort by group then number as the plan prints them (2.10 after 2.9; II before IV)."""
    roman = {"I": 1, "II": 2, "III": 3, "IV": 4, "V": 5, "VI": 6, "VII": 7, "VIII": 8, "IX": 9}
    parts = []
    for part in task.task_code.split(".")[1:]:
        parts.append(int(part) if part.isdigit() else roman.get(part, 99))
    return (task.programme_code, *parts)


_default: Catalogue | None = None


def load_catalogue(folder: Path | None = None, settings=None) -> Catalogue:
    """The catalogue from the seeds folder (cached for the default folder); with ``settings``,
    a fresh copy that also holds the ad hoc periods requested in the warehouse."""
    global _default
    if folder is not None:
        catalogue = Catalogue(folder)
    elif settings is not None:
        catalogue = Catalogue()
    else:
        if _default is None:
            _default = Catalogue()
        return _default
    if settings is not None:
        add_adhoc_periods(catalogue, settings)
    return catalogue


def add_adhoc_periods(catalogue: Catalogue, settings) -> None:
    """Add the rows of ops.adhoc_periods (read as the loader) to ``catalogue``."""
    import psycopg2

    conn = psycopg2.connect(settings.dsn("loader"))
    try:
        with conn.cursor() as cur:
            cur.execute("""select p.programme_code, p.period_code, p.period_name, p.data_from,
                                  p.data_to, p.due_date, p.opens_on, p.on_time_until,
                                  p.sheet_layout, array_remove(array_agg(u.unit_code), null)
                           from ops.adhoc_periods p
                           left join ops.adhoc_period_units u using (period_code)
                           group by p.period_code order by p.period_code""")
            rows = cur.fetchall()
    finally:
        conn.close()
    for programme, code, name, data_from, data_to, due, opens, until, layout, units in rows:
        if code in catalogue.periods and catalogue.periods[code].period_kind != "dot_xuat":
            continue  # a seeded period keeps its definition
        catalogue.add_adhoc_period(
            Period(
                programme_code=programme,
                period_code=code,
                period_kind="dot_xuat",
                year=due.year,
                period_name=name,
                data_from=data_from,
                data_to=data_to,
                due_date=due,
                opens_on=opens,
                on_time_until=until,
                sheet_layout=layout,
            ),
            units,
        )
