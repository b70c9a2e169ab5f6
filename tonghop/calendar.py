"""The reporting calendar: what to run for each period on a given day.

Every period of the catalogue has an opening day (``opens_on``: the unit sheets are created),
a submission window up to its last on-time moment (``on_time_until``, the catalogue's one
definition of the deadline), and a late window after it. The calendar runs once a day at
``RUN_TIME`` (Vietnam time). On each day:

- from the opening day to the last on-time day, the period is provisioned (idempotent: only
  units without a sheet cost API calls, so a day the scheduler missed is caught up the next day);
- every day of the submission window before the final pull: a pull of what changed;
- the final pull, reading every sheet (full), is the first run after ``on_time_until``: for a
  deadline at 23:59:59 on 20/6 that is 06:00 on 21/6, after the whole last day's work (a pull at
  06:00 on the due day itself would miss that day's reports);
- every day of the late window (up to ``LATE_WINDOW_DAYS`` after the last on-time day): a pull
  of what changed, and on its last day a full pull that closes the period.

Each pull is one run of the reporting cycle, which ends with the list of units still missing.
Ad hoc (đột xuất) periods follow the same calendar once they are in the catalogue.

A period is *live* from its opening day to its closing day. Every day some period is live, the
calendar asks for one build of the warehouse as of that day, once the morning's pulls are done
(whatever their outcome) — its pulls do not each trigger a build — so overdue reports and days
late are right on days nothing lands, and a morning costs one build and one publication. It also
checks that each live period's pulls are running (:mod:`pipeline.freshness`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass

from tonghop.catalogue import Catalogue, Period
from tonghop.vn import VN_TZ

#: days after the last on-time day during which late reports are still pulled
LATE_WINDOW_DAYS = 14

#: when the calendar runs each day, Vietnam time (dags/reporting_calendar.py's schedule)
RUN_TIME = dt.time(6, 0)


def final_pull_day(period: Period) -> dt.date:
    """The day of the final full pull: the first calendar run after the last on-time moment."""
    deadline = period.on_time_until.astimezone(VN_TZ)
    day = deadline.date()
    if dt.datetime.combine(day, RUN_TIME, tzinfo=VN_TZ) <= deadline:
        day += dt.timedelta(days=1)
    return day


def closing_day(period: Period, late_window_days: int = LATE_WINDOW_DAYS) -> dt.date:
    """The day of the closing full pull: the end of the late window (and never before the day
    after the final pull)."""
    last_day = period.on_time_until.astimezone(VN_TZ).date()
    return max(
        last_day + dt.timedelta(days=late_window_days),
        final_pull_day(period) + dt.timedelta(days=1),
    )


def work_deadline(period: Period, now: dt.datetime) -> dt.datetime | None:
    """The moment a period's API work started at ``now`` must be done by: its last on-time
    moment while that is ahead (units need their sheets, and their check tabs, before it);
    after it, the closing full pull's run (the late window's work before the period closes);
    after that, none."""
    if now < period.on_time_until:
        return period.on_time_until
    closing = dt.datetime.combine(closing_day(period), RUN_TIME, tzinfo=VN_TZ)
    return closing if now < closing else None


def live_periods(catalogue: Catalogue, day: dt.date) -> list[str]:
    """The periods open or in their late window on ``day`` (opening day to closing day)."""
    return [
        p.period_code
        for p in sorted(catalogue.periods.values(), key=lambda p: (p.due_date, p.period_code))
        if (p.opens_on or p.due_date) <= day <= closing_day(p)
    ]


@dataclass(frozen=True)
class Action:
    period_code: str
    kind: str  # provision | daily_pull | final_pull | late_pull | closing_pull
    full_pull: bool = False

    def as_dict(self) -> dict:
        return asdict(self)

    def run_id(self, day: dt.date) -> str:
        """A run id that is the same for the same action on the same day (a rerun of the
        calendar for that day triggers nothing twice)."""
        return f"calendar__{self.period_code}__{self.kind}__{day.isoformat()}"


def actions_on(
    catalogue: Catalogue, day: dt.date, late_window_days: int = LATE_WINDOW_DAYS
) -> list[Action]:
    """The actions of ``day`` for every period, in period order."""
    actions: list[Action] = []
    for period in sorted(catalogue.periods.values(), key=lambda p: (p.due_date, p.period_code)):
        last_day = period.on_time_until.astimezone(VN_TZ).date()
        opens, final = period.opens_on or period.due_date, final_pull_day(period)
        closes = closing_day(period, late_window_days)
        if opens <= day <= last_day:
            actions.append(Action(period.period_code, "provision"))
        if opens <= day < final:
            actions.append(Action(period.period_code, "daily_pull"))
        elif day == final:
            actions.append(Action(period.period_code, "final_pull", full_pull=True))
        elif final < day < closes:
            actions.append(Action(period.period_code, "late_pull"))
        elif day == closes:
            actions.append(Action(period.period_code, "closing_pull", full_pull=True))
    return actions


def plan(catalogue: Catalogue, day: dt.date) -> dict[str, list]:
    """What the calendar DAG triggers on ``day``: {"provision": [...], "cycles": [...],
    "builds": [...]}, each item the kwargs of one TriggerDagRunOperator (trigger_run_id,
    conf), and the periods "live" that day (whose pulls the freshness check watches)."""
    provision, cycles = [], []
    for action in actions_on(catalogue, day):
        if action.kind == "provision":
            provision.append(
                {"trigger_run_id": action.run_id(day), "conf": {"period_code": action.period_code}}
            )
        else:
            # the calendar's own build follows the morning's pulls: no build per landing
            cycles.append(
                {
                    "trigger_run_id": action.run_id(day),
                    "conf": {
                        "period_code": action.period_code,
                        "full_pull": action.full_pull,
                        "announce": False,
                    },
                }
            )
    live = live_periods(catalogue, day)
    builds = (
        [
            {
                "trigger_run_id": f"calendar__daily_build__{day.isoformat()}",
                "conf": {"as_of_date": day.isoformat(), "period_codes": live},
            }
        ]
        if live
        else []
    )
    return {"provision": provision, "cycles": cycles, "builds": builds, "live": live}
