"""Change detection: a pull costs one Drive listing call per 1,000 files plus one read per
changed spreadsheet; unchanged spreadsheets cost nothing."""

from __future__ import annotations

import datetime as dt

import pytest

from ingest.pull import choose_mode, pull_period
from tests.conftest import api_calls, query

PERIOD = "CB-2026-DX01"  # used by no other test
UTC = dt.UTC
#: the account a unit's official edits with (not the pipeline's, so Drive does not say "by me")
UNIT_OFFICIAL = "vanhoa.xa@caobang.gov.vn"


@pytest.fixture(scope="module")
def province(settings, emulator, catalogue):
    from tooling.demo_setup import generate_into_emulator

    settings = settings.with_overrides(emulator_url=emulator.url, sheets_backend="emulator")
    _, entries = generate_into_emulator(
        PERIOD, seed=11, root=emulator.store.root, settings=settings
    )
    return settings, [e.spreadsheet_id for e in entries]


def pull(settings, catalogue, **kwargs):
    return pull_period(settings, catalogue, PERIOD, **kwargs)


def test_exact_api_calls_full_then_nothing_then_some_changed(province, emulator, catalogue):
    from sheets_emulator import emulator_client

    settings, ids = province
    emulator.reset_stats()
    first = pull(settings, catalogue)
    assert first.mode == "full"
    # each read, then Drive's modifiedTime right after it (the received time's evidence)
    assert api_calls(emulator) == {
        "drive.files.list": 1,
        "sheets.spreadsheets.get": len(ids),
        "drive.files.get": len(ids),
    }
    assert first.new_versions == len(ids)

    emulator.reset_stats()
    second = pull(settings, catalogue)
    assert second.mode == "changed"
    assert api_calls(emulator) == {"drive.files.list": 1}  # nothing changed: only the listing
    assert (second.fetched, second.new_versions) == (0, 0)

    client = emulator_client(emulator.url, user=UNIT_OFFICIAL)  # units edit as themselves
    changed = ids[:3]
    for spreadsheet_id in changed:
        client.http_client.values_update(
            spreadsheet_id,
            "'Chỉ tiêu'!G2",
            params={"valueInputOption": "RAW"},
            body={"values": [["Số liệu đã rà soát lại"]]},
        )
    emulator.reset_stats()
    third = pull(settings, catalogue)
    assert api_calls(emulator) == {
        "drive.files.list": 1,
        "sheets.spreadsheets.get": 3,
        "drive.files.get": 3,
    }
    assert third.new_versions == 3
    [(versions,)] = query(
        settings.dsn("admin"),
        """
        select count(*) from raw.sheet_versions where spreadsheet_id = any(%s)""",
        (changed,),
    )
    assert versions == 6  # every version kept: the first and the changed one


def test_forced_full_pull_reads_everything_and_adds_nothing(province, emulator, catalogue):
    settings, ids = province
    emulator.reset_stats()
    summary = pull(settings, catalogue, mode="full")
    assert api_calls(emulator) == {
        "drive.files.list": 1,
        "sheets.spreadsheets.get": len(ids),
        "drive.files.get": len(ids),
    }
    assert (summary.unchanged, summary.new_versions) == (len(ids), 0)


