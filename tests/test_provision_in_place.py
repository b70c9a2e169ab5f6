"""A catalogue change reaches the sheets already provisioned, in place, and never a cell a unit
typed: provision, the unit types its report through the API (as itself), the catalogue — a copy
in a temporary folder — renames a task and moves the due date, provisioning runs again; the
protected cells say the new thing, every typed value is still there, and the pull reads the
report as typed. Real emulator, real PostgreSQL, the real gspread client.

The periods are the copy's own (the registry is shared by the session), so nothing here meets
another test's sheets."""

from __future__ import annotations

import csv
import shutil

import pytest

from sheets import layout
from tests.conftest import query
from tonghop.catalogue import CATALOGUE_DIR, Catalogue

PER_UNIT = "TD-2025-6TX"
PER_PERIOD = "TD-2024-NAMX"
LEGACY = "TD-2025-6TY"
UNIT = "TD-UBND"
RENAMED_TASK = "TD.II.5"
NEW_TEXT = "Chỉ đạo hằng năm tổ chức từ 6 hội diễn, hội thi, liên hoan cấp huyện trở lên."
SHARING_CHECK = {"drive.files.list": 1}
GRID_FIELDS = "properties(title),sheets(properties(sheetId,title),data(rowData(values(userEnteredValue,dataValidation))))"


def _rewrite(path, change) -> None:
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        fields, rows = reader.fieldnames, list(reader)
    rows = change(rows)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def _add_periods(rows):
    """Two periods of the copy's own, made from Tam Đường's (whose units exist until mid-2025):
    one per_unit, one per_period."""
    [six] = [r for r in rows if r["period_code"] == "TD-2025-6T"]
    [year] = [r for r in rows if r["period_code"] == "TD-2024-NAM"]
    return rows + [
        {
            **six,
            "period_code": PER_UNIT,
            "period_name": "Báo cáo 6 tháng đầu năm 2025 (bản thử)",
            "sheet_layout": "per_unit",
        },
        {
            **year,
            "period_code": PER_PERIOD,
            "period_name": "Báo cáo năm 2024 (bản thử)",
            "sheet_layout": "per_period",
        },
        {
            **six,
            "period_code": LEGACY,
            "period_name": "Báo cáo 6 tháng đầu năm 2025 (bản cũ)",
            "sheet_layout": "per_unit",
        },
    ]


def _move_due_dates(rows):
    for row in rows:
        if row["period_code"] == PER_UNIT:
            row["due_date"], row["on_time_until"] = "2025-06-25", "2025-06-25 23:59:59+07:00"
        if row["period_code"] == PER_PERIOD:
            row["due_date"], row["on_time_until"] = "2024-11-29", "2024-11-29 23:59:59+07:00"
    return rows


def _rename_task(rows):
    for row in rows:
        if row["task_code"] == RENAMED_TASK:
            row["task_text"] = NEW_TEXT
    return rows


@pytest.fixture
def seeds(tmp_path_factory):
    """A copy of the catalogue of the test's own, with the periods above."""
    folder = tmp_path_factory.mktemp("catalogue") / "catalogue"
    shutil.copytree(CATALOGUE_DIR, folder)
    _rewrite(folder / "periods.csv", _add_periods)
    return folder


@pytest.fixture(scope="module")
def sheets(tmp_path_factory):
    from sheets_emulator import EmulatorServer, emulator_client

    server = EmulatorServer(tmp_path_factory.mktemp("in-place-emulator"), host="127.0.0.1", port=0)
    server.start()
    yield server, emulator_client(server.url)
    server.stop()


def _grid(client, spreadsheet_id: str) -> dict[tuple[str, str], dict]:
    """(tab, A1) → userEnteredValue of every cell holding one; ('title', '') → the file's title."""
    meta = client.http_client.fetch_sheet_metadata(
        spreadsheet_id, params={"fields": GRID_FIELDS, "includeGridData": "true"}
    )
    cells = {("title", ""): meta["properties"]["title"]}
    for sheet in meta["sheets"]:
        title = sheet["properties"]["title"]
        for block in sheet.get("data", []):
            for r, row in enumerate(block.get("rowData", [])):
                for c, cell in enumerate(row.get("values", [])):
                    if cell.get("userEnteredValue") is not None:
                        cells[(title, layout.a1(r, c))] = cell["userEnteredValue"]
    return cells


