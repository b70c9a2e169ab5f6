"""Issue 18, points 1 and 7: estimates ("ước thực hiện") and assumed due dates defined once in the
catalogue and said in the unit's sheet; a task's status read by its timing (an ongoing task is
never "Hoàn thành"). The marts' side is in test_warehouse_marts.py, test_adhoc.py and dbt's unit
tests (models/marts/*/_*__unit_tests.yml); the summary and report in test_publish.py."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt

import pytest

from sheets import layout
from tonghop.catalogue import CATALOGUE_DIR, Catalogue, estimate_start
from tonghop.vn import VN_TZ, nfc


def seed_rows() -> dict[str, dict[str, str]]:
    with (CATALOGUE_DIR / "periods.csv").open(encoding="utf-8", newline="") as fh:
        return {r["period_code"]: r for r in csv.DictReader(fh)}


def tab(catalogue: Catalogue, unit: str, period: str, title: str) -> layout.TabSpec:
    return next(t for t in layout.report_tabs(catalogue, unit, period) if t.title == title)


# ------------------------------------------------------------------ estimates, in the catalogue
def test_every_period_whose_window_ends_after_its_due_date_states_its_estimates():
    """The catalogue says it (estimated_from), and says it for every such period: the annual
    reports (due 30/11, figures to 14/12) from 1/12; the 6-month and ad hoc ones have none."""
    catalogue = Catalogue()
    for code, row in seed_rows().items():
        period = catalogue.period(code)
        last_on_time_day = period.on_time_until.date()
        if period.data_to > last_on_time_day:
            assert row["estimated_from"], f"{code}: the window ends after the due date"
            assert period.estimated_from == dt.date.fromisoformat(row["estimated_from"])
            assert period.data_from < period.estimated_from <= period.data_to
        else:
            assert not row["estimated_from"] and period.estimated_from is None, code
    annual = catalogue.period("CB-2026-NAM")
    assert (annual.estimated_from, annual.data_to) == (dt.date(2026, 12, 1), dt.date(2026, 12, 14))
    assert annual.estimate_note_vi == "Số liệu từ 01/12/2026 đến 14/12/2026 là số ước thực hiện"
    assert catalogue.period("CB-2026-6T").estimated_from is None


def test_without_a_catalogue_value_the_estimates_start_the_day_after_the_last_on_time_day():
    period = Catalogue().period("CB-2026-NAM")
    derived = dataclasses.replace(period, estimated_from=None)
    assert derived.estimated_from == dt.date(2026, 12, 1)
    # a deadline at 17:00 UTC on 30/11 is midnight on 1/12 in Vietnam: estimates from 2/12
    late = dt.datetime(2026, 11, 30, 17, 0, tzinfo=dt.UTC)
    assert estimate_start(dt.date(2026, 12, 14), late) == dt.date(2026, 12, 2)
    assert (
        estimate_start(dt.date(2026, 6, 14), dt.datetime(2026, 6, 20, 23, 59, 59, tzinfo=VN_TZ))
        is None
    )
    with pytest.raises(ValueError, match="outside the data window"):
        dataclasses.replace(period, estimated_from=dt.date(2026, 12, 15))


def test_the_due_date_basis_follows_what_each_plan_says():
    """Cao Bằng's plan gives the 6-month and annual dates (Mục V.1: "trước ngày 20/6", "trước
    ngày 30/11"); Tam Đường's plan gives none, so its due dates are assumed; the ad hoc report's
    is set by its request."""
    catalogue = Catalogue()
    basis = {code: (p.due_date_basis, p.due_date_source) for code, p in catalogue.periods.items()}
    assert basis["CB-2026-6T"][0] == basis["CB-2026-NAM"][0] == "ke_hoach"
    assert "trước ngày 20/6" in basis["CB-2026-6T"][1]
    assert "trước ngày 30/11" in basis["CB-2026-NAM"][1]
    assert basis["CB-2026-DX01"][0] == "yeu_cau"
    assert {b for code, (b, _) in basis.items() if code.startswith("TD-")} == {"gia_dinh"}
    assert all(
        p.is_due_date_assumed == code.startswith("TD-") for code, p in catalogue.periods.items()
    )


# ------------------------------------------------------------------ what the unit reads
def test_the_annual_sheet_says_which_figures_are_estimates():
    catalogue = Catalogue()
    period = catalogue.period("CB-2026-NAM")
    unit = "CB-XA-001"
    info = tab(catalogue, unit, period.period_code, layout.TAB_INFO)
    assert [
        "Thời gian chốt số liệu",
        "15/12/2025 – 14/12/2026 (số liệu từ 01/12/2026 đến 14/12/2026 là số ước thực hiện)",
    ] in info.rows
    guide = " ".join(layout.guide_lines(catalogue.programmes[period.programme_code], period))
    assert (
        "Số liệu từ 01/12/2026 đến 14/12/2026 là số ước thực hiện: hạn nộp trước ngày chốt "
        "số liệu, nên số liệu, kết quả của những ngày này ghi theo ước tính đến hết ngày "
        "14/12/2026 (ước thực hiện)."
    ) in guide
    assert guide == nfc(guide)
    # the 6-month sheet says nothing of estimates
    six = catalogue.period("CB-2026-6T")
    assert ["Thời gian chốt số liệu", "15/12/2025 – 14/6/2026"] in tab(
        catalogue, unit, six.period_code, layout.TAB_INFO
    ).rows
    assert "ước thực hiện" not in " ".join(
        layout.guide_lines(catalogue.programmes[six.programme_code], six)
    )


def test_an_assumed_due_date_is_marked_where_the_unit_reads_it():
    catalogue = Catalogue()
    td = catalogue.period("TD-2025-6T")
    info = tab(catalogue, "TD-UBND", td.period_code, layout.TAB_INFO)
    assert [
        "Hạn nộp",
        "Chậm nhất 23 giờ 59 phút ngày 20/06/2025 (ngày giả định: kế hoạch "
        "không quy định ngày báo cáo)",
    ] in info.rows
    guide = layout.guide_lines(catalogue.programmes[td.programme_code], td)
    assert any(
        "Hạn nộp: chậm nhất 23 giờ 59 phút ngày 20/06/2025 (giờ Việt Nam; ngày giả "
        "định: kế hoạch không quy định ngày báo cáo)." in line
        for line in guide
    )
    # the plan's own dates carry no such note
    cb = tab(catalogue, "CB-XA-001", "CB-2026-6T", layout.TAB_INFO)
    assert ["Hạn nộp", "Chậm nhất 23 giờ 59 phút ngày 20/06/2026"] in cb.rows


# ------------------------------------------------------------------ statuses by timing
def test_each_task_row_offers_the_statuses_that_fit_its_timing():
    """CB-SO-VHTTDL has ongoing tasks and CB.3.5 ("Hằng năm"): one drop-down per run of rows,
    "Hoàn thành" only where the task can end."""
    catalogue = Catalogue()
    unit = "CB-SO-VHTTDL"
    tasks = tab(catalogue, unit, "CB-2026-NAM", layout.TAB_TASKS)
    codes = [row[layout.column_index(layout.TASK_COLUMNS, "task_code")] for row in tasks.rows[1:]]
    status = layout.column_letter(layout.column_index(layout.TASK_COLUMNS, "status"))
    offered: dict[str, list[str]] = {}
    for ref, values in tasks.choices:
        first, last = (int(part[len(status) :]) for part in ref.split(":"))
        assert ref.startswith(status)
        for row in range(first, last + 1):
            offered[codes[row - 2]] = values
    assert set(offered) == set(codes) and "CB.3.5" in codes
    for code, values in offered.items():
        if code == "CB.3.5":
            assert values == ["Chưa triển khai", "Đang triển khai", "Hoàn thành"]
        else:
            assert catalogue.tasks[code].is_ongoing
            assert values == ["Chưa triển khai", "Đang thực hiện thường xuyên"]
    guide = " ".join(
        layout.guide_lines(catalogue.programmes["CB-KH84"], catalogue.period("CB-2026-NAM"))
    )
    assert "chọn “Đang thực hiện thường xuyên”" in guide


def test_a_yearly_task_reported_as_ongoing_is_warned_about(tmp_path):
    """The other direction of task.status_timing (the corpus has an ongoing task marked done):
    "Đang thực hiện thường xuyên" on CB.3.5, a yearly task, is a warning that names the cell and
    what to pick; the report stays valid."""
    from tests.validation_corpus import CORPUS_PERIOD, build_clean_workbook
    from tooling.check import check_workbook

    catalogue = Catalogue()
    unit = "CB-SO-VHTTDL"
    workbook = build_clean_workbook(unit, catalogue)
    ws = workbook[layout.TAB_TASKS]
    code_col = layout.column_index(layout.TASK_COLUMNS, "task_code") + 1
    status_col = layout.column_index(layout.TASK_COLUMNS, "status") + 1
    [row] = [
        r for r in range(2, ws.max_row + 1) if ws.cell(row=r, column=code_col).value == "CB.3.5"
    ]
    ws.cell(row=row, column=status_col).value = "Đang thực hiện thường xuyên"
    path = tmp_path / "bao_cao.xlsx"
    workbook.save(path)
    result = check_workbook(path)
    assert (result.unit_code, result.period_code) == (unit, CORPUS_PERIOD)
    cell = f"G{row}"
    [issue] = result.issues
    assert (issue.rule_code, issue.severity, issue.cell_ref) == (
        "task.status_timing",
        "warning",
        f"{layout.TAB_TASKS}!{cell}",
    )
    assert issue.message_vi == (
        f"Nhiệm vụ “CB.3.5” thực hiện hằng năm, không phải thường "
        f"xuyên, nhưng ô {cell} ghi “Đang thực hiện thường xuyên”."
    )
    assert (
        issue.fix_vi == f"Tại ô {cell}, chọn “Đang triển khai” hoặc “Hoàn thành” trong danh sách."
    )
