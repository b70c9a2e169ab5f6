"""Sheets that Google cannot misread (issue 21): what a unit types reaches the warehouse as meant.

Google reads what is typed by the spreadsheet's locale, before the pipeline sees anything: a
spreadsheet created through the API has its creator's, en_US for a service account, where
"1.200" is 1.2 and "1/4/2026" is 4 January. Two units of an ad hoc period type the same text
as themselves (``valueInputOption=USER_ENTERED``: what the browser does) — one into its sheet
as provisioning makes it now (locale vi_VN, input cells plain text, the date cell d/m/yyyy),
the other into a sheet as provisioning made it before (no settings, no formats: en_US) — and
both reports go through the real pull and parse (``pull_period``, ``validate_landed``) into
``parsed``, in a database of this module's own. Then provisioning gives the old sheet our
settings, the unit types again, and it lands as meant.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from tests.conftest import query

DATABASE = "tonghop_locale"
PERIOD = "CB-2026-DX21"  # an ad hoc period of this module's own database
NEW, OLD = "CB-XA-001", "CB-XA-002"  # both report CB.CT02 (a count) and CB.CT09 (money)
COUNT, MONEY = "CB.CT02", "CB.CT09"
TYPED_FIGURE = "1.200"  # 1200, the Vietnamese way
TYPED_DATE = "1/4/2026"  # 1 April 2026, day/month/year


def _cell(client, spreadsheet_id: str, tab: str, code: str, column: str) -> str:
    """A1 reference of the cell in ``column`` (a header label) of the row of ``code``."""
    rows = client.http_client.values_get(spreadsheet_id, f"'{tab}'!A1:Z200").get("values", [])
    header = next(r for r in rows if column in r)
    row = next(i for i, r in enumerate(rows, 1) if code in r)
    return f"'{tab}'!{chr(ord('A') + header.index(column))}{row}"


def _type(server, email: str, spreadsheet_id: str, cells: dict[str, str]) -> None:
    """The unit's official types into the cells, as in the browser (USER_ENTERED)."""
    from sheets_emulator import emulator_client

    emulator_client(server.url, user=email).http_client.values_batch_update(
        spreadsheet_id,
        body={
            "valueInputOption": "USER_ENTERED",
            "data": [{"range": ref, "values": [[text]]} for ref, text in cells.items()],
        },
    )


def _as_before(client, spreadsheet_id: str) -> None:
    """The spreadsheet as provisioning left it before it set locale and formats: the
    service account's en_US, every cell automatic, no tonghop_locale mark."""
    from gspread.urls import DRIVE_FILES_API_V3_URL

    sheets = client.http_client.fetch_sheet_metadata(
        spreadsheet_id, params={"fields": "sheets.properties.sheetId"}
    )["sheets"]
    requests = [
        {
            "updateSpreadsheetProperties": {
                "properties": {"locale": "en_US", "timeZone": "America/Los_Angeles"},
                "fields": "locale,timeZone",
            }
        }
    ] + [
        {
            "repeatCell": {
                "range": {"sheetId": s["properties"]["sheetId"]},
                "cell": {},
                "fields": "userEnteredFormat.numberFormat",
            }
        }
        for s in sheets
    ]
    client.http_client.batch_update(spreadsheet_id, {"requests": requests})
    client.http_client.request(
        "patch",
        f"{DRIVE_FILES_API_V3_URL}/{spreadsheet_id}",
        json={"appProperties": {"tonghop_locale": None}},
    )


def _landed(own, unit: str) -> dict:
    """What the latest parsed version of ``unit`` holds: figures and the completion date."""
    figures = query(
        own.dsn("admin"),
        """
        select indicator_code, value_text, value_number, value_reading, reading_note
        from parsed.indicator_rows i
        where period_code = %s and unit_code = %s and indicator_code in (%s, %s)
          and sheet_version_id = (select max(sheet_version_id) from parsed.indicator_rows
                                  where period_code = i.period_code and unit_code = i.unit_code)
        """,
        (PERIOD, unit, COUNT, MONEY),
    )
    dates = query(
        own.dsn("admin"),
        """
        select completed_on_text, completed_on from parsed.task_rows t
        where period_code = %s and unit_code = %s and completed_on_text is not null
          and sheet_version_id = (select max(sheet_version_id) from parsed.task_rows
                                  where period_code = t.period_code and unit_code = t.unit_code)
        """,
        (PERIOD, unit),
    )
    return {
        "figures": {code: rest for code, *rest in figures},
        "dates": [list(d) for d in dates],
    }


