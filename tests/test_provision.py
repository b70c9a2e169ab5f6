"""Provisioning a period's report sheets through gspread: real emulator, real PostgreSQL.

Each layout uses a period no other test touches (the registry is shared by the session). The
tests talk to an emulator of their own so the spreadsheets made here never show up in the Drive
listings other tests make.
"""

from __future__ import annotations

import json

import pytest

from tests.conftest import query

PER_UNIT_PERIOD = "TD-2025-6T"
PER_PERIOD_PERIOD = "TD-2024-NAM"
META_FIELDS = (
    "sheets(properties,protectedRanges,data(rowData(values(userEnteredValue,dataValidation))))"
)
SERVICE_ACCOUNT = "tonghop-emulator@tonghop-local.iam.gserviceaccount.com"
CALLS_PER_UNIT_SPREADSHEET = {
    "drive.files.create": 1,
    "sheets.spreadsheets.batchUpdate": 1,
    "drive.permissions.create": 1,
}
#: every run lists the period's spreadsheets once to check whom they are shared with
SHARING_CHECK = {"drive.files.list": 1}


@pytest.fixture(scope="module")
def sheets(tmp_path_factory):
    """(emulator server, gspread client) private to this module."""
    from sheets_emulator import EmulatorServer, emulator_client

    server = EmulatorServer(tmp_path_factory.mktemp("provision-emulator"), host="127.0.0.1", port=0)
    server.start()
    yield server, emulator_client(server.url)
    server.stop()


@pytest.fixture(scope="module")
def per_unit(settings, catalogue, sheets):
    """The per_unit period provisioned once; (summary, emulator stats of that run)."""
    from ingest.provision import provision_period

    server, client = sheets
    server.reset_stats()
    summary = provision_period(settings, catalogue, PER_UNIT_PERIOD, client=client)
    return summary, server.stats()


@pytest.fixture(scope="module")
def per_period(settings, catalogue, sheets):
    from ingest.provision import provision_period

    server, client = sheets
    server.reset_stats()
    summary = provision_period(
        settings,
        catalogue,
        PER_PERIOD_PERIOD,
        layout="per_period",
        client=client,
        service_account_email=SERVICE_ACCOUNT,
    )
    return summary, server.stats()


def _meta(client, spreadsheet_id: str) -> dict:
    return client.http_client.fetch_sheet_metadata(
        spreadsheet_id, params={"fields": META_FIELDS, "includeGridData": "true"}
    )


def _drive_file(client, spreadsheet_id: str) -> dict:
    from gspread.urls import DRIVE_FILES_API_V3_URL

    return client.http_client.request(
        "get",
        f"{DRIVE_FILES_API_V3_URL}/{spreadsheet_id}",
        params={"fields": "id,name,appProperties,permissions(type,role,emailAddress)"},
    ).json()


def _expected(catalogue, period_code: str, unit_code: str) -> tuple[list[str], list[str]]:
    programme = catalogue.period(period_code).programme_code
    return (
        [t.task_code for t, _ in catalogue.tasks_for(programme, unit_code)],
        [i.indicator_code for i in catalogue.indicators_for(programme, unit_code)],
    )


# ------------------------------------------------------------------------------ per_unit
def test_per_unit_creates_and_registers_one_spreadsheet_per_unit(per_unit, settings, catalogue):
    summary, _ = per_unit
    units = [u.unit_code for u in catalogue.expected_units(PER_UNIT_PERIOD)]
    assert len(units) == 20
    assert summary.created == units and summary.existing == []
    assert len(set(summary.spreadsheet_ids.values())) == len(units)
    rows = query(
        settings.dsn("loader"),
        """
        select unit_code, spreadsheet_id, layout, tab_title, programme_code
        from ops.sheet_registry where period_code = %s order by unit_code""",
        (PER_UNIT_PERIOD,),
    )
    assert [(u, s) for u, s, *_ in rows] == sorted(summary.spreadsheet_ids.items())
    assert {(layout, tab, prog) for *_, layout, tab, prog in rows} == {
        ("per_unit", "", catalogue.period(PER_UNIT_PERIOD).programme_code)
    }
    as_dict = summary.as_dict()
    assert as_dict["layout"] == "per_unit" and as_dict["created"] == units


