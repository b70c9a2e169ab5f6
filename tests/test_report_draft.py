"""The draft report's parts on data made here (no database): the font has every Vietnamese
letter, a chart is drawn only when it says something, a table leaves out a column that would
say nothing, states keep the mart's names and order, document numbers do not break, and the
units' requests go to the annex while the Sở's requests to UBND tỉnh come from the figures.

The report published from a real warehouse is checked in tests/test_publish.py (tables against
the marts and the scenario, the PDF's font, Decree 30's layout read back from the PDF)."""

from __future__ import annotations

import datetime as dt
import os
import re
import string
from decimal import Decimal

import pytest

from publish.report.data import ReportData

PROGRAMME = {
    "programme_code": "CB-KH84",
    "report_plan_name": "Kế hoạch của Ủy ban nhân dân tỉnh Cao Bằng thực hiện Quyết định số "
    "2640/QĐ-TTg ngày 04/12/2025 của Thủ tướng Chính phủ",
    "consolidating_body": "Sở Văn hóa, Thể thao và Du lịch",
    "report_recipient": "UBND tỉnh",
    "report_symbol": "BC-SVHTTDL",
    "report_parent_body": "UBND tỉnh Cao Bằng",
    "report_place": "Cao Bằng",
    "report_signer_title": "Giám đốc",
    "report_cc": "UBND tỉnh (b/c); Các sở, ban, ngành tỉnh",
}
STATE_VI = {
    "hop_le_dung_han": ("Nộp hợp lệ, đúng hạn", True),
    "hop_le_tre_han": ("Nộp hợp lệ, trễ hạn", True),
    "con_loi": ("Đã nộp nhưng còn lỗi", False),
    "chua_dien": ("Chưa điền", False),
    # a state a later issue may add: it must flow from the mart without a code change (issue
    # 24's cho_duyet and bi_tra_lai are known now, in the rule's order)
    "cho_xac_minh": ("Chờ xác minh", False),
}


def submission(code: str, unit_type: str, state: str, days_late: int = 0) -> dict:
    name, counted = STATE_VI[state]
    return {
        "unit_code": code,
        "unit_name": f"Đơn vị {code}",
        "unit_type": unit_type,
        "submission_state": state,
        "submission_state_vi": name,
        "is_counted": counted,
        "days_late": days_late,
    }


def rate(unit_type: str, name: str, expected: int, on_time: int, late: int) -> dict:
    actual = on_time + late
    return {
        "unit_type": unit_type,
        "unit_type_name": name,
        "expected_reports": expected,
        "actual_reports": actual,
        "on_time_reports": on_time,
        "late_reports": late,
        "reporting_rate": Decimal(actual) / expected,
    }


def indicator(name: str, *, target: str | None = None, rate_: float | None = None, **kw) -> dict:
    row = {
        "indicator_code": "CB.CT01",
        "indicator_name": name,
        "unit_of_measure": "buổi",
        "total_value": Decimal(12),
        "reporting_units": 2,
        "expected_units": 3,
        "target_text_vi": target,
        "achievement_rate": None if rate_ is None else Decimal(str(rate_)),
        "achievement_status": "khong_co_muc_tieu" if target is None else "chua_dat",
        "achievement_vi": "Không đặt mục tiêu" if target is None else "Chưa đạt",
        "previous_total_value": None,
        "change_value": None,
        "change_rate": None,
    }
    return {**row, **kw}


def group(n: int, *, with_end: int = 0, done: int = 0) -> dict:
    return {
        "task_group_no": n,
        "task_group_name": f"Nhóm nhiệm vụ thứ {n}",
        "tasks_assigned": 10,
        "tasks_reported": 8,
        "ongoing_tasks": 10 - with_end,
        "ongoing_tasks_active": 6,
        "tasks_with_end": with_end,
        "tasks_with_end_done": done,
        "task_done_rate": Decimal(done) / with_end if with_end else None,
        "tasks_not_started": 2,
    }


