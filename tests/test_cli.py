"""`tonghop template` and `tonghop check`, as a unit's official would use them."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

from openpyxl import load_workbook

from sheets import layout

UNIT, PERIOD = "CB-XA-001", "CB-2026-6T"


def tonghop(*args: str) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("tonghop")
    return subprocess.run([str(exe), *args], capture_output=True, text=True)


def fill_valid(path: Path) -> None:
    wb = load_workbook(path)
    info = wb[layout.TAB_INFO]
    for row in info.iter_rows(min_row=1):
        if row[0].value == "Người báo cáo":
            row[1].value = "Nông Thị Lan"
        if row[0].value == "Đã nộp":
            row[1].value = "Đã nộp"
    tasks = wb[layout.TAB_TASKS]
    for r in range(2, tasks.max_row + 1):
        tasks.cell(row=r, column=7).value = "Đang triển khai"
        tasks.cell(row=r, column=8).value = "Đã triển khai tới các thôn, bản."
    indicators = wb[layout.TAB_INDICATORS]
    value = layout.column_index(layout.INDICATOR_COLUMNS, "value") + 1
    for r in range(2, indicators.max_row + 1):
        indicators.cell(row=r, column=value).value = 4
    wb.save(path)


def test_template_writes_a_vietnamese_report_for_the_unit(tmp_path, catalogue):
    out = tmp_path / "mau.xlsx"
    result = tonghop("template", "--unit", UNIT, "--period", PERIOD, "-o", str(out))
    assert result.returncode == 0, result.stderr
    wb = load_workbook(out)
    assert wb.sheetnames == [
        layout.TAB_GUIDE,
        layout.TAB_INFO,
        layout.TAB_TASKS,
        layout.TAB_INDICATORS,
        layout.TAB_FEEDBACK,
    ]
    tasks = wb[layout.TAB_TASKS]
    assert [c.value for c in tasks[1]][:2] == ["STT", "Mã nhiệm vụ"]
    assigned = [t.task_code for t, _ in catalogue.tasks_for("CB-KH84", UNIT)]
    assert [tasks.cell(row=r, column=2).value for r in range(2, tasks.max_row + 1)] == assigned
    # label columns are protected, the status column has the drop-down
    assert tasks.protection.sheet is True
    assert tasks["B2"].protection.locked is True and tasks["G2"].protection.locked is False
    formulas = [dv.formula1 for dv in tasks.data_validations.dataValidation]
    # the unit's tasks are all ongoing ("Thường xuyên"): never "Hoàn thành"
    assert all(catalogue.tasks[code].is_ongoing for code in assigned)
    assert '"Chưa triển khai,Đang thực hiện thường xuyên"' in formulas
    assert not any("Hoàn thành" in f for f in formulas)


def test_check_accepts_a_well_filled_report(tmp_path):
    out = tmp_path / "bao_cao.xlsx"
    tonghop("template", "--unit", UNIT, "--period", PERIOD, "-o", str(out))
    fill_valid(out)
    result = tonghop("check", str(out))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Hợp lệ" in result.stdout
    # only its answer: no library's log lines on either stream
    assert result.stderr == ""
    assert result.stdout.startswith("Kiểm tra “bao_cao.xlsx”"), result.stdout
    assert " INFO " not in result.stdout and "great_expectations" not in result.stdout
    # the one sentence: it would count — late, since the period's deadline has passed today
    deadline = catalogue_period().deadline_vi
    late = dt.datetime.now(dt.UTC) > catalogue_period().on_time_until
    assert (
        f"Nếu gửi bản này bây giờ, báo cáo được tính: nộp hợp lệ, "
        f"{'trễ hạn' if late else 'đúng hạn'} (hạn nộp {deadline})." in result.stdout
    )


def catalogue_period():
    from tonghop.catalogue import load_catalogue

    return load_catalogue().period(PERIOD)


def test_check_says_a_valid_report_left_at_chua_nop_does_not_count(tmp_path):
    """The "Đã nộp" trap: valid, but "Chưa nộp" — exit 1 and where to choose "Đã nộp"."""
    out = tmp_path / "bao_cao.xlsx"
    tonghop("template", "--unit", UNIT, "--period", PERIOD, "-o", str(out))
    fill_valid(out)
    wb = load_workbook(out)
    wb[layout.TAB_INFO][layout.info_cell("submitted")] = "Chưa nộp"
    wb.save(out)
    result = tonghop("check", str(out))
    assert result.returncode == 1, result.stdout
    assert (
        "Nếu gửi bản này, báo cáo chưa được tính: đã điền nhưng chưa chọn “Đã nộp” tại ô "
        "Thông tin!B14;" in result.stdout
    )


def test_check_of_an_untouched_template_says_so_in_one_sentence(tmp_path):
    out = tmp_path / "bao_cao.xlsx"
    tonghop("template", "--unit", UNIT, "--period", PERIOD, "-o", str(out))
    result = tonghop("check", str(out))
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert len(lines) == 2, result.stdout  # the file's line and the sentence: no list of cells
    assert lines[1].startswith("Nếu gửi bản này, báo cáo chưa được tính: chưa điền báo cáo — ")


def test_check_names_the_cell_and_the_fix_and_fails_on_errors(tmp_path):
    out = tmp_path / "bao_cao.xlsx"
    tonghop("template", "--unit", UNIT, "--period", PERIOD, "-o", str(out))
    fill_valid(out)
    wb = load_workbook(out)
    wb[layout.TAB_TASKS]["G3"] = "Đang làm dở"
    wb[layout.TAB_INDICATORS]["E2"] = "nhiều"
    wb[layout.TAB_INDICATORS]["E3"] = "5 buổi"  # a guess: the word dropped
    wb[layout.TAB_INDICATORS]["E4"] = "1.200"  # Vietnamese thousands: read without a word
    wb.save(out)
    result = tonghop("check", str(out))
    assert result.returncode == 1
    out_text = result.stdout
    assert "Có lỗi: 2 lỗi, 1 cảnh báo" in out_text
    assert "[LỖI] trang “Nhiệm vụ”, ô G3: Tình trạng “Đang làm dở” không hợp lệ." in out_text
    assert "[LỖI] trang “Chỉ tiêu”, ô E2: Không đọc được số từ “nhiều”." in out_text
    assert "[CẢNH BÁO] trang “Chỉ tiêu”, ô E3: Đã hiểu “5 buổi” là 5" in out_text
    assert "ô E4" not in out_text
    assert "Cách sửa: Chọn Tình trạng trong danh sách thả xuống." in out_text


def test_a_report_claiming_another_unit_or_period_is_rejected_with_the_reason(tmp_path):
    out = tmp_path / "bao_cao.xlsx"
    tonghop("template", "--unit", UNIT, "--period", PERIOD, "-o", str(out))
    fill_valid(out)
    wrong_period = tonghop("check", str(out), "--period", "CB-2026-NAM")
    assert wrong_period.returncode == 1
    assert (
        "Bảng tính ghi kỳ báo cáo “CB-2026-6T”, nhưng bảng này dùng cho kỳ “CB-2026-NAM”."
        in wrong_period.stdout
    )
    wrong_unit = tonghop("check", str(out), "--unit", "CB-XA-002")
    assert wrong_unit.returncode == 1
    assert "trang “Thông tin”, ô B4: Bảng tính ghi mã đơn vị “CB-XA-001”" in wrong_unit.stdout
