"""The report's sentences, from :class:`~publish.report.data.ReportData`: pure functions, no
layout.

The Sở writes to UBND tỉnh (the programme's ``report_recipient``): results with figures, then
shortcomings and their causes, its own directions, and its requests to UBND tỉnh. Everything
said is what the figures support: the reports that do not count and why (each state named as
``marts.fct_submission`` names it), tasks not started or behind, targets not met, difficulties
several units share. Units' own difficulties and requests are theirs, not the Sở's: they are
quoted, bounded and attributed, in the annex (:func:`annex_parts`), and the body points to it.
"""

from __future__ import annotations

from publish.marts import date_vi, number_vi, pct_vi
from publish.report.data import ReportData
from tonghop.catalogue import deadline_vi, due_date_note_vi, estimate_clause_vi

#: characters of one unit's difficulty or recommendation quoted in the report. A unit may type
#: 50,000 characters in a cell and 200 rows of them: quoted whole, a report of that size takes
#: LibreOffice longer than the PDF budget and is unreadable anyway. The full text is in the
#: marts and in the summary workbook's "Khó khăn, kiến nghị" tab.
QUOTE_MAX_CHARS = 400
#: items quoted per part of the annex (difficulties, recommendations); the rest are counted and
#: pointed to in the summary workbook
QUOTED_ITEMS_MAX = 30
#: where the full text is, as the report says it
FULL_TEXT_WHERE = "xem bảng tổng hợp, trang \u201cKhó khăn, kiến nghị\u201d"
#: difficulties raised by this many units or more are a pattern the Sở names in its own
#: section II (at most :data:`SHARED_DIFFICULTIES_MAX` of them); one unit's are in the annex only
SHARED_BY_UNITS = 2
SHARED_DIFFICULTIES_MAX = 5
#: the annex's parts, as the body points to them
ANNEX_DIFFICULTIES = "Phụ lục, mục I"
ANNEX_RECOMMENDATIONS = "Phụ lục, mục II"


def lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]


def period_phrase(period_name: str) -> str:
    """What the period is without the word "Báo cáo": "6 tháng đầu năm 2026", "năm 2026"."""
    return period_name.removeprefix("Báo cáo ").strip()


def units_vi(n: int) -> str:
    return f"{number_vi(n)} đơn vị"


def deadline_with_note(period: dict) -> str:
    return " ".join(
        filter(
            None,
            [deadline_vi(period["on_time_until"]), due_date_note_vi(period["is_due_date_assumed"])],
        )
    )


# ------------------------------------------------------------------ heading
def title_lines(data: ReportData) -> list[str]:
    """The summary line under "BÁO CÁO": the plan spelled out (``report_plan_name``), then the
    period."""
    return [
        f"Kết quả thực hiện {data.programme['report_plan_name']}",
        f"({period_phrase(data.period['period_name'])})",
    ]


def opening(data: ReportData) -> str:
    programme, period = data.programme, data.period
    estimates = estimate_clause_vi(period["estimated_from"], period["data_to"])
    return (
        f"Thực hiện {programme['report_plan_name']} (sau đây gọi là Kế hoạch), "
        f"{programme['consolidating_body']} tổng hợp báo cáo của các đơn vị (số liệu từ ngày "
        f"{date_vi(period['data_from'])} đến ngày {date_vi(period['data_to'])}"
        + (f", {estimates}" if estimates else "")
        + f"; hạn nộp {deadline_with_note(period)}) và báo cáo kết quả như sau:"
    )