def test_a_spreadsheet_that_keeps_failing_is_recorded_and_read_again_next_time(
    province, emulator, catalogue
):
    """503 on every try: retried with backoff, then recorded as not fetched with the reason;
    the other units go on, and the watermark does not move past it, so the next pull reads it."""
    from sheets.client import make_client
    from sheets.http import RetryPolicy
    from sheets_emulator import ApiError, emulator_client

    settings, ids = province
    victim, other = ids[5], ids[6]
    writer = emulator_client(emulator.url, user=UNIT_OFFICIAL).http_client
    for spreadsheet_id in (victim, other):
        writer.values_update(
            spreadsheet_id,
            "'Chỉ tiêu'!G3",
            params={"valueInputOption": "RAW"},
            body={"values": [["Bổ sung"]]},
        )

    def unavailable(request):
        if request.endpoint == "sheets.spreadsheets.get" and victim in request.path:
            raise ApiError(503, "The service is currently unavailable.")

    fast = make_client(
        settings, RetryPolicy(max_tries=3, base_seconds=0.01, cap_seconds=0.05, jitter_seconds=0.01)
    )
    emulator.app.add_interceptor(unavailable)
    emulator.reset_stats()
    try:
        failed = pull(settings, catalogue, client=fast)
    finally:
        emulator.app.interceptors.remove(unavailable)
    assert api_calls(emulator) == {
        "drive.files.list": 1,
        "sheets.spreadsheets.get": 1 + 3,
        "drive.files.get": 1,
    }  # after the read that succeeded
    assert fast.http_client.retries == 2
    assert failed.failed == 1 and "503" in failed.failures[victim]
    assert failed.new_versions == 1  # the other unit went on
    [(outcome, reason)] = query(
        settings.dsn("admin"),
        """
        select outcome, error_message from raw.sheet_fetches
        where pull_run_id = %s and spreadsheet_id = %s""",
        (failed.pull_run_id, victim),
    )
    assert outcome == "failed" and "503" in reason

    # The watermark stayed just before the victim's modifiedTime, so the listing returns the
    # victim and `other` (modified after it) again: `other` is read but adds no version.
    emulator.reset_stats()
    retried = pull(settings, catalogue)
    assert api_calls(emulator) == {
        "drive.files.list": 1,
        "sheets.spreadsheets.get": 2,
        "drive.files.get": 2,
    }
    assert (retried.failed, retried.new_versions, retried.unchanged) == (0, 1, 1)


def test_one_unit_read_again_on_request_leaves_the_watermark(province, emulator, catalogue):
    """`unit_codes`: those units' spreadsheets are read whether changed or not, other units'
    changes wait for the next pull (the watermark does not move)."""
    from sheets_emulator import emulator_client

    settings, ids = province
    pull(settings, catalogue)  # settle: nothing pending
    [(unit, asked)] = query(
        settings.dsn("admin"),
        """
        select unit_code, spreadsheet_id from ops.sheet_registry
        where period_code = %s and spreadsheet_id = %s""",
        (PERIOD, ids[9]),
    )
    edited = ids[10]
    emulator_client(emulator.url, user=UNIT_OFFICIAL).http_client.values_update(
        edited, "'Chỉ tiêu'!G4", params={"valueInputOption": "RAW"}, body={"values": [["Sửa sau"]]}
    )
    emulator.reset_stats()
    again = pull(settings, catalogue, unit_codes=[unit])
    assert api_calls(emulator) == {
        "drive.files.list": 1,
        "sheets.spreadsheets.get": 1,
        "drive.files.get": 1,
    }
    assert (again.mode, again.fetched, again.unchanged) == ("units", 1, 1)
    [(mode, units)] = query(
        settings.dsn("admin"),
        """
        select mode, unit_codes from ops.pull_runs where pull_run_id = %s""",
        (again.pull_run_id,),
    )
    assert (mode, units) == ("units", [unit])
    emulator.reset_stats()
    after = pull(settings, catalogue)  # the other unit's edit is still seen
    assert after.mode == "changed"
    assert api_calls(emulator) == {
        "drive.files.list": 1,
        "sheets.spreadsheets.get": 1,
        "drive.files.get": 1,
    }
    assert after.new_versions == 1
    with pytest.raises(ValueError, match="KHONG-CO"):
        pull(settings, catalogue, unit_codes=["KHONG-CO"])