@pytest.fixture(scope="module")
def typed(settings, tmp_path_factory):
    """Both units type; pull and parse; then the old sheet is settled and typed again."""
    from expectations.landed import validate_landed
    from ingest.provision import provision_period
    from ingest.pull import pull_period
    from pipeline.adhoc import request_adhoc_period
    from sheets import layout
    from sheets_emulator import EmulatorServer, emulator_client
    from tonghop.catalogue import load_catalogue
    from tooling import localdb

    tmp = tmp_path_factory.mktemp("locale")
    localdb.ensure_warehouse(DATABASE)
    server = EmulatorServer(tmp / "emulator", host="127.0.0.1", port=0).start()
    own = settings.for_database(DATABASE).with_overrides(
        emulator_url=server.url, sheets_backend="emulator", output_dir=tmp / "output"
    )
    try:
        request_adhoc_period(
            own,
            programme_code="CB-KH84",
            period_code=PERIOD,
            period_name="Báo cáo đột xuất kết quả quý I",
            data_from="2026-01-01",
            data_to="2026-04-30",
            due_date="2026-05-10",
            opens_on="2026-04-20",
            unit_codes=[NEW, OLD],
            sheet_layout="per_unit",
        )
        catalogue = load_catalogue(settings=own)
        client = emulator_client(server.url)
        provisioned = provision_period(own, catalogue, PERIOD, client=client)
        ids = provisioned.spreadsheet_ids
        _as_before(client, ids[OLD])
        task = catalogue.tasks_for("CB-KH84", NEW)[0][0].task_code
        assert task == catalogue.tasks_for("CB-KH84", OLD)[0][0].task_code

        def type_both(units: list[str]) -> None:
            for unit in units:
                sid = ids[unit]
                cells = {
                    _cell(client, sid, layout.TAB_INDICATORS, code, "Giá trị kỳ này"): TYPED_FIGURE
                    for code in (COUNT, MONEY)
                }
                cells[_cell(client, sid, layout.TAB_TASKS, task, "Ngày hoàn thành")] = TYPED_DATE
                _type(server, catalogue.unit(unit).contact_email, sid, cells)

        def pull_and_parse() -> None:
            pulled = pull_period(own, catalogue, PERIOD, client=client, mode="full")
            validate_landed(own, catalogue, PERIOD, pulled.pull_run_id)

        type_both([NEW, OLD])
        pull_and_parse()
        first = {unit: _landed(own, unit) for unit in (NEW, OLD)}
        shown = {
            unit: client.http_client.fetch_sheet_metadata(
                ids[unit], params={"fields": "properties(locale,timeZone)"}
            )["properties"]
            for unit in (NEW, OLD)
        }

        server.reset_stats()
        settled = provision_period(own, catalogue, PERIOD, client=client)
        type_both([OLD])  # the unit, told, types the same again
        pull_and_parse()
        return {
            "first": first,
            "shown": shown,
            "settled": settled,
            "ids": ids,
            "again": _landed(own, OLD),
            "after": client.http_client.fetch_sheet_metadata(
                ids[OLD], params={"fields": "properties(locale,timeZone)"}
            )["properties"],
        }
    finally:
        server.stop()


def test_a_provisioned_sheet_lands_what_the_unit_typed(typed):
    landed = typed["first"][NEW]
    assert typed["shown"][NEW] == {"locale": "vi_VN", "timeZone": "Asia/Ho_Chi_Minh"}
    # figure cells are automatic: Sheets reads "1.200" the Vietnamese way, a number, shown as
    # typed (the strict number rule judges a number; architecture.md, "Sheets that Google
    # cannot misread")
    assert landed["figures"][COUNT][:3] == [TYPED_FIGURE, Decimal(1200), "number"]
    assert landed["figures"][MONEY][:3] == [TYPED_FIGURE, Decimal(1200), "number"]
    # the date cell: Sheets reads it day first (vi_VN) and shows it day/month/year
    assert landed["dates"] == [[TYPED_DATE, dt.date(2026, 4, 1)]]


def test_an_en_us_sheet_misreads_the_same_typing_before_the_pipeline_sees_it(typed):
    landed = typed["first"][OLD]
    assert typed["shown"][OLD] == {"locale": "en_US", "timeZone": "America/Los_Angeles"}
    # Google made "1.200" the number 1.2: a count cannot be 1.2 (flagged), money silently is
    text, value, reading, note = landed["figures"][COUNT]
    assert (text, value, reading) == ("1.2", None, "invalid")
    assert "1,2 không phải số nguyên" in note
    assert landed["figures"][MONEY][:3] == ["1.2", Decimal("1.2"), "number"]
    # and "1/4/2026" the 4th of January (month/day/year), shown as typed: nothing to see
    assert landed["dates"] == [[TYPED_DATE, dt.date(2026, 1, 4)]]


def test_provisioning_gives_the_old_sheet_our_settings_and_the_same_typing_then_lands(typed):
    settled = typed["settled"]
    assert settled.created == [] and settled.settled == [typed["ids"][OLD]]
    assert settled.api_calls == {
        "drive.files.list": 1,
        "sheets.spreadsheets.batchUpdate": 1,
        "drive.files.update": 1,
    }
    assert typed["after"] == {"locale": "vi_VN", "timeZone": "Asia/Ho_Chi_Minh"}
    again = typed["again"]
    # the old sheet's cells are automatic (its values and formats were left alone): Sheets now
    # reads the typing the Vietnamese way itself — numbers, shown with Vietnamese marks
    assert again["figures"][COUNT][:3] == ["1.200", Decimal(1200), "number"]
    assert again["figures"][MONEY][:3] == ["1.200", Decimal(1200), "number"]
    assert again["dates"] == [[TYPED_DATE, dt.date(2026, 4, 1)]]