def test_per_unit_call_count_is_small_and_fixed(per_unit):
    summary, stats = per_unit
    n = len(summary.created)
    expected = {**{k: v * n for k, v in CALLS_PER_UNIT_SPREADSHEET.items()}, **SHARING_CHECK}
    assert summary.api_calls == expected
    assert stats["calls"] == expected  # what the emulator saw: nothing else
    assert summary.as_dict()["api_calls_total"] == 3 * n + 1
    assert summary.wide_shares == []  # shared with the unit only


def test_per_unit_drive_metadata_and_sharing(per_unit, sheets, catalogue):
    summary, _ = per_unit
    _, client = sheets
    for unit_code, spreadsheet_id in summary.spreadsheet_ids.items():
        unit = catalogue.unit(unit_code)
        drive = _drive_file(client, spreadsheet_id)
        assert drive["name"] == (
            f"{catalogue.period(PER_UNIT_PERIOD).period_name} – {unit.unit_name}"
        )
        assert drive["appProperties"] == {
            "tonghop_unit": unit_code,
            "tonghop_period": PER_UNIT_PERIOD,
            "tonghop_locale": "vi_VN",  # made with our settings (test_..._settings_...)
        }
        writers = [p for p in drive["permissions"] if p["role"] == "writer"]
        assert writers == [{"type": "user", "role": "writer", "emailAddress": unit.contact_email}]


def test_per_unit_tabs_dropdowns_and_protection(per_unit, sheets, catalogue):
    from sheets import layout
    from sheets.layout import report_tabs

    summary, _ = per_unit
    _, client = sheets
    unit_code = "TD-UBND"
    meta = _meta(client, summary.spreadsheet_ids[unit_code])
    tabs = report_tabs(catalogue, unit_code, PER_UNIT_PERIOD)
    by_title = {s["properties"]["title"]: s for s in meta["sheets"]}
    assert [s["properties"]["title"] for s in meta["sheets"]] == [t.title for t in tabs]
    for tab in tabs:
        sheet = by_title[tab.title]
        grid = sheet["properties"]["gridProperties"]
        assert grid["rowCount"] == len(tab.rows)
        assert grid.get("frozenRowCount", 0) == tab.frozen_rows
        # one protection per tab: the whole sheet but the input ranges, service account only
        (protected,) = sheet["protectedRanges"]
        assert protected["range"] == {"sheetId": sheet["properties"]["sheetId"]}
        assert not protected.get("warningOnly")
        unprotected = protected.get("unprotectedRanges", [])
        assert len(unprotected) == len(tab.input_ranges)
    # the status drop-down: strict list of the statuses that fit each task row's timing (an
    # ongoing task never offers "Hoàn thành"), nowhere else
    rows = by_title[layout.TAB_TASKS]["data"][0]["rowData"]
    status_col = [k for k, *_ in layout.TASK_COLUMNS].index("status")
    code_col = [k for k, *_ in layout.TASK_COLUMNS].index("task_code")
    rules = [row["values"][status_col].get("dataValidation") for row in rows]
    assert rules[0] is None
    for row, rule in zip(rows[1:], rules[1:]):
        task = catalogue.tasks[row["values"][code_col]["userEnteredValue"]["stringValue"]]
        assert rule["condition"]["type"] == "ONE_OF_LIST"
        assert (
            [v["userEnteredValue"] for v in rule["condition"]["values"]]
            == layout.task_status_choices(task)
            == ["Chưa triển khai", "Đang thực hiện thường xuyên"]
        )
        assert rule["strict"] and rule["showCustomUi"]
    info_rows = by_title[layout.TAB_INFO]["data"][0]["rowData"]
    submitted = [
        r
        for r in info_rows
        if r.get("values")
        and r["values"][0].get("userEnteredValue", {}).get("stringValue") == "Đã nộp"
    ]
    (row,) = submitted
    assert [
        v["userEnteredValue"] for v in row["values"][1]["dataValidation"]["condition"]["values"]
    ] == layout.SUBMITTED_CHOICES
    feedback_rows = by_title[layout.TAB_FEEDBACK]["data"][0]["rowData"]
    assert feedback_rows[1]["values"][1]["dataValidation"]["condition"]["type"] == "ONE_OF_LIST"


