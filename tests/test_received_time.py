"""Received time is the time of the content counted (issue 18): never earlier than the unit's
last edit of what was read, decided by the unit's own edits in a file several units share, and
defensible where a read straddles the deadline.

The emulator's clock stands in for Google's (``EmulatorServer.set_clock``): a season is played
on it — edits, listings and reads at chosen moments around a deadline — through the real pull,
validation and ``dbt build``, in a database of this module's own.
"""

from __future__ import annotations

import datetime as dt

import pytest

from tests.conftest import query

DATABASE = "tonghop_received"
PER_UNIT = "CB-2026-6T"  # on time until 2026-06-20 23:59:59 +07 = 16:59:59Z
PER_PERIOD = "CB-2026-DX01"  # on time until 2026-08-25 23:59:59 +07 = 16:59:59Z
SUBMITTED = "Đã nộp"


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


def near(moment: dt.datetime, text: str) -> bool:
    """``moment`` is the emulator's clock set to ``text`` plus the time the step took (an edit
    of the shared file, seventy tabs, takes a second or two)."""
    return dt.timedelta(0) <= moment - utc(text) < dt.timedelta(seconds=10)


def submitted_cell(client, spreadsheet_id: str, tab: str) -> str:
    """A1 reference of the "Đã nộp" value in a tab (the unit's, in either layout)."""
    rows = client.http_client.values_get(spreadsheet_id, f"'{tab}'!A:A").get("values", [])
    row = next(i for i, r in enumerate(rows, 1) if r and r[0] == SUBMITTED)
    return f"'{tab}'!B{row}"


def edit_as(server, email: str, spreadsheet_id: str, cell: str, value: str) -> None:
    """The unit's official edits one cell, as themselves (Drive records them as its editor)."""
    from sheets_emulator import emulator_client

    emulator_client(server.url, user=email).http_client.values_update(
        spreadsheet_id, cell, params={"valueInputOption": "RAW"}, body={"values": [[value]]}
    )


