"""Quotas, latency and injected faults of sheets_emulator, through the real gspread and raw HTTP."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import gspread
import pytest
import requests

from sheets_emulator import (
    EmulatorConfig,
    EmulatorServer,
    EmulatorSession,
    FaultRule,
    emulator_client,
)

MAIN_ROOT = Path(__file__).resolve().parents[2]
DRIVE = "https://www.googleapis.com/drive/v3/files"
SHEETS = "https://sheets.googleapis.com/v4/spreadsheets"


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture()
def clock():
    return FakeClock()


@pytest.fixture()
def server(tmp_path, clock):
    with EmulatorServer(tmp_path / "store", host="127.0.0.1", port=0, clock=clock) as running:
        yield running


def client_as(url: str, token: str | None = None) -> gspread.Client:
    """A real gspread client; ``token`` becomes its bearer token (the quota user)."""
    session = EmulatorSession(url)
    if token:
        session.headers["Authorization"] = f"Bearer {token}"
    return gspread.Client(auth=None, session=session)


def new_sheet(server: EmulatorServer, title: str = "Báo cáo") -> str:
    sheet_id = emulator_client(server.url).create(title).id
    server.reset_stats()
    return sheet_id


def api_code(excinfo) -> int:
    return excinfo.value.response.status_code


# ---------------------------------------------------------------- quotas
def test_read_quota_per_user_429_then_recovers(server, clock):
    sid = new_sheet(server)
    server.configure(EmulatorConfig(read_quota_per_user=3))
    gc = client_as(server.url, "alice")
    for _ in range(3):
        gc.open_by_key(sid)
    with pytest.raises(gspread.exceptions.APIError) as excinfo:
        gc.open_by_key(sid)
    assert api_code(excinfo) == 429
    error = excinfo.value.response.json()["error"]
    assert error["code"] == 429 and error["status"] == "RESOURCE_EXHAUSTED"
    assert error["message"].startswith(
        "Quota exceeded for quota metric 'Read requests' and limit "
        "'Read requests per minute per user' of service 'sheets.googleapis.com'"
    )
    # another user has their own read quota
    other = client_as(server.url, "bob")
    assert other.open_by_key(sid).id == sid

    clock.advance(59)
    with pytest.raises(gspread.exceptions.APIError):
        gc.open_by_key(sid)
    clock.advance(1.5)
    assert gc.open_by_key(sid).id == sid

    stats = server.stats()
    assert stats["calls"]["sheets.spreadsheets.get"] == 7  # throttled calls still counted
    assert stats["faults"] == {"429": 2}


def test_read_and_write_quotas_are_separate(server):
    sid = new_sheet(server)
    server.configure(EmulatorConfig(read_quota_per_user=2, write_quota_per_user=2))
    ws = client_as(server.url, "alice").open_by_key(sid).sheet1  # 2 reads: read quota used up
    ws.update([["a"]], "A1")
    ws.update([["b"]], "A2")
    with pytest.raises(gspread.exceptions.APIError) as excinfo:
        ws.update([["c"]], "A3")
    assert api_code(excinfo) == 429
    assert (
        "'Write requests per minute per user'" in excinfo.value.response.json()["error"]["message"]
    )
    with pytest.raises(gspread.exceptions.APIError) as excinfo:
        ws.get("A1")
    assert (
        "'Read requests per minute per user'" in excinfo.value.response.json()["error"]["message"]
    )


def test_project_quota_across_two_users(server, clock):
    sid = new_sheet(server)
    server.configure(EmulatorConfig(read_quota_per_user=10, read_quota_per_project=4))
    alice, bob = client_as(server.url, "alice"), client_as(server.url, "bob")
    for gc in (alice, bob, alice, bob):
        gc.open_by_key(sid)
    with pytest.raises(gspread.exceptions.APIError) as excinfo:
        bob.open_by_key(sid)
    message = excinfo.value.response.json()["error"]["message"]
    assert "'Read requests per minute per project'" in message
    # raw HTTP, user by header: also over the project quota
    url = f"{server.url}/v4/spreadsheets/{sid}"
    answer = requests.get(url, headers={"X-Emulator-User": "carol"}, timeout=5)
    assert answer.status_code == 429
    clock.advance(60)
    assert requests.get(url, headers={"X-Emulator-User": "carol"}, timeout=5).status_code == 200
    assert server.stats()["faults"] == {"429": 2}


def test_drive_calls_count_against_drive_quota_apart_from_sheets_reads(server):
    """Google counts the Drive API apart from the Sheets API: Drive's queries (reads and
    writes together) per user and per project; a Drive call uses none of the Sheets reads."""
    sid = new_sheet(server)
    server.configure(EmulatorConfig(read_quota_per_user=1, drive_quota_per_user=2))
    gc = client_as(server.url, "alice")
    gc.list_spreadsheet_files()
    gc.open_by_key(sid)  # the one Sheets read: Drive's listing took none of it
    gc.list_spreadsheet_files()  # Drive's second query
    with pytest.raises(gspread.exceptions.APIError) as excinfo:
        gc.list_spreadsheet_files()
    assert api_code(excinfo) == 429
    body = excinfo.value.response.json()["error"]
    assert "'drive.googleapis.com'" in body["message"]
    assert "'Queries per minute per user'" in body["message"]
    assert body["errors"][0]["reason"] == "rateLimitExceeded"
    with pytest.raises(gspread.exceptions.APIError) as excinfo:
        gc.open_by_key(sid)
    assert (
        "'Read requests per minute per user'" in excinfo.value.response.json()["error"]["message"]
    )
    # a Drive write (a share) counts against Drive's queries too, never Sheets' writes
    server.configure(EmulatorConfig(write_quota_per_user=1, drive_quota_per_project=1))
    bob = client_as(server.url, "bob")
    bob.insert_permission(sid, "unit@example.gov.vn", perm_type="user", role="writer")
    bob.open_by_key(sid).sheet1.update([["x"]], "A1")  # Sheets' one write is still there
    with pytest.raises(gspread.exceptions.APIError) as excinfo:
        client_as(server.url, "carol").list_spreadsheet_files()
    assert "'Queries per minute per project'" in excinfo.value.response.json()["error"]["message"]


def test_the_quota_window_can_be_shortened_for_quick_tests(server, clock):
    sid = new_sheet(server)
    server.configure(EmulatorConfig(read_quota_per_user=2, quota_window_seconds=2))
    gc = client_as(server.url, "alice")
    gc.open_by_key(sid)
    gc.open_by_key(sid)
    with pytest.raises(gspread.exceptions.APIError):
        gc.open_by_key(sid)
    clock.advance(2)
    gc.open_by_key(sid)
    with pytest.raises(ValueError):
        EmulatorConfig(quota_window_seconds=-1)


def test_enforced_sharing_shows_each_user_its_own_files(server):
    """With ``enforce_sharing``, a user sees the files it created (it owns them) or that are
    shared with it, and Google's answers for the others: 403 from Sheets, 404 from Drive; the
    default user (a caller naming nobody) still sees every file."""
    server.configure(EmulatorConfig(enforce_sharing=True))
    alice, bob = client_as(server.url, "alice@x.iam"), client_as(server.url, "bob@x.iam")
    mine = alice.create("Của Alice").id
    owner = alice.http_client.request("get", f"{DRIVE}/{mine}", params={"fields": "permissions"})
    assert owner.json()["permissions"][0]["emailAddress"] == "alice@x.iam"
    assert [f["id"] for f in alice.list_spreadsheet_files()] == [mine]
    assert bob.list_spreadsheet_files() == []
    with pytest.raises(gspread.exceptions.APIError) as excinfo:
        bob.http_client.request("get", f"{SHEETS}/{mine}")
    assert api_code(excinfo) == 403
    assert excinfo.value.response.json()["error"]["status"] == "PERMISSION_DENIED"
    with pytest.raises(gspread.exceptions.APIError) as excinfo:
        bob.http_client.request("get", f"{DRIVE}/{mine}")
    assert api_code(excinfo) == 404
    alice.insert_permission(mine, "bob@x.iam", perm_type="user", role="writer", notify=False)
    assert bob.open_by_key(mine).title == "Của Alice"
    assert [f["id"] for f in bob.list_spreadsheet_files()] == [mine]
    assert [f["id"] for f in client_as(server.url).list_spreadsheet_files()] == [mine]
    # who made which calls (a user named in a call shows in the stats)
    users = server.stats()["users"]
    assert users["bob@x.iam"]["sheets.spreadsheets.get"] >= 2
    assert "drive.files.create" in users["alice@x.iam"]


# ---------------------------------------------------------------- latency
def test_latency_delays_api_calls_not_admin_routes(server):
    sid = new_sheet(server)
    server.configure(EmulatorConfig(latency=0.3))
    gc = emulator_client(server.url)
    started = time.perf_counter()
    gc.open_by_key(sid)
    assert time.perf_counter() - started >= 0.3
    started = time.perf_counter()
    requests.get(server.url + "/_emulator/stats", timeout=5)
    assert time.perf_counter() - started < 0.3
    assert "faults" not in server.stats()  # latency is not a fault


# ---------------------------------------------------------------- fault rules
def test_times_rule_fails_first_two_calls_then_succeeds(server):
    sid = new_sheet(server)
    server.configure(
        EmulatorConfig(faults=[{"endpoint": "sheets.spreadsheets.get", "status": 503, "times": 2}])
    )
    gc = emulator_client(server.url)
    for _ in range(2):
        with pytest.raises(gspread.exceptions.APIError) as excinfo:
            gc.open_by_key(sid)
        assert api_code(excinfo) == 503
        assert excinfo.value.response.json()["error"]["status"] == "UNAVAILABLE"
    sh = gc.open_by_key(sid)
    sh.sheet1.update([["ok"]], "A1")  # other endpoints untouched
    assert gc.open_by_key(sid).sheet1.acell("A1").value == "ok"
    stats = server.stats()
    assert stats["calls"]["sheets.spreadsheets.get"] == 6  # 2 faulted + 2 x (open_by_key, .sheet1)
    assert stats["faults"] == {"503": 2}


def test_rule_scoped_to_one_spreadsheet(server):
    bad, good = new_sheet(server, "Hỏng"), new_sheet(server, "Tốt")
    server.configure(
        EmulatorConfig(faults=[FaultRule(endpoint="*", status=500, spreadsheet_id=bad)])
    )
    gc = emulator_client(server.url)
    assert gc.open_by_key(good).sheet1.acell("A1").value is None
    with pytest.raises(gspread.exceptions.APIError) as excinfo:
        gc.open_by_key(bad)
    assert api_code(excinfo) == 500
    assert excinfo.value.response.json()["error"]["status"] == "INTERNAL"
    assert (
        requests.get(f"{server.url}/v4/spreadsheets/{bad}/values/A1", timeout=5).status_code == 500
    )
    assert server.stats()["faults"] == {"500": 2}


def test_every_and_seeded_probability_are_deterministic(server):
    sid = new_sheet(server)
    url = f"{server.url}/v4/spreadsheets/{sid}"
    server.configure(EmulatorConfig(faults=[{"endpoint": "sheets.*", "status": 429, "every": 3}]))
    assert [requests.get(url, timeout=5).status_code for _ in range(6)] == [
        200,
        200,
        429,
        200,
        200,
        429,
    ]

    rule = {"endpoint": "sheets.spreadsheets.get", "status": 503, "probability": 0.5, "seed": 42}
    runs = []
    for _ in range(2):
        server.configure(EmulatorConfig(faults=[rule]))  # fresh rule state, same seed
        runs.append([requests.get(url, timeout=5).status_code for _ in range(20)])
    assert runs[0] == runs[1]
    assert 200 in runs[0] and 503 in runs[0]


def test_timeout_rule_makes_client_time_out(server):
    sid = new_sheet(server)
    server.configure(
        EmulatorConfig(
            faults=[
                {"endpoint": "sheets.spreadsheets.get", "kind": "timeout", "delay": 3, "times": 1},
            ]
        )
    )
    url = f"{server.url}/v4/spreadsheets/{sid}"
    started = time.perf_counter()
    with pytest.raises(requests.exceptions.Timeout):
        requests.get(url, timeout=0.5)
    assert time.perf_counter() - started < 2
    assert requests.get(url, timeout=5).status_code == 200  # only the first call
    assert server.stats()["faults"] == {"timeout": 1}


def test_slow_rule_delays_then_answers(server):
    sid = new_sheet(server)
    server.configure(
        EmulatorConfig(
            faults=[{"endpoint": "sheets.spreadsheets.get", "kind": "slow", "delay": 0.3}]
        )
    )
    started = time.perf_counter()
    assert emulator_client(server.url).open_by_key(sid).id == sid
    assert time.perf_counter() - started >= 0.3
    assert server.stats()["faults"] == {"slow": 1}


# ---------------------------------------------------------------- config
def test_admin_config_route_takes_effect_without_restart(server):
    sid = new_sheet(server)
    url = f"{server.url}/v4/spreadsheets/{sid}"
    assert (
        requests.get(server.url + "/_emulator/config", timeout=5).json()
        == EmulatorConfig().to_dict()
    )
    config = {
        "read_quota_per_user": 1,
        "faults": [{"endpoint": "drive.files.list", "status": 500, "times": 1}],
    }
    answer = requests.post(server.url + "/_emulator/config", json=config, timeout=5)
    assert answer.status_code == 200
    current = requests.get(server.url + "/_emulator/config", timeout=5).json()
    assert current["read_quota_per_user"] == 1
    assert current["faults"] == [
        {"endpoint": "drive.files.list", "status": 500, "times": 1, "seed": 0, "kind": "status"}
    ]
    assert requests.get(url, timeout=5).status_code == 200
    assert requests.get(url, timeout=5).status_code == 429
    # replace it: quotas off again, admin calls never counted nor throttled
    assert requests.post(server.url + "/_emulator/config", json={}, timeout=5).status_code == 200
    assert requests.get(url, timeout=5).status_code == 200
    over_http = requests.get(server.url + "/_emulator/stats", timeout=5).json()
    assert over_http == {"calls": {"sheets.spreadsheets.get": 3}, "faults": {"429": 1}, "total": 3}
    bad = requests.post(
        server.url + "/_emulator/config", json={"faults": [{"kind": "boom"}]}, timeout=5
    )
    assert bad.status_code == 400
    assert (
        requests.post(server.url + "/_emulator/config", json={"nope": 1}, timeout=5).status_code
        == 400
    )
    requests.post(server.url + "/_emulator/reset-stats", timeout=5)
    assert server.stats() == {"calls": {}, "total": 0}


def test_config_from_json_file_roundtrip(tmp_path):
    data = {
        "read_quota_per_user": 60,
        "read_quota_per_project": 300,
        "write_quota_per_user": 60,
        "write_quota_per_project": 300,
        "drive_quota_per_user": 12000,
        "drive_quota_per_project": 12000,
        "quota_window_seconds": 60.0,
        "latency": 0.05,
        "enforce_sharing": True,
        "faults": [
            {"endpoint": "*", "status": 500, "probability": 0.1, "seed": 7, "kind": "status"}
        ],
    }
    path = tmp_path / "config.json"
    path.write_text(json.dumps(data))
    config = EmulatorConfig.from_json_file(path)
    assert config.faults[0] == FaultRule(endpoint="*", status=500, probability=0.1, seed=7)
    assert config.to_dict() == data
    with pytest.raises(ValueError):
        EmulatorConfig(read_quota_per_user=-1)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_cli_serve_with_config(tmp_path):
    config = tmp_path / "faults.json"
    config.write_text(
        json.dumps({"faults": [{"endpoint": "drive.files.create", "status": 503, "times": 1}]})
    )
    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sheets_emulator",
            "serve",
            "--root",
            str(tmp_path / "cli"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--config",
            str(config),
        ],
        cwd=MAIN_ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(MAIN_ROOT)},
    )
    try:
        assert proc.stdout.readline().startswith(
            f"Sheets emulator listening on http://127.0.0.1:{port}"
        )
        base = f"http://127.0.0.1:{port}"
        assert (
            requests.get(base + "/_emulator/config", timeout=5).json()["faults"][0]["status"] == 503
        )
        gc = emulator_client(base)
        with pytest.raises(gspread.exceptions.APIError) as excinfo:
            gc.create("CLI")
        assert api_code(excinfo) == 503
        assert gc.create("CLI").sheet1.title == "Sheet1"
        assert requests.get(base + "/_emulator/stats", timeout=5).json()["faults"] == {"503": 1}
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
