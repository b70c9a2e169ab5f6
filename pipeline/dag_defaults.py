"""What every DAG of the project shares, in one place: its start date, no catch-up, the
failure alert on every task (``tonghop.alerts.on_task_failure``), the retry policy
(``retry_delay``: ``TONGHOP_RETRY_DELAY_SECONDS`` or 30 s) and how often a task that waits
for the runs it triggered looks at them (:func:`poke_interval`). A DAG states only what is its
own: its schedule, its retries and budgets, its tags."""

from __future__ import annotations

import datetime as dt
import os

from pipeline.cycle import retry_delay
from tonghop.alerts import on_task_failure

#: every DAG starts here, the date of the catalogue's earliest plan (Tam Đường's 305-KH/HU,
#: 30/9/2024), so that any period of the catalogue can be run on the calendar (a replay, the
#: review season's Tam Đường period of 2025); none catches up (a missed day is caught up by the
#: next run)
START_DATE = dt.datetime(2024, 9, 30, tzinfo=dt.UTC)
DAG_DEFAULTS = {"start_date": START_DATE, "catchup": False}


def default_args(
    *,
    retries: int = 1,
    delay: dt.timedelta | None = None,
    execution_timeout: dt.timedelta | None = None,
) -> dict:
    """The tasks' defaults: ``retries`` tries more after ``delay`` (default
    :func:`pipeline.cycle.retry_delay`), the failure alert, and a budget when given."""
    args = {
        "retries": retries,
        "retry_delay": delay or retry_delay(),
        "on_failure_callback": on_task_failure,
    }
    if execution_timeout is not None:
        args["execution_timeout"] = execution_timeout
    return args


#: seconds between two looks of a task at the runs it triggered and waits for (the calendar's)
POKE_SECONDS = 10


def poke_interval() -> float:
    """``TONGHOP_POKE_SECONDS`` (read where the DAG is parsed: the tests' season shortens it,
    since each wait ends on its next look) or :data:`POKE_SECONDS`."""
    return float(os.environ.get("TONGHOP_POKE_SECONDS") or POKE_SECONDS)
