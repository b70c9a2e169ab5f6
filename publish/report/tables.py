"""The report's three tables, from :class:`~publish.report.data.ReportData`: headers, rows
and column widths, no layout. Rows are numbered (STT) and named as people name them, never by
an internal code; a column that would say nothing for every row (no targets this period, no
previous period, no task with an end) is left out rather than left empty."""

from __future__ import annotations

from dataclasses import dataclass

from publish.marts import number_vi, pct_vi
from publish.report.data import ReportData
from publish.report.wording import has_previous, has_targets, indicator_table_title

#: what the text width leaves for the tables: 210 mm less margins of 30 and 15 mm
TEXT_WIDTH_MM = 165
#: the numbering column: "STT" in bold 12 pt on one line
STT_MM = 12
#: Bảng 1's unit type names: "Ủy ban nhân dân phường" on two lines
TYPE_NAME_MM = 36


@dataclass
class Table:
    caption: str
    headers: list[str]
    rows: list[list[str]]
    widths_mm: list[float]
    #: columns written left-aligned (names); the others are figures, centred under headers
    text_columns: tuple[int, ...] = (1,)
    #: rows written in bold (a total)
    bold_rows: tuple[int, ...] = ()
    note: str | None = None
    #: points
    size: float = 12


def _of(part: int, whole: int) -> str:
    """'43/73'; '–' when there is no such task."""
    return f"{number_vi(part)}/{number_vi(whole)}" if whole else "–"


def reporting_table(data: ReportData) -> Table:
    """Bảng 1: per unit type, the reports expected, how many are in each submission state (the
    mart's states and names, in the rule's order: only the states this period has) and the
    share counted; the province's totals as the last row."""
    types = data.unit_types
    states = data.states()
    headers = ["STT", "Loại đơn vị", "Phải báo cáo", *[s["state_vi"] for s in states]]
    headers.append("Tỷ lệ nộp hợp lệ")

    def counts(unit_type: str | None) -> list[str]:
        return [
            number_vi(sum(1 for u in s["units"] if unit_type in (None, u["unit_type"])))
            for s in states
        ]

    rows = [
        [
            str(n),
            t["unit_type_name"],
            number_vi(t["expected_reports"]),
            *counts(t["unit_type"]),
            pct_vi(t["reporting_rate"]),
        ]
        for n, t in enumerate(types, start=1)
    ]
    everyone = next(r for r in data.rates if r["unit_type"] == "tat_ca")
    rows.append(
        [
            "",
            "Tổng số",
            number_vi(everyone["expected_reports"]),
            *counts(None),
            pct_vi(everyone["reporting_rate"]),
        ]
    )
    fixed = [STT_MM, 0, 17]
    rate = 18
    # the unit type's name keeps 36 mm; the states share the rest, at most 20 mm each. More
    # states than fit at 12 pt (a later approval step adds some) are set smaller, never dropped
    state_mm = min((TEXT_WIDTH_MM - sum(fixed) - rate - TYPE_NAME_MM) / len(states), 20)
    widths = [*fixed, *[state_mm] * len(states), rate]
    widths[1] = TEXT_WIDTH_MM - sum(widths)
    return Table(
        "Bảng 1. Tình trạng báo cáo của các đơn vị theo loại đơn vị",
        headers,
        rows,
        widths,
        bold_rows=(len(rows) - 1,),
        size=12 if state_mm >= 14 else 11 if state_mm >= 12 else 10,
    )


def task_table(data: ReportData) -> Table:
    """Bảng 2: task progress by group, ongoing tasks by what was done, completion only over
    tasks with an end."""
    groups = data.groups
    with_ongoing = any(g["ongoing_tasks"] for g in groups)
    with_end = any(g["tasks_with_end"] for g in groups)
    headers = ["STT", "Nhóm nhiệm vụ", "Lượt được giao", "Lượt đã báo cáo"]
    widths = [STT_MM, 0, 17, 17]
    if with_ongoing:
        headers.append("Thường xuyên: đang thực hiện")
        widths.append(22)
    if with_end:
        headers.append("Hằng năm, có thời hạn: hoàn thành")
        widths.append(25)
    headers.append("Chưa triển khai")
    widths.append(17)
    widths[1] = TEXT_WIDTH_MM - sum(widths)
    rows = []
    for n, g in enumerate(groups, start=1):
        row = [str(n), g["task_group_name"], number_vi(g["tasks_assigned"])]
        row.append(number_vi(g["tasks_reported"]))
        if with_ongoing:
            row.append(_of(g["ongoing_tasks_active"], g["ongoing_tasks"]))
        if with_end:
            done = _of(g["tasks_with_end_done"], g["tasks_with_end"])
            if g["tasks_with_end"]:
                done += f" ({pct_vi(g['task_done_rate'])})"
            row.append(done)
        row.append(number_vi(g["tasks_not_started"]))
        rows.append(row)
    return Table("Bảng 2. Tiến độ thực hiện nhiệm vụ theo nhóm", headers, rows, widths)


def _change_vi(i: dict) -> str:
    if i["previous_total_value"] is None:
        return "–"
    if i["change_rate"] is None:  # the previous total was 0
        return f"{'+' if i['change_value'] >= 0 else ''}{number_vi(i['change_value'])}"
    sign = "+" if i["change_rate"] >= 0 else ""
    return f"{sign}{pct_vi(i['change_rate'])}"


def indicator_table(data: ReportData) -> Table:
    """Bảng 3: each indicator's province total, how many of the units asked reported it, and —
    only when the period has them — its target and whether it is met, and the change against
    the previous period."""
    targets, previous = has_targets(data), has_previous(data)
    headers = ["STT", "Chỉ tiêu", "Đơn vị tính", "Kết quả", "Đơn vị đã báo cáo/ phải báo cáo"]
    widths = [STT_MM, 0, 20, 20, 24]
    if targets:
        headers += ["Mục tiêu", "Đánh giá"]
        widths += [26, 20]
    if previous:
        headers.append("So với kỳ trước")
        widths.append(18)
    widths[1] = TEXT_WIDTH_MM - sum(widths)
    rows = []
    for n, i in enumerate(data.indicators, start=1):
        row = [
            str(n),
            i["indicator_name"],
            i["unit_of_measure"],
            number_vi(i["total_value"]) if i["total_value"] is not None else "–",
            _of(i["reporting_units"], i["expected_units"]),
        ]
        if targets:
            row += [i["target_text_vi"], i["achievement_vi"]] if i["target_text_vi"] else ["–", "–"]
        if previous:
            row.append(_change_vi(i))
        rows.append(row)
    note = None
    if targets and any(not i["target_text_vi"] for i in data.indicators):
        note = "(–: kế hoạch không đặt mục tiêu cho chỉ tiêu này.)"
    return Table(
        f"Bảng 3. {indicator_table_title(data)}",
        headers,
        rows,
        widths,
        text_columns=(1, 2) + ((5,) if targets else ()),
        note=note,
    )