def report_data(**overrides) -> ReportData:
    submissions = [
        submission("X1", "ubnd_xa", "hop_le_dung_han"),
        submission("X2", "ubnd_xa", "hop_le_tre_han", 3),
        submission("X3", "ubnd_xa", "cho_xac_minh"),
        submission("S1", "so", "con_loi"),
        submission("S2", "so", "hop_le_dung_han"),
    ]
    rates = [
        rate("so", "Sở, ban, ngành cấp tỉnh", 2, 1, 0),
        rate("ubnd_xa", "Ủy ban nhân dân xã", 3, 1, 1),
        rate("tat_ca", "Tất cả loại đơn vị", 5, 2, 1),
    ]
    summary = {
        "expected_reports": 5,
        "actual_reports": 3,
        "on_time_reports": 2,
        "late_reports": 1,
        "reporting_rate": Decimal("0.6"),
        "on_time_rate": Decimal("0.4"),
        "tasks_reported": 16,
        "tasks_assigned": 20,
        "ongoing_tasks": 20,
        "ongoing_tasks_active": 12,
        "ongoing_tasks_with_result": 10,
        "tasks_with_end": 0,
        "tasks_with_end_done": 0,
        "tasks_in_progress": 0,
        "task_done_rate": None,
        "tasks_not_started": 4,
    }
    values = {
        "programme": PROGRAMME,
        "period": {
            "period_name": "Báo cáo 6 tháng đầu năm 2026",
            "due_date": dt.date(2026, 6, 20),
            "data_from": dt.date(2025, 12, 15),
            "data_to": dt.date(2026, 6, 14),
            "estimated_from": None,
            "on_time_until": dt.datetime(2026, 6, 20, 16, 59, 59, tzinfo=dt.UTC),
            "is_due_date_assumed": False,
        },
        "summary": summary,
        "next_period": None,
        "previous_period": None,
        "rates": rates,
        "submissions": submissions,
        "previous_not_counted": [],
        "groups": [group(1), group(2)],
        "indicators": [indicator("Số buổi tuyên truyền")],
        "difficulties": [],
        "recommendations": [],
    }
    values.update(overrides)
    return ReportData(**values)


# ------------------------------------------------------------------ the font
def render_font_files() -> list:
    from publish.report.fonts import render_font_file

    files = [render_font_file(bold=b, italic=i) for b, i in ((0, 0), (1, 0), (0, 1), (1, 1))]
    if None in files:
        if os.environ.get("CI"):
            pytest.fail("fonts-liberation2 must be installed in CI (scripts/bootstrap.sh)")
        pytest.skip("fonts-liberation2 not installed")
    return files


def test_the_report_font_has_every_vietnamese_letter_in_every_style():
    from publish.report.fonts import REPORT_PUNCTUATION, VIETNAMESE_LETTERS, missing_glyphs

    assert len(VIETNAMESE_LETTERS) == 134  # 67 letters, lower and upper case
    wanted = VIETNAMESE_LETTERS + REPORT_PUNCTUATION + string.printable.strip()
    for path in render_font_files():
        assert missing_glyphs(path, wanted) == "", path.name


def test_fonts_liberation_1_07_would_not_do():
    """Why fonts-liberation2: the 1.07 package (still installed on many machines) has no Ơ."""
    from pathlib import Path

    from publish.report.fonts import missing_glyphs

    old = Path("/usr/share/fonts/truetype/liberation/LiberationSerif-Regular.ttf")
    if not old.exists():
        pytest.skip("fonts-liberation 1.07 not installed")
    assert {"Ơ", "ư", "ạ", "ế"} <= set(missing_glyphs(old, "Kết quả của Ơ ư ạ ế"))