def _validations(client, spreadsheet_id: str, tab: str) -> dict[str, dict]:
    meta = client.http_client.fetch_sheet_metadata(
        spreadsheet_id, params={"fields": GRID_FIELDS, "includeGridData": "true"}
    )
    [sheet] = [s for s in meta["sheets"] if s["properties"]["title"] == tab]
    return {
        layout.a1(r, c): cell["dataValidation"]
        for block in sheet.get("data", [])
        for r, row in enumerate(block.get("rowData", []))
        for c, cell in enumerate(row.get("values", []))
        if cell.get("dataValidation")
    }


def _find(cells: dict, tab: str, column: str, text: str) -> int:
    """The 1-based row of ``tab`` whose ``column`` holds ``text``."""
    [row] = [
        int(ref[len(column) :])
        for (t, ref), value in cells.items()
        if t == tab
        and ref.startswith(column)
        and ref[len(column) :].isdigit()
        and value.get("stringValue") == text
    ]
    return row


def _type_report(server, catalogue, spreadsheet_id: str, tab_prefix: str = "") -> dict[str, str]:
    """The unit's official types a report (as itself, values read as if typed); returns
    {A1 with tab: what was typed}."""
    from sheets_emulator import emulator_client

    unit = catalogue.unit(UNIT)
    as_unit = emulator_client(server.url, user=unit.contact_email)
    book = as_unit.open_by_key(spreadsheet_id)
    cells = _grid(as_unit, spreadsheet_id)
    typed: dict[str, str] = {}

    def tab(name: str) -> str:
        return tab_prefix or name

    def put(tab_title: str, ref: str, text: str) -> None:
        typed[f"{tab_title}!{ref}"] = text

    info = tab(layout.TAB_INFO)
    labels = {label: key for key, label, _ in layout.INFO_FIELDS}
    for label, text in (
        ("Người báo cáo", "Nguyễn Thị Hoa"),
        ("Số điện thoại", "0213 3876 123"),
        ("Thư điện tử", "hoa.ubnd@tamduong.example.gov.vn"),
        ("Đã nộp", "Đã nộp"),
    ):
        assert label in labels
        put(info, f"B{_find(cells, info, 'A', label)}", text)
    tasks_tab = tab(layout.TAB_TASKS)
    col = {
        k: layout.column_letter(layout.column_index(layout.TASK_COLUMNS, k))
        for k in ("task_code", "status", "result", "completed_on", "evidence", "note")
    }
    for n, (task, _) in enumerate(catalogue.tasks_for("TD-KH305", UNIT)):
        r = _find(cells, tasks_tab, col["task_code"], task.task_code)
        put(tasks_tab, f"{col['status']}{r}", "Đang thực hiện thường xuyên")
        put(
            tasks_tab,
            f"{col['result']}{r}",
            f"Đã triển khai nhiệm vụ {task.task_no}: {n + 3} hoạt động.",
        )
        put(tasks_tab, f"{col['evidence']}{r}", f"Báo cáo số {10 + n}/BC-UBND")
        if n == 0:
            put(tasks_tab, f"{col['note']}{r}", "Ghi chú của đơn vị")
    ind_tab = tab(layout.TAB_INDICATORS)
    code = layout.column_letter(layout.column_index(layout.INDICATOR_COLUMNS, "indicator_code"))
    value = layout.column_letter(layout.column_index(layout.INDICATOR_COLUMNS, "value"))
    for n, ind in enumerate(catalogue.indicators_for("TD-KH305", UNIT)):
        r = _find(cells, ind_tab, code, ind.indicator_code)
        put(ind_tab, f"{value}{r}", str(7 * n + 6))
    fb_tab = tab(layout.TAB_FEEDBACK)
    header = _find(cells, fb_tab, "C", "Nội dung")
    put(fb_tab, f"B{header + 1}", "Khó khăn")
    put(fb_tab, f"C{header + 1}", "Thiếu kinh phí tổ chức hội diễn cấp huyện.")
    put(fb_tab, f"B{header + layout.FEEDBACK_ROWS}", "Kiến nghị")  # the last line offered
    put(fb_tab, f"C{header + layout.FEEDBACK_ROWS}", "Đề nghị tỉnh hỗ trợ tập huấn.")
    by_tab: dict[str, list[dict]] = {}
    for ref, text in typed.items():
        title, a1 = ref.rsplit("!", 1)
        by_tab.setdefault(title, []).append({"range": a1, "values": [[text]]})
    for title, data in by_tab.items():
        book.worksheet(title).batch_update(data, value_input_option="USER_ENTERED")
    return typed


