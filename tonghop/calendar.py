"""The reporting calendar: what to run for each period on a given day.

Every period of the catalogue has an opening day (``opens_on``: the unit sheets are created),
a submission window up to its due date, and a late window after it. On each day:

- from the opening day to the due date, the period is provisioned (idempotent: only units
  without a sheet cost API calls, so a day the scheduler missed is caught up the next day);
- every day of the submission window before the due date: a pull of what changed;
- on the due date: the final pull, reading every sheet (full);
- every day of the late window (``LATE_WINDOW_DAYS`` after the due date): a pull of what
  changed, and on its last day a full pull that closes the period.

Each pull is one run of the reporting cycle, which ends with the list of units still missing.
Ad hoc (đột xuất) periods follow the same calendar once they are in the catalogue.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass

from tonghop.catalogue import Catalogue

#: days after the due date during which late reports are still pulled
LATE_WINDOW_DAYS = 14


@dataclass(frozen=True)
class Action:
    period_code: str
    kind: str            # provision | daily_pull | final_pull | late_pull | closing_pull
    full_pull: bool = False

    def as_dict(self) -> dict:
        return asdict(self)

    def run_id(self, day: dt.date) -> str:
        """A run id that is the same for the same action on the same day (a rerun of the
        calendar for that day triggers nothing twice)."""
        return f"calendar__{self.period_code}__{self.kind}__{day.isoformat()}"


def actions_on(catalogue: Catalogue, day: dt.date,
               late_window_days: int = LATE_WINDOW_DAYS) -> list[Action]:
    """The actions of ``day`` for every period, in period order."""
    actions: list[Action] = []
    for period in sorted(catalogue.periods.values(), key=lambda p: (p.due_date, p.period_code)):
        opens, due = period.opens_on or period.due_date, period.due_date
        closes = due + dt.timedelta(days=late_window_days)
        if opens <= day <= due:
            actions.append(Action(period.period_code, "provision"))
        if opens <= day < due:
            actions.append(Action(period.period_code, "daily_pull"))
        elif day == due:
            actions.append(Action(period.period_code, "final_pull", full_pull=True))
        elif due < day < closes:
            actions.append(Action(period.period_code, "late_pull"))
        elif day == closes:
            actions.append(Action(period.period_code, "closing_pull", full_pull=True))
    return actions


def plan(catalogue: Catalogue, day: dt.date) -> dict[str, list[dict]]:
    """What the calendar DAG triggers on ``day``: {"provision": [...], "cycles": [...]}, each
    item the kwargs of one TriggerDagRunOperator (trigger_run_id, conf)."""
    provision, cycles = [], []
    for action in actions_on(catalogue, day):
        if action.kind == "provision":
            provision.append({"trigger_run_id": action.run_id(day),
                              "conf": {"period_code": action.period_code}})
        else:
            cycles.append({"trigger_run_id": action.run_id(day),
                           "conf": {"period_code": action.period_code,
                                    "full_pull": action.full_pull}})
    return {"provision": provision, "cycles": cycles}