def test_per_unit_every_spreadsheet_parses_to_its_unit(per_unit, sheets, catalogue):
    from ingest.parse import parse_report
    from sheets.client import read_spreadsheet

    summary, _ = per_unit
    _, client = sheets
    for unit_code, spreadsheet_id in summary.spreadsheet_ids.items():
        report = parse_report(read_spreadsheet(client, spreadsheet_id))
        tasks, indicators = _expected(catalogue, PER_UNIT_PERIOD, unit_code)
        assert report.header["claimed_unit_code"] == unit_code
        assert report.header["claimed_period_code"] == PER_UNIT_PERIOD
        assert report.header["has_task_table"] and report.header["has_indicator_table"]
        assert [t["task_code"] for t in report.tasks] == tasks
        assert [i["indicator_code"] for i in report.indicators] == indicators
        assert report.feedback == []
        assert report.header["submitted"] is False


def test_per_unit_second_run_changes_nothing_and_only_checks_sharing(
    per_unit, settings, catalogue, sheets
):
    from ingest.provision import provision_period

    first, _ = per_unit
    server, client = sheets
    files_before = len(server.store.list_files())
    server.reset_stats()
    again = provision_period(settings, catalogue, PER_UNIT_PERIOD, client=client)
    assert again.created == [] and again.existing == first.created
    assert again.spreadsheet_ids == first.spreadsheet_ids
    assert again.api_calls == SHARING_CHECK
    assert server.stats()["total"] == 1
    assert len(server.store.list_files()) == files_before


def test_per_unit_a_sheet_shared_too_widely_is_found_and_taken_back(
    per_unit, settings, catalogue, sheets, alert_webhook, monkeypatch
):
    """A unit makes its sheet "anyone with the link can edit" and shares it with an account
    of its own choosing: the next provisioning run notes both (one listing call), alerts, and
    with TONGHOP_REVOKE_WIDE_SHARES=1 takes both back — the unit's own share stays."""
    from ingest.provision import provision_period
    from sheets_emulator import emulator_client

    first, _ = per_unit
    server, client = sheets
    unit_code, spreadsheet_id = sorted(first.spreadsheet_ids.items())[0]
    unit_email = catalogue.unit(unit_code).contact_email
    unit = emulator_client(server.url, user=unit_email)
    unit.insert_permission(spreadsheet_id, None, perm_type="anyone", role="writer", with_link=True)
    unit.insert_permission(
        spreadsheet_id, "ban.cua.canbo@gmail.com", perm_type="user", role="writer", notify=False
    )
    server.reset_stats()
    noted = provision_period(settings, catalogue, PER_UNIT_PERIOD, client=client)
    assert noted.api_calls == SHARING_CHECK
    assert sorted((s["type"], s["role"], s["action"]) for s in noted.wide_shares) == [
        ("anyone", "writer", "noted"),
        ("user", "writer", "noted"),
    ]
    [alert] = alert_webhook
    assert sorted(alert["shares"]) == sorted(
        [
            f"{unit_code}: ai có đường liên kết cũng sửa được",
            f"{unit_code}: tài khoản ngoài danh sách ban.cua.canbo@gmail.com được sửa",
        ]
    )
    [(source, wide)] = query(
        settings.dsn("admin"),
        """
        select source, wide_shares from ops.sharing_checks
        where spreadsheet_id = %s order by check_id desc limit 1""",
        (spreadsheet_id,),
    )
    assert (source, wide) == ("provision", 2)

    monkeypatch.setenv("TONGHOP_REVOKE_WIDE_SHARES", "1")
    server.reset_stats()
    taken = provision_period(settings, catalogue, PER_UNIT_PERIOD, client=client)
    assert taken.api_calls == {**SHARING_CHECK, "drive.permissions.delete": 2}
    assert {s["action"] for s in taken.wide_shares} == {"revoked"}
    assert len(alert_webhook) == 2 and all(
        "đã thu hồi" in line for line in alert_webhook[-1]["shares"]
    )
    left = [
        (p["type"], p["role"], p.get("emailAddress"))
        for p in client.list_permissions(spreadsheet_id)
    ]
    assert sorted(left) == sorted(
        [("user", "owner", SERVICE_ACCOUNT), ("user", "writer", unit_email)]
    )
    monkeypatch.delenv("TONGHOP_REVOKE_WIDE_SHARES")
    clean = provision_period(settings, catalogue, PER_UNIT_PERIOD, client=client)
    assert clean.wide_shares == [] and len(alert_webhook) == 2