def _expected_units(catalogue, period_code):
    return [u.unit_code for u in catalogue.expected_units(period_code)]


def test_per_unit_sheets_take_the_new_catalogue_and_keep_what_the_unit_typed(
    settings, seeds, sheets
):
    from ingest.parse import parse_report
    from ingest.provision import provision_period
    from ingest.pull import pull_period

    server, client = sheets
    before_catalogue = Catalogue(seeds)
    first = provision_period(settings, before_catalogue, PER_UNIT, client=client)
    units = _expected_units(before_catalogue, PER_UNIT)
    assert first.created == units and UNIT in units
    spreadsheet_id = first.spreadsheet_ids[UNIT]
    typed = _type_report(server, before_catalogue, spreadsheet_id)
    before = {sid: _grid(client, sid) for sid in first.spreadsheet_ids.values()}
    for ref, text in typed.items():  # the unit's values are in (as Sheets read them)
        tab, a1 = ref.rsplit("!", 1)
        [held] = before[spreadsheet_id][(tab, a1)].values()
        assert str(held).removesuffix(".0") == text, ref

    _rewrite(seeds / "tasks.csv", _rename_task)
    _rewrite(seeds / "periods.csv", _move_due_dates)
    after_catalogue = Catalogue(seeds)
    server.reset_stats()
    second = provision_period(settings, after_catalogue, PER_UNIT, client=client)
    n = len(units)
    assert second.created == [] and second.updated == units and second.update_failed == {}
    assert second.api_calls == {
        "sheets.spreadsheets.get": n,
        "sheets.spreadsheets.batchUpdate": n,
        **SHARING_CHECK,
    }
    assert server.stats()["calls"] == second.api_calls

    for unit_code, sid in second.spreadsheet_ids.items():
        old, new = before[sid], _grid(client, sid)
        changed = {key for key in old.keys() | new.keys() if old.get(key) != new.get(key)}
        info_due = (layout.TAB_INFO, f"B{_find(old, layout.TAB_INFO, 'A', 'Hạn nộp')}")
        guide_period_line = (layout.TAB_GUIDE, "A3")
        expected = {info_due, guide_period_line}
        if unit_code == UNIT:
            row = _find(old, layout.TAB_TASKS, "B", RENAMED_TASK)
            expected.add((layout.TAB_TASKS, f"D{row}"))
            assert new[(layout.TAB_TASKS, f"D{row}")] == {"stringValue": NEW_TEXT}
        assert changed == expected, unit_code
        assert new[info_due]["stringValue"].startswith("Chậm nhất 23 giờ 59 phút ngày 25/06/2025")
        assert "ngày 25/06/2025" in new[guide_period_line]["stringValue"]
        assert "ngày 20/06/2025" in old[guide_period_line]["stringValue"]
    # every value the unit typed is still there, as typed
    after = _grid(client, spreadsheet_id)
    for ref in typed:
        tab, a1 = ref.rsplit("!", 1)
        assert after[(tab, a1)] == before[spreadsheet_id][(tab, a1)], ref

    server.reset_stats()
    third = provision_period(settings, after_catalogue, PER_UNIT, client=client)
    assert third.updated == [] and third.api_calls == SHARING_CHECK

    pulled = pull_period(settings, after_catalogue, PER_UNIT, client=client, mode="full")
    assert pulled.failed == 0 and pulled.fetched == n
    [(payload,)] = query(
        settings.dsn("loader"),
        """
        select v.payload from raw.sheet_versions v
        join ops.sheet_registry r using (spreadsheet_id)
        where r.period_code = %s and r.unit_code = %s
        order by v.sheet_version_id desc limit 1""",
        (PER_UNIT, UNIT),
    )
    report = parse_report(payload, value_kind_of=after_catalogue.value_kind_of)
    assert report.header["claimed_unit_code"] == UNIT and report.header["submitted"] is True
    assert report.header["reporter_name"] == "Nguyễn Thị Hoa"
    tasks = after_catalogue.tasks_for("TD-KH305", UNIT)
    assert [t["task_code"] for t in report.tasks] == [t.task_code for t, _ in tasks]
    assert {t["status_code"] for t in report.tasks} == {"dang_thuc_hien_thuong_xuyen"}
    assert [t["result"] for t in report.tasks] == [
        f"Đã triển khai nhiệm vụ {t.task_no}: {n + 3} hoạt động." for n, (t, _) in enumerate(tasks)
    ]
    indicators = after_catalogue.indicators_for("TD-KH305", UNIT)
    assert [(i["indicator_code"], i["value"]) for i in report.indicators] == [
        (ind.indicator_code, 7 * n + 6) for n, ind in enumerate(indicators)
    ]
    assert [(f["kind"], f["content"]) for f in report.feedback] == [
        ("kho_khan", "Thiếu kinh phí tổ chức hội diễn cấp huyện."),
        ("kien_nghi", "Đề nghị tỉnh hỗ trợ tập huấn."),
    ]


