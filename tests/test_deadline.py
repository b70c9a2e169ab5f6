"""One definition of each deadline: the catalogue's last on-time moment, read by the Python
catalogue and worded once for units and the Sở."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt

import pytest

from sheets import layout
from tonghop.catalogue import CATALOGUE_DIR, Catalogue, deadline_vi, end_of_day
from tonghop.vn import VN_TZ, nfc


def seed_rows() -> dict[str, dict[str, str]]:
    with (CATALOGUE_DIR / "periods.csv").open(encoding="utf-8", newline="") as fh:
        return {r["period_code"]: r for r in csv.DictReader(fh)}


def test_the_reader_takes_each_periods_moment_from_its_seed_row():
    catalogue = Catalogue()
    rows = seed_rows()
    assert set(catalogue.periods) == set(rows)
    for code, row in rows.items():
        # the seed row's text, parsed here without the project's reader
        day, time = row["on_time_until"][:10], row["on_time_until"][11:19]
        expected = dt.datetime(*map(int, day.split("-")), *map(int, time.split(":")), tzinfo=VN_TZ)
        period = catalogue.periods[code]
        assert (
            period.on_time_until == expected
            and period.on_time_until.utcoffset() == dt.timedelta(hours=7)
        )
        assert period.on_time_until.date() >= period.due_date


def test_the_catalogue_reads_the_plans_deadlines_that_day_included():
    # "trước ngày 20/6" read as the Sở's office reads it: 20/6 is still on time
    period = Catalogue().period("CB-2026-6T")
    assert period.on_time_until == dt.datetime(2026, 6, 20, 23, 59, 59, tzinfo=VN_TZ)


@pytest.mark.parametrize(
    "moment, text",
    [
        (
            dt.datetime(2026, 6, 20, 23, 59, 59, tzinfo=VN_TZ),
            "chậm nhất 23 giờ 59 phút ngày 20/06/2026",
        ),
        (
            dt.datetime(2026, 4, 15, 10, 0, tzinfo=dt.UTC),  # 17:00 in Vietnam
            "chậm nhất 17 giờ 00 phút ngày 15/04/2026",
        ),
        (
            dt.datetime(2026, 11, 29, 16, 59, 59, tzinfo=dt.UTC),  # 23:59:59 in Vietnam
            "chậm nhất 23 giờ 59 phút ngày 29/11/2026",
        ),
    ],
)
def test_the_one_wording_of_a_deadline(moment, text):
    assert deadline_vi(moment) == text == nfc(text)


def test_a_period_without_a_moment_is_on_time_until_the_end_of_its_due_date():
    period = dataclasses.replace(Catalogue().period("CB-2026-DX01"), on_time_until=None)
    assert (
        period.on_time_until
        == end_of_day(dt.date(2026, 8, 25))
        == dt.datetime(2026, 8, 25, 23, 59, 59, tzinfo=VN_TZ)
    )
    with pytest.raises(ValueError, match="before the due date"):
        dataclasses.replace(period, on_time_until=dt.datetime(2026, 8, 24, 23, 0, tzinfo=VN_TZ))


def test_the_sheet_says_the_catalogues_moment():
    catalogue = Catalogue()
    period = catalogue.period("CB-2026-6T")
    guide = layout.guide_lines(catalogue.programmes[period.programme_code], period)
    assert any(
        "Hạn nộp: chậm nhất 23 giờ 59 phút ngày 20/06/2026 (giờ Việt Nam)." in line
        for line in guide
    )
    assert not any("trước ngày" in line for line in guide)
    unit = sorted(catalogue.assigned_units(period.programme_code))[0]
    info = next(
        t
        for t in layout.report_tabs(catalogue, unit, period.period_code)
        if t.title == layout.TAB_INFO
    )
    assert ["Hạn nộp", "Chậm nhất 23 giờ 59 phút ngày 20/06/2026"] in info.rows