def test_a_sheet_provisioned_without_our_settings_gets_them_and_keeps_its_values(
    per_unit, settings, catalogue, sheets
):
    """A spreadsheet provisioned before provisioning set locale and time zone (the service
    account's en_US, no tonghop_locale mark), which a unit has typed into: the next run gives
    it vi_VN and Asia/Ho_Chi_Minh and marks it — two calls, once — and changes no value."""
    from gspread.urls import DRIVE_FILES_API_V3_URL

    from ingest.provision import provision_period
    from sheets_emulator import emulator_client

    first, _ = per_unit
    server, client = sheets
    unit_code, spreadsheet_id = sorted(first.spreadsheet_ids.items())[-1]
    client.http_client.batch_update(
        spreadsheet_id,
        {
            "requests": [
                {
                    "updateSpreadsheetProperties": {
                        "properties": {"locale": "en_US", "timeZone": "America/Los_Angeles"},
                        "fields": "locale,timeZone",
                    }
                }
            ]
        },
    )
    client.http_client.request(
        "patch",
        f"{DRIVE_FILES_API_V3_URL}/{spreadsheet_id}",
        json={"appProperties": {"tonghop_locale": None}},
    )
    unit = emulator_client(server.url, user=catalogue.unit(unit_code).contact_email)
    unit.http_client.values_update(
        spreadsheet_id,
        "'Thông tin'!B10",
        params={"valueInputOption": "USER_ENTERED"},
        body={"values": [["Nguyễn Văn A"]]},
    )
    before = _settings_and_values(client, spreadsheet_id)
    assert before[0] == {"locale": "en_US", "timeZone": "America/Los_Angeles"}

    server.reset_stats()
    fixed = provision_period(settings, catalogue, PER_UNIT_PERIOD, client=client)
    calls = {
        **SHARING_CHECK,
        "sheets.spreadsheets.batchUpdate": 1,
        "drive.files.update": 1,
    }
    assert fixed.created == [] and fixed.settled == [spreadsheet_id]
    assert fixed.api_calls == calls and server.stats()["calls"] == calls
    after = _settings_and_values(client, spreadsheet_id)
    assert after[0] == {"locale": "vi_VN", "timeZone": "Asia/Ho_Chi_Minh"}
    assert after[1] == before[1]  # every value and format as it was
    assert _drive_file(client, spreadsheet_id)["appProperties"]["tonghop_locale"] == "vi_VN"

    server.reset_stats()
    again = provision_period(settings, catalogue, PER_UNIT_PERIOD, client=client)
    assert again.settled == [] and again.api_calls == SHARING_CHECK


def _settings_and_values(client, spreadsheet_id: str) -> tuple[dict, list]:
    meta = client.http_client.fetch_sheet_metadata(
        spreadsheet_id,
        params={
            "fields": "properties(locale,timeZone),"
            "sheets(properties.title,data.rowData.values(userEnteredValue,userEnteredFormat))",
            "includeGridData": "true",
        },
    )
    return meta["properties"], meta["sheets"]


# ------------------------------------------------------------------------------ settings
def _properties(client, spreadsheet_id: str) -> dict:
    return client.http_client.fetch_sheet_metadata(
        spreadsheet_id, params={"fields": "properties(locale,timeZone)"}
    )["properties"]


def test_every_provisioned_spreadsheet_reads_the_vietnamese_way(per_unit, per_period, sheets):
    """Locale vi_VN and time zone Asia/Ho_Chi_Minh on every spreadsheet made, set in the
    batchUpdate that renders it — a spreadsheet created through the API has its creator's
    (en_US here, as the service account's), under which Sheets reads "1.200" as 1.2."""
    _, client = sheets
    made = set(per_unit[0].spreadsheet_ids.values()) | set(per_period[0].spreadsheet_ids.values())
    assert len(made) == len(per_unit[0].spreadsheet_ids) + 1
    for spreadsheet_id in made:
        assert _properties(client, spreadsheet_id) == {
            "locale": "vi_VN",
            "timeZone": "Asia/Ho_Chi_Minh",
        }, spreadsheet_id
    plain = client.create("Không qua cấp phát")
    assert _properties(client, plain.id) == {"locale": "en_US", "timeZone": "America/Los_Angeles"}
    client.del_spreadsheet(plain.id)


def _number_formats(client, spreadsheet_id: str) -> dict[str, list[list]]:
    meta = client.http_client.fetch_sheet_metadata(
        spreadsheet_id,
        params={
            "fields": "sheets(properties.title,data.rowData.values("
            "userEnteredValue,userEnteredFormat.numberFormat))",
            "includeGridData": "true",
        },
    )
    return {
        s["properties"]["title"]: [
            [
                (
                    (v.get("userEnteredValue") or {}).get("stringValue"),
                    (v.get("userEnteredFormat") or {}).get("numberFormat"),
                )
                for v in row.get("values", [])
            ]
            for row in s["data"][0].get("rowData", [])
        ]
        for s in meta["sheets"]
    }