# ------------------------------------------------------------------ charts
def test_a_chart_is_drawn_only_when_it_says_something(tmp_path):
    from publish.report.charts import draw_charts, indicator_chart, reporting_rate_chart

    data = report_data()
    # no indicator has a target this period: nothing to compare, no chart
    assert indicator_chart(data, tmp_path / "i.png") is None
    assert set(draw_charts(data, tmp_path)) == {"reporting_rate"}
    with_target = report_data(
        indicators=[indicator("Số hội diễn", target="Từ 5 cuộc trở lên / năm", rate_=0.6)]
    )
    assert indicator_chart(with_target, tmp_path / "i.png").read_bytes()[:4] == b"\x89PNG"
    # one unit type: the table says it all
    one_type = report_data(rates=[r for r in data.rates if r["unit_type"] != "so"])
    assert reporting_rate_chart(one_type, tmp_path / "r.png") is None
    # nobody counted: every bar would be empty
    nobody = report_data(
        rates=[
            {**r, "actual_reports": 0, "on_time_reports": 0, "late_reports": 0} for r in data.rates
        ]
    )
    assert reporting_rate_chart(nobody, tmp_path / "r.png") is None


def test_charts_are_the_same_bytes_for_the_same_data(tmp_path):
    from publish.report.charts import draw_charts

    one = draw_charts(report_data(), tmp_path / "one")
    two = draw_charts(report_data(), tmp_path / "two")
    assert one["reporting_rate"].read_bytes() == two["reporting_rate"].read_bytes()


# ------------------------------------------------------------------ tables
def test_a_column_that_would_say_nothing_is_left_out():
    from publish.report.tables import indicator_table, reporting_table, task_table

    data = report_data()
    table = indicator_table(data)
    assert table.headers == [
        "STT",
        "Chỉ tiêu",
        "Đơn vị tính",
        "Kết quả",
        "Đơn vị đã báo cáo/ phải báo cáo",
    ]
    assert table.rows == [["1", "Số buổi tuyên truyền", "buổi", "12", "2/3"]]
    assert "Hằng năm, có thời hạn: hoàn thành" not in task_table(data).headers
    compared = report_data(
        indicators=[
            indicator("Số buổi tuyên truyền"),
            indicator(
                "Số hội diễn",
                target="Từ 5 cuộc trở lên / năm",
                rate_=0.6,
                previous_total_value=Decimal(10),
                change_value=Decimal(2),
                change_rate=Decimal("0.2"),
            ),
        ],
        groups=[group(1), group(2, with_end=2, done=1)],
    )
    table = indicator_table(compared)
    assert table.headers[5:] == ["Mục tiêu", "Đánh giá", "So với kỳ trước"]
    assert table.rows[0][5:] == ["–", "–", "–"] and table.note
    assert table.rows[1][5:] == ["Từ 5 cuộc trở lên / năm", "Chưa đạt", "+20,0%"]
    tasks = task_table(compared)
    assert tasks.headers[5] == "Hằng năm, có thời hạn: hoàn thành"
    assert [row[5] for row in tasks.rows] == ["–", "1/2 (50,0%)"]
    for spec in (table, tasks, reporting_table(compared)):
        assert spec.headers[0] == "STT" and abs(sum(spec.widths_mm) - 165) < 0.01
        for k in range(len(spec.headers)):
            assert any(row[k] not in ("", "–") for row in spec.rows), spec.headers[k]


def test_states_keep_the_marts_names_and_the_rules_order_a_new_state_follows():
    from publish.report.tables import reporting_table

    data = report_data()
    assert [s["state_vi"] for s in data.states()] == [
        "Nộp hợp lệ, đúng hạn",
        "Nộp hợp lệ, trễ hạn",
        "Đã nộp nhưng còn lỗi",
        "Chờ xác minh",
    ]
    table = reporting_table(data)
    assert table.headers == [
        "STT",
        "Loại đơn vị",
        "Phải báo cáo",
        "Nộp hợp lệ, đúng hạn",
        "Nộp hợp lệ, trễ hạn",
        "Đã nộp nhưng còn lỗi",
        "Chờ xác minh",
        "Tỷ lệ nộp hợp lệ",
    ]
    assert table.size == 12
    assert table.rows == [
        ["1", "Sở, ban, ngành cấp tỉnh", "2", "1", "0", "1", "0", "50,0%"],
        ["2", "Ủy ban nhân dân xã", "3", "1", "1", "0", "1", "66,7%"],
        ["", "Tổng số", "5", "2", "1", "1", "1", "60,0%"],
    ]