def test_reads_in_shards_add_up_to_one_pull(province, emulator, catalogue):
    """What the DAG does: plan once, read the targets in shards (each its own client, as
    separate task processes would), finish once — the same calls and record as one pull."""
    from ingest.pull import finish_pull, plan_pull, read_spreadsheets

    settings, ids = province
    emulator.reset_stats()
    plan = plan_pull(settings, catalogue, PERIOD, mode="full")
    shards = plan.shards(size=7)
    assert [len(s) for s in shards] == [7] * (len(ids) // 7) + (
        [len(ids) % 7] if len(ids) % 7 else []
    )
    results = [read_spreadsheets(settings, plan.pull_run_id, shard) for shard in shards]
    summary = finish_pull(settings, plan, results)
    assert api_calls(emulator) == {
        "drive.files.list": 1,
        "sheets.spreadsheets.get": len(ids),
        "drive.files.get": len(ids),
    }
    assert (summary.fetched, summary.unchanged, summary.failed) == (len(ids), len(ids), 0)
    [(fetched, calls)] = query(
        settings.dsn("admin"),
        """
        select fetched, api_calls from ops.pull_runs where pull_run_id = %s""",
        (plan.pull_run_id,),
    )
    assert (fetched, calls["sheets.spreadsheets.get"]) == (len(ids), len(ids))
    assert plan.shards(size=len(ids) + 5) == [plan.targets]


def test_a_failed_read_is_read_again_though_our_own_write_came_last(province, emulator, catalogue):
    """A unit's edit, then its read fails, then we write its "Kết quả kiểm tra" tab (the
    warehouse rebuilt against the same Drive): Drive now says our own write came last. The
    next pull still reads it — a failed read is read again until it succeeds — and the pull
    after that has nothing left to read."""
    from ingest.pull import finish_pull, plan_pull, read_spreadsheets
    from sheets.client import make_client
    from sheets.http import RetryPolicy
    from sheets.layout import TAB_CHECK, check_sheet_id
    from sheets.writer import SheetsApi
    from sheets_emulator import ApiError, emulator_client

    settings, ids = province
    victim = ids[12]
    pull(settings, catalogue)  # settle: nothing pending
    emulator_client(emulator.url, user=UNIT_OFFICIAL).http_client.values_update(
        victim,
        "'Chỉ tiêu'!G5",
        params={"valueInputOption": "RAW"},
        body={"values": [["Số liệu bổ sung"]]},
    )

    def unavailable(request):
        if request.endpoint == "sheets.spreadsheets.get" and victim in request.path:
            raise ApiError(503, "The service is currently unavailable.")

    once = make_client(settings, RetryPolicy(max_tries=1))
    emulator.app.add_interceptor(unavailable)
    try:
        failed = pull(settings, catalogue, client=once)
    finally:
        emulator.app.interceptors.remove(unavailable)
    assert list(failed.failures) == [victim]

    # our own write comes last: the pipeline's account adds the unit's check tab
    ours = SheetsApi(make_client(settings), None)
    ours.batch_update(
        victim, [{"addSheet": {"properties": {"sheetId": check_sheet_id("x"), "title": TAB_CHECK}}}]
    )

    emulator.reset_stats()
    plan = plan_pull(settings, catalogue, PERIOD)  # the stages, as the DAG runs them
    assert plan.mode == "changed"
    assert [sid for sid, _ in plan.targets] == [victim]  # listed as ours, read anyway
    assert plan.skipped_own_writes == 0
    summary = finish_pull(
        settings, plan, [read_spreadsheets(settings, plan.pull_run_id, plan.targets)]
    )
    assert api_calls(emulator) == {
        "drive.files.list": 1,
        "sheets.spreadsheets.get": 1,
        "drive.files.get": 1,
    }
    assert (summary.failed, summary.new_versions) == (0, 1)

    emulator.reset_stats()
    after = pull(settings, catalogue)  # read: nothing left to read
    assert api_calls(emulator) == {"drive.files.list": 1}
    assert (after.fetched, after.failed) == (0, 0)


