"""Google's quota as the only limit: shards sized from it, the limiter holding it across
processes, several service accounts, and a deadline alert when a stage cannot make it.

The emulator here counts quotas as Google does — Sheets reads, Sheets writes and Drive queries
apart, per user and per project — over a window of 3 seconds instead of a minute (so that the
quota binds within a test), and shows each account only the files it owns or that are shared
with it. The pipeline works as three service accounts, with the same limits in its settings:
provisioning makes each unit's sheet as one of them, the pull reads each sheet as its own
account in three worker processes at once, the feedback writes each tab as that account. The
emulator's own counts are the oracle: no 429 when the limits are set right, each account
reading only its own sheets, one live sheet per unit whatever a retried shard did.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from collections import Counter
from unittest import mock

import pytest

from tests.conftest import query

DATABASE = "tonghop_quota"
PERIOD = "TD-2025-6T"  # 20 units
ACCOUNTS = tuple(f"tonghop-{n}@tonghop-quota.iam.gserviceaccount.com" for n in (1, 2, 3))
#: a quota that binds within a test: Google's shape (per user below per project, reads and
#: writes apart, Drive looser), a 3-second window instead of a minute
LIMITS = {
    "sheets_read_per_user": 5,
    "sheets_read_per_project": 10,
    "sheets_write_per_user": 5,
    "sheets_write_per_project": 10,
    "drive_per_user": 50,
    "drive_per_project": 100,
}
WINDOW = 3.0
MARGIN = 0.5
SHARD = 7  # 20 units: three shards


def _emulator_config(**extra):
    from sheets_emulator import EmulatorConfig

    return EmulatorConfig(
        read_quota_per_user=LIMITS["sheets_read_per_user"],
        read_quota_per_project=LIMITS["sheets_read_per_project"],
        write_quota_per_user=LIMITS["sheets_write_per_user"],
        write_quota_per_project=LIMITS["sheets_write_per_project"],
        drive_quota_per_user=LIMITS["drive_per_user"],
        drive_quota_per_project=LIMITS["drive_per_project"],
        quota_window_seconds=WINDOW,
        enforce_sharing=True,
        **extra,
    )


# ------------------------------------------------------------------------------ arithmetic
def test_a_shard_fits_half_its_timeout_at_its_worst_share_of_the_quota():
    from tonghop.quota import FEEDBACK_COST, PROVISION_COST, PULL_COST, Quota, shard_size

    google = Quota()
    hour = 3600.0
    # one account, the compose file's two tasks at once: the cap (200) fits easily
    assert (
        shard_size(
            PULL_COST, quota=google, identities=1, tasks_at_once=2, timeout_seconds=hour, cap=200
        )
        == 200
    )
    # sixteen tasks at once on one account: each gets 1/16 of 58 reads a minute
    crowded = shard_size(
        PULL_COST, quota=google, identities=1, tasks_at_once=16, timeout_seconds=hour, cap=200
    )
    per_item = 16 / (1 / google.interval(60))
    assert crowded * per_item <= hour / 2 < (crowded + 1) * per_item
    # five accounts: five times the per-user rate, under the project's 300
    assert (
        shard_size(
            FEEDBACK_COST,
            quota=google,
            identities=5,
            tasks_at_once=16,
            timeout_seconds=hour,
            cap=500,
        )
        > crowded
    )
    # provisioning's Drive calls (create, share) count against Drive's own, far larger quota:
    # the Sheets write decides
    assert (
        shard_size(
            PROVISION_COST,
            quota=google,
            identities=1,
            tasks_at_once=16,
            timeout_seconds=hour,
            cap=200,
        )
        == crowded
    )
    # a 10-minute timeout: never more than half of it, whatever the cap
    small = shard_size(
        PULL_COST, quota=google, identities=1, tasks_at_once=2, timeout_seconds=600, cap=200
    )
    assert small * 2 / (1 / google.interval(60)) <= 300


def test_the_quota_bound_of_the_issues_figures():
    """What the limiter lets through, against the issue's figures at 3,400 units."""
    from tonghop.quota import FEEDBACK_COST, PROVISION_COST, PULL_COST, Quota, seconds_for

    google = Quota()
    # one account: 3,400 reads at 60 a minute (a second's margin: 59 intervals a 61 s minute)
    assert seconds_for(3400, PULL_COST, google, 1) / 60 == pytest.approx(3400 / 59 * 61 / 60)
    # five accounts: five per-user limits, just under the project's 300 (~11.7 min, not 57);
    # a sixth account leaves the project's limit alone to bind
    assert seconds_for(3400, PULL_COST, google, 5) / 60 == pytest.approx(3400 / 295 * 61 / 60)
    assert seconds_for(3400, PULL_COST, google, 6) / 60 == pytest.approx(3400 / 299 * 61 / 60)
    assert seconds_for(3400, FEEDBACK_COST, google, 5) == seconds_for(3400, PULL_COST, google, 5)
    # provisioning: 3 calls a unit, but only the batchUpdate is a Sheets call
    assert seconds_for(3400, PROVISION_COST, google, 1) == seconds_for(3400, PULL_COST, google, 1)
    assert seconds_for(3400, PULL_COST, None, 1) == 0.0