# ------------------------------------------------------------------ words
def test_units_requests_go_to_the_annex_and_the_sos_requests_come_from_the_figures():
    from publish.report import wording

    own = "Đề nghị Sở Văn hóa, Thể thao và Du lịch mở lớp tập huấn nghiệp vụ"
    data = report_data(
        recommendations=[{"content": own, "units": ["UBND xã A", "UBND xã B"]}],
        difficulties=[
            {"content": "Thiếu kinh phí", "units": ["UBND xã A", "UBND xã B"]},
            {"content": "Đường xa", "units": ["UBND xã C"]},
        ],
        previous_period={"period_name": "Báo cáo năm 2025"},
        previous_not_counted=["S1"],
    )
    body = wording.requests(data) + wording.directions(data) + wording.causes(data)
    assert not [line for line in body if "mở lớp tập huấn" in line]
    requests = wording.requests(data)
    assert requests[0].startswith("- Đề nghị UBND tỉnh chỉ đạo 2 đơn vị có báo cáo chưa được tính")
    again = "trong đó 1 đơn vị có báo cáo chưa được tính cả báo cáo năm 2025: Đơn vị S1"
    assert again in requests[0]
    assert requests[-1].endswith("thuộc thẩm quyền của UBND tỉnh (Phụ lục, mục II).")
    # a difficulty several units share is named by the Sở; one unit's stays in the annex
    causes = wording.causes(data)
    assert "- Thiếu kinh phí (2 đơn vị nêu)." in causes
    assert not [line for line in causes if "Đường xa" in line]
    parts = {heading: lines for heading, lines, _ in wording.annex_parts(data)}
    assert parts["II. KIẾN NGHỊ, ĐỀ XUẤT"] == [f"1. {own} (UBND xã A, UBND xã B)."]
    assert parts["I. KHÓ KHĂN, VƯỚNG MẮC"][1] == "2. Đường xa (UBND xã C)."


def test_a_report_with_nothing_missing_asks_nothing():
    from publish.report import wording

    counted = [
        {
            **s,
            "submission_state": "hop_le_dung_han",
            "submission_state_vi": "Nộp hợp lệ, đúng hạn",
            "is_counted": True,
        }
        for s in report_data().submissions
    ]
    data = report_data(submissions=counted)
    assert wording.requests(data) == ["Không có kiến nghị, đề xuất."]
    assert wording.not_counted_by_state(data) is None


def test_document_numbers_keep_their_hyphens_unbreakable():
    from publish.report.layout import Doc

    doc = Doc()
    p = doc.paragraph()
    doc.run(p, "Quyết định số 2640/QĐ-TTg và Kết luận số 84-KL/TW; “Dân ca - dân vũ”, ca-múa")
    xml = p._p.xml
    assert xml.count("<w:noBreakHyphen/>") == 2
    assert p.text == "Quyết định số 2640/QĐ-TTg và Kết luận số 84-KL/TW; “Dân ca - dân vũ”, ca-múa"


def test_the_projects_scripts_install_the_report_font():
    """bootstrap.sh (CI, the demo) and the image install fonts-liberation2, not only 1.07."""
    from pathlib import Path

    from publish.report.fonts import RENDER_FONT_DIR, RENDER_FONT_FILES

    root = Path(__file__).resolve().parents[1]
    bootstrap = (root / "scripts" / "bootstrap.sh").read_text(encoding="utf-8")
    regular = RENDER_FONT_DIR / RENDER_FONT_FILES[(False, False)]
    assert f"[ -e {regular} ] || optional+=(fonts-liberation2)" in bootstrap
    assert re.search(
        r"apt-get install [^&]*\bfonts-liberation2\b", (root / "Dockerfile").read_text()
    )