def test_a_period_spreadsheet_takes_the_new_catalogue_in_every_unit_tab(settings, seeds, sheets):
    """The per_period layout: one file, a tab per unit; one read and one write for the file."""
    from ingest.parse import parse_report
    from ingest.provision import provision_period
    from sheets.client import read_spreadsheet

    server, client = sheets
    before_catalogue = Catalogue(seeds)
    first = provision_period(settings, before_catalogue, PER_PERIOD, client=client)
    units = _expected_units(before_catalogue, PER_PERIOD)
    assert first.created == units and first.layout == "per_period"
    (spreadsheet_id,) = set(first.spreadsheet_ids.values())
    unit_tab = first.tab_titles[UNIT]
    typed = _type_report(server, before_catalogue, spreadsheet_id, tab_prefix=unit_tab)
    before = _grid(client, spreadsheet_id)

    _rewrite(seeds / "tasks.csv", _rename_task)
    _rewrite(seeds / "periods.csv", _move_due_dates)
    after_catalogue = Catalogue(seeds)
    server.reset_stats()
    second = provision_period(settings, after_catalogue, PER_PERIOD, client=client)
    assert second.updated == units and second.update_notes == {}
    assert second.api_calls == {
        "sheets.spreadsheets.get": 1,
        "sheets.spreadsheets.batchUpdate": 1,
        **SHARING_CHECK,
    }
    after = _grid(client, spreadsheet_id)
    changed = {key for key in before.keys() | after.keys() if before.get(key) != after.get(key)}
    expected = {(layout.TAB_GUIDE, "A3")}
    for title in first.tab_titles.values():
        expected.add((title, f"B{_find(before, title, 'A', 'Hạn nộp')}"))
    expected.add((unit_tab, f"D{_find(before, unit_tab, 'B', RENAMED_TASK)}"))
    assert changed == expected
    assert "ngày 29/11/2024" in after[(layout.TAB_GUIDE, "A3")]["stringValue"]
    for ref in typed:
        tab, a1 = ref.rsplit("!", 1)
        assert after[(tab, a1)] == before[(tab, a1)], ref
    report = parse_report(
        read_spreadsheet(client, spreadsheet_id),
        tab_title=unit_tab,
        value_kind_of=after_catalogue.value_kind_of,
    )
    assert report.header["submitted"] is True and report.header["reporter_name"] == "Nguyễn Thị Hoa"
    assert len(report.tasks) == len(after_catalogue.tasks_for("TD-KH305", UNIT))
    assert [f["kind"] for f in report.feedback] == ["kho_khan", "kien_nghi"]


