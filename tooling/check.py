"""`tonghop check FILE.xlsx`: the pipeline's checks on one filled workbook, offline.

For units that e-mail Excel files, and for anyone who wants to know before sending. Reads the
workbook as the Sheets API would return it, parses it with the pipeline's parser and runs the
same Great Expectations suites (in memory; nothing is stored).
"""

from __future__ import annotations

import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from openpyxl.utils.exceptions import InvalidFileException

from expectations.runner import Issue, ReportToCheck, validate
from ingest.parse import parse_report
from publish.check_tab import SEVERITY_VI, ordered, split_cell, status_line
from sheets import layout
from sheets.xlsx_guard import guard_xlsx
from tonghop.catalogue import load_catalogue
from tonghop.errors import UserError, one_line

#: what openpyxl and zipfile raise on a workbook that passed :func:`guard_xlsx` but whose
#: content is still not what a workbook holds (a part missing, an attribute of the wrong type)
_UNREADABLE = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    OSError,
    KeyError,
    ValueError,
    TypeError,
    IndexError,
    SyntaxError,
    InvalidFileException,
)


@dataclass
class CheckResult:
    unit_code: str | None
    period_code: str | None
    issues: list[Issue] = field(default_factory=list)
    #: what the unit wrote in its task and indicator rows; "Đã nộp" chosen
    has_content: bool = True
    is_submitted: bool = False

    @property
    def would_count(self) -> bool:
        """Received as it is, the report would count (publish.unit_state.version_state)."""
        from publish.unit_state import version_state

        return (
            version_state(
                has_content=self.has_content,
                is_submitted=self.is_submitted,
                is_blocked=self.blocked,
                error_count=self.errors,
            )
            == "hop_le"
        )

    @property
    def blocked(self) -> bool:
        return any(i.blocks_version for i in self.issues)

    def sentence(self, now=None) -> str | None:
        """Would the report count if this file were received now (publish.unit_state)."""
        import datetime as dt

        from publish.unit_state import offline_sentence

        catalogue = load_catalogue()
        if self.period_code not in catalogue.periods or self.blocked and not self.unit_code:
            return None
        return offline_sentence(
            catalogue.period(self.period_code),
            has_content=self.has_content,
            is_submitted=self.is_submitted,
            is_blocked=self.blocked,
            error_count=self.errors,
            now=now or dt.datetime.now(dt.UTC),
        )

    @property
    def errors(self) -> int:
        return sum(1 for i in self.issues if i.severity == "error")

    @property
    def warnings(self) -> int:
        return sum(1 for i in self.issues if i.severity == "warning")

    @property
    def status_line(self) -> str:
        return status_line(self.errors, self.warnings)


def _identity_issue(message: str, fix: str, cell: str | None) -> Issue:
    return Issue(
        sheet_version_id=None,
        unit_code="",
        period_code="",
        part="header",
        row_key=None,
        tab_title=None,
        cell_ref=cell,
        rule_code="identity.unknown",
        severity="error",
        blocks_version=True,
        value_found=None,
        message_vi=message,
        expected_vi=None,
        fix_vi=fix,
        expectation_type="catalogue lookup",
    )