# ------------------------------------------------------------------ I. results
def reporting_overview(data: ReportData) -> str:
    s = data.summary
    text = (
        f"Tổng số đơn vị phải báo cáo: {number_vi(s['expected_reports'])}; đã nộp báo cáo hợp "
        f"lệ: {units_vi(s['actual_reports'])} (tỷ lệ {pct_vi(s['reporting_rate'])}), trong đó "
        f"đúng hạn {units_vi(s['on_time_reports'])} (tỷ lệ {pct_vi(s['on_time_rate'])}), trễ "
        f"hạn {units_vi(s['late_reports'])}"
    )
    if data.not_counted:
        text += f"; {units_vi(len(data.not_counted))} có báo cáo chưa được tính vào tổng hợp"
    text += "."
    if s.get("review_required"):
        # which figures are accepted and which still await review (fct_submission's rule)
        text += (
            f" Kỳ báo cáo này yêu cầu duyệt: số liệu tổng hợp dưới đây chỉ gồm "
            f"{number_vi(s['actual_reports'])} báo cáo đã được "
            f"{data.programme['consolidating_body']} chấp nhận"
        )
        pending = []
        if s.get("awaiting_review_reports"):
            pending.append(
                f"{number_vi(s['awaiting_review_reports'])} báo cáo hợp lệ đang chờ duyệt"
            )
        if s.get("returned_reports"):
            pending.append(f"{number_vi(s['returned_reports'])} báo cáo bị trả lại chờ đơn vị sửa")
        if pending:
            text += "; " + " và ".join(pending) + " chưa được cộng vào số liệu"
        text += "."
    return text


def not_counted_by_state(data: ReportData) -> str | None:
    """“Các đơn vị có báo cáo chưa được tính (22): đã nộp nhưng còn lỗi (12): A, B; …” — each
    state as the mart names it."""
    if not data.not_counted:
        return None
    parts = [
        f"{lower_first(state['state_vi'])} ({number_vi(len(state['units']))}): "
        + ", ".join(u["unit_name"] for u in state["units"])
        for state in data.states()
        if not state["is_counted"]
    ]
    return (
        f"Các đơn vị có báo cáo chưa được tính ({number_vi(len(data.not_counted))}): "
        + "; ".join(parts)
        + "."
    )


def late_state(data: ReportData) -> dict | None:
    """The state of the reports counted but late, as the mart names it; None when none is."""
    return next((s for s in data.states() if s["state"] == "hop_le_tre_han"), None)


def late_units(data: ReportData) -> str | None:
    state = late_state(data)
    if state is None:
        return None
    names = ", ".join(f"{u['unit_name']} (trễ {u['days_late']} ngày)" for u in state["units"])
    return (
        f"Các đơn vị {lower_first(state['state_vi'])} ({number_vi(len(state['units']))}): {names}."
    )


def task_progress(data: ReportData) -> str:
    """The province's task progress in words: ongoing tasks by what was done, completion only
    over tasks with an end."""
    s = data.summary
    text = (
        f"Các đơn vị đã báo cáo {number_vi(s['tasks_reported'])}/"
        f"{number_vi(s['tasks_assigned'])} lượt nhiệm vụ được giao. "
        f"Nhiệm vụ thường xuyên (không có thời điểm hoàn thành): "
        f"{number_vi(s['ongoing_tasks'])} lượt được giao, "
        f"{number_vi(s['ongoing_tasks_active'])} lượt đang thực hiện thường xuyên, trong đó "
        f"{number_vi(s['ongoing_tasks_with_result'])} lượt có kết quả cụ thể trong kỳ. "
    )
    if s["tasks_with_end"]:
        text += (
            f"Nhiệm vụ hằng năm, có thời hạn: hoàn thành "
            f"{number_vi(s['tasks_with_end_done'])}/{number_vi(s['tasks_with_end'])} lượt "
            f"(tỷ lệ {pct_vi(s['task_done_rate'])}), đang triển khai "
            f"{number_vi(s['tasks_in_progress'])} lượt. "
        )
    else:
        text += "Kỳ này không có nhiệm vụ hằng năm, có thời hạn để tính tỷ lệ hoàn thành. "
    return text + f"Chưa triển khai: {number_vi(s['tasks_not_started'])} lượt."


TASK_TABLE_NOTE = (
    "Nhiệm vụ thường xuyên không có thời điểm hoàn thành nên không tính tỷ lệ hoàn thành; tỷ lệ "
    "hoàn thành chỉ tính trên nhiệm vụ hằng năm, có thời hạn. Một lượt là một nhiệm vụ giao "
    "cho một đơn vị."
)


