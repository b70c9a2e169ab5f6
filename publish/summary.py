"""The province-wide summary ("Tổng hợp") of one period, from the marts.

Reads the marts as ``bi_reader`` (the publisher needs nothing more), lays the summary out as
tables in Vietnamese, and writes them twice: an .xlsx file in the output folder (with a
manifest), and a summary spreadsheet through gspread (Google or the emulator). Anything a unit
typed is written as text, never as a formula.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg2
from gspread.urls import DRIVE_FILES_API_V3_URL
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill

from ingest.sheets import make_client
from tonghop.layout import column_letter
from tonghop.settings import Settings
from tonghop.template import set_value
from tonghop.vn import VN_TZ

log = logging.getLogger(__name__)

SUMMARY_APP_PROPERTY = "tonghop_summary"


@dataclass
class SummaryTable:
    title: str                      # tab title
    heading: str                    # first line of the tab
    headers: list[str]
    rows: list[list[Any]]
    widths: list[int] = field(default_factory=list)


@dataclass
class PublishResult:
    period_code: str
    xlsx_path: str
    manifest_path: str
    spreadsheet_id: str | None
    spreadsheet_url: str | None
    row_counts: dict[str, int]

    def as_dict(self) -> dict:
        return self.__dict__.copy()


def _query(conn, sql: str, params: tuple) -> list[dict]:
    with conn.cursor() as cur:
        cur.execute(sql, params)
        names = [d.name for d in cur.description]
        return [dict(zip(names, row)) for row in cur.fetchall()]


def _pct(value) -> str:
    return "" if value is None else f"{float(value) * 100:.1f}%".replace(".", ",")


def _date(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = value.astimezone(VN_TZ).date()
    return f"{value.day}/{value.month}/{value.year}"


def _num(value):
    if value is None:
        return None
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def build_summary(conn, period_code: str) -> list[SummaryTable]:
    """The summary tables of one period, read from the marts."""
    overview = _query(conn, """
        select s.*, p.period_name, p.period_kind_vi, p.data_from, p.data_to
        from marts.province_summary s join marts.dim_period p using (period_code)
        where s.period_code = %s""", (period_code,))
    if not overview:
        raise LookupError(f"marts.province_summary has no row for {period_code}; "
                          "run the dbt build first")
    o = overview[0]
    tables = [SummaryTable(
        title="Tổng quan", heading=f"TỔNG HỢP TÌNH HÌNH BÁO CÁO – {o['period_name']}",
        headers=["Nội dung", "Giá trị"], widths=[50, 20],
        rows=[
            ["Kỳ báo cáo", o["period_name"]],
            ["Thời gian chốt số liệu", f"{_date(o['data_from'])} – {_date(o['data_to'])}"],
            ["Hạn nộp", _date(o["due_date"])],
            ["Số đơn vị phải báo cáo", _num(o["expected_reports"])],
            ["Số báo cáo đã nộp (hợp lệ)", _num(o["actual_reports"])],
            ["Tỷ lệ nộp báo cáo", _pct(o["reporting_rate"])],
            ["Số báo cáo nộp đúng hạn", _num(o["on_time_reports"])],
            ["Tỷ lệ nộp đúng hạn", _pct(o["on_time_rate"])],
            ["Số báo cáo nộp trễ hạn", _num(o["late_reports"])],
            ["Số đơn vị chưa nộp", _num(o["missing_reports"])],
            ["Số đơn vị có lỗi cần sửa", _num(o["units_with_errors"])],
            ["Số lượt nhiệm vụ được báo cáo", _num(o["tasks_reported"])],
            ["Số lượt nhiệm vụ hoàn thành", _num(o["tasks_done"])],
        ])]

    submissions = _query(conn, """
        select u.unit_name, u.unit_type_name, s.reporting_status_vi, s.received_at, s.due_date,
               s.days_late, s.version_count, s.validation_status_vi
        from marts.fct_submission s join marts.dim_unit u using (unit_code)
        where s.period_code = %s
        order by case s.reporting_status when 'missing' then 0 when 'late' then 1 else 2 end,
                 u.unit_type_name, u.unit_name""", (period_code,))
    tables.append(SummaryTable(
        title="Tình hình nộp", heading="TÌNH HÌNH NỘP BÁO CÁO CỦA CÁC ĐƠN VỊ",
        headers=["STT", "Đơn vị", "Loại đơn vị", "Tình trạng", "Ngày nộp", "Số ngày quá hạn",
                 "Số phiên bản", "Kiểm tra dữ liệu"],
        widths=[6, 45, 28, 14, 12, 10, 10, 18],
        rows=[[n, r["unit_name"], r["unit_type_name"], r["reporting_status_vi"],
               _date(r["received_at"]), _num(r["days_late"]) or None, _num(r["version_count"]),
               r["validation_status_vi"]] for n, r in enumerate(submissions, start=1)]))

    indicators = _query(conn, """
        select i.indicator_code, i.indicator_name, i.unit_of_measure, t.total_value,
               t.reporting_units, t.expected_units, t.target_value, t.target_scope,
               t.units_meeting_target, t.achievement_vi
        from marts.indicator_totals t join marts.dim_indicator i using (indicator_code)
        where t.period_code = %s order by i.indicator_code""", (period_code,))
    tables.append(SummaryTable(
        title="Chỉ tiêu", heading="KẾT QUẢ CÁC CHỈ TIÊU TOÀN TỈNH",
        headers=["Mã", "Chỉ tiêu", "Đơn vị tính", "Tổng số", "Số đơn vị báo cáo",
                 "Số đơn vị được giao", "Chỉ tiêu kế hoạch", "Đánh giá"],
        widths=[10, 55, 14, 12, 12, 12, 12, 30],
        rows=[[r["indicator_code"], r["indicator_name"], r["unit_of_measure"],
               _num(r["total_value"]), _num(r["reporting_units"]), _num(r["expected_units"]),
               _num(r["target_value"]), r["achievement_vi"]] for r in indicators]))

    tasks = _query(conn, """
        select d.task_group_code, d.task_group_name, count(*) as reported,
               count(*) filter (where f.status_code = 'hoan_thanh') as done,
               count(*) filter (where f.status_code = 'dang_trien_khai') as ongoing,
               count(*) filter (where f.status_code = 'chua_trien_khai') as not_started
        from marts.fct_task_progress f join marts.dim_task d using (task_code)
        where f.period_code = %s
        group by d.task_group_code, d.task_group_name order by d.task_group_code""", (period_code,))
    tables.append(SummaryTable(
        title="Nhiệm vụ", heading="TIẾN ĐỘ THỰC HIỆN NHIỆM VỤ THEO NHÓM",
        headers=["Nhóm nhiệm vụ", "Số lượt báo cáo", "Hoàn thành", "Đang triển khai",
                 "Chưa triển khai"],
        widths=[70, 14, 12, 14, 14],
        rows=[[r["task_group_name"], r["reported"], r["done"], r["ongoing"], r["not_started"]]
              for r in tasks]))
    return tables


# ------------------------------------------------------------------ xlsx
def write_xlsx(tables: list[SummaryTable], path: Path) -> Path:
    workbook = Workbook()
    workbook.remove(workbook.active)
    for table in tables:
        ws = workbook.create_sheet(table.title)
        set_value(ws.cell(row=1, column=1), table.heading)
        ws.cell(row=1, column=1).font = Font(bold=True, size=13)
        for c, header in enumerate(table.headers, start=1):
            cell = ws.cell(row=3, column=c)
            set_value(cell, header)
            cell.font = Font(bold=True)
            cell.fill = PatternFill("solid", fgColor="DDEBF7")
            cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
        for r, row in enumerate(table.rows, start=4):
            for c, value in enumerate(row, start=1):
                cell = ws.cell(row=r, column=c)
                set_value(cell, value)
                cell.alignment = Alignment(wrap_text=True, vertical="top")
                if isinstance(value, float):
                    cell.number_format = "#,##0.0"
                elif isinstance(value, int):
                    cell.number_format = "#,##0"
        for c, width in enumerate(table.widths, start=1):
            ws.column_dimensions[ws.cell(row=3, column=c).column_letter].width = width
        ws.freeze_panes = "A4"
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)
    return path


# ------------------------------------------------------------------ Google Sheets
def _grid(table: SummaryTable) -> list[list[Any]]:
    blank = [""] * len(table.headers)
    body = [["" if v is None else v for v in row] for row in table.rows]
    return [[table.heading] + blank[1:], blank, table.headers, *body]


def find_summary_spreadsheet(client, period_code: str) -> str | None:
    query = (f"appProperties has {{ key='{SUMMARY_APP_PROPERTY}' and value='{period_code}' }}"
             " and trashed=false")
    body = client.http_client.request("get", DRIVE_FILES_API_V3_URL, params={
        "q": query, "fields": "files(id,name)", "pageSize": 10}).json()
    files = body.get("files", [])
    return files[0]["id"] if files else None


def write_spreadsheet(client, tables: list[SummaryTable], period_code: str, title: str) -> str:
    """Create (first time) or rewrite the period's summary spreadsheet; returns its id."""
    spreadsheet_id = find_summary_spreadsheet(client, period_code)
    if spreadsheet_id is None:
        spreadsheet = client.create(title)
        client.http_client.request("patch", f"{DRIVE_FILES_API_V3_URL}/{spreadsheet.id}",
                                   json={"appProperties": {SUMMARY_APP_PROPERTY: period_code}})
    else:
        spreadsheet = client.open_by_key(spreadsheet_id)
    existing = {ws.title: ws for ws in spreadsheet.worksheets()}
    keep = {t.title for t in tables}
    for index, table in enumerate(tables):
        grid = _grid(table)
        ws = existing.get(table.title)
        if ws is None:
            ws = spreadsheet.add_worksheet(table.title, rows=max(len(grid) + 10, 50),
                                           cols=max(len(table.headers), 8), index=index)
        else:
            ws.clear()
        # RAW: what units typed stays text ("=1+1" is not evaluated)
        ws.update(grid, "A1", value_input_option="RAW")
        ws.format(f"A3:{column_letter(len(table.headers) - 1)}3", {"textFormat": {"bold": True}})
        ws.freeze(rows=3)
    for title_, ws in existing.items():
        if title_ not in keep and len(spreadsheet.worksheets()) > 1:
            spreadsheet.del_worksheet(ws)
    return spreadsheet.id


