"""sheets_emulator behaves as Google does where two public connectors (Singer's tap-google-sheets
and Airbyte's source-google-sheets, run unmodified against it) found it did not:

- a ``+`` in a values range in the URL path is a space (``'Hướng+dẫn'!A1`` is the tab
  "Hướng dẫn"; a literal plus comes as ``%2B``);
- a read range that ends past the grid is answered for the part inside it; only one that starts
  past the grid is refused ("Range (…) exceeds grid limits. Max rows: N, max columns: M");
- Drive ``files.get`` (and ``files.list``) return every field asked for, ``version`` (up by one on
  every change) and ``lastModifyingUser`` (who made the last change) among them.

Raw HTTP (``requests``) where the connectors' exact URLs matter, the real gspread elsewhere.
"""

from __future__ import annotations

from urllib.parse import quote, quote_plus

import pytest
import requests

from sheets_emulator import EmulatorServer, emulator_client

TAB = "Hướng dẫn"
UNIT = "can-bo.xa@tonghop.example"


@pytest.fixture()
def server(tmp_path):
    with EmulatorServer(tmp_path / "store") as srv:
        yield srv


@pytest.fixture()
def book(server):
    """A spreadsheet whose first tab "Hướng dẫn" (1000 x 26) holds three rows."""
    sh = emulator_client(server.url).create("Báo cáo tháng 6")
    ws = sh.sheet1
    ws.update_title(TAB)
    ws.update(
        [["Chỉ tiêu", "Giá trị"], ["Số buổi", "12"], ["Số lượt", "340"]],
        "A1",
        value_input_option="RAW",
    )
    return sh


def values_url(server, sid: str, range_path: str, verb: str = "") -> str:
    return f"{server.url}/v4/spreadsheets/{sid}/values/{range_path}{verb}"


# ----------------------------------------------------------------- a plus in the path is a space
def test_a_plus_in_a_values_get_range_path_is_a_space(server, book):
    url = values_url(server, book.id, quote_plus(f"'{TAB}'!A1:B3"))  # tap-google-sheets' encoding
    assert "+" in url
    got = requests.get(url)
    assert got.status_code == 200, got.text
    assert got.json() == {
        "range": f"'{TAB}'!A1:B3",
        "majorDimension": "ROWS",
        "values": [["Chỉ tiêu", "Giá trị"], ["Số buổi", "12"], ["Số lượt", "340"]],
    }
    # the same range percent-encoded, and in batchGet's query string (form-encoded there too)
    assert (
        requests.get(values_url(server, book.id, quote(f"'{TAB}'!A1:B3", safe=""))).json()
        == got.json()
    )
    batch = requests.get(
        f"{server.url}/v4/spreadsheets/{book.id}/values:batchGet?ranges="
        + quote_plus(f"'{TAB}'!A1:B3")
    )
    assert batch.json()["valueRanges"] == [got.json()]


def test_a_literal_plus_in_a_range_path_comes_percent_encoded(server, book):
    book.add_worksheet("A+B", rows=5, cols=2).update([["cộng"]], "A1")
    got = requests.get(values_url(server, book.id, quote("'A+B'!A1", safe="")))
    assert got.json()["values"] == [["cộng"]]
    # unencoded, the plus is a space: a tab "A B" that does not exist
    missing = requests.get(values_url(server, book.id, "'A+B'!A1"))
    assert missing.status_code == 400
    assert missing.json()["error"]["message"] == "Unable to parse range: 'A B'!A1"