def has_targets(data: ReportData) -> bool:
    return any(i["target_text_vi"] for i in data.indicators)


def indicators_intro(data: ReportData) -> list[str]:
    """What the indicator table is: whose figures, estimates, targets."""
    lines = []
    period = data.period
    estimates = estimate_clause_vi(period["estimated_from"], period["data_to"])
    if estimates:
        lines.append(
            f"Số liệu các chỉ tiêu kỳ này {estimates}, do hạn nộp báo cáo trước ngày chốt số liệu."
        )
    text = "Kết quả các chỉ tiêu là tổng số liệu của các báo cáo được tính"
    if data.not_counted:
        text += (
            f"; số liệu của {units_vi(len(data.not_counted))} có báo cáo chưa được tính chưa có "
            "trong tổng số"
        )
    lines.append(text + ".")
    if data.indicators and not has_targets(data):
        lines.append("Kế hoạch không đặt mục tiêu định lượng cho các chỉ tiêu này.")
    return lines


def indicator_table_title(data: ReportData) -> str:
    estimates = estimate_clause_vi(data.period["estimated_from"], data.period["data_to"])
    what = "Kết quả các chỉ tiêu"
    compared = [
        "mục tiêu" if has_targets(data) else None,
        "kỳ trước" if has_previous(data) else None,
    ]
    compared = [c for c in compared if c]
    if compared:
        what += " so với " + " và ".join(compared)
    return what + (f" ({estimates})" if estimates else "")


def has_previous(data: ReportData) -> bool:
    return any(i["previous_total_value"] is not None for i in data.indicators)


def unmet_targets(data: ReportData) -> list[dict]:
    return [i for i in data.indicators if i["achievement_status"] == "chua_dat"]


def _unmet_vi(indicators: list[dict]) -> str:
    return "; ".join(
        f"{i['indicator_name']} (đạt {number_vi(i['total_value'])} {i['unit_of_measure']}, "
        f"mục tiêu: {lower_first(i['target_text_vi'])})"
        for i in indicators
    )


# ------------------------------------------------------------------ II. shortcomings, causes
def shortcomings(data: ReportData) -> list[str]:
    """What fell short, from the figures."""
    s = data.summary
    lines = []
    late = late_state(data)
    late_vi = f"{units_vi(len(late['units']))} {lower_first(late['state_vi'])}" if late else ""
    if data.not_counted:
        lines.append(
            f"- Còn {number_vi(len(data.not_counted))}/{number_vi(s['expected_reports'])} đơn vị "
            "có báo cáo chưa được tính, nên số liệu tổng hợp chưa đầy đủ"
            + (f"; {late_vi}." if late else ".")
        )
    elif late:
        lines.append(f"- Có {late_vi}.")
    if s["tasks_not_started"]:
        most = max(data.groups, key=lambda g: g["tasks_not_started"])
        lines.append(
            f"- Còn {number_vi(s['tasks_not_started'])} lượt nhiệm vụ được giao chưa triển khai, "
            f"nhiều nhất ở nhóm nhiệm vụ “{most['task_group_name']}” "
            f"({number_vi(most['tasks_not_started'])} lượt)."
        )
    if (
        s["actual_reports"]
        and s["tasks_with_end"]
        and s["tasks_with_end_done"] < s["tasks_with_end"]
    ):
        lines.append(
            f"- Nhiệm vụ hằng năm, có thời hạn mới hoàn thành "
            f"{number_vi(s['tasks_with_end_done'])}/{number_vi(s['tasks_with_end'])} lượt "
            f"(tỷ lệ {pct_vi(s['task_done_rate'])})."
        )
    unmet = unmet_targets(data)
    if unmet:
        lines.append(f"- Các chỉ tiêu chưa đạt mục tiêu: {_unmet_vi(unmet)}.")
    return lines