def _column_formats(rows: list[list], columns, marker: str) -> dict[str, set]:
    """Under the header (the row holding ``marker``) of each table of ``columns`` in ``rows``:
    column key → the number formats of the cells below it, to the table's end (a blank row)."""
    labels = {label: key for key, label, *_ in columns}
    found: dict[str, set] = {}
    for r, row in enumerate(rows):
        texts = [t for t, _ in row]
        if marker not in texts:
            continue
        header = {c: labels[t] for c, t in enumerate(texts) if t in labels}
        for below in rows[r + 1 :]:
            if not any(t or f for t, f in below):
                break
            for c, key in header.items():
                fmt = below[c][1] if c < len(below) else None
                found.setdefault(key, set()).add(json.dumps(fmt, sort_keys=True))
    return found


def test_input_cells_keep_what_is_typed_and_dates_read_day_first(per_unit, per_period, sheets):
    """Every cell a unit fills is plain text (Sheets interprets nothing; tonghop.vn reads it),
    except the completion date, DATE d/m/yyyy, and the figures, automatic (read by the
    spreadsheet's locale, judged by the strict number rule). Label and prefilled cells keep no
    format."""
    from sheets import layout

    _, client = sheets
    text = json.dumps({"pattern": "@", "type": "TEXT"}, sort_keys=True)
    date = json.dumps({"pattern": "d/m/yyyy", "type": "DATE"}, sort_keys=True)
    none = json.dumps(None)
    per_unit_id = per_unit[0].spreadsheet_ids["TD-UBND"]
    (per_period_id,) = set(per_period[0].spreadsheet_ids.values())
    for spreadsheet_id in (per_unit_id, per_period_id):
        tabs = _number_formats(client, spreadsheet_id)
        tasks, indicators, info = {}, {}, {}
        inputs = {label: is_input for _, label, is_input in layout.INFO_FIELDS}
        for title, rows in tabs.items():
            if title == layout.TAB_GUIDE:
                assert all(fmt is None for row in rows for _, fmt in row), title
                continue
            for found, columns, marker in (
                (tasks, layout.TASK_COLUMNS, layout.TABLE_MARKERS["tasks"]),
                (indicators, layout.INDICATOR_COLUMNS, layout.TABLE_MARKERS["indicators"]),
            ):
                for key, formats in _column_formats(rows, columns, marker).items():
                    found.setdefault(key, set()).update(formats)
            for row in rows:
                if row and row[0][0] in inputs and len(row) > 1:
                    info[row[0][0]] = (inputs[row[0][0]], row[1][1])
        assert info and all(
            (fmt == json.loads(text)) == is_input for is_input, fmt in info.values()
        )
        assert tasks["completed_on"] == {date}, spreadsheet_id
        for key in ("status", "result", "evidence", "note"):
            assert tasks[key] == {text}, (spreadsheet_id, key)
        for key in ("task_code", "task_text", "timing"):
            assert tasks[key] == {none}, (spreadsheet_id, key)
        assert indicators["value"] == {none} and indicators["note"] == {text}
        assert indicators["indicator_code"] == {none} and indicators["target"] == {none}


# ------------------------------------------------------------------------------ per_period
def test_per_period_one_spreadsheet_one_tab_per_unit(per_period, settings, catalogue, sheets):
    from sheets import layout

    summary, stats = per_period
    _, client = sheets
    units = catalogue.expected_units(PER_PERIOD_PERIOD)
    assert summary.created == [u.unit_code for u in units]
    (spreadsheet_id,) = set(summary.spreadsheet_ids.values())
    n = len(units)
    expected_calls = {
        "drive.files.create": 1,
        "sheets.spreadsheets.batchUpdate": 1,
        "drive.permissions.create": n,
        **SHARING_CHECK,
    }
    assert summary.api_calls == expected_calls and stats["calls"] == expected_calls

    drive = _drive_file(client, spreadsheet_id)
    assert drive["name"].startswith(catalogue.period(PER_PERIOD_PERIOD).period_name)
    assert drive["appProperties"]["tonghop_period"] == PER_PERIOD_PERIOD
    assert sorted(
        p["emailAddress"] for p in drive["permissions"] if p["role"] == "writer"
    ) == sorted(u.contact_email for u in units)

    meta = _meta(client, spreadsheet_id)
    titles = [s["properties"]["title"] for s in meta["sheets"]]
    assert titles == [layout.TAB_GUIDE] + [summary.tab_titles[u.unit_code] for u in units]
    assert len({t.casefold() for t in titles}) == len(titles)
    assert all(len(t) <= 100 for t in titles)
    rows = query(
        settings.dsn("loader"),
        """
        select unit_code, spreadsheet_id, layout, tab_title from ops.sheet_registry
        where period_code = %s order by unit_code""",
        (PER_PERIOD_PERIOD,),
    )
    assert rows == [
        (u.unit_code, spreadsheet_id, "per_period", summary.tab_titles[u.unit_code]) for u in units
    ]


