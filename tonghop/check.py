"""`tonghop check FILE.xlsx`: the pipeline's checks on one filled workbook, offline.

For units that e-mail Excel files, and for anyone who wants to know before sending. Reads the
workbook as the Sheets API would return it, parses it with the pipeline's parser and runs the
same Great Expectations suites (in memory; nothing is stored).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from expectations.runner import Issue, ReportToCheck, validate
from ingest.parse import parse_report
from tonghop.catalogue import load_catalogue

SEVERITY_VI = {"error": "LỖI", "warning": "CẢNH BÁO"}


@dataclass
class CheckResult:
    unit_code: str | None
    period_code: str | None
    issues: list[Issue] = field(default_factory=list)

    @property
    def errors(self) -> int:
        return sum(1 for i in self.issues if i.severity == "error")

    @property
    def warnings(self) -> int:
        return sum(1 for i in self.issues if i.severity == "warning")

    @property
    def status_line(self) -> str:
        if self.errors:
            return f"Có lỗi: {self.errors} lỗi, {self.warnings} cảnh báo"
        if self.warnings:
            return f"Hợp lệ ({self.warnings} cảnh báo)"
        return "Hợp lệ"


def _identity_issue(message: str, fix: str, cell: str | None) -> Issue:
    return Issue(sheet_version_id=None, unit_code="", period_code="", part="header",
                 row_key=None, tab_title=None, cell_ref=cell, rule_code="identity.unknown",
                 severity="error", blocks_version=True, value_found=None, message_vi=message,
                 expected_vi=None, fix_vi=fix, expectation_type="catalogue lookup")


def check_workbook(path: Path, unit_code: str | None = None,
                   period_code: str | None = None) -> CheckResult:
    from sheets_emulator import workbook_to_spreadsheet_resource

    catalogue = load_catalogue()
    resource = workbook_to_spreadsheet_resource(path, spreadsheet_id=path.stem, title=path.stem)
    parsed = parse_report(resource, value_kind_of=catalogue.value_kind_of)
    header = parsed.header
    unit = unit_code or header["claimed_unit_code"]
    period = period_code or header["claimed_period_code"]
    if unit not in catalogue.units:
        return CheckResult(unit, period, [_identity_issue(
            f"Không xác định được đơn vị: mã “{unit or ''}” không có trong danh mục.",
            "Dùng đúng mẫu báo cáo được cấp cho đơn vị; không sửa ô Mã đơn vị.",
            header.get("claimed_unit_code_cell"))])
    if period not in catalogue.periods:
        return CheckResult(unit, period, [_identity_issue(
            f"Không xác định được kỳ báo cáo: mã “{period or ''}” không có trong danh mục.",
            "Dùng đúng mẫu báo cáo của kỳ này; không sửa ô Mã kỳ báo cáo.",
            header.get("claimed_period_code_cell"))])
    outcome = validate([ReportToCheck(None, unit, period, parsed)], catalogue,
                       store_results=False)
    return CheckResult(unit, period, outcome.issues)


def format_issue(issue: Issue) -> str:
    where = issue.cell_ref or issue.tab_title or "bảng tính"
    lines = [f"[{SEVERITY_VI[issue.severity]}] {where}: {issue.message_vi}"]
    if issue.value_found:
        lines.append(f"    Giá trị hiện có: {issue.value_found}")
    if issue.expected_vi:
        lines.append(f"    Yêu cầu: {issue.expected_vi}")
    if issue.fix_vi:
        lines.append(f"    Cách sửa: {issue.fix_vi}")
    return "\n".join(lines)


def print_problems(result: CheckResult, filename: str) -> None:
    print(f"Kiểm tra “{filename}” — đơn vị {result.unit_code or '?'}, "
          f"kỳ {result.period_code or '?'}: {result.status_line}")
    order = {"error": 0, "warning": 1}
    for issue in sorted(result.issues, key=lambda i: (order[i.severity], i.cell_ref or "")):
        print(format_issue(issue))