@pytest.fixture(scope="module")
def season(settings, catalogue, tmp_path_factory):
    """Both layouts played on the emulator's clock, then `dbt build`. Returns what each step
    gave, for the tests to check against the marts."""
    import psycopg2

    from expectations.landed import validate_landed
    from ingest.provision import provision_period
    from ingest.pull import finish_pull, plan_pull, pull_period, read_spreadsheets
    from ingest.registry import register
    from pipeline.dbt import run_dbt
    from publish.unit_feedback import write_feedback
    from sheets import layout
    from sheets_emulator import EmulatorServer, emulator_client
    from testing.marts import build_submission_states
    from tooling import localdb
    from tooling.demo_setup import generate_into_emulator

    tmp = tmp_path_factory.mktemp("received")
    localdb.ensure_warehouse(DATABASE)
    server = EmulatorServer(tmp / "emulator", host="127.0.0.1", port=0).start()
    own = settings.for_database(DATABASE).with_overrides(
        emulator_url=server.url, sheets_backend="emulator", output_dir=tmp / "output"
    )
    facts: dict = {"server": server}
    try:
        # ---------------------------------------------------------------- per_unit
        manifest, entries = generate_into_emulator(
            PER_UNIT, seed=7, root=server.store.root, register=False
        )
        late, on_time = manifest.units_with("on_time")[:2]  # two complete reports
        ids = {e.unit_code: e.spreadsheet_id for e in entries}
        for e in entries:  # the two units' files are all Drive holds
            if e.unit_code not in (late, on_time):
                server.store.delete_file(e.spreadsheet_id)
        conn = psycopg2.connect(own.dsn("loader"))
        try:
            register(conn, [e for e in entries if e.unit_code in (late, on_time)])
        finally:
            conn.close()
        cell = (
            f"'{layout.TAB_INFO}'!B{4 + [k for k, _, _ in layout.INFO_FIELDS].index('submitted')}"
        )
        email = {
            u: catalogue.unit(u).contact_email or f"{u.lower()}@example.vn" for u in (late, on_time)
        }
        server.set_clock(utc("2026-06-20T16:00:00"))  # both take their report back
        for unit in (late, on_time):
            edit_as(server, email[unit], ids[unit], cell, "Chưa nộp")
        # (b) the last seconds of the last day
        server.set_clock(utc("2026-06-20T16:59:30"))
        edit_as(server, email[on_time], ids[on_time], cell, SUBMITTED)
        # (a) listed before the deadline, switched after the listing, read after
        server.set_clock(utc("2026-06-20T16:59:50"))
        plan = plan_pull(own, catalogue, PER_UNIT)
        server.set_clock(utc("2026-06-20T17:00:30"))
        edit_as(server, email[late], ids[late], cell, SUBMITTED)
        server.set_clock(utc("2026-06-20T23:00:00"))  # the reads come the next morning
        first = finish_pull(own, plan, [read_spreadsheets(own, plan.pull_run_id, plan.targets)])
        validate_landed(own, catalogue, PER_UNIT, first.pull_run_id)
        # (d) our check tab, written after the read, is now each file's last change
        build_submission_states(own)  # what the tab says comes from the marts
        server.set_clock(utc("2026-06-20T23:05:00"))
        told = write_feedback(own, catalogue, PER_UNIT, client=emulator_client(server.url))
        assert told.tabs_written == 2
        server.set_clock(utc("2026-06-20T23:10:00"))
        server.reset_stats()
        again = pull_period(own, catalogue, PER_UNIT, mode="changed")
        again_calls = {k: v for k, v in server.stats()["calls"].items() if v}
        quiet = pull_period(own, catalogue, PER_UNIT, mode="changed")
        facts["per_unit"] = {
            "late": late,
            "on_time": on_time,
            "ids": ids,
            "plan": plan,
            "first": first,
            "again": again,
            "again_calls": again_calls,
            "quiet": quiet,
        }

        # ---------------------------------------------------------------- per_period
        server.set_clock(utc("2026-08-15T02:00:00"))
        summary = provision_period(
            own, catalogue, PER_PERIOD, layout="per_period", client=emulator_client(server.url)
        )
        (shared,) = set(summary.spreadsheet_ids.values())
        x, y = [u for u in sorted(summary.tab_titles) if catalogue.unit(u).contact_email][:2]
        reader = emulator_client(server.url)
        cells = {u: submitted_cell(reader, shared, summary.tab_titles[u]) for u in (x, y)}
        pulls = []
        server.set_clock(utc("2026-08-16T02:00:00"))
        pulls.append(pull_period(own, catalogue, PER_PERIOD))  # the blank tabs
        # before the deadline by Google's clock, long after it by this machine's: not the
        # closing full pull (listed again as a changed pull: one more listing call)
        server.set_clock(utc("2026-08-20T02:00:00"))
        facts["before_deadline"] = pull_period(own, catalogue, PER_PERIOD)
        server.set_clock(utc("2026-08-25T16:00:00"))  # X: on time
        edit_as(server, catalogue.unit(x).contact_email, shared, cells[x], SUBMITTED)
        server.set_clock(utc("2026-08-25T17:30:00"))  # Y: after the deadline
        edit_as(server, catalogue.unit(y).contact_email, shared, cells[y], SUBMITTED)
        server.set_clock(utc("2026-08-26T00:00:00"))  # reads after both
        pulls.append(pull_period(own, catalogue, PER_PERIOD))
        server.set_clock(utc("2026-08-27T03:00:00"))  # Y again; X untouched
        edit_as(server, catalogue.unit(y).contact_email, shared, cells[y], "Chưa nộp")
        server.set_clock(utc("2026-08-27T04:00:00"))
        pulls.append(pull_period(own, catalogue, PER_PERIOD))
        for pulled in pulls:
            validate_landed(own, catalogue, PER_PERIOD, pulled.pull_run_id)
        facts["per_period"] = {"x": x, "y": y, "shared": shared, "pulls": pulls}
    finally:
        server.set_clock(None)
        server.stop()
    run_dbt(own, ["build"])
    facts["settings"] = own
    return facts


def versions(settings, period_code: str) -> dict[tuple[str, int], tuple]:
    """(unit, version number) → (received_at, received_basis, on time by the one rule)."""
    rows = query(
        settings.dsn("admin"),
        """
        select r.unit_code, r.version_number, r.received_at, r.received_basis,
               date_trunc('second', r.received_at) <= s.on_time_until
        from marts.fct_report_version r
        join marts.fct_submission s using (period_code, unit_code)
        where r.period_code = %s""",
        (period_code,),
    )
    return {(u, n): (at, basis, on_time) for u, n, at, basis, on_time in rows}


def test_an_edit_after_the_listing_is_judged_at_the_later_bound(season):
    """(a) Taken back ("Chưa nộp") at 23:00, listed at 23:59:50, switched to "Đã nộp" at
    00:00:30, read the next morning: the content read holds the late edit, so the listing's
    time (23:00) cannot be its received time."""
    facts, own = season["per_unit"], season["settings"]
    late = facts["late"]
    assert facts["plan"].listed_at == "2026-06-20T16:59:50.000Z"
    [(received, basis, evidence)] = query(
        own.dsn("admin"),
        """
        select received_at, received_basis,
               array[listed_modified_time, read_at, modified_after]
        from marts.fct_report_version where unit_code = %s and period_code = %s""",
        (late, PER_UNIT),
    )
    listed, read_at, modified_after = evidence
    assert near(listed, "2026-06-20T16:00:00")
    assert near(modified_after, "2026-06-20T17:00:30") and read_at >= utc("2026-06-20T23:00:00")
    assert (received, basis) == (modified_after, "read_bound")
    [(status,)] = query(
        own.dsn("admin"),
        """
        select reporting_status from marts.fct_submission
        where period_code = %s and unit_code = %s""",
        (PER_UNIT, late),
    )
    assert status == "late"