def test_a_sheet_anyone_can_edit_is_found_by_the_pull_at_no_extra_call(
    province, emulator, catalogue, alert_webhook, monkeypatch
):
    """A unit shares its sheet "anyone with the link can edit" (besides its own and the Sở's
    accounts, which are allowed): the pull's listing carries the permissions, so the pull costs
    what it did (one listing + one read); the share is recorded, the Sở alerted, listed for the
    reminder — and with TONGHOP_REVOKE_WIDE_SHARES=1 taken back (one call), the unit's own
    share kept."""
    from publish.reminder import wide_shares

    settings, ids = province
    victim = ids[14]
    [(unit_code,)] = query(
        settings.dsn("admin"),
        """
        select unit_code from ops.sheet_registry where spreadsheet_id = %s""",
        (victim,),
    )
    unit_email = catalogue.unit(unit_code).contact_email
    monkeypatch.setenv("TONGHOP_SO_EMAILS", "chuyenvien.vhttdl@caobang.gov.vn")
    pull(settings, catalogue)  # settle: nothing pending
    from sheets_emulator import emulator_client

    unit = emulator_client(emulator.url, user=UNIT_OFFICIAL)
    unit.http_client.values_update(
        victim,
        "'Chỉ tiêu'!G6",
        params={"valueInputOption": "RAW"},
        body={"values": [["Đã cập nhật"]]},
    )
    unit.insert_permission(victim, unit_email, perm_type="user", role="writer", notify=False)
    unit.insert_permission(
        victim, "chuyenvien.vhttdl@caobang.gov.vn", perm_type="user", role="reader", notify=False
    )
    unit.insert_permission(victim, None, perm_type="anyone", role="writer", with_link=True)

    emulator.reset_stats()
    found = pull(settings, catalogue)
    assert api_calls(emulator) == {
        "drive.files.list": 1,
        "sheets.spreadsheets.get": 1,
        "drive.files.get": 1,
    }
    assert (found.sharing_checked, found.wide_shares) == (1, 1)
    [(permission, kind, role, action)] = query(
        settings.dsn("admin"),
        """
        select f.permission_id, f.permission_type, f.role, f.action
        from ops.sharing_findings f join ops.sharing_checks c using (check_id)
        where c.run_id = %s""",
        (found.pull_run_id,),
    )
    assert (permission, kind, role, action) == ("anyoneWithLink", "anyone", "writer", "noted")
    [alert] = alert_webhook
    assert alert["period_code"] == PERIOD
    assert alert["shares"] == [f"{unit_code}: ai có đường liên kết cũng sửa được"]
    [listed] = wide_shares(settings, catalogue, PERIOD)
    assert listed["description"] == "ai có đường liên kết cũng sửa được"
    assert listed["unit_names"] == f"{catalogue.unit(unit_code).unit_name} ({unit_code})"

    pull(settings, catalogue)  # unchanged since: not listed, no new alert
    assert len(alert_webhook) == 1

    # taken back: a pull of that unit (an unfiltered listing) sees it again and revokes it
    monkeypatch.setenv("TONGHOP_REVOKE_WIDE_SHARES", "1")
    emulator.reset_stats()
    again = pull(settings, catalogue, unit_codes=[unit_code])
    assert api_calls(emulator) == {
        "drive.files.list": 1,
        "sheets.spreadsheets.get": 1,
        "drive.files.get": 1,
        "drive.permissions.delete": 1,
    }
    assert again.api_calls["drive.permissions.delete"] == 1
    assert "— đã thu hồi" in alert_webhook[-1]["shares"][0]
    kept = {(p["type"], p.get("emailAddress"), p["role"]) for p in unit.list_permissions(victim)}
    assert ("anyone", None, "writer") not in kept
    assert ("user", unit_email, "writer") in kept
    assert ("user", "chuyenvien.vhttdl@caobang.gov.vn", "reader") in kept
    assert wide_shares(settings, catalogue, PERIOD) == []


#: CB-2026-6T's last on-time moment: 23:59:59 on 20/6, Vietnam time (16:59:59 UTC)
ON_TIME_UNTIL = dt.datetime(2026, 6, 20, 16, 59, 59, tzinfo=UTC)


