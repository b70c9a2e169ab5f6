"""A spreadsheet's locale and time zone, and how Google reads typed text by them.

Google interprets ``valueInputOption=USER_ENTERED`` text "as if the user typed them into the
UI", i.e. by the spreadsheet's ``properties.locale``: in en_US "1.200" is 1.2 and "1/4/2026"
the 4th of January; in vi_VN "1.200" is 1200, "1,5" is 1.5 and "1/4/2026" the 1st of April.
A cell formatted as plain text keeps what is typed. These tests pin that in the emulator,
through the real gspread client.
"""

from __future__ import annotations

import datetime as dt

import pytest

from sheets_emulator import EmulatorServer, SpreadsheetStore, emulator_client
from sheets_emulator.locales import format_pattern, locale_rules

SERIAL_1_APRIL_2026 = (dt.date(2026, 4, 1) - dt.date(1899, 12, 30)).days
SERIAL_4_JANUARY_2026 = (dt.date(2026, 1, 4) - dt.date(1899, 12, 30)).days
CELL_FIELDS = (
    "sheets.data.rowData.values(userEnteredValue,effectiveValue,formattedValue,"
    "userEnteredFormat.numberFormat)"
)


@pytest.fixture()
def server(tmp_path):
    with EmulatorServer(tmp_path / "store", host="127.0.0.1", port=0) as running:
        yield running


@pytest.fixture()
def client(server):
    return emulator_client(server.url)


def properties(client, spreadsheet_id: str) -> dict:
    return client.http_client.fetch_sheet_metadata(
        spreadsheet_id, params={"fields": "properties(locale,timeZone)"}
    )["properties"]


def cells(client, spreadsheet_id: str, a1: str) -> list[dict]:
    """The CellData of a range, row after row (value keys and the number format)."""
    meta = client.http_client.fetch_sheet_metadata(
        spreadsheet_id, params={"ranges": a1, "fields": CELL_FIELDS}
    )
    return [v for row in meta["sheets"][0]["data"][0]["rowData"] for v in row["values"]]


def spreadsheet(client, locale: str):
    sh = client.create(f"Bảng {locale}")
    sh.update_locale(locale)
    return sh


# ---------------------------------------------------------------- the spreadsheet's settings
def test_a_spreadsheet_created_without_settings_has_its_creators_en_us(client, server):
    """Drive's files.create (gspread's create) and spreadsheets.create without a locale: the
    creating account's settings, taken as a US account's (a service account's)."""
    by_drive = client.create("Qua Drive")
    assert properties(client, by_drive.id) == {
        "locale": "en_US",
        "timeZone": "America/Los_Angeles",
    }
    bare = client.http_client.request(
        "post",
        "https://sheets.googleapis.com/v4/spreadsheets",
        json={"properties": {"title": "Không cài đặt"}},
    ).json()
    assert bare["properties"]["locale"] == "en_US"
    assert bare["properties"]["timeZone"] == "America/Los_Angeles"


def test_locale_and_time_zone_set_at_create_are_stored_and_returned(client, server):
    made = client.http_client.request(
        "post",
        "https://sheets.googleapis.com/v4/spreadsheets",
        json={
            "properties": {
                "title": "Báo cáo",
                "locale": "vi_VN",
                "timeZone": "Asia/Ho_Chi_Minh",
            }
        },
    ).json()
    assert made["properties"]["locale"] == "vi_VN"
    assert properties(client, made["spreadsheetId"]) == {
        "locale": "vi_VN",
        "timeZone": "Asia/Ho_Chi_Minh",
    }
    # a fresh store reads them back from the .xlsx
    fresh = SpreadsheetStore(server.store.root).snapshot(made["spreadsheetId"])
    assert (fresh.locale, fresh.time_zone) == ("vi_VN", "Asia/Ho_Chi_Minh")