# ------------------------------------------------------------------ the stage
def publish_period(settings: Settings, period_code: str, run_id: str, *, client=None
                   ) -> PublishResult:
    conn = psycopg2.connect(settings.dsn("bi_reader"))
    try:
        tables = build_summary(conn, period_code)
    finally:
        conn.close()
    folder = Path(settings.output_dir) / period_code / re.sub(r"[^0-9A-Za-z_-]+", "-", run_id)
    xlsx_path = write_xlsx(tables, folder / f"tong_hop_{period_code}.xlsx")
    period_name = tables[0].rows[0][1]
    client = client or make_client(settings)
    spreadsheet_id = write_spreadsheet(client, tables, period_code, f"Tổng hợp – {period_name}")
    url = f"https://docs.google.com/spreadsheets/d/{spreadsheet_id}"
    counts = {t.title: len(t.rows) for t in tables}
    manifest = {
        "period_code": period_code, "run_id": run_id,
        "files": {xlsx_path.name: hashlib.sha256(xlsx_path.read_bytes()).hexdigest()},
        "row_counts": counts, "summary_spreadsheet_id": spreadsheet_id,
        "inputs": {"marts": ["province_summary", "fct_submission", "indicator_totals",
                             "fct_task_progress", "dim_unit", "dim_indicator", "dim_task",
                             "dim_period"]},
    }
    manifest_path = folder / "manifest.json"
    manifest_path.write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    log.info("published %s: %s (spreadsheet %s)", period_code, xlsx_path, spreadsheet_id)
    return PublishResult(period_code, str(xlsx_path), str(manifest_path), spreadsheet_id, url,
                         counts)