def check_workbook(
    path: Path, unit_code: str | None = None, period_code: str | None = None
) -> CheckResult:
    from sheets.xlsx_resource import workbook_resource

    catalogue = load_catalogue()
    guard_xlsx(path)
    try:
        resource = workbook_resource(path, spreadsheet_id=path.stem, title=path.stem)
    except _UNREADABLE as exc:
        raise UserError(
            f"Không đọc được bảng tính “{path}”: tệp bị hỏng hoặc không đúng định dạng Excel "
            f"(.xlsx) ({type(exc).__name__}: {one_line(exc)}). Hãy mở tệp bằng Excel (hoặc "
            "LibreOffice), lưu lại dưới dạng Excel (.xlsx) rồi kiểm tra lại."
        ) from exc
    # a copy downloaded from Sheets carries our own "Kết quả kiểm tra" tab: not the unit's data
    resource["sheets"] = [
        s
        for s in resource.get("sheets", [])
        if not s["properties"]["title"].startswith(layout.TAB_CHECK)
    ]
    parsed = parse_report(resource, value_kind_of=catalogue.value_kind_of)
    header = parsed.header
    unit = unit_code or header["claimed_unit_code"]
    period = period_code or header["claimed_period_code"]
    if not unit:
        return CheckResult(
            unit,
            period,
            [
                _identity_issue(
                    "Không xác định được đơn vị: không tìm thấy Mã đơn vị trong bảng tính (trang "
                    "“Thông tin” bị xóa hoặc ô Mã đơn vị đang trống).",
                    "Dùng đúng mẫu báo cáo được cấp cho đơn vị, hoặc chạy lại với --unit MÃ_ĐƠN_VỊ.",
                    header.get("claimed_unit_code_cell"),
                )
            ],
        )
    if unit not in catalogue.units:
        return CheckResult(
            unit,
            period,
            [
                _identity_issue(
                    f"Không xác định được đơn vị: mã “{unit}” không có trong danh mục.",
                    "Dùng đúng mẫu báo cáo được cấp cho đơn vị; không sửa ô Mã đơn vị.",
                    header.get("claimed_unit_code_cell"),
                )
            ],
        )
    if period not in catalogue.periods:
        found = (
            f"mã “{period}” không có trong danh mục"
            if period
            else "không tìm thấy Mã kỳ báo cáo trong bảng tính"
        )
        return CheckResult(
            unit,
            period,
            [
                _identity_issue(
                    f"Không xác định được kỳ báo cáo: {found}.",
                    "Dùng đúng mẫu báo cáo của kỳ này; không sửa ô Mã kỳ báo cáo.",
                    header.get("claimed_period_code_cell"),
                )
            ],
        )
    outcome = validate([ReportToCheck(None, unit, period, parsed)], catalogue, store_results=False)
    return CheckResult(
        unit,
        period,
        outcome.issues,
        has_content=parsed.has_content,
        is_submitted=bool(header.get("submitted")),
    )


def format_issue(issue: Issue) -> str:
    tab, cell = split_cell(issue.cell_ref)
    where = (
        f"trang “{tab or issue.tab_title}”, ô {cell}"
        if cell and (tab or issue.tab_title)
        else cell or (f"trang “{issue.tab_title}”" if issue.tab_title else "bảng tính")
    )
    lines = [f"[{SEVERITY_VI[issue.severity].upper()}] {where}: {issue.message_vi}"]
    if issue.value_found:
        lines.append(f"    Giá trị hiện có: {issue.value_found}")
    if issue.expected_vi:
        lines.append(f"    Yêu cầu: {issue.expected_vi}")
    if issue.fix_vi:
        lines.append(f"    Cách sửa: {issue.fix_vi}")
    return "\n".join(lines)


def print_problems(result: CheckResult, filename: str) -> None:
    print(
        f"Kiểm tra “{filename}” — đơn vị {result.unit_code or '?'}, "
        f"kỳ {result.period_code or '?'}: {result.status_line}"
    )
    sentence = result.sentence()
    if sentence:
        print(sentence)
    if not result.has_content:
        return  # a sheet nobody filled: the sentence says it, not a list of every empty cell
    for issue in ordered(result.issues):
        print(format_issue(issue))


def write_checked_copy(source: Path, result: CheckResult, output: Path) -> Path:
    """A copy of the workbook with the "Kết quả kiểm tra" tab first — the same tab the pipeline
    writes into the unit's spreadsheet."""
    import datetime as dt

    from openpyxl import load_workbook

    from publish.check_tab import check_tab
    from sheets.template import render_tab, save_workbook

    catalogue = load_catalogue()
    workbook = load_workbook(source)
    for title in [t for t in workbook.sheetnames if t.startswith(layout.TAB_CHECK)]:
        del workbook[title]
    unit = catalogue.units.get(result.unit_code or "")
    period = catalogue.periods.get(result.period_code or "")
    render_tab(
        workbook,
        check_tab(
            unit_name=unit.unit_name if unit else (result.unit_code or "?"),
            period_name=period.period_name if period else (result.period_code or "?"),
            state_sentence=result.sentence() or "",
            issues=result.issues,
            checked_at=dt.datetime.now(dt.UTC),
            version_time=None,
            list_problems=result.has_content,
        ),
        index=0,
    )
    save_workbook(workbook, output)
    return output