@pytest.mark.parametrize("which", ["reporting_rate", "indicators"])
def test_a_chart_names_its_bars_labels_their_values_and_keeps_its_legend_clear(which):
    from matplotlib import pyplot as plt

    from publish.report.charts import indicator_figure, reporting_rate_figure

    data = report_data(
        indicators=[
            indicator("Số hội diễn, hội thi, liên hoan cấp huyện", target="Từ 5", rate_=0.6),
            indicator(
                "Số buổi tuyên truyền",
                target="Từ 10",
                rate_=1.4,
                achievement_status="dat",
                achievement_vi="Đạt",
            ),
        ]
    )
    fig = (reporting_rate_figure if which == "reporting_rate" else indicator_figure)(data)
    try:
        [ax] = fig.axes
        renderer = fig.canvas.get_renderer()
        names = [t.get_text().replace("\n", " ") for t in ax.get_yticklabels()]
        if which == "reporting_rate":
            assert names == ["Sở, ban, ngành cấp tỉnh", "Ủy ban nhân dân xã"]
            assert [t.get_text() for t in ax.texts] == ["1/2 (50,0%)", "2/3 (66,7%)"]
        else:
            assert names == ["Số hội diễn, hội thi, liên hoan cấp huyện", "Số buổi tuyên truyền"]
            assert [t.get_text() for t in ax.texts] == ["60,0%", "140,0%"]
        legend = ax.get_legend().get_window_extent(renderer)
        bars = [bar.get_window_extent(renderer) for bar in ax.patches if bar.get_width() > 0]
        labels = [t.get_window_extent(renderer) for t in ax.texts]
        assert bars and not [b for b in bars + labels if legend.overlaps(b)]
        assert legend.y0 >= ax.get_window_extent(renderer).y1  # above the plot
    finally:
        plt.close(fig)


def test_a_deputy_signs_under_kt_with_room_to_sign_and_a_name_line(tmp_path):
    """Decree 30's signer block when a deputy signs for the director: "KT. GIÁM ĐỐC" over "PHÓ
    GIÁM ĐỐC", room for the signature and seal, the line for the name; the whole report builds
    from the catalogue's words."""
    from docx import Document

    from publish.report import build_docx
    from publish.report.layout import NAME_LINE

    data = report_data(
        programme={**PROGRAMME, "report_signer_title": "KT. Giám đốc;Phó Giám đốc"},
        recommendations=[{"content": "Đề nghị hỗ trợ kinh phí", "units": ["UBND xã A"]}],
    )
    path = build_docx(data, tmp_path / "bao_cao.docx", {})
    left, right = (cell.text for cell in Document(path).tables[-1].rows[0].cells)
    assert right.split("\n") == ["KT. GIÁM ĐỐC", "PHÓ GIÁM ĐỐC", *[""] * 5, NAME_LINE]
    assert left.split("\n") == [
        "Nơi nhận:",
        "- UBND tỉnh (b/c);",
        "- Các sở, ban, ngành tỉnh;",
        "- Lưu: VT.",
    ]


def test_more_states_than_fit_are_set_smaller_never_dropped():
    from publish.report.tables import TYPE_NAME_MM, reporting_table

    more = dict(STATE_VI)
    for n in range(4):  # four more states a later step might add
        STATE_VI[f"moi_{n}"] = (f"Trạng thái mới số {n}", False)
    try:
        extra = [submission(f"N{n}", "so", f"moi_{n}") for n in range(4)]
        data = report_data(submissions=report_data().submissions + extra)
        table = reporting_table(data)
    finally:
        STATE_VI.clear()
        STATE_VI.update(more)
    assert len(table.headers) == 3 + 8 + 1
    assert abs(sum(table.widths_mm) - 165) < 0.01 and table.widths_mm[1] >= TYPE_NAME_MM
    assert table.size < 12
