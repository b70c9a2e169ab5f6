"""Building just enough of the warehouse for a test of what reads it."""

from __future__ import annotations

import datetime as dt


def build_submission_states(settings, as_of_date: dt.date | None = None) -> dict:
    """``dbt build`` of ``marts.fct_submission`` and everything it stands on, without the data
    tests, as of ``as_of_date`` (None: today): the units' states that their "Kết quả kiểm tra"
    tabs say, for a test that writes the tabs without building the whole warehouse."""
    from pipeline.dbt import run_dbt

    return run_dbt(
        settings,
        [
            "build",
            "--select",
            "+fct_submission",
            "--exclude",
            "resource_type:test",
        ],
        as_of_date,
    )