def test_update_spreadsheet_properties_changes_them_and_a_copy_keeps_them(client, server):
    sh = client.create("Đổi cài đặt")
    sh.batch_update(
        {
            "requests": [
                {
                    "updateSpreadsheetProperties": {
                        "properties": {"locale": "vi_VN", "timeZone": "Asia/Ho_Chi_Minh"},
                        "fields": "locale,timeZone",
                    }
                }
            ]
        }
    )
    assert properties(client, sh.id) == {"locale": "vi_VN", "timeZone": "Asia/Ho_Chi_Minh"}
    fresh = SpreadsheetStore(server.store.root).snapshot(sh.id)
    assert (fresh.locale, fresh.time_zone) == ("vi_VN", "Asia/Ho_Chi_Minh")
    copy = client.copy(sh.id, title="Bản sao")
    assert properties(client, copy.id) == {"locale": "vi_VN", "timeZone": "Asia/Ho_Chi_Minh"}


def test_the_store_can_create_with_other_settings(tmp_path):
    """An emulator standing for an account set to Vietnam creates vi_VN spreadsheets."""
    with EmulatorServer(
        tmp_path / "vn", port=0, new_locale="vi_VN", new_time_zone="Asia/Ho_Chi_Minh"
    ) as vn:
        client = emulator_client(vn.url)
        sh = client.create("Tài khoản Việt Nam")
        assert properties(client, sh.id) == {"locale": "vi_VN", "timeZone": "Asia/Ho_Chi_Minh"}


# ---------------------------------------------------------------- typed text, by locale
# (locale, typed, effectiveValue, formattedValue, numberFormat Google gives the cell)
TYPED = [
    ("en_US", "1.200", {"numberValue": 1.2}, "1.2", None),
    ("en_US", "1,200", {"numberValue": 1200}, "1,200", {"type": "NUMBER", "pattern": "#,##0"}),
    ("en_US", "1,5", {"stringValue": "1,5"}, "1,5", None),
    (
        "en_US",
        "1/4/2026",
        {"numberValue": SERIAL_4_JANUARY_2026},
        "1/4/2026",
        {"type": "DATE", "pattern": "M/d/yyyy"},
    ),
    ("en_US", "20/6/2026", {"stringValue": "20/6/2026"}, "20/6/2026", None),  # no month 20
    ("en_US", "5%", {"numberValue": 0.05}, "5%", {"type": "PERCENT", "pattern": "0%"}),
    ("vi_VN", "1.200", {"numberValue": 1200}, "1.200", {"type": "NUMBER", "pattern": "#,##0"}),
    ("vi_VN", "1,5", {"numberValue": 1.5}, "1,5", None),
    ("vi_VN", "1,200", {"numberValue": 1.2}, "1,2", None),
    ("vi_VN", "12.5", {"stringValue": "12.5"}, "12.5", None),  # a dot groups three digits
    (
        "vi_VN",
        "1.234,5",
        {"numberValue": 1234.5},
        "1.234,50",
        {"type": "NUMBER", "pattern": "#,##0.00"},
    ),
    (
        "vi_VN",
        "1/4/2026",
        {"numberValue": SERIAL_1_APRIL_2026},
        "1/4/2026",
        {"type": "DATE", "pattern": "d/M/yyyy"},
    ),
    (
        "vi_VN",
        "2026-04-01",
        {"numberValue": SERIAL_1_APRIL_2026},
        "1/4/2026",
        {"type": "DATE", "pattern": "d/M/yyyy"},
    ),
    ("vi_VN", "5%", {"numberValue": 0.05}, "5%", {"type": "PERCENT", "pattern": "0%"}),
    (
        "vi_VN",
        "5,5%",
        {"numberValue": 0.055},
        "5,50%",
        {"type": "PERCENT", "pattern": "0.00%"},
    ),
    ("vi_VN", "-3", {"numberValue": -3}, "-3", None),
    ("vi_VN", "0912345678", {"numberValue": 912345678}, "912345678", None),  # the 0 is lost
    ("vi_VN", "5 buổi", {"stringValue": "5 buổi"}, "5 buổi", None),
]