def test_per_period_each_tab_is_editable_by_its_unit_only(per_period, sheets, catalogue):
    summary, _ = per_period
    _, client = sheets
    (spreadsheet_id,) = set(summary.spreadsheet_ids.values())
    meta = _meta(client, spreadsheet_id)
    by_title = {s["properties"]["title"]: s for s in meta["sheets"]}
    for unit_code, title in summary.tab_titles.items():
        email = catalogue.unit(unit_code).contact_email
        sheet = by_title[title]
        sheet_id = sheet["properties"]["sheetId"]
        whole = [p for p in sheet["protectedRanges"] if p["range"] == {"sheetId": sheet_id}]
        inputs = [p for p in sheet["protectedRanges"] if p["range"] != {"sheetId": sheet_id}]
        (whole,) = whole
        assert whole["editors"] == {"users": [SERVICE_ACCOUNT]}
        # the input cells left open by the sheet protection are exactly the unit's ranges
        assert sorted(map(_key, whole["unprotectedRanges"])) == sorted(
            _key(p["range"]) for p in inputs
        )
        assert inputs and all(p["editors"]["users"] == [email, SERVICE_ACCOUNT] for p in inputs)
        assert all(not p.get("warningOnly") for p in sheet["protectedRanges"])


def _key(grid_range: dict) -> tuple:
    return tuple(
        grid_range.get(k)
        for k in ("sheetId", "startRowIndex", "endRowIndex", "startColumnIndex", "endColumnIndex")
    )


def test_per_period_every_tab_parses_like_the_per_unit_layout(per_period, sheets, catalogue):
    from ingest.parse import parse_report
    from sheets.client import read_spreadsheet

    summary, _ = per_period
    _, client = sheets
    (spreadsheet_id,) = set(summary.spreadsheet_ids.values())
    resource = read_spreadsheet(client, spreadsheet_id)
    for unit_code, title in summary.tab_titles.items():
        report = parse_report(resource, tab_title=title)
        tasks, indicators = _expected(catalogue, PER_PERIOD_PERIOD, unit_code)
        assert report.header["tab_found"]
        assert report.header["claimed_unit_code"] == unit_code
        assert report.header["claimed_period_code"] == PER_PERIOD_PERIOD
        assert [t["task_code"] for t in report.tasks] == tasks
        assert [i["indicator_code"] for i in report.indicators] == indicators
        assert report.header["has_feedback_table"] and report.feedback == []
        assert report.header["tasks_columns_missing"] == ""
        assert report.header["indicators_columns_missing"] == ""
        assert {t["tab_title"] for t in report.tasks} == {title}