def test_a_plus_is_a_space_in_every_values_range_path(server, book):
    path = quote_plus(f"'{TAB}'!D1")
    put = requests.put(
        values_url(server, book.id, path) + "?valueInputOption=RAW", json={"values": [["ghi"]]}
    )
    assert put.status_code == 200, put.text
    assert put.json()["updatedRange"] == f"'{TAB}'!D1"
    appended = requests.post(
        values_url(server, book.id, quote_plus(f"'{TAB}'!A1"), ":append") + "?valueInputOption=RAW",
        json={"values": [["Số đội", "3"]]},
    )
    assert appended.status_code == 200, appended.text
    assert appended.json()["updates"]["updatedRange"] == f"'{TAB}'!A4:B4"
    cleared = requests.post(values_url(server, book.id, path, ":clear"))
    assert cleared.json()["clearedRange"] == f"'{TAB}'!D1"


# ----------------------------------------------------------------- read ranges past the grid
def test_a_read_range_ending_past_the_grid_returns_the_rows_that_exist(server, book):
    airbyte = f"'{TAB}'!2:1000002"  # Airbyte's batch: from row 2, a million rows on
    got = requests.get(values_url(server, book.id, quote(airbyte, safe="")))
    assert got.status_code == 200, got.text
    assert got.json() == {
        "range": f"'{TAB}'!A2:Z1000",
        "majorDimension": "ROWS",
        "values": [["Số buổi", "12"], ["Số lượt", "340"]],
    }
    batch = requests.get(
        f"{server.url}/v4/spreadsheets/{book.id}/values:batchGet",
        params={"ranges": [airbyte, f"'{TAB}'!A1:AB2"]},
    )
    assert batch.status_code == 200, batch.text
    assert batch.json()["valueRanges"] == [
        got.json(),
        {
            "range": f"'{TAB}'!A1:Z2",
            "majorDimension": "ROWS",
            "values": [["Chỉ tiêu", "Giá trị"], ["Số buổi", "12"]],
        },
    ]
    # the same through gspread, and spreadsheets.get's ranges (a read too)
    assert book.values_get(f"'{TAB}'!B3:C1000002")["values"] == [["340"]]
    meta = book.client.spreadsheets_get(
        book.id, params={"ranges": f"'{TAB}'!A3:AB5000", "includeGridData": "true"}
    )
    data = meta["sheets"][0]["data"][0]
    assert (data["startRow"], len(data["rowMetadata"]), len(data["columnMetadata"])) == (2, 998, 26)
    assert [c["formattedValue"] for c in data["rowData"][0]["values"]] == ["Số lượt", "340"]


@pytest.mark.parametrize("text", [f"'{TAB}'!1001:1000002", f"'{TAB}'!A1000001", f"'{TAB}'!AA1:AB2"])
def test_a_read_range_starting_past_the_grid_is_refused_as_google_does(server, book, text):
    message = f"Range ({text}) exceeds grid limits. Max rows: 1000, max columns: 26"
    got = requests.get(values_url(server, book.id, quote(text, safe="")))
    assert got.status_code == 400
    assert got.json() == {"error": {"code": 400, "message": message, "status": "INVALID_ARGUMENT"}}
    batch = requests.get(
        f"{server.url}/v4/spreadsheets/{book.id}/values:batchGet",
        params={"ranges": [f"'{TAB}'!A1", text]},
    )
    assert (batch.status_code, batch.json()["error"]["message"]) == (400, message)
    meta = requests.get(f"{server.url}/v4/spreadsheets/{book.id}", params={"ranges": text})
    assert (meta.status_code, meta.json()["error"]["message"]) == (400, message)


def test_a_write_past_the_grid_is_still_refused(server, book):
    got = requests.put(
        values_url(server, book.id, quote(f"'{TAB}'!Z1:AA1", safe="")) + "?valueInputOption=RAW",
        json={"values": [["a", "b"]]},
    )
    assert got.status_code == 400
    assert "exceeds grid limits" in got.json()["error"]["message"]


# ----------------------------------------------------------------- Drive files.get fields
ASKED = (
    "id,name,mimeType,modifiedTime,createdTime,version,lastModifyingUser,owners,"
    "appProperties,parents,trashed,webViewLink,size"
)