def _legacy_tabs(catalogue, period_code):
    """The unit's tabs as an older layout made them: the target column before the value, 8
    lines of difficulties, lenient drop-downs and no number or date rule."""
    tabs = layout.report_tabs(catalogue, UNIT, period_code)
    indicators = next(t for t in tabs if t.title == layout.TAB_INDICATORS)
    target = len(indicators.rows[0]) - 1  # the target column is last in the current layout
    indicators.rows = [row[:4] + [row[target]] + row[4:target] for row in indicators.rows]
    last = len(indicators.rows)
    indicators.input_ranges = [f"F2:F{last}", f"G2:G{last}"]
    feedback = next(t for t in tabs if t.title == layout.TAB_FEEDBACK)
    feedback.rows = feedback.rows[:9]
    feedback.input_ranges = ["B2:B9", "C2:C9"]
    feedback.choices = [("B2:B9", list(layout.FEEDBACK_KINDS))]
    for tab in tabs:
        tab.rules, tab.choice_hints = [], {}
    return tabs


def test_a_sheet_of_an_older_layout_is_updated_where_its_cells_are(settings, seeds, sheets):
    """A sheet provisioned before this layout (no hash recorded, the target column before the
    value): provisioning finds its cells by their labels and codes, sets the rules there, and
    writes nothing into the unit's cells; the other units' sheets are created as usual."""
    import psycopg2

    from ingest.provision import provision_period
    from ingest.registry import RegistryEntry, register
    from sheets.writer import SheetsApi, tab_requests

    server, client = sheets
    catalogue = Catalogue(seeds)
    api = SheetsApi(client, None)
    spreadsheet_id = api.create("Báo cáo cũ", layout.app_properties(UNIT, LEGACY))
    requests = []
    for index, tab in enumerate(_legacy_tabs(catalogue, LEGACY)):
        requests += tab_requests(tab, index, first=index == 0)
    api.batch_update(spreadsheet_id, requests)
    old_value, old_target = "F2", "E2"
    client.open_by_key(spreadsheet_id).worksheet(layout.TAB_INDICATORS).update(
        [["15"]], old_value, value_input_option="USER_ENTERED"
    )
    conn = psycopg2.connect(settings.dsn("loader"))
    try:
        register(conn, [RegistryEntry(spreadsheet_id, "TD-KH305", LEGACY, UNIT)])
    finally:
        conn.close()
    before = _grid(client, spreadsheet_id)
    assert before[(layout.TAB_INDICATORS, old_target)] == {"stringValue": "≥ 5/năm"}

    summary = provision_period(settings, catalogue, LEGACY, client=client)
    assert summary.updated == [UNIT] and UNIT not in summary.created
    assert summary.update_notes == {}
    after = _grid(client, spreadsheet_id)
    changed = {key for key in before.keys() | after.keys() if before.get(key) != after.get(key)}
    assert changed == {("title", "")}  # the file's name, from the catalogue; no cell
    # the unit's 15 is still there as it was typed (this legacy sheet is drawn with today's
    # writer, whose input cells are plain text: a string)
    assert after[(layout.TAB_INDICATORS, old_value)] == before[(layout.TAB_INDICATORS, old_value)]
    assert after[(layout.TAB_INDICATORS, old_value)] == {"stringValue": "15"}
    rules = _validations(client, spreadsheet_id, layout.TAB_INDICATORS)
    n = len(catalogue.indicators_for("TD-KH305", UNIT))
    assert sorted(rules) == [f"F{r}" for r in range(2, n + 2)]  # on the value column found
    assert rules["F2"]["condition"] == {
        "type": "NUMBER_GREATER_THAN_EQ",
        "values": [{"userEnteredValue": "0"}],
    }
    assert rules["F2"]["strict"] and "ghi 0" in rules["F2"]["inputMessage"]
    kinds = _validations(client, spreadsheet_id, layout.TAB_FEEDBACK)
    assert sorted(kinds) == [f"B{r}" for r in range(2, 10)]  # its 8 lines, now strict
    assert all(
        k["strict"] and k["inputMessage"] == layout.FEEDBACK_KIND_HINT for k in kinds.values()
    )
    again = provision_period(settings, catalogue, LEGACY, client=client)
    assert again.updated == [] and again.created == []
