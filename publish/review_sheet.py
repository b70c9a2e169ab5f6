"""The review sheets ("Duyệt báo cáo"): what each reviewer has to decide, written after each build.

For a period whose catalogue row says ``review_required``, each reviewer — the consolidating
body (the Sở, ``TOP``) and every parent unit that reviews its units first (a district for its
communes; ``marts.fct_submission.parent_reviewer_code``) — has one spreadsheet, made here the
first time (marked by its Drive appProperties, shared with the reviewer's address from the
catalogue: the programme's ``contact_email``, the parent unit's), then kept up to date: one row
per valid version that reached that reviewer (``marts.fct_report_review``), with its state
there and its key figures, and what the pipeline recorded of the reviewer's decision — or, for
a row it could not apply, why (the message ``ingest.review`` stored with the reading).

Rows are only added at the end (a new version is a new row), never moved or removed, and the
pipeline never writes the two columns the reviewer fills (``sheets.review_layout``): before each
write the sheet is read (one call) to find where each version's row is, and its decision cells
are left out of the update. What is written is hashed: a sheet whose rows did not change costs
that one read and nothing more; otherwise one batchUpdate. All calls go through the same
client, retries and quota as the units' sheets (``sheets.client``), as the service account
the sheet was made by.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import psycopg2
from gspread.exceptions import APIError
from gspread.urls import DRIVE_FILES_API_V3_URL
from requests.exceptions import RequestException

from publish.check_tab import text_lines
from publish.marts import local_time, query
from sheets import client as gsheets
from sheets import review_layout as rl
from sheets.writer import (
    HEADER_BACKGROUND,
    INPUT_BACKGROUND,
    PIXELS_PER_CHAR,
    PIXELS_PER_LINE,
    TITLE_FONT_SIZE,
    SheetsApi,
    cell_value,
    choice_rule,
    client_account_email,
    column_width_request,
    spreadsheet_settings_request,
)
from tonghop.catalogue import Catalogue
from tonghop.settings import Settings
from tonghop.vn import format_vi

log = logging.getLogger(__name__)

#: the state of a row at its reviewer's level, as the sheet says it (fct_report_review)
STATE_VI = {
    "cho_duyet": "Chờ duyệt",
    "da_chap_nhan": "Đã chấp nhận",
    "bi_tra_lai": "Đã trả lại",
    "co_ban_moi_hon": "Đã có bản mới hơn (duyệt bản mới)",
}
#: characters per line of the merged notes above the table (for their rows' height)
LINE_CHARS = 150


@dataclass
class ReviewWriteSummary(gsheets.CountsCalls):
    period_code: str
    sheets: int = 0
    created: int = 0
    written: int = 0
    rows: int = 0
    failed: dict[str, str] = field(default_factory=dict)
    api_calls: Counter = field(default_factory=Counter)


@dataclass(frozen=True)
class Reviewer:
    code: str  # rl.TOP or the parent unit's code
    name: str
    emails: tuple[str, ...]


def reviewers_of(catalogue: Catalogue, period_code: str, parents: list[str]) -> list[Reviewer]:
    """The consolidating body, then each parent unit that reviews some of the period's reports,
    with whom each sheet is shared (the catalogue's addresses)."""
    period = catalogue.period(period_code)
    programme = catalogue.programmes[period.programme_code]
    top_email = (programme.get("contact_email") or "").strip()
    out = [
        Reviewer(
            rl.TOP,
            programme.get("consolidating_body") or "Cơ quan tổng hợp",
            (top_email,) if top_email else (),
        )
    ]
    for code in sorted(set(parents)):
        unit = catalogue.unit(code)
        out.append(
            Reviewer(code, unit.unit_name, (unit.contact_email,) if unit.contact_email else ())
        )
    return out


# ------------------------------------------------------------------ what the sheet says
def _figures_text(figures: list[tuple[str, object, str]]) -> str:
    """'Số buổi tuyên truyền: 12 buổi; …' — a version's indicator values, in the catalogue's
    order."""
    return "; ".join(
        f"{name}: {format_vi(value) if value is not None else '(trống)'} {unit}".strip()
        for name, value, unit in figures
    )


def _note(row: dict, problem: str | None) -> str:
    """What the pipeline recorded of this row: the reviewer's decision, or why it could not be
    applied (the newest reading's message wins: the reviewer's latest input)."""
    if problem:
        return problem
    if row.get("decision_code"):
        when = local_time(row["decided_at"])
        label = rl.DECISION_LABELS[row["decision_code"]]
        text = f"Đã ghi nhận “{label}” lúc {when:%H:%M} ngày {when:%d/%m/%Y}"
        if row["decision_code"] == "tra_lai":
            text += "; đã báo lý do cho đơn vị"
        return text + "."
    if row["level_state"] == "co_ban_moi_hon":
        return "Đơn vị đã gửi bản mới hơn: quyết định ở dòng của bản mới."
    return ""


def header_lines(period, reviewer: Reviewer, top_name: str, as_of, counts: Counter) -> list[str]:
    """The lines above the table: title, who reviews and the deadline, how to review, the
    counts."""
    how = (
        "Cách duyệt: ở mỗi dòng, chọn “Chấp nhận” hoặc “Trả lại” ở cột “Quyết định”; khi trả lại, "
        "ghi lý do ở cột “Lý do trả lại” (đơn vị đọc lý do này trong bảng tính của mình và trong "
        "thư nhắc). Mỗi quyết định chỉ áp dụng cho đúng phiên bản ở dòng đó; đơn vị sửa báo "
        "cáo thì phiên bản mới có dòng mới ở cuối bảng. Hệ thống đọc bảng này mỗi sáng và ghi kết quả ở cột "
        "“Hệ thống ghi nhận”."
    )
    if reviewer.code != rl.TOP:
        how += f" Báo cáo được chấp nhận ở đây được chuyển lên {top_name} duyệt."
    else:
        how += " Chỉ báo cáo được chấp nhận mới được cộng vào số liệu tổng hợp."
    return [
        f"DUYỆT BÁO CÁO – {period.period_name.upper()}",
        f"Cấp duyệt: {reviewer.name}. Hạn nộp: {period.deadline_with_basis_vi}."
        + (f" Số liệu tính đến ngày {as_of:%d/%m/%Y}." if as_of else ""),
        how,
        f"Chờ duyệt: {counts['cho_duyet']} · Đã chấp nhận: {counts['da_chap_nhan']} · "
        f"Đã trả lại: {counts['bi_tra_lai']}",
        "",
    ]


def table_rows(
    current: list[list[str]], listed: list[dict], problems: dict[int, str], figures: dict
) -> list[list]:
    """The table's rows as the pipeline writes them, columns A to the note: every row already
    in the sheet stays where it is (a version's row keeps its place; a row the reviewer typed
    keeps its cells and gets its message), then one new row per version not listed yet."""
    _, existing = rl.table_rows(current)
    by_key = {(r["unit_code"], str(r["sheet_version_id"])): r for r in listed}
    out: list[list] = []
    seen: set[tuple[str, str]] = set()
    last = rl.HEADER_ROW
    rows_at: dict[int, list] = {}
    for row in existing:
        key = (row.unit_code or "", (row.version_id or "").replace(".", "").replace(",", ""))
        data = by_key.get(key)
        if data is not None and key not in seen:
            seen.add(key)
            rows_at[row.row_index] = _our_cells(data, problems.get(row.row_index + 1), figures)
        else:
            # a row the reviewer typed, or a version no longer at this level: its key cells
            # as they are, and what the pipeline has to say about it
            rows_at[row.row_index] = [None] * rl.NOTE + [
                problems.get(row.row_index + 1)
                or (
                    "Dòng này không còn ở cấp duyệt này." if data is None and row.version_id else ""
                )
            ]
        last = max(last, row.row_index)
    for data in listed:
        key = (data["unit_code"], str(data["sheet_version_id"]))
        if key in seen:
            continue
        seen.add(key)
        last += 1
        rows_at[last] = _our_cells(data, None, figures)
    for index in range(rl.HEADER_ROW + 1, last + 1):
        out.append(rows_at.get(index, [None] * rl.OURS))
    return out


def _our_cells(data: dict, problem: str | None, figures: dict) -> list:
    return [
        None,  # STT: numbered when written
        data["unit_code"],
        data["unit_name_at_period"],
        data["version_number"],
        str(data["sheet_version_id"]),
        f"{local_time(data['received_at']):%H:%M %d/%m/%Y}" if data["received_at"] else "",
        _figures_text(figures.get(data["sheet_version_id"], [])),
        STATE_VI.get(data["level_state"], data["level_state"]),
        _note(data, problem),
    ]


# ------------------------------------------------------------------ requests
def _grid(start_row: int, end_row: int | None, start_col: int, end_col: int) -> dict:
    out = {
        "sheetId": rl.SHEET_ID,
        "startRowIndex": start_row,
        "startColumnIndex": start_col,
        "endColumnIndex": end_col,
    }
    if end_row is not None:
        out["endRowIndex"] = end_row
    return out


def create_requests(service_account: str | None) -> list[dict]:
    """The tab made once: its grid, header row, column widths, the reviewer's two columns
    (a strict drop-down for the decision, text for the reason; open to the bottom of the
    sheet), every other cell protected so that only the pipeline writes it."""
    n_cols = len(rl.COLUMNS)
    requests: list[dict] = [
        spreadsheet_settings_request(),
        {
            "addSheet": {
                "properties": {
                    "sheetId": rl.SHEET_ID,
                    "title": rl.TAB_TITLE,
                    "index": 0,
                    "gridProperties": {
                        "rowCount": rl.HEADER_ROW + 50,
                        "columnCount": n_cols,
                        "frozenRowCount": rl.HEADER_ROW + 1,
                    },
                }
            }
        },
        {"deleteSheet": {"sheetId": 0}},  # the "Sheet1" a new spreadsheet comes with
        {
            "updateCells": {
                "start": {"sheetId": rl.SHEET_ID, "rowIndex": rl.HEADER_ROW, "columnIndex": 0},
                "rows": [{"values": [cell_value(label) for _, label, _ in rl.COLUMNS]}],
                "fields": "userEnteredValue",
            }
        },
        {
            "repeatCell": {
                "range": _grid(rl.HEADER_ROW, rl.HEADER_ROW + 1, 0, n_cols),
                "cell": {
                    "userEnteredFormat": {
                        "backgroundColor": HEADER_BACKGROUND,
                        "textFormat": {"bold": True},
                        "horizontalAlignment": "CENTER",
                        "verticalAlignment": "MIDDLE",
                        "wrapStrategy": "WRAP",
                    }
                },
                "fields": "userEnteredFormat(backgroundColor,textFormat.bold,"
                "horizontalAlignment,verticalAlignment,wrapStrategy)",
            }
        },
        {
            "repeatCell": {
                "range": _grid(0, 1, 0, 1),
                "cell": {
                    "userEnteredFormat": {"textFormat": {"bold": True, "fontSize": TITLE_FONT_SIZE}}
                },
                "fields": "userEnteredFormat(textFormat.bold,textFormat.fontSize)",
            }
        },
        {
            "repeatCell": {
                "range": _grid(rl.HEADER_ROW + 1, None, 0, n_cols),
                "cell": {"userEnteredFormat": {"wrapStrategy": "WRAP", "verticalAlignment": "TOP"}},
                "fields": "userEnteredFormat(wrapStrategy,verticalAlignment)",
            }
        },
        {
            "repeatCell": {
                "range": _grid(rl.HEADER_ROW + 1, None, rl.DECISION, rl.REASON + 1),
                "cell": {"userEnteredFormat": {"numberFormat": {"type": "TEXT", "pattern": "@"}}},
                "fields": "userEnteredFormat.numberFormat",
            }
        },
        {  # the version's number and id, centred: two numbers side by side read apart
            "repeatCell": {
                "range": _grid(rl.HEADER_ROW + 1, None, rl.VERSION_ID - 1, rl.VERSION_ID + 1),
                "cell": {"userEnteredFormat": {"horizontalAlignment": "CENTER"}},
                "fields": "userEnteredFormat.horizontalAlignment",
            }
        },
        {
            "setDataValidation": {
                "range": _grid(rl.HEADER_ROW + 1, None, rl.DECISION, rl.DECISION + 1),
                "rule": choice_rule(
                    list(rl.DECISIONS),
                    "Chọn “Chấp nhận” hoặc “Trả lại”; khi trả lại, ghi lý do ở cột bên phải.",
                ),
            }
        },
        {
            "addProtectedRange": {
                "protectedRange": {
                    "range": {"sheetId": rl.SHEET_ID},
                    "description": f"{rl.TAB_TITLE}: người duyệt chỉ ghi Quyết định và Lý do",
                    "warningOnly": False,
                    "unprotectedRanges": [
                        _grid(rl.HEADER_ROW + 1, None, rl.DECISION, rl.REASON + 1)
                    ],
                    **({"editors": {"users": [service_account]}} if service_account else {}),
                }
            }
        },
    ]
    for column, (_, _, width) in enumerate(rl.COLUMNS):
        requests.append(column_width_request(rl.SHEET_ID, column, int(width * PIXELS_PER_CHAR)))
    requests.append({"mergeCells": {"range": _grid(0, 1, 0, n_cols), "mergeType": "MERGE_ALL"}})
    for row in (1, 2, 3):
        requests.append(
            {"mergeCells": {"range": _grid(row, row + 1, 0, n_cols), "mergeType": "MERGE_ALL"}}
        )
    requests.append(
        {
            "repeatCell": {
                "range": _grid(1, 4, 0, n_cols),
                "cell": {"userEnteredFormat": {"wrapStrategy": "WRAP", "verticalAlignment": "TOP"}},
                "fields": "userEnteredFormat(wrapStrategy,verticalAlignment)",
            }
        }
    )
    return requests


def _height(lines: int) -> int:
    return PIXELS_PER_LINE * max(1, lines) + 4


def _row_height_request(index: int, lines: int) -> dict:
    return {
        "updateDimensionProperties": {
            "range": {
                "sheetId": rl.SHEET_ID,
                "dimension": "ROWS",
                "startIndex": index,
                "endIndex": index + 1,
            },
            "properties": {"pixelSize": _height(lines)},
            "fields": "pixelSize",
        }
    }


def cell_lines(value, width: int) -> int:
    """Lines a value takes wrapped in a column ``width`` characters wide (a little narrower:
    a cell's padding)."""
    return text_lines(str(value), max(1, int(width * 0.95))) if value not in (None, "") else 1


def update_requests(
    lines: list[str],
    rows: list[list],
    grid_rows: int,
    reviewer_cells: dict[int, list[str]] | None = None,
) -> list[dict]:
    """The lines above the table and the pipeline's columns of every row (never the
    reviewer's), the grid grown when the table needs it, every row as tall as its text (the
    reviewer's cells as last read included: ``reviewer_cells``, row index -> [decision,
    reason])."""
    widths = [width for _, _, width in rl.COLUMNS]
    requests: list[dict] = []
    needed = rl.HEADER_ROW + 1 + len(rows) + 10
    if needed > grid_rows:
        requests.append(
            {
                "appendDimension": {
                    "sheetId": rl.SHEET_ID,
                    "dimension": "ROWS",
                    "length": needed - grid_rows,
                }
            }
        )
    requests.append(
        {
            "updateCells": {
                "start": {"sheetId": rl.SHEET_ID, "rowIndex": 0, "columnIndex": 0},
                "rows": [{"values": [cell_value(line or None)]} for line in lines],
                "fields": "userEnteredValue",
            }
        }
    )
    for index, line in enumerate(lines):
        if index in (1, 2, 3) and line:
            requests.append(_row_height_request(index, text_lines(line, LINE_CHARS)))
    requests.append(
        _row_height_request(
            rl.HEADER_ROW,
            max(cell_lines(label, width) for (_, label, width) in rl.COLUMNS),
        )
    )
    if rows:  # the reviewer's cells of the table's rows, coloured as the units' input cells
        requests.append(
            {
                "repeatCell": {
                    "range": _grid(
                        rl.HEADER_ROW + 1, rl.HEADER_ROW + 1 + len(rows), rl.DECISION, rl.REASON + 1
                    ),
                    "cell": {"userEnteredFormat": {"backgroundColor": INPUT_BACKGROUND}},
                    "fields": "userEnteredFormat.backgroundColor",
                }
            }
        )
    for offset, row in enumerate(rows):
        index = rl.HEADER_ROW + 1 + offset
        theirs = (reviewer_cells or {}).get(index, [])
        cells = list(row[: rl.OURS]) + list(theirs)
        requests.append(
            _row_height_request(
                index, max(cell_lines(v, widths[c]) for c, v in enumerate(cells) if c < len(widths))
            )
        )
    if rows:
        numbered = []
        n = 0
        for row in rows:
            cells = list(row)
            if cells[rl.UNIT_CODE] is not None and cells[rl.VERSION_ID] is not None:
                n += 1
                cells[0] = n
            numbered.append(
                {
                    "values": [
                        cell_value(v) if v is not None or i == rl.NOTE else {}
                        for i, v in enumerate(cells)
                    ]
                }
            )
        # a cell given as {} with the field mask would be cleared: the key cells of a row the
        # reviewer typed are left out by writing each such row's note alone
        full = [r for r, row in zip(numbered, rows) if row[rl.UNIT_CODE] is not None]
        if len(full) == len(rows):
            requests.append(
                {
                    "updateCells": {
                        "start": {
                            "sheetId": rl.SHEET_ID,
                            "rowIndex": rl.HEADER_ROW + 1,
                            "columnIndex": 0,
                        },
                        "rows": numbered,
                        "fields": "userEnteredValue",
                    }
                }
            )
        else:
            for offset, (cells, row) in enumerate(zip(numbered, rows)):
                start = 0 if row[rl.UNIT_CODE] is not None else rl.NOTE
                requests.append(
                    {
                        "updateCells": {
                            "start": {
                                "sheetId": rl.SHEET_ID,
                                "rowIndex": rl.HEADER_ROW + 1 + offset,
                                "columnIndex": start,
                            },
                            "rows": [{"values": cells["values"][start : rl.OURS]}],
                            "fields": "userEnteredValue",
                        }
                    }
                )
    return requests


# ------------------------------------------------------------------ writing
def write_review_sheets(
    settings: Settings, catalogue: Catalogue, period_code: str, *, client=None
) -> ReviewWriteSummary:
    """Make (first time) and bring up to date every review sheet of the period; nothing for a
    period that requires no review."""
    summary = ReviewWriteSummary(period_code)
    bi = psycopg2.connect(settings.dsn("bi_reader"))
    try:
        with bi.cursor() as cur:
            cur.execute("select to_regclass('marts.fct_report_review') is not null")
            if not cur.fetchone()[0]:
                return summary
        [period_row] = query(
            bi,
            "select review_required from marts.dim_period where period_code = %s",
            (period_code,),
        ) or [{"review_required": False}]
        if not period_row["review_required"]:
            return summary
        listed = query(
            bi,
            """
            select * from marts.fct_report_review where period_code = %s
            order by reviewer_code, received_at, unit_code, sheet_version_id""",
            (period_code,),
        )
        parents = [
            r["parent_reviewer_code"]
            for r in query(
                bi,
                """select distinct parent_reviewer_code from marts.fct_submission
                   where period_code = %s and parent_reviewer_code is not null""",
                (period_code,),
            )
        ]
        [as_of] = query(
            bi,
            "select as_of_date from marts.agg_province_summary where period_code = %s",
            (period_code,),
        ) or [{"as_of_date": None}]
        figures: dict[int, list] = defaultdict(list)
        for r in query(
            bi,
            """
            select h.sheet_version_id, i.indicator_name, h.value_number, i.unit_of_measure
            from marts.fct_indicator_value_history h
            join marts.dim_indicator i using (indicator_code)
            where h.period_code = %s and not h.has_error
              and h.sheet_version_id = any(%s)
            order by h.sheet_version_id, h.indicator_code""",
            (period_code, [r["sheet_version_id"] for r in listed]),
        ):
            figures[r["sheet_version_id"]].append(
                (r["indicator_name"], r["value_number"], r["unit_of_measure"])
            )
    finally:
        bi.close()
    period = catalogue.period(period_code)
    reviewers = reviewers_of(catalogue, period_code, parents)
    top_name = reviewers[0].name
    conn = psycopg2.connect(settings.dsn("loader"))
    pool = gsheets.ClientPool(settings) if client is None else None
    try:
        for reviewer in reviewers:
            summary.sheets += 1
            rows = [r for r in listed if r["reviewer_code"] == reviewer.code]
            try:
                _write_one(
                    conn,
                    pool,
                    client,
                    summary,
                    period,
                    reviewer,
                    top_name,
                    rows,
                    figures,
                    as_of["as_of_date"],
                )
            except (APIError, RequestException) as exc:
                summary.failed[reviewer.code] = gsheets.describe_error(exc)
                log.warning(
                    "review sheet of %s for %s not written: %s",
                    period_code,
                    reviewer.code,
                    summary.failed[reviewer.code],
                )
    finally:
        conn.close()
    log.info(
        "review sheets of %s: %d, %d made, %d written (%d rows)",
        period_code,
        summary.sheets,
        summary.created,
        summary.written,
        summary.rows,
    )
    return summary


def read_tab(gclient, spreadsheet_id: str) -> tuple[list[list[str]], int]:
    """(the review tab's cells as shown, its grid's row count) in one spreadsheets.get."""
    meta = gclient.http_client.fetch_sheet_metadata(
        spreadsheet_id,
        params={
            "includeGridData": "true",
            "ranges": rl.TAB_TITLE,
            "fields": "sheets(properties(sheetId,gridProperties(rowCount)),"
            "data(startRow,rowData(values(formattedValue))))",
        },
    )
    sheet = next(
        (s for s in meta.get("sheets", []) if s["properties"]["sheetId"] == rl.SHEET_ID), None
    )
    if sheet is None:
        return [], 0
    rows: list[list[str]] = []
    for block in sheet.get("data", []):
        start = block.get("startRow", 0)
        for offset, row in enumerate(block.get("rowData", [])):
            while len(rows) < start + offset:
                rows.append([])
            rows.append([c.get("formattedValue", "") for c in row.get("values", [])])
    return rows, sheet["properties"]["gridProperties"]["rowCount"]


def _registered(conn, period_code: str, reviewer_code: str):
    with conn.cursor() as cur:
        cur.execute(
            """select spreadsheet_id, service_account, content_sha256 from ops.review_sheets
               where period_code = %s and reviewer_code = %s""",
            (period_code, reviewer_code),
        )
        return cur.fetchone()


def _problems(conn, spreadsheet_id: str) -> dict[int, str]:
    """Row number -> the message of the sheet's newest reading for each row it refused."""
    with conn.cursor() as cur:
        cur.execute(
            """
            select d.row_number, d.message_vi from parsed.review_decisions d
            where d.review_reading_id = (
                select max(review_reading_id) from raw.review_readings
                where spreadsheet_id = %s)
              and d.problem_code is not null""",
            (spreadsheet_id,),
        )
        return dict(cur.fetchall())


def _find(api: SheetsApi, period_code: str, reviewer_code: str) -> str | None:
    """A review sheet made before but not registered (its registration lost): by its marks."""
    query_ = (
        f"appProperties has {{ key='{rl.APP_PROPERTY}' and value='{period_code}' }} and "
        f"appProperties has {{ key='{rl.REVIEWER_PROPERTY}' and value='{reviewer_code}' }} "
        "and trashed=false"
    )
    api.calls["drive.files.list"] += 1
    body = api.http.request(
        "get",
        DRIVE_FILES_API_V3_URL,
        params={"q": query_, "fields": "files(id)", "pageSize": 10},
    ).json()
    files = body.get("files", [])
    return files[0]["id"] if files else None


def _write_one(conn, pool, client, summary, period, reviewer, top_name, rows, figures, as_of):
    registered = _registered(conn, period.period_code, reviewer.code)
    account = registered[1] if registered else None
    gclient = client if client is not None else pool(account)
    api = SheetsApi(gclient, client_account_email(gclient))
    try:
        if registered:
            spreadsheet_id, last_sha = registered[0], registered[2]
        else:
            spreadsheet_id, last_sha = _find(api, period.period_code, reviewer.code), None
            made = spreadsheet_id is None
            if made:
                spreadsheet_id = api.create(
                    rl.reviewer_title(period.period_name, reviewer.name),
                    {rl.APP_PROPERTY: period.period_code, rl.REVIEWER_PROPERTY: reviewer.code},
                )
                api.batch_update(spreadsheet_id, create_requests(api.service_account))
                summary.created += 1
            for email in reviewer.emails:
                api.share(spreadsheet_id, email)
            with conn.cursor() as cur:
                cur.execute(
                    """
                    insert into ops.review_sheets (period_code, reviewer_code, spreadsheet_id,
                        service_account, shared_with)
                    values (%s, %s, %s, %s, %s)
                    on conflict (period_code, reviewer_code) do nothing""",
                    (
                        period.period_code,
                        reviewer.code,
                        spreadsheet_id,
                        api.service_account,
                        list(reviewer.emails),
                    ),
                )
            conn.commit()
        api.calls["sheets.spreadsheets.get"] += 1
        current, grid_rows = read_tab(gclient, spreadsheet_id)
        table = table_rows(current, rows, _problems(conn, spreadsheet_id), figures)
        counts = Counter(r["level_state"] for r in rows if r["is_latest_valid"])
        lines = header_lines(period, reviewer, top_name, as_of, counts)
        sha = hashlib.sha256(
            json.dumps([lines, table], ensure_ascii=False, default=str).encode()
        ).hexdigest()
        summary.rows += len(table)
        if sha == last_sha:
            return
        theirs = {
            index: (row + [""] * len(rl.COLUMNS))[rl.DECISION : rl.REASON + 1]
            for index, row in enumerate(current)
            if index > rl.HEADER_ROW
        }
        api.batch_update(spreadsheet_id, update_requests(lines, table, grid_rows, theirs))
        summary.written += 1
        with conn.cursor() as cur:
            cur.execute(
                """update ops.review_sheets set content_sha256 = %s, written_at = now()
                   where period_code = %s and reviewer_code = %s""",
                (sha, period.period_code, reviewer.code),
            )
        conn.commit()
    finally:
        summary.api_calls.update(api.calls)
