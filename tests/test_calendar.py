"""The reporting calendar: which runs each day starts, from the catalogue's dates."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from tonghop.calendar import LATE_WINDOW_DAYS, RUN_TIME, actions_on, final_pull_day, plan
from tonghop.vn import VN_TZ

PERIOD = "CB-2026-6T"  # opens 2026-06-01, due 2026-06-20, on time until 23:59:59 that day


def kinds(catalogue, day: dt.date, period: str = PERIOD) -> list[tuple[str, bool]]:
    return [(a.kind, a.full_pull) for a in actions_on(catalogue, day) if a.period_code == period]


def test_nothing_before_a_period_opens(catalogue):
    assert kinds(catalogue, dt.date(2026, 5, 31)) == []


def test_the_opening_day_provisions_and_pulls(catalogue):
    assert kinds(catalogue, dt.date(2026, 6, 1)) == [("provision", False), ("daily_pull", False)]


def test_every_day_of_the_window_pulls_what_changed(catalogue):
    # the due date included: its 06:00 run comes before that day's work, which is on time
    for day in range(1, 21):
        assert ("daily_pull", False) in kinds(catalogue, dt.date(2026, 6, day))


def test_the_final_full_pull_is_the_first_run_after_the_last_on_time_moment(catalogue):
    # on time until 23:59:59 on 20/6 (the catalogue's on_time_until): the 06:00 run of 20/6 is
    # before that day's work, so the final full pull is the 06:00 run of 21/6
    period = catalogue.period(PERIOD)
    assert period.on_time_until == dt.datetime(2026, 6, 20, 23, 59, 59, tzinfo=VN_TZ)
    assert kinds(catalogue, dt.date(2026, 6, 20)) == [("provision", False), ("daily_pull", False)]
    assert kinds(catalogue, dt.date(2026, 6, 21)) == [("final_pull", True)]
    run = dt.datetime.combine(dt.date(2026, 6, 21), RUN_TIME, tzinfo=VN_TZ)
    assert run > period.on_time_until


def test_a_deadline_before_the_morning_run_is_pulled_that_morning(catalogue):
    period = dataclasses.replace(
        catalogue.period(PERIOD), on_time_until=dt.datetime(2026, 6, 20, 5, 0, tzinfo=VN_TZ)
    )
    assert final_pull_day(period) == dt.date(2026, 6, 20)


def test_the_late_window_pulls_then_closes_with_a_full_pull(catalogue):
    due = dt.date(2026, 6, 20)
    assert kinds(catalogue, due + dt.timedelta(days=2)) == [("late_pull", False)]
    assert kinds(catalogue, due + dt.timedelta(days=LATE_WINDOW_DAYS)) == [("closing_pull", True)]
    assert kinds(catalogue, due + dt.timedelta(days=LATE_WINDOW_DAYS + 1)) == []


def test_every_period_of_the_catalogue_gets_exactly_one_final_pull(catalogue):
    finals = []
    for period in catalogue.periods.values():
        day = period.opens_on
        while day <= period.due_date + dt.timedelta(days=LATE_WINDOW_DAYS + 1):
            finals += [
                (a.period_code, day)
                for a in actions_on(catalogue, day)
                if a.period_code == period.period_code and a.kind == "final_pull"
            ]
            day += dt.timedelta(days=1)
    # each the morning after its last on-time day (every catalogue deadline ends at 23:59:59)
    assert sorted(finals) == sorted(
        (p.period_code, p.due_date + dt.timedelta(days=1)) for p in catalogue.periods.values()
    )


@pytest.mark.parametrize("day", [dt.date(2026, 6, 5), dt.date(2026, 6, 20), dt.date(2026, 6, 25)])
def test_the_plan_has_stable_run_ids_and_the_conf_the_cycle_expects(catalogue, day):
    today = plan(catalogue, day)
    again = plan(catalogue, day)
    assert today == again
    ids = [t["trigger_run_id"] for t in today["provision"] + today["cycles"]]
    assert len(ids) == len(set(ids)) and all(day.isoformat() in i for i in ids)
    for item in today["cycles"]:
        assert set(item["conf"]) == {"period_code", "full_pull", "announce"}
        assert item["conf"]["announce"] is False  # the calendar's own build follows
        assert item["conf"]["period_code"] in catalogue.periods


def test_every_live_day_builds_the_warehouse_as_of_that_day(catalogue):
    """Overdue reports and days late move every day: the calendar asks for one build a day
    while a period is live (its opening day to its closing day), as of that day, and none when
    no period is."""
    due = dt.date(2026, 6, 20)
    for day in (
        dt.date(2026, 6, 1),
        due,
        due + dt.timedelta(days=3),
        due + dt.timedelta(days=LATE_WINDOW_DAYS),
    ):
        today = plan(catalogue, day)
        assert PERIOD in today["live"]
        [build] = today["builds"]
        assert build == {
            "trigger_run_id": f"calendar__daily_build__{day.isoformat()}",
            "conf": {"as_of_date": day.isoformat(), "period_codes": today["live"]},
        }
    quiet = dt.date(2026, 7, 20)  # after CB-2026-6T closed, before CB-2026-DX01 opens
    assert plan(catalogue, quiet)["live"] == [] and plan(catalogue, quiet)["builds"] == []
    assert PERIOD not in plan(catalogue, due + dt.timedelta(days=LATE_WINDOW_DAYS + 1))["live"]