@pytest.mark.parametrize(("locale", "typed", "effective", "shown", "number_format"), TYPED)
def test_user_entered_text_is_read_by_the_spreadsheets_locale(
    client, locale, typed, effective, shown, number_format
):
    sh = spreadsheet(client, locale)
    sh.sheet1.update([[typed]], "A1", value_input_option="USER_ENTERED")
    (cell,) = cells(client, sh.id, "A1")
    assert cell["effectiveValue"] == effective
    assert cell["userEnteredValue"] == effective
    assert cell["formattedValue"] == shown
    assert cell.get("userEnteredFormat", {}).get("numberFormat") == number_format
    # the values API shows and gives the same
    assert sh.sheet1.get("A1") == [[shown]]
    unformatted = sh.sheet1.get("A1", value_render_option="UNFORMATTED_VALUE")[0][0]
    assert unformatted == next(iter(effective.values()))


def test_raw_keeps_every_string(client):
    sh = spreadsheet(client, "vi_VN")
    typed = ["1.200", "1,5", "1/4/2026", "5%", "=1+1"]
    sh.sheet1.update([typed], "A1", value_input_option="RAW")
    assert [c["effectiveValue"] for c in cells(client, sh.id, "A1:E1")] == [
        {"stringValue": t} for t in typed
    ]


@pytest.mark.parametrize("locale", ["en_US", "vi_VN"])
def test_a_plain_text_cell_keeps_what_is_typed(client, locale):
    """A cell formatted as plain text (TEXT, "@") keeps the text, in any locale."""
    sh = spreadsheet(client, locale)
    sh.sheet1.format("A1:F1", {"numberFormat": {"type": "TEXT", "pattern": "@"}})
    typed = ["1.200", "1,5", "1/4/2026", "5%", "=1+1", "0912345678"]
    sh.sheet1.update([typed], "A1", value_input_option="USER_ENTERED")
    got = cells(client, sh.id, "A1:F1")
    assert [c["effectiveValue"] for c in got] == [{"stringValue": t} for t in typed]
    assert [c["formattedValue"] for c in got] == typed
    assert {c["userEnteredFormat"]["numberFormat"]["type"] for c in got} == {"TEXT"}
    # a number sent as a JSON number stays a number ("Numbers will stay as numbers")
    sh.sheet1.update([[1200]], "A2", value_input_option="USER_ENTERED")
    assert cells(client, sh.id, "A2")[0]["effectiveValue"] == {"numberValue": 1200}


@pytest.mark.parametrize(
    ("locale", "serial"), [("en_US", SERIAL_4_JANUARY_2026), ("vi_VN", SERIAL_1_APRIL_2026)]
)
def test_batch_update_and_append_read_by_the_locale_too(client, locale, serial):
    sh = spreadsheet(client, locale)
    sh.values_batch_update(
        {"valueInputOption": "USER_ENTERED", "data": [{"range": "A1", "values": [["1/4/2026"]]}]}
    )
    sh.sheet1.append_rows([["1/4/2026"]], value_input_option="USER_ENTERED")
    assert [c["effectiveValue"] for c in cells(client, sh.id, "A1:A2")] == [
        {"numberValue": serial},
        {"numberValue": serial},
    ]