def test_a_stage_that_cannot_make_the_deadline_says_so_when_it_starts(
    settings, catalogue, alert_webhook
):
    from pipeline.deadline import warn_if_late
    from tonghop.quota import FEEDBACK_COST, Quota
    from tonghop.vn import VN_TZ

    google = settings.with_overrides(sheets_quota=Quota())
    period = catalogue.period(PERIOD)
    # two hours before the deadline, 3,400 tabs to write as one account: ~58.6 minutes, fine
    early = period.on_time_until - dt.timedelta(hours=2)
    fine = warn_if_late(google, catalogue, PERIOD, "tell_units", 3400, FEEDBACK_COST, now=early)
    assert not fine["late"] and alert_webhook == []
    # half an hour before it: projected past the deadline, said at once, with the finish
    late_start = period.on_time_until - dt.timedelta(minutes=30)
    late = warn_if_late(
        google, catalogue, PERIOD, "tell_units", 3400, FEEDBACK_COST, now=late_start
    )
    assert late["late"] and late["late_seconds"] > 1500
    finish = late_start + dt.timedelta(seconds=late["quota_seconds"])
    assert late["projected_finish"] == finish.astimezone(VN_TZ).isoformat(timespec="seconds")
    assert late["deadline"] == period.on_time_until.isoformat(timespec="seconds")
    (alert,) = alert_webhook
    assert "deadline at risk" in alert["text"] and late["projected_finish"] in alert["text"]
    assert alert["items"] == 3400 and alert["service_accounts"] == 1
    assert "service accounts" in alert["advice"]
    # five accounts make it: the same work in a fifth of the time
    five = google.with_overrides(sheets_identities=("a", "b", "c", "d", "e"))
    assert not warn_if_late(
        five, catalogue, PERIOD, "tell_units", 3400, FEEDBACK_COST, now=late_start
    )["late"]
    assert len(alert_webhook) == 1
    # after the deadline, the closing pull's run is the deadline; after that, none
    after = period.on_time_until + dt.timedelta(days=1)
    assert warn_if_late(google, catalogue, PERIOD, "pull", 1, {}, now=after)["deadline"] > (
        period.on_time_until.isoformat()
    )
    assert (
        warn_if_late(google, catalogue, PERIOD, "pull", 1, {}, now=after.replace(year=2030))[
            "deadline"
        ]
        is None
    )
    assert early.tzinfo is not None


# ------------------------------------------------------------------------------ the world
@pytest.fixture(scope="module")
def world(settings, tmp_path_factory):
    """A warehouse database and an emulator of their own; settings that work as the three
    accounts under the test's quota."""
    from testing.province import own_warehouse
    from tonghop.quota import Quota

    folder = tmp_path_factory.mktemp("quota")
    quota = Quota(**LIMITS, window_seconds=WINDOW, margin_seconds=MARGIN)
    with own_warehouse(
        settings,
        DATABASE,
        folder,
        recreate=True,
        sheets_identities=ACCOUNTS,
        sheets_quota=quota,
        sheets_tasks_at_once=3,
    ) as (own, server):
        server.configure(_emulator_config())
        with mock.patch.dict(
            os.environ,
            {"TONGHOP_PROVISION_SHARD_SIZE": str(SHARD), "TONGHOP_FEEDBACK_SHARD_SIZE": str(SHARD)},
        ):
            yield own, server, quota


