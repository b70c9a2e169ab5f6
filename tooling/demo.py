"""A demo province: every expected unit's report for one period, filled as people fill them.

Reproducible from a seed. Each unit gets a scenario:

- ``on_time``   completely filled, "Đã nộp", last edited before the due date; correct input
                written as people write it — "1.200" (dot between thousands) in a count,
                "12,5" (decimal comma) in money, a status typed in lower case or without
                diacritics, a completion date typed as text ("21/3/2026", "05/03/2026") —
                which the checks read without a word: no error, no warning
- ``late``      the same, last edited after the due date
- ``draft``     partly filled (the figures of about half the indicators left blank: errors),
                still "Chưa nộp"
- ``untouched`` the blank sheet as provisioned: one error, "chưa điền báo cáo"
- ``errors``    "Đã nộp" before the due date, but with errors (a status outside the list, a
                negative or unreadable figure, …) and a figure that is read only by guessing
                ("5 buổi": a warning): rows with errors stay out of the marts, and the report
                does not count as submitted
- ``wrong_unit`` "Đã nộp", but the unit code cell was overwritten: the whole version is rejected

The :class:`DemoManifest` records what was made — the scenario of each unit and every indicator
value that is valid — so tests can check the warehouse against it.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from decimal import Decimal

from openpyxl import Workbook

from sheets import layout
from sheets.template import set_value, write_workbook
from tonghop.catalogue import Catalogue, Indicator, Unit
from tonghop.vn import ONGOING_TASK_STATUSES, TASK_WITH_END_STATUSES, fold

SCENARIO_WEIGHTS = {
    "on_time": 55,
    "late": 15,
    "draft": 8,
    "untouched": 7,
    "errors": 10,
    "wrong_unit": 5,
}
#: counted as a submitted report when completion requires no errors
COMPLETE_SCENARIOS = {"on_time", "late"}
#: scenarios whose answers are all correct (conventional notation included): no warning, and
#: no error but the one the scenario makes on purpose (wrong_unit: the unit code)
CORRECT_INPUT_SCENARIOS = {"on_time", "late", "wrong_unit"}
#: scenarios whose (valid) rows reach the facts: the reports that count (the warehouse's one
#: rule: a "Đã nộp" report with errors adds none of its clean rows)
IN_FACTS_SCENARIOS = COMPLETE_SCENARIOS

RESULT_PHRASES = [
    "Đã tổ chức {n} hội nghị quán triệt, thu hút {m} lượt cán bộ, đảng viên tham gia.",
    "Ban hành Kế hoạch số {k}/KH-{org} triển khai thực hiện; phân công cụ thể cho các bộ phận.",
    "Phối hợp tổ chức {n} buổi tuyên truyền lưu động tại các thôn, bản, tổ dân phố.",
    "Duy trì hoạt động thường xuyên; lồng ghép nội dung vào sinh hoạt chi bộ định kỳ.",
    "Đã rà soát {n} văn bản, đề xuất sửa đổi, bổ sung {m2} văn bản cho phù hợp.",
    "Tổ chức {n} lớp bồi dưỡng với {m} học viên; mời văn nghệ sĩ, nghệ nhân tham gia giảng dạy.",
    "Hỗ trợ {n} câu lạc bộ văn nghệ quần chúng, tổ chức giao lưu nhân dịp lễ, Tết.",
]
EVIDENCE_PHRASES = [
    "Kế hoạch số {k}/KH-{org} ngày {d}",
    "Báo cáo số {k}/BC-{org} ngày {d}",
    "Công văn số {k}/{org} ngày {d}",
    "",
]
DIFFICULTIES = [
    "Kinh phí bố trí cho hoạt động văn học, nghệ thuật ở cơ sở còn hạn hẹp.",
    "Đội ngũ cán bộ làm công tác văn hóa cấp xã còn kiêm nhiệm, thiếu chuyên môn sâu.",
    "Địa bàn rộng, giao thông đi lại khó khăn, ảnh hưởng đến việc tổ chức hoạt động tập trung.",
    "Một số câu lạc bộ dân ca, dân vũ hoạt động chưa thường xuyên do thiếu người truyền dạy.",
    "Thiết chế văn hóa ở một số thôn, bản xuống cấp, chưa đáp ứng nhu cầu sinh hoạt.",
]
RECOMMENDATIONS = [
    "Đề nghị UBND tỉnh quan tâm bố trí kinh phí hỗ trợ các câu lạc bộ văn nghệ truyền thống.",
    "Đề nghị Sở Văn hóa, Thể thao và Du lịch mở lớp tập huấn nghiệp vụ cho cán bộ văn hóa cơ sở.",
    "Đề nghị có cơ chế khuyến khích nghệ nhân tham gia truyền dạy văn hóa dân gian.",
    "Đề nghị hỗ trợ trang thiết bị cho nhà văn hóa thôn, bản.",
]
REPORTERS = [
    "Nguyễn Thị Hoa",
    "Hoàng Văn Minh",
    "Nông Thị Lan",
    "Bế Văn Tuấn",
    "Lục Thị Thu",
    "Đàm Văn Hùng",
    "Triệu Thị Mai",
    "Lý Văn Sơn",
    "Ma Thị Hằng",
    "Sầm Văn Đức",
]
POSITIONS = ["Chuyên viên", "Phó Trưởng phòng", "Công chức Văn hóa - Xã hội", "Văn phòng"]

#: realistic ranges per unit of measure (per six months)
VALUE_RANGES = {
    "buổi": (2, 30),
    "lượt người": (80, 3500),
    "lớp": (0, 4),
    "trại": (0, 2),
    "tác phẩm": (0, 40),
    "câu lạc bộ": (1, 12),
    "cuộc": (0, 6),
    "người": (0, 15),
    "hoạt động": (3, 45),
    "văn bản": (1, 8),
    "lượt cán bộ": (5, 80),
}


@dataclass
class UnitReport:
    unit_code: str
    scenario: str
    workbook: Workbook
    modified_time: dt.datetime
    #: indicator code -> the valid value written (None when the cell is empty or not valid)
    valid_values: dict[str, Decimal | None] = field(default_factory=dict)


@dataclass
class DemoManifest:
    programme_code: str
    period_code: str
    seed: int
    scenarios: dict[str, str]
    valid_values: dict[str, dict[str, Decimal | None]]

    def units_with(self, *scenarios: str) -> list[str]:
        return sorted(u for u, s in self.scenarios.items() if s in scenarios)

    def expected_status(self, completion_requires_no_errors: bool = True) -> dict[str, str]:
        """unit → on_time / late / missing, as the warehouse must report it."""
        complete = COMPLETE_SCENARIOS | (set() if completion_requires_no_errors else {"errors"})
        return {
            u: (("late" if s == "late" else "on_time") if s in complete else "missing")
            for u, s in self.scenarios.items()
        }

    def indicator_total(
        self, indicator_code: str, completion_requires_no_errors: bool = True
    ) -> Decimal:
        """Sum of the valid values that reach the facts."""
        counted = IN_FACTS_SCENARIOS | (set() if completion_requires_no_errors else {"errors"})
        return sum(
            (
                values.get(indicator_code) or Decimal(0)
                for unit, values in self.valid_values.items()
                if self.scenarios[unit] in counted
            ),
            Decimal(0),
        )


def pick_scenarios(units: list[Unit], rng: random.Random) -> dict[str, str]:
    """A scenario per unit; with five units or more every scenario occurs at least once."""
    names = list(SCENARIO_WEIGHTS)
    codes = [u.unit_code for u in units]
    shuffled = codes[:]
    rng.shuffle(shuffled)
    chosen: dict[str, str] = {}
    if len(codes) >= len(names):
        for code, name in zip(shuffled, names):
            chosen[code] = name
    for code in shuffled:
        chosen.setdefault(code, rng.choices(names, weights=list(SCENARIO_WEIGHTS.values()))[0])
    return {code: chosen[code] for code in codes}


def _phrase(template: str, rng: random.Random, org: str, period) -> str:
    day = period.data_from + dt.timedelta(
        days=rng.randint(10, (period.data_to - period.data_from).days)
    )
    return template.format(
        n=rng.randint(2, 12),
        m=rng.randint(40, 900),
        m2=rng.randint(1, 4),
        k=rng.randint(12, 480),
        org=org,
        d=layout.vi_date(day),
    )


def _value_for(indicator: Indicator, rng: random.Random) -> Decimal:
    if indicator.value_kind == "money":
        return Decimal(rng.randint(100, 5000)) / 10  # 10,0 – 500,0 triệu đồng
    low, high = VALUE_RANGES.get(indicator.unit_of_measure, (0, 20))
    if indicator.target_value is not None and rng.random() < 0.6:
        low = max(low, int(indicator.target_value))
        high = max(high, low + 2)
    return Decimal(rng.randint(low, high))


def build_unit_report(
    catalogue: Catalogue, unit: Unit, period_code: str, scenario: str, rng: random.Random
) -> UnitReport:
    period = catalogue.period(period_code)
    tabs = layout.report_tabs(catalogue, unit.unit_code, period_code)
    workbook = write_workbook(tabs)
    report = UnitReport(unit.unit_code, scenario, workbook, _modified_time(period, scenario, rng))
    if scenario == "untouched":
        report.valid_values = {
            i.indicator_code: None
            for i in catalogue.indicators_for(period.programme_code, unit.unit_code)
        }
        return report
    org = unit.unit_code.split("-", 1)[1].replace("-", "")
    _fill_info(
        workbook,
        rng,
        submitted=scenario != "draft",
        wrong_unit=scenario == "wrong_unit",
        catalogue=catalogue,
        unit=unit,
    )
    _fill_tasks(
        workbook,
        catalogue,
        unit,
        period,
        rng,
        org,
        partial=scenario == "draft",
        errors=scenario == "errors",
    )
    report.valid_values = _fill_indicators(
        workbook,
        catalogue,
        unit,
        period,
        rng,
        partial=scenario == "draft",
        errors=scenario == "errors",
    )
    _fill_feedback(workbook, rng)
    return report


def _modified_time(period, scenario: str, rng: random.Random) -> dt.datetime:
    # the first late moment: one second after the catalogue's last on-time moment
    due = period.on_time_until.astimezone(dt.UTC) + dt.timedelta(seconds=1)
    if scenario == "late":
        return due + dt.timedelta(days=rng.randint(2, 12), hours=rng.randint(0, 6))
    if scenario == "untouched":
        opens = period.opens_on or period.due_date - dt.timedelta(days=20)
        return dt.datetime.combine(opens, dt.time(8, 0), tzinfo=dt.UTC)
    return due - dt.timedelta(days=rng.randint(1, 12), hours=rng.randint(0, 8))


def _fill_info(
    workbook: Workbook, rng, *, submitted: bool, wrong_unit: bool, catalogue, unit
) -> None:
    ws = workbook[layout.TAB_INFO]
    rows = {ws.cell(row=r, column=1).value: r for r in range(1, ws.max_row + 1)}
    label = {key: text for key, text, _ in layout.INFO_FIELDS}
    name = rng.choice(REPORTERS)
    set_value(ws.cell(row=rows[label["reporter_name"]], column=2), name)
    set_value(ws.cell(row=rows[label["reporter_position"]], column=2), rng.choice(POSITIONS))
    set_value(
        ws.cell(row=rows[label["reporter_phone"]], column=2),
        f"0{rng.randint(200, 999)} {rng.randint(100, 999)} {rng.randint(100, 999)}",
    )
    set_value(
        ws.cell(row=rows[label["reporter_email"]], column=2),
        f"baocao.{unit.unit_code.lower()}@example.gov.vn",
    )
    set_value(
        ws.cell(row=rows[label["submitted"]], column=2), "Đã nộp" if submitted else "Chưa nộp"
    )
    if wrong_unit:
        others = sorted(
            c
            for c in catalogue.units
            if c != unit.unit_code and catalogue.units[c].programme_scope == unit.programme_scope
        )
        set_value(ws.cell(row=rows[label["unit_code"]], column=2), rng.choice(others))


def _col(columns, key: str) -> int:
    """1-based column number for openpyxl."""
    return layout.column_index(columns, key) + 1


def _fill_tasks(
    workbook, catalogue, unit, period, rng, org, *, partial: bool, errors: bool
) -> None:
    ws = workbook[layout.TAB_TASKS]
    cols = {key: _col(layout.TASK_COLUMNS, key) for key, *_ in layout.TASK_COLUMNS}
    n_rows = ws.max_row
    bad_row = rng.randint(2, n_rows) if errors else None
    for r in range(2, n_rows + 1):
        if partial and r > 2 + (n_rows - 2) // 2:
            break
        # the statuses the row's drop-down offers: an ongoing task is never "Hoàn thành"
        task = catalogue.tasks.get(ws.cell(row=r, column=cols["task_code"]).value)
        if task is not None and task.is_ongoing:
            status = rng.choices(ONGOING_TASK_STATUSES, weights=[1, 9])[0]
        else:
            status = rng.choices(TASK_WITH_END_STATUSES, weights=[1, 4, 5])[0]
        if r == bad_row:
            set_value(ws.cell(row=r, column=cols["status"]), "Đang làm dở")
        else:
            typed = rng.random()
            if typed < 0.05:
                status_as_typed = status.lower()  # "đang triển khai": the same choice
            elif typed < 0.08:
                status_as_typed = fold(status)  # "dang trien khai", no Vietnamese keyboard
            else:
                status_as_typed = status
            set_value(ws.cell(row=r, column=cols["status"]), status_as_typed)
        if status != "Chưa triển khai":
            set_value(
                ws.cell(row=r, column=cols["result"]),
                _phrase(rng.choice(RESULT_PHRASES), rng, org, period),
            )
            evidence = _phrase(rng.choice(EVIDENCE_PHRASES), rng, org, period)
            if evidence:
                set_value(ws.cell(row=r, column=cols["evidence"]), evidence)
        if status == "Hoàn thành":
            done = period.data_from + dt.timedelta(
                days=rng.randint(5, (period.data_to - period.data_from).days)
            )
            cell = ws.cell(row=r, column=cols["completed_on"])
            typed = rng.random()
            if typed < 0.08:
                set_value(cell, layout.vi_date(done))  # typed as text, "21/3/2026"
            elif typed < 0.15:
                set_value(cell, f"{done:%d/%m/%Y}")  # "05/03/2026"
            else:
                cell.value = done
                cell.number_format = "d/m/yyyy"


def _fill_indicators(
    workbook, catalogue, unit, period, rng, *, partial: bool, errors: bool
) -> dict[str, Decimal | None]:
    ws = workbook[layout.TAB_INDICATORS]
    code_col = _col(layout.INDICATOR_COLUMNS, "indicator_code")
    value_col = _col(layout.INDICATOR_COLUMNS, "value")
    valid: dict[str, Decimal | None] = {}
    rows = [r for r in range(2, ws.max_row + 1) if ws.cell(row=r, column=code_col).value]
    bad_row = rng.choice(rows) if errors and rows else None
    # an errors report also has a figure read only by guessing: a count with its word
    counts = [
        r
        for r in rows
        if r != bad_row
        and catalogue.indicators[ws.cell(row=r, column=code_col).value].value_kind == "count"
    ]
    guessed_row = rng.choice(counts) if errors and counts else None
    for r in rows:
        code = ws.cell(row=r, column=code_col).value
        indicator = catalogue.indicators[code]
        cell = ws.cell(row=r, column=value_col)
        if partial and rng.random() < 0.5:
            valid[code] = None
            continue
        value = _value_for(indicator, rng)
        if r == bad_row:
            set_value(cell, rng.choice(["nhiều", "-3", "1,200", "khoảng 10"]))
            valid[code] = None
            continue
        style = rng.random()
        if r == guessed_row:
            set_value(cell, f"{value} {indicator.unit_of_measure}")  # "5 buổi": a warning
        elif indicator.value_kind == "count" and value >= 1000 and style < 0.5:
            set_value(cell, f"{int(value):,}".replace(",", "."))  # "1.200": read as 1200
        elif indicator.value_kind == "money" and style < 0.3:
            set_value(cell, str(value).replace(".", ","))  # "12,5": as the guide says
        else:
            cell.value = int(value) if value == int(value) else float(value)
        valid[code] = value
    return valid


def _fill_feedback(workbook, rng) -> None:
    ws = workbook[layout.TAB_FEEDBACK]
    kind_col = _col(layout.FEEDBACK_COLUMNS, "kind")
    content_col = _col(layout.FEEDBACK_COLUMNS, "content")
    items = [("Khó khăn", t) for t in rng.sample(DIFFICULTIES, rng.randint(1, 2))] + [
        ("Kiến nghị", t) for t in rng.sample(RECOMMENDATIONS, rng.randint(0, 2))
    ]
    for offset, (kind, text) in enumerate(items):
        set_value(ws.cell(row=2 + offset, column=kind_col), kind)
        set_value(ws.cell(row=2 + offset, column=content_col), text)


def generate_province(
    catalogue: Catalogue, period_code: str, seed: int = 2026, now: dt.datetime | None = None
) -> tuple[list[UnitReport], DemoManifest]:
    """Every expected unit's filled report for the period, and what was made.

    Nothing happens in the future: a unit whose scenario would be dated after ``now`` (default:
    the real time) has not acted yet, so its sheet is ``untouched``, last modified no later than
    ``now`` — as Drive would report it.
    """
    now = now or dt.datetime.now(dt.UTC)
    rng = random.Random(f"{period_code}:{seed}")
    period = catalogue.period(period_code)
    units = catalogue.expected_units(period_code)
    scenarios = pick_scenarios(units, rng)
    reports = []
    for unit in units:
        unit_seed = f"{period_code}:{seed}:{unit.unit_code}"
        scenario = scenarios[unit.unit_code]
        # the same draw build_unit_report makes first: the time this report would carry
        if _modified_time(period, scenario, random.Random(unit_seed)) > now:
            scenario = scenarios[unit.unit_code] = "untouched"
        report = build_unit_report(catalogue, unit, period_code, scenario, random.Random(unit_seed))
        report.modified_time = min(report.modified_time, now)
        reports.append(report)
    manifest = DemoManifest(
        period.programme_code,
        period_code,
        seed,
        scenarios,
        {r.unit_code: r.valid_values for r in reports},
    )
    return reports, manifest