def causes(data: ReportData) -> list[str]:
    """Why: the states of the reports that do not count, and the difficulties units share."""
    lines = []
    if data.not_counted:
        parts = [
            f"{units_vi(len(state['units']))} {lower_first(state['state_vi'])}"
            for state in data.states()
            if not state["is_counted"]
        ]
        lines.append(f"- Về báo cáo chưa được tính: {'; '.join(parts)}.")
    shared = [d for d in data.difficulties if len(d["units"]) >= SHARED_BY_UNITS]
    for item in shared[:SHARED_DIFFICULTIES_MAX]:
        text = bounded(item["content"]).rstrip(".")
        lines.append(f"- {upper_first(text)} ({units_vi(len(item['units']))} nêu).")
    if data.difficulties:
        lines.append(
            "- Khó khăn, vướng mắc cụ thể của từng đơn vị "
            f"({number_vi(len(data.difficulties))} ý kiến): {ANNEX_DIFFICULTIES}."
        )
    else:
        lines.append("- Các đơn vị không nêu khó khăn, vướng mắc trong kỳ.")
    return lines


# ------------------------------------------------------------------ III. the Sở's directions
def directions(data: ReportData) -> list[str]:
    s = data.summary
    lines = []
    if data.not_counted:
        lines.append(
            f"- Tiếp tục đôn đốc, hướng dẫn {units_vi(len(data.not_counted))} có báo cáo chưa "
            "được tính hoàn thiện báo cáo; tổng hợp, báo cáo bổ sung khi nhận được."
        )
    if s["tasks_not_started"]:
        most = max(data.groups, key=lambda g: g["tasks_not_started"])
        lines.append(
            "- Đôn đốc các đơn vị triển khai các nhiệm vụ được giao còn chưa triển khai, tập "
            f"trung nhóm nhiệm vụ “{most['task_group_name']}”."
        )
    slow = sorted(
        (
            g
            for g in data.groups
            if g["tasks_reported"]
            and g["task_done_rate"] is not None
            and g["tasks_with_end_done"] < g["tasks_with_end"]
        ),
        key=lambda g: g["task_done_rate"],
    )
    if slow:
        g = slow[0]
        lines.append(
            "- Tập trung đẩy nhanh tiến độ các nhiệm vụ hằng năm, có thời hạn thuộc nhóm nhiệm "
            f"vụ “{g['task_group_name']}”, hiện mới hoàn thành {pct_vi(g['task_done_rate'])}."
        )
    unmet = unmet_targets(data)
    if unmet:
        lines.append(
            "- Phấn đấu hoàn thành các chỉ tiêu chưa đạt: "
            + "; ".join(f"{i['indicator_name']} ({i['target_text_vi']})" for i in unmet)
            + "."
        )
    if data.recommendations:
        lines.append(
            "- Nghiên cứu, giải quyết theo thẩm quyền các kiến nghị, đề xuất của các đơn vị "
            f"({ANNEX_RECOMMENDATIONS})."
        )
    if data.next_period:
        n = data.next_period
        lines.append(
            f"- Hướng dẫn các đơn vị chuẩn bị {lower_first(n['period_name'])}: số liệu tính từ "
            f"ngày {date_vi(n['data_from'])} đến ngày {date_vi(n['data_to'])}, hạn nộp "
            f"{deadline_with_note(n)}."
        )
    return lines


# ------------------------------------------------------------------ IV. requests to UBND tỉnh
def requests(data: ReportData) -> list[str]:
    """The Sở's requests to the recipient (UBND tỉnh), from the figures; the units' own
    requests are in the annex and only pointed to."""
    recipient = data.programme["report_recipient"]
    body = data.programme["consolidating_body"]
    lines = []
    if data.not_counted:
        text = (
            f"- Đề nghị {recipient} chỉ đạo {units_vi(len(data.not_counted))} có báo cáo chưa "
            f"được tính (nêu tại mục I.1) khẩn trương hoàn thiện, gửi báo cáo về {body} để "
            "tổng hợp"
        )
        again = [u for u in data.not_counted if u["unit_code"] in set(data.previous_not_counted)]
        if again and data.previous_period:
            text += (
                f"; trong đó {units_vi(len(again))} có báo cáo chưa được tính cả "
                f"{lower_first(data.previous_period['period_name'])}: "
                + ", ".join(u["unit_name"] for u in again)
            )
        lines.append(text + ".")
    unmet = unmet_targets(data)
    if unmet:
        lines.append(
            f"- Đề nghị {recipient} chỉ đạo các đơn vị được giao tập trung thực hiện các chỉ "
            f"tiêu chưa đạt mục tiêu: {_unmet_vi(unmet)}."
        )
    if data.recommendations:
        lines.append(
            f"- Đề nghị {recipient} xem xét, chỉ đạo giải quyết các kiến nghị, đề xuất của các "
            f"đơn vị thuộc thẩm quyền của {recipient} ({ANNEX_RECOMMENDATIONS})."
        )
    if not lines:
        lines.append("Không có kiến nghị, đề xuất.")
    return lines