def _live_marked(server) -> dict[str, list[dict]]:
    """The emulator's live spreadsheets of the period, by the unit they are marked for."""
    found: dict[str, list[dict]] = {}
    for record in server.store.records():
        props = record.get("appProperties") or {}
        if props.get("tonghop_period") == PERIOD and not record.get("trashed"):
            found.setdefault(props.get("tonghop_unit"), []).append(record)
    return found


@pytest.fixture(scope="module")
def provisioned(world, catalogue):
    """The period provisioned through the DAG's stages, its first shard failing twice: once
    after a sheet was created (not yet shared), once after a sheet was shared but before it
    was registered; each retry goes on from there."""
    from gspread.exceptions import APIError

    import ingest.provision
    from pipeline.cycle import stage_finish_provision, stage_plan_provision, stage_provision_shard

    own, server, _ = world
    server.reset_stats()
    planned = stage_plan_provision(own, PERIOD)
    shards = planned["shards"]
    first, rest = shards[0], shards[1:]
    # try 1: the first sheet's batchUpdate refused: created, left unshared and unregistered
    server.configure(
        _emulator_config(
            faults=[{"endpoint": "sheets.spreadsheets.batchUpdate", "status": 400, "times": 1}]
        )
    )
    with pytest.raises(APIError):
        stage_provision_shard(own, **first)
    orphans_after_try_1 = {u: len(r) for u, r in _live_marked(server).items()}
    server.configure(_emulator_config())
    # try 2: the second unit's sheet made and shared, its registration lost
    real_register, calls = ingest.provision.register, Counter()

    def lost_once(conn, entries):
        calls["register"] += 1
        if calls["register"] == 2:
            raise RuntimeError("the worker died here")
        return real_register(conn, entries)

    with mock.patch.object(ingest.provision, "register", lost_once), pytest.raises(RuntimeError):
        stage_provision_shard(own, **first, recover=True)
    # try 3, then the other shards
    results = [stage_provision_shard(own, **first, recover=True)]
    results += [stage_provision_shard(own, **shard) for shard in rest]
    finished = stage_finish_provision(own, planned["plan"], results)
    return {
        "planned": planned,
        "orphans_after_try_1": orphans_after_try_1,
        "finished": finished,
        "stats": server.stats(),
    }


def test_provisioning_shares_the_units_among_the_accounts_in_shards(provisioned, world, catalogue):
    own, server, _ = world
    planned = provisioned["planned"]
    units = [u.unit_code for u in catalogue.expected_units(PERIOD)]
    assert len(units) == 20
    assert [len(s["items"]) for s in planned["shards"]] == [7, 7, 6]
    accounts = Counter(account for _, _, account in planned["plan"]["items"])
    assert sorted(accounts.values()) == [6, 7, 7] and set(accounts) == set(ACCOUNTS)
    # each shard takes the accounts in turn
    first = [account for _, _, account in planned["shards"][0]["items"]]
    assert first[:3] == sorted(ACCOUNTS)
    assert planned["projection"]["items"] == 20 and not planned["projection"]["late"]
    finished = provisioned["finished"]
    assert sorted(finished["created"]) == sorted(units) and finished["wide_shares"] == []
    # each sheet is owned by the account the registry records for it
    rows = query(
        own.dsn("loader"),
        "select unit_code, spreadsheet_id, service_account from ops.sheet_registry "
        "where period_code = %s",
        (PERIOD,),
    )
    assert len(rows) == 20
    for unit, spreadsheet_id, account in rows:
        owner = server.store.get_record(spreadsheet_id)["permissions"][0]
        assert (owner["role"], owner["emailAddress"]) == ("owner", account), unit
    # the sharing check lists once per account
    assert finished["api_calls"]["drive.files.list"] >= 3