def test_per_period_rerun_adds_only_a_missing_unit(per_period, settings, catalogue, sheets):
    """A unit missing from the registry gets a new tab in the period's existing spreadsheet."""
    from ingest.parse import parse_report
    from ingest.provision import provision_period
    from sheets.client import read_spreadsheet

    first, _ = per_period
    server, client = sheets
    (spreadsheet_id,) = set(first.spreadsheet_ids.values())
    server.reset_stats()
    again = provision_period(
        settings, catalogue, PER_PERIOD_PERIOD, layout="per_period", client=client
    )
    assert again.created == [] and again.api_calls == SHARING_CHECK
    assert server.stats()["total"] == 1

    dropped = "TD-BTC"
    import psycopg2

    conn = psycopg2.connect(settings.dsn("admin"))
    try:
        with conn.cursor() as cur:
            cur.execute(
                "delete from ops.sheet_registry where period_code = %s and unit_code = %s",
                (PER_PERIOD_PERIOD, dropped),
            )
        conn.commit()
    finally:
        conn.close()
    third = provision_period(
        settings, catalogue, PER_PERIOD_PERIOD, layout="per_period", client=client
    )
    assert third.created == [dropped]
    assert third.spreadsheet_ids[dropped] == spreadsheet_id
    assert third.api_calls == {
        "sheets.spreadsheets.get": 1,
        "sheets.spreadsheets.batchUpdate": 1,
        "drive.permissions.create": 1,
        **SHARING_CHECK,
    }
    # the old tab still holds the short name, so the new one falls back to name + code
    new_title = third.tab_titles[dropped]
    assert new_title != first.tab_titles[dropped] and dropped in new_title
    report = parse_report(read_spreadsheet(client, spreadsheet_id), tab_title=new_title)
    assert report.header["claimed_unit_code"] == dropped
    assert [t["task_code"] for t in report.tasks] == _expected(
        catalogue, PER_PERIOD_PERIOD, dropped
    )[0]


# ------------------------------------------------------------------------------ units
def test_text_is_never_a_formula_and_ranges_convert():
    from ingest.provision import shift_range
    from sheets.writer import cell_value, grid_range

    assert cell_value("=1+1") == {"userEnteredValue": {"stringValue": "=1+1"}}
    assert cell_value(5) == {"userEnteredValue": {"numberValue": 5}}
    assert cell_value(None) == {}
    assert grid_range(3, "G2:G9") == {
        "sheetId": 3,
        "startRowIndex": 1,
        "endRowIndex": 9,
        "startColumnIndex": 6,
        "endColumnIndex": 7,
    }
    assert grid_range(0, "B14") == {
        "sheetId": 0,
        "startRowIndex": 13,
        "endRowIndex": 14,
        "startColumnIndex": 1,
        "endColumnIndex": 2,
    }
    assert shift_range("G2:G9", 20) == "G22:G29" and shift_range("B14", 1) == "B15"


def test_unknown_layout_is_refused(settings, catalogue):
    from ingest.provision import provision_period

    with pytest.raises(ValueError):
        provision_period(settings, catalogue, PER_UNIT_PERIOD, layout="per_tab")


def test_per_period_tabs_carry_the_rules_and_hints_of_the_per_unit_layout(
    per_period, sheets, catalogue
):
    """The stacked tab of a unit: every status, completion date, figure and feedback line has
    the rule and hint of the same cell of the per_unit layout, moved down with its part."""
    from sheets import layout
    from sheets.writer import choice_rule, input_rule

    summary, _ = per_period
    _, client = sheets
    (spreadsheet_id,) = set(summary.spreadsheet_ids.values())
    unit_code = "TD-UBND"
    title = summary.tab_titles[unit_code]
    [sheet] = [
        s for s in _meta(client, spreadsheet_id)["sheets"] if s["properties"]["title"] == title
    ]
    rows = sheet["data"][0]["rowData"]
    found = {
        (r, c): cell["dataValidation"]
        for r, row in enumerate(rows)
        for c, cell in enumerate(row.get("values", []))
        if cell.get("dataValidation")
    }
    expected = {}
    offset = 0
    for tab in layout.report_tabs(catalogue, unit_code, PER_PERIOD_PERIOD)[1:]:
        for ref, options in tab.choices:
            rule = choice_rule(options, tab.choice_hints.get(ref) or layout.choice_hint(options))
            expected |= {(r + offset, c): rule for r, c in _cells(ref)}
        for rule in tab.rules:
            expected |= {(r + offset, c): input_rule(rule) for r, c in _cells(rule.ref)}
        offset += len(tab.rows) + 1
    assert found.keys() == expected.keys()
    for key, rule in expected.items():
        got = found[key]
        assert got["condition"]["type"] == rule["condition"]["type"], key
        assert got["inputMessage"] == rule["inputMessage"], key
        assert bool(got.get("strict")) == rule["strict"], key
    kinds = [k for k, v in found.items() if v["inputMessage"] == layout.FEEDBACK_KIND_HINT]
    assert len(kinds) == layout.FEEDBACK_ROWS


def _cells(ref: str):
    from openpyxl.utils.cell import range_boundaries

    c0, r0, c1, r1 = range_boundaries(ref)
    return [(r - 1, c - 1) for r in range(r0, r1 + 1) for c in range(c0, c1 + 1)]