def test_an_edit_in_the_last_seconds_read_next_morning_is_on_time(season):
    """(b) Switched at 23:59:30 on the last day, read at 06:00 the next morning: Drive says the
    same time after the read, so the content read is the file as of 23:59:30."""
    facts, own = season["per_unit"], season["settings"]
    [(received, basis, status)] = query(
        own.dsn("admin"),
        """
        select s.received_at, r.received_basis, s.reporting_status
        from marts.fct_submission s
        join marts.fct_report_version r
          on r.period_code = s.period_code and r.unit_code = s.unit_code
         and r.sheet_version_id = s.first_complete_sheet_version_id
        where s.period_code = %s and s.unit_code = %s""",
        (PER_UNIT, facts["on_time"]),
    )
    assert near(received, "2026-06-20T16:59:30") and (basis, status) == ("listing", "on_time")


def test_a_file_changed_during_its_read_is_read_again_by_the_next_changed_pull(season):
    """(d) The late unit's file changed between the listing and the read; our check tab came
    last since, so Drive says the last change is ours — it is read again all the same, once."""
    facts = season["per_unit"]
    late_id = facts["ids"][facts["late"]]
    again, quiet = facts["again"], facts["quiet"]
    assert again.mode == "changed" and again.skipped_own_writes == 1  # the other unit's
    assert (again.fetched, again.new_versions, again.unchanged) == (1, 0, 1)
    assert facts["again_calls"] == {
        "drive.files.list": 1,
        "sheets.spreadsheets.get": 1,
        "drive.files.get": 1,
    }
    assert dict(again.api_calls) == facts["again_calls"]
    [(fetched,)] = query(
        season["settings"].dsn("admin"),
        """
        select array_agg(spreadsheet_id) from raw.sheet_fetches where pull_run_id = %s""",
        (again.pull_run_id,),
    )
    assert fetched == [late_id]
    assert (quiet.fetched, quiet.failed) == (0, 0)  # read again once, not forever


def test_in_a_shared_file_each_unit_is_received_at_its_own_edit(season):
    """(c) One file for the period, a tab per unit. X edits on time, Y after the deadline,
    the pull reads after both: the file's modifiedTime is Y's, yet X is on time and Y late;
    when Y edits again, X's unchanged part keeps its time."""
    facts, own = season["per_period"], season["settings"]
    x, y = facts["x"], facts["y"]
    got = versions(own, PER_PERIOD)
    expected = {
        (x, 2): ("2026-08-25T16:00:00", "unit_revision", True),
        (y, 2): ("2026-08-25T17:30:00", "unit_revision", False),
        (x, 3): ("2026-08-25T16:00:00", "unchanged_part", True),
        (y, 3): ("2026-08-27T03:00:00", "unit_revision", False),
    }
    for key, (moment, basis, on_time) in expected.items():
        received, got_basis, got_on_time = got[key]
        assert near(received, moment) and (got_basis, got_on_time) == (basis, on_time), key
    assert got[(x, 3)][0] == got[(x, 2)][0]
    first, second, third = facts["pulls"]
    # the closing full pull decided by Google's clock (the listing's Date), not this machine's
    assert [p.mode for p in (first, second, third)] == ["full", "full", "changed"]
    assert second.listed_at == "2026-08-26T00:00:00.000Z"
    assert second.api_calls["drive.revisions.list"] == 1
    assert second.api_calls["drive.files.get"] == 1
    [(revisions,)] = query(
        own.dsn("admin"),
        """
        select revisions from raw.sheet_versions where pull_run_id = %s""",
        (second.pull_run_id,),
    )
    editors = [r.get("lastModifyingUser", {}).get("emailAddress") for r in revisions]
    assert editors[-2:] == [catalogue_email(x), catalogue_email(y)]


def test_the_closing_full_pull_is_decided_by_googles_clock(season):
    """This machine's clock is months past the deadline; Google's (the listing's Date) is
    not: the pull stays a changed one, and the full pull comes at the first pull after the
    deadline by Google's clock."""
    early = season["before_deadline"]
    assert dt.datetime.now(dt.UTC) > utc("2026-08-25T17:00:00")
    assert (early.mode, early.listed_at) == ("changed", "2026-08-20T02:00:00.000Z")
    assert early.api_calls["drive.files.list"] == 2 and early.fetched == 0


def catalogue_email(unit_code: str) -> str:
    from tonghop.catalogue import load_catalogue

    return load_catalogue().unit(unit_code).contact_email


def test_the_pull_run_records_googles_time_of_its_listing(season):
    own = season["settings"]
    rows = query(
        own.dsn("admin"),
        """
        select listed_at from ops.pull_runs where period_code = %s order by started_at""",
        (PER_PERIOD,),
    )
    assert [r[0] for r in rows] == [
        utc("2026-08-16T02:00:00"),
        utc("2026-08-20T02:00:00"),
        utc("2026-08-26T00:00:00"),
        utc("2026-08-27T04:00:00"),
    ]