def test_a_retried_provisioning_shard_leaves_one_live_sheet_per_unit(provisioned, world):
    own, server, _ = world
    # the first try left the first unit a sheet, unregistered
    assert sum(provisioned["orphans_after_try_1"].values()) == 1
    live = _live_marked(server)
    assert len(live) == 20 and all(len(sheets) == 1 for sheets in live.values()), {
        u: len(s) for u, s in live.items() if len(s) != 1
    }
    registered = dict(
        query(
            own.dsn("loader"),
            "select unit_code, spreadsheet_id from ops.sheet_registry where period_code = %s",
            (PERIOD,),
        )
    )
    assert {u: s[0]["id"] for u, s in live.items()} == registered
    trashed = [
        r
        for r in server.store.records()
        if (r.get("appProperties") or {}).get("tonghop_period") == PERIOD and r.get("trashed")
    ]
    # the unfinished sheet of try 1 went to the trash; the one shared in try 2 was kept
    assert len(trashed) == 1
    calls = provisioned["stats"]["calls"]
    assert calls["drive.files.create"] == 21  # 20 units, one made again (try 1's)
    assert calls["drive.permissions.create"] == 20  # each unit shared once
    assert provisioned["stats"].get("faults", {}).get("429", 0) == 0


# ------------------------------------------------------------------------------ the pull
def _shard_in_a_process(own, quota, pull_run_id: str, targets: list) -> subprocess.Popen:
    """One ``pull_shard`` in a process of its own, as a worker runs it: its settings from the
    environment, as any stage's."""
    env = dict(os.environ)
    env.update(
        {
            "TONGHOP_PG_DB": own.warehouse_db,
            "TONGHOP_SHEETS_BACKEND": "emulator",
            "TONGHOP_EMULATOR_URL": own.emulator_url,
            "TONGHOP_SHEETS_IDENTITIES": ",".join(ACCOUNTS),
            "TONGHOP_SHEETS_QUOTA": json.dumps(quota.as_dict()),
        }
    )
    code = (
        "import json, sys\n"
        "from pipeline.cycle import stage_pull_shard\n"
        "from tonghop.settings import load_settings\n"
        "print(json.dumps(stage_pull_shard(load_settings(), sys.argv[1], json.loads(sys.argv[2]))))"
    )
    return subprocess.Popen(
        [sys.executable, "-c", code, pull_run_id, json.dumps(targets)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture(scope="module")
def pulled(provisioned, world):
    """A full pull: the plan, three shards in three processes at once, the finish."""
    from pipeline.cycle import shard_kwargs, stage_finish_pull, stage_plan_pull

    own, server, quota = world
    server.reset_stats()
    planned = stage_plan_pull(own, PERIOD, "pull-quota-test", mode="full")
    shards = shard_kwargs(planned, size=SHARD)
    processes = [_shard_in_a_process(own, quota, s["pull_run_id"], s["targets"]) for s in shards]
    results = []
    for process in processes:
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0, err[-3000:]
        results.append(json.loads(out.strip().splitlines()[-1]))
    finished = stage_finish_pull(own, planned, results)
    return {"planned": planned, "shards": shards, "finished": finished, "stats": server.stats()}


def test_each_sheet_is_read_by_its_own_account_without_a_429(pulled, world):
    own, _, _ = world
    finished, stats = pulled["finished"], pulled["stats"]
    assert (finished["fetched"], finished["failed"]) == (20, 0), finished["failures"]
    assert len(pulled["shards"]) == 3
    # Google's quota held across three processes: not one call refused
    assert stats.get("faults", {}).get("429", 0) == 0
    accounts = dict(
        query(
            own.dsn("loader"),
            "select service_account, count(*) from ops.sheet_registry where period_code = %s "
            "group by 1",
            (PERIOD,),
        )
    )
    users = stats["users"]
    for account in ACCOUNTS:
        # each account read its own sheets, each once, and listed Drive once
        assert users[account]["sheets.spreadsheets.get"] == accounts[account], account
        assert users[account]["drive.files.list"] == 1, account
    assert "default" not in users
    # the plan's targets carry the account each sheet is read as
    assert {t[2] for t in pulled["planned"]["targets"] if len(t) > 2} == set(ACCOUNTS) - {
        ACCOUNTS[0]
    }


def test_without_the_limiter_the_same_reads_are_refused(pulled, world):
    """The control: the quota binds. The same reads with no limiter, as fast as they go, are
    answered 429 by the emulator's quota."""
    from gspread.exceptions import APIError

    from sheets.client import ClientPool, read_spreadsheet
    from sheets.http import RetryPolicy

    own, server, _ = world
    unlimited = ClientPool(own.with_overrides(sheets_quota=None), RetryPolicy(max_tries=1))
    rows = query(
        own.dsn("loader"),
        "select spreadsheet_id, service_account from ops.sheet_registry where period_code = %s",
        (PERIOD,),
    )
    server.reset_stats()
    refused = 0
    for spreadsheet_id, account in rows:
        try:
            read_spreadsheet(unlimited(account), spreadsheet_id)
        except APIError as exc:
            refused += exc.code == 429
    assert refused > 0 and server.stats()["faults"]["429"] == refused


# ------------------------------------------------------------------------------ feedback
@pytest.fixture(scope="module")
def told(pulled, world, catalogue):
    """The reports checked, the states built, then the feedback in shards: the first shard's
    worker dies after writing its second spreadsheet but before recording it; its retry."""
    import publish.unit_feedback
    from pipeline.cycle import stage_feedback_shard, stage_plan_feedback, stage_validate
    from testing.marts import build_submission_states

    own, server, _ = world
    stage_validate(own, PERIOD, pulled["finished"]["pull_run_id"])
    build_submission_states(own)
    shards = stage_plan_feedback(own, PERIOD)
    server.reset_stats()
    real_record, calls = publish.unit_feedback._record, Counter()

    died_at = []

    def dies_at_the_second(conn, period_code, group, *args, **kwargs):
        calls["record"] += 1
        if calls["record"] == 2:
            died_at.append(group[0].spreadsheet_id)
            raise RuntimeError("the worker died here")
        return real_record(conn, period_code, group, *args, **kwargs)

    with (
        mock.patch.object(publish.unit_feedback, "_record", dies_at_the_second),
        pytest.raises(RuntimeError),
    ):
        stage_feedback_shard(own, **shards[0])
    first_try = server.stats()["calls"].get("sheets.spreadsheets.batchUpdate", 0)
    retried = stage_feedback_shard(own, **shards[0])
    others = [stage_feedback_shard(own, **shard) for shard in shards[1:]]
    return {
        "shards": shards,
        # which spreadsheet is second is the quota's choice (the account whose quota frees up
        # soonest goes next), not the shard's order
        "second": died_at[0],
        "first_try_writes": first_try,
        "retried": retried,
        "others": others,
        "stats": server.stats(),
    }


def test_a_retried_feedback_shard_writes_nothing_twice(told, world):
    own, server, _ = world
    shards = told["shards"]
    assert [len(s["spreadsheet_ids"]) for s in shards] == [7, 7, 6]
    assert told["first_try_writes"] == 2
    # the retry wrote what was not recorded: the 2nd spreadsheet again (redrawn), then the rest
    assert told["retried"]["tabs_written"] == 6
    written = query(
        own.dsn("loader"),
        "select unit_code, count(*) from ops.feedback_writes where period_code = %s "
        "and outcome = 'written' group by 1",
        (PERIOD,),
    )
    assert len(written) == 20 and {n for _, n in written} == {1}
    # the spreadsheet written twice holds one check tab, not two
    from sheets import layout

    second = told["second"]
    assert second in shards[0]["spreadsheet_ids"]
    model = server.store.snapshot(second)
    titles = [ws.title for ws in model.sheets]
    assert sum(1 for t in titles if t == layout.check_tab_title("")) == 1, titles
    stats = told["stats"]
    assert stats.get("faults", {}).get("429", 0) == 0
    # each account wrote its own sheets' tabs
    registry = dict(
        query(
            own.dsn("loader"),
            "select spreadsheet_id, service_account from ops.sheet_registry where period_code = %s",
            (PERIOD,),
        )
    )
    by_account = Counter(registry[sid] for s in shards for sid in s["spreadsheet_ids"])
    # (the spreadsheet written twice: once by the first try, and by the retry twice — its
    # record said no tab was there, Sheets refused to add a second, the tab was redrawn)
    writes = {a: stats["users"][a]["sheets.spreadsheets.batchUpdate"] for a in ACCOUNTS}
    assert writes == {a: n + 2 * (a == registry[second]) for a, n in by_account.items()}