def closing(data: ReportData) -> str:
    programme = data.programme
    return (
        f"Trên đây là {lower_first(data.period['period_name'])} của "
        f"{programme['consolidating_body']} về kết quả thực hiện Kế hoạch, kính báo cáo "
        f"{programme['report_recipient']} xem xét, chỉ đạo./."
    )


# ------------------------------------------------------------------ the annex: units' words
def bounded(text: str, limit: int = QUOTE_MAX_CHARS) -> str:
    """``text`` cut to at most ``limit`` characters, at a word boundary where there is one near
    the end, with "…" marking the cut; unchanged when it fits."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space >= limit * 3 // 4:
        cut = cut[:space]
    return cut.rstrip(" ,;:.-") + "…"


def quoted_feedback(
    items: list[dict], *, limit: int = QUOTED_ITEMS_MAX, chars: int = QUOTE_MAX_CHARS
) -> tuple[list[str], int, int]:
    """The annex's numbered lines of grouped feedback — "1. text (unit, unit)." — at most
    ``limit`` of them, each text bounded to ``chars``; how many items are left unquoted and how
    many quoted ones were cut. Every unit that wrote a text is named."""
    lines, cut = [], 0
    for n, item in enumerate(items[:limit], start=1):
        cut += len(item["content"]) > chars
        text = bounded(item["content"], chars).rstrip(".")
        lines.append(f"{n}. {text} ({', '.join(item['units'])}).")
    return lines, max(len(items) - limit, 0), cut


def annex_title(data: ReportData) -> list[str]:
    """The annex's heading (Decree 30/2020, Phụ lục I: "Phụ lục", its title, and the document
    it goes with)."""
    programme, period = data.programme, data.period
    return [
        "Phụ lục",
        "KHÓ KHĂN, VƯỚNG MẮC VÀ KIẾN NGHỊ, ĐỀ XUẤT",
        "CỦA CÁC ĐƠN VỊ",
        f"(Kèm theo Báo cáo số        /{programme['report_symbol']} ngày      tháng      năm "
        f"{period['due_date'].year} của {programme['consolidating_body']})",
    ]


def annex_parts(data: ReportData) -> list[tuple[str, list[str], list[str]]]:
    """The annex's parts: (heading, numbered lines, notes after them)."""
    parts = []
    for heading, items, empty in (
        (
            "I. KHÓ KHĂN, VƯỚNG MẮC",
            data.difficulties,
            "Các đơn vị không nêu khó khăn, vướng mắc.",
        ),
        (
            "II. KIẾN NGHỊ, ĐỀ XUẤT",
            data.recommendations,
            "Các đơn vị không có kiến nghị, đề xuất.",
        ),
    ):
        if not items:
            parts.append((heading, [empty], []))
            continue
        lines, rest, cut = quoted_feedback(items)
        notes = []
        if rest:
            lines.append(f"Và {number_vi(rest)} ý kiến khác ({FULL_TEXT_WHERE}).")
        if cut:
            notes.append(
                f"(Ý kiến dài được trích tối đa {number_vi(QUOTE_MAX_CHARS)} ký tự; toàn "
                f"văn: {FULL_TEXT_WHERE}.)"
            )
        parts.append((heading, lines, notes))
    return parts