# ---------------------------------------------------------------- number formats, by locale
@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        ("en_US", ["1,234,567", "87.5%", "1,234.5", "4/1/2026", "12.5"]),
        ("vi_VN", ["1.234.567", "87,5%", "1.234,5", "4/1/2026", "12,5"]),
    ],
)
def test_formatted_values_follow_the_pattern_in_the_locales_notation(client, locale, expected):
    """Patterns are written with "," and "."; Google shows them with the locale's marks."""
    sh = spreadsheet(client, locale)
    ws = sh.sheet1
    ws.update([[1234567, 0.875, 1234.5, 46026, 12.5]], "A1", value_input_option="RAW")
    ws.format("A1", {"numberFormat": {"type": "NUMBER", "pattern": "#,##0"}})
    ws.format("B1", {"numberFormat": {"type": "PERCENT", "pattern": "0.0%"}})
    ws.format("C1", {"numberFormat": {"type": "NUMBER", "pattern": "#,##0.0##"}})
    ws.format("D1", {"numberFormat": {"type": "DATE", "pattern": "d/m/yyyy"}})
    assert [c["formattedValue"] for c in cells(client, sh.id, "A1:E1")] == expected
    assert ws.get("A1:E1") == [expected]


def test_a_date_pattern_shows_what_the_locale_made_of_the_typing(client):
    """A day-first date cell in an en_US spreadsheet: "1/4/2026" is read month first (Sheets
    reads by the locale, not the cell's pattern) and shown 4/1/2026 — and a plain number
    typed into a date cell is shown as a date ("2027": 19/7/1905)."""
    sh = spreadsheet(client, "en_US")
    sh.sheet1.format("A1:B1", {"numberFormat": {"type": "DATE", "pattern": "d/m/yyyy"}})
    sh.sheet1.update([["1/4/2026", "2027"]], "A1", value_input_option="USER_ENTERED")
    first, second = cells(client, sh.id, "A1:B1")
    assert first["effectiveValue"] == {"numberValue": SERIAL_4_JANUARY_2026}
    assert first["formattedValue"] == "4/1/2026"
    assert second["effectiveValue"] == {"numberValue": 2027}
    assert second["formattedValue"] == "19/7/1905"
    assert first["userEnteredFormat"]["numberFormat"] == {"type": "DATE", "pattern": "d/m/yyyy"}


def test_a_date_typed_into_a_number_cell_is_shown_as_a_date(client):
    sh = spreadsheet(client, "vi_VN")
    sh.sheet1.format("A1", {"numberFormat": {"type": "NUMBER", "pattern": "#,##0"}})
    sh.sheet1.update([["1/4/2026"]], "A1", value_input_option="USER_ENTERED")
    (cell,) = cells(client, sh.id, "A1")
    assert cell["formattedValue"] == "1/4/2026"
    assert cell["userEnteredFormat"]["numberFormat"] == {"type": "DATE", "pattern": "d/M/yyyy"}


# ---------------------------------------------------------------- units
def test_locale_rules_by_code_and_language():
    assert (locale_rules("vi_VN").decimal, locale_rules("vi_VN").day_first) == (",", True)
    assert (locale_rules("en_US").decimal, locale_rules("en_US").day_first) == (".", False)
    assert locale_rules("vi").group == "."  # a language alone
    other = locale_rules("de_DE")  # beyond the emulator: read as en_US, its code kept
    assert (other.code, other.decimal, other.day_first) == ("de_DE", ".", False)


def test_format_pattern_renders_what_it_knows_and_declines_the_rest():
    vi, en = locale_rules("vi_VN"), locale_rules("en_US")
    assert format_pattern(-1234.5, "#,##0.00", vi) == "-1.234,50"
    assert format_pattern(0.5, "0%", en) == "50%"
    assert format_pattern(12, '#,##0 "₫"', vi) == "12 ₫"
    assert format_pattern(dt.datetime(2026, 6, 20, 14, 5), "dd/MM/yyyy HH:mm", vi) == (
        "20/06/2026 14:05"
    )
    assert format_pattern(dt.date(2026, 6, 20), "yyyy-mm-dd", en) == "2026-06-20"
    for unsupported in ("mmmm d, yyyy", "h:mm AM/PM", "[h]:mm", "0.00E+00", "@"):
        assert format_pattern(46193, unsupported, en) is None, unsupported