def drive_get(server, file_id: str, fields: str, user: str | None = None) -> dict:
    headers = {"X-Emulator-User": user} if user else {}
    got = requests.get(
        f"{server.url}/drive/v3/files/{file_id}", params={"fields": fields}, headers=headers
    )
    assert got.status_code == 200, got.text
    return got.json()


def test_files_get_returns_every_field_asked_for(server, book):
    requests.patch(
        f"{server.url}/drive/v3/files/{book.id}", json={"appProperties": {"unit": "xa-1"}}
    )
    got = drive_get(server, book.id, ASKED)
    assert set(got) == set(ASKED.split(","))
    assert got["version"].isdigit() and int(got["version"]) > 1
    assert got["lastModifyingUser"] == {
        "kind": "drive#user",
        "displayName": "default",
        "emailAddress": "default",
        "me": True,
        "permissionId": got["lastModifyingUser"]["permissionId"],
    }
    assert got["appProperties"] == {"unit": "xa-1"}
    assert int(got["size"]) == (server.store.root / f"{book.id}.xlsx").stat().st_size
    assert got["webViewLink"].startswith(f"https://docs.google.com/spreadsheets/d/{book.id}/")
    # sub-selections and files.list ask the same of each file
    assert drive_get(server, book.id, "version,lastModifyingUser(emailAddress)") == {
        "version": got["version"],
        "lastModifyingUser": {"emailAddress": "default"},
    }
    listed = requests.get(
        f"{server.url}/drive/v3/files", params={"fields": f"files({ASKED})"}
    ).json()["files"]
    assert listed == [got]


def test_version_counts_every_change_and_last_modifying_user_is_who_made_the_last(server, book):
    def seen(user=None):
        got = drive_get(server, book.id, "version,modifiedTime,lastModifyingUser", user)
        return int(got["version"]), got["modifiedTime"], got.get("lastModifyingUser")

    version, modified, by = seen()
    assert by["emailAddress"] == "default"
    # a unit's official edits the content: a new version, their name, "not me" for the pipeline
    emulator_client(server.url, user=UNIT).open_by_key(book.id).sheet1.update([["13"]], "B2")
    v2, m2, by = seen()
    assert v2 == version + 1 and m2 > modified
    assert by == {
        "kind": "drive#user",
        "displayName": "can-bo.xa",
        "emailAddress": UNIT,
        "me": False,
        "permissionId": by["permissionId"],
    }
    assert seen(UNIT)[2]["me"] is True
    # sharing is a change too (a new version) but does not move modifiedTime nor its editor
    share = requests.post(
        f"{server.url}/drive/v3/files/{book.id}/permissions",
        json={"type": "user", "role": "writer", "emailAddress": UNIT},
    )
    assert share.status_code == 200, share.text
    v3, m3, by3 = seen()
    assert (v3, m3, by3) == (v2 + 1, m2, by)
    # the pipeline renames it through Drive: its own change now
    requests.patch(f"{server.url}/drive/v3/files/{book.id}", json={"name": "Báo cáo (đã nhận)"})
    v4, m4, by4 = seen()
    assert v4 == v3 + 1 and m4 > m3 and by4["emailAddress"] == "default"
    # a change made without an API caller (a person in the browser): no known user, as Drive
    with server.store.edit(book.id) as model:
        model.sheets[0].set(5, 0, "sửa tay")
    v5, _, by5 = seen()
    assert v5 == v4 + 1 and by5 is None


def test_a_folder_has_a_version_and_no_size(server):
    folder = requests.post(
        f"{server.url}/drive/v3/files",
        params={"fields": "id,version"},
        json={"name": "Kỳ 2026-06", "mimeType": "application/vnd.google-apps.folder"},
    )
    assert folder.json()["version"] == "1"
    got = drive_get(server, folder.json()["id"], "id,version,size,lastModifyingUser")
    assert "size" not in got and got["version"] == "1"
    assert got["lastModifyingUser"]["emailAddress"] == "default"