@pytest.mark.parametrize(
    "watermark, last_full, now, expected",
    [
        (None, None, dt.datetime(2026, 6, 1, tzinfo=UTC), "full"),  # first pull
        (
            dt.datetime(2026, 6, 1, tzinfo=UTC),
            dt.datetime(2026, 6, 1, tzinfo=UTC),
            dt.datetime(2026, 6, 10, tzinfo=UTC),
            "changed",
        ),  # before the due date
        (
            dt.datetime(2026, 6, 1, tzinfo=UTC),
            dt.datetime(2026, 6, 1, tzinfo=UTC),
            dt.datetime(2026, 6, 20, 1, tzinfo=UTC),
            "changed",
        ),  # the due day, 8:00
        (
            dt.datetime(2026, 6, 1, tzinfo=UTC),
            dt.datetime(2026, 6, 1, tzinfo=UTC),
            ON_TIME_UNTIL,
            "changed",
        ),  # its last second
        (
            dt.datetime(2026, 6, 1, tzinfo=UTC),
            dt.datetime(2026, 6, 1, tzinfo=UTC),
            ON_TIME_UNTIL + dt.timedelta(seconds=1),
            "full",
        ),  # just after it
        (
            dt.datetime(2026, 6, 20, tzinfo=UTC),
            ON_TIME_UNTIL + dt.timedelta(hours=7),
            dt.datetime(2026, 6, 21, 23, tzinfo=UTC),
            "changed",
        ),  # full done since
    ],
)
def test_auto_mode_pulls_in_full_just_after_the_last_on_time_moment(
    watermark, last_full, now, expected, catalogue
):
    assert catalogue.period("CB-2026-6T").on_time_until == ON_TIME_UNTIL  # the seed's
    assert choose_mode("auto", watermark, last_full, ON_TIME_UNTIL, now) == expected
    assert choose_mode("full", watermark, last_full, ON_TIME_UNTIL, now) == "full"


def test_listing_costs_one_call_per_thousand_files(settings, catalogue, tmp_path):
    """1,271 spreadsheets in Drive, 71 of them the period's: a full pull costs 2 listing calls
    + 71 reads; after 2 edits a pull costs 1 listing call (only changed files listed) + 2 reads."""
    from openpyxl import Workbook

    from sheets_emulator import EmulatorServer, emulator_client
    from tooling.demo_setup import generate_into_emulator

    period = "CB-2027-NAM"  # used by no other test
    with EmulatorServer(tmp_path / "drive", port=0) as server:
        filler = tmp_path / "other.xlsx"
        Workbook().save(filler)
        with server.store.batch():
            for n in range(1200):
                server.store.put_workbook(
                    None,
                    filler,
                    name=f"Bảng tính khác {n}",
                    modified_time="2026-01-05T00:00:00.000Z",
                )
        local = settings.with_overrides(emulator_url=server.url, sheets_backend="emulator")
        _, entries = generate_into_emulator(period, seed=5, root=server.store.root, settings=local)
        ids = [e.spreadsheet_id for e in entries]
        server.reset_stats()
        full = pull_period(local, catalogue, period, mode="full")
        assert {k: v for k, v in server.stats()["calls"].items() if v} == {
            "drive.files.list": 2,
            "sheets.spreadsheets.get": len(ids),
            "drive.files.get": len(ids),
        }
        assert full.files_listed == 1200 + len(ids)

        writer = emulator_client(server.url, user=UNIT_OFFICIAL).http_client
        for spreadsheet_id in ids[:2]:
            writer.values_update(
                spreadsheet_id,
                "'Chỉ tiêu'!G2",
                params={"valueInputOption": "RAW"},
                body={"values": [["sửa"]]},
            )
        server.reset_stats()
        changed = pull_period(local, catalogue, period, mode="changed")
        assert {k: v for k, v in server.stats()["calls"].items() if v} == {
            "drive.files.list": 1,
            "sheets.spreadsheets.get": 2,
            "drive.files.get": 2,
        }
        assert changed.new_versions == 2
