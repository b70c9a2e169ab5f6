"""A season with review (issue 24), driven through the DAGs as they run on the calendar.

The machinery is the reporting season's (``tests/test_season.py``: Airflow's services, the
calendar run for each simulated morning with ``airflow dags test`` while it stays paused, the
scheduler running what it triggers, the emulator's clock moved with the days, units editing
their sheets through the Sheets API as themselves), on Tam
Đường's TD-2025-6T, whose catalogue row requires review (``periods.csv`` review_required):
Ban Tuyên giáo Huyện ủy (the programme's consolidating body, "the Sở" of this plan) reviews,
and UBND huyện (TD-UBND) first reviews its three commune party committees (``units.csv``
parent_unit_code; the district existed until 30/6/2025). Reviewers write their decisions in
their "Duyệt báo cáo" sheet through the Sheets API as themselves, on the row the sheet lists
for the version they decide on.

| morning | what happened before it |
| --- | --- |
| 10/6 | the units' sheets were provisioned on 1/6 (``tonghop_provision_period`` triggered through Airflow's API, run by the scheduler); A, B, C and the communes X1, X2, X3 sent valid reports (5/6); the first pull, and the review sheets are made |
| 15/6 | the Sở returned A (with a reason) and accepted B; wrote "Trả lại" for C without a reason, and a decision for CB-XA-001 (not in the period) on a row of its own; the district accepted X1, wrote "Đồng ý" for X2, returned X3 (with a reason) |
| 21/6 | A fixed its report (16/6), X3 too; B edited its accepted report (17/6); the Sở accepted X1 (now at its level) and gave C's return its reason; the district accepted X2 |
| 22/6 | the Sở accepted A's new version and X2; the district accepted X3's new version |

Every unit not named never opens its sheet. Each morning the marts, the published summary and
what each reviewer's sheet lists are compared with an oracle computed here from the script
alone (which content each pull saw, which decision each reviewer wrote on which version, by the
rules the warehouse states), not from the project's code.
"""

from __future__ import annotations

import datetime as dt
import os
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from types import SimpleNamespace

import pytest

from tests.conftest import ROOT, TEST_STATE, query
from tests.test_season import Edit, Season, figures_written, scheduler

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]

PERIOD = "TD-2025-6T"
WAREHOUSE_DB = "tonghop_review"
METADATA_DB = "airflow_review"
TOP = "tong_hop"
DISTRICT = "TD-UBND"
UNITS = {
    "A": "TD-HDND",
    "B": "TD-BTC",
    "C": "TD-UBKT",
    "X1": "TD-DUX-01",
    "X2": "TD-DUX-02",
    "X3": "TD-DUX-03",
}
COMMUNES = ("X1", "X2", "X3")
RETURN_A = "Số cuộc kiểm tra cao bất thường so với kỳ trước, đề nghị kiểm tra lại"
RETURN_X3 = "Thiếu số lượt người được quán triệt"
RETURN_C = "Chưa nêu số văn bản đã ban hành"
#: with TONGHOP_UPDATE_DOCS=1 the Sở's sheet of 15/6 is also drawn into the docs
UPDATE_DOCS = os.environ.get("TONGHOP_UPDATE_DOCS") == "1"


def at(day: str, clock: str = "06:00:00") -> dt.datetime:
    return dt.datetime.fromisoformat(f"2025-{day}T{clock}+07:00")


#: the calendar's mornings (the opening day's provisioning runs alone before them: a morning
#: less to build and publish, what the suite's time asks)
MORNINGS = ("06-10", "06-15", "06-21", "06-22")
EDITS = [
    Edit("A", at("06-05", "09:00:00"), "valid", (40, 3)),
    Edit("B", at("06-05", "09:30:00"), "valid", (6, 2)),
    Edit("C", at("06-05", "10:00:00"), "valid", (2, 1)),
    Edit("X1", at("06-05", "14:00:00"), "valid", (5, 120)),
    Edit("X2", at("06-05", "14:30:00"), "valid", (3, 80)),
    Edit("X3", at("06-05", "15:00:00"), "valid", (4, 0)),
    Edit("A", at("06-16", "09:00:00"), "valid", (4, 3)),  # fixed after the return
    Edit("X3", at("06-16", "10:00:00"), "valid", (4, 95)),  # fixed after the return
    Edit("B", at("06-17", "11:00:00"), "valid", (9, 2)),  # edited after acceptance
]


@dataclass(frozen=True)
class Decision:
    """What a reviewer writes: on the row of ``unit``'s version ``version`` (its number, as the
    sheet lists it), or on a row of its own (``version`` None: the unit's code typed in it)."""

    at: dt.datetime
    reviewer: str
    unit: str  # a script name, or a unit code typed by hand
    version: int | None
    text: str
    reason: str = ""


DECISIONS = [
    Decision(at("06-12", "09:00:00"), TOP, "A", 1, "Trả lại", RETURN_A),
    Decision(at("06-12", "09:01:00"), TOP, "B", 1, "Chấp nhận"),
    Decision(at("06-12", "09:02:00"), TOP, "C", 1, "Trả lại"),  # no reason: refused
    Decision(at("06-12", "09:03:00"), TOP, "CB-XA-001", None, "Chấp nhận"),  # not in the period
    Decision(at("06-12", "10:00:00"), DISTRICT, "X1", 1, "chấp nhận"),  # case: still the label
    Decision(at("06-12", "10:01:00"), DISTRICT, "X2", 1, "Đồng ý"),  # not a decision: refused
    Decision(at("06-12", "10:02:00"), DISTRICT, "X3", 1, "Trả lại", RETURN_X3),
    Decision(at("06-18", "09:00:00"), TOP, "X1", 1, "Chấp nhận"),
    Decision(at("06-18", "09:01:00"), TOP, "C", 1, "Trả lại", RETURN_C),
    Decision(at("06-18", "10:00:00"), DISTRICT, "X2", 1, "Chấp nhận"),
    Decision(at("06-21", "09:00:00"), TOP, "A", 2, "Chấp nhận"),
    Decision(at("06-21", "09:01:00"), TOP, "X2", 1, "Chấp nhận"),
    Decision(at("06-21", "10:00:00"), DISTRICT, "X3", 2, "Chấp nhận"),
]
LABELS = {"chấp nhận": "chap_nhan", "trả lại": "tra_lai"}
STATE_VI = {"cho_duyet": "Chờ duyệt", "da_chap_nhan": "Đã chấp nhận", "bi_tra_lai": "Đã trả lại"}


# ------------------------------------------------------------------ the oracle
@dataclass
class Seen:
    kind: str  # blank | valid
    received_at: dt.datetime | None
    values: tuple = ()


@dataclass
class Oracle:
    """What the figures must be, from the script and the stated rules: a report counts from
    its latest version accepted by the Sở — and, for a commune, by its district first —, on
    time by its first valid version, its figures the accepted version's; a decision holds for
    the version it was written for; a refused decision (not one of the two labels, a return
    without a reason, a unit not in the period) changes nothing."""

    expected: list[str]
    indicators: dict[str, list[str]]
    on_time_until: dt.datetime
    versions: dict[str, list[Seen]] = field(default_factory=lambda: defaultdict(list))
    #: (reviewer, unit code, version number) -> the decisions that hold, in order
    decided: dict[tuple, list[tuple]] = field(default_factory=lambda: defaultdict(list))

    def pull(self, morning: dt.datetime) -> None:
        for code in self.expected:
            name = next((n for n, c in UNITS.items() if c == code), None)
            edits = [e for e in EDITS if e.unit == name and e.at < morning]
            seen = Seen("valid", edits[-1].at, edits[-1].values) if edits else Seen("blank", None)
            if not self.versions[code] or self.versions[code][-1] != seen:
                self.versions[code].append(seen)

    def read_decisions(self, since: dt.datetime, morning: dt.datetime) -> None:
        for d in DECISIONS:
            if not since <= d.at < morning:
                continue
            code = LABELS.get(d.text.strip().lower())
            unit = UNITS.get(d.unit)
            if code is None or (code == "tra_lai" and not d.reason) or unit not in self.expected:
                continue
            self.decided[(d.reviewer, unit, d.version)].append((code, d.reason))

    def holds(self, reviewer: str, unit: str, version: int) -> tuple | None:
        made = self.decided.get((reviewer, unit, version))
        return made[-1] if made else None

    def parent(self, unit: str) -> str | None:
        return DISTRICT if unit in {UNITS[c] for c in COMMUNES} else None

    def accepted(self, unit: str, version: int) -> bool:
        top = self.holds(TOP, unit, version)
        parent = self.parent(unit)
        return bool(top and top[0] == "chap_nhan") and (
            parent is None or (self.holds(parent, unit, version) or ("",))[0] == "chap_nhan"
        )

    def returned(self, unit: str, version: int) -> str | None:
        for reviewer in (self.parent(unit), TOP):
            held = reviewer and self.holds(reviewer, unit, version)
            if held and held[0] == "tra_lai":
                return held[1]
        return None

    def valid_numbers(self, unit: str) -> list[int]:
        return [n for n, v in enumerate(self.versions[unit], start=1) if v.kind == "valid"]

    def figures(self) -> dict:
        states, approval, totals, units_with = {}, {}, defaultdict(Decimal), defaultdict(int)
        counted_version = {}
        for code in self.expected:
            valid = self.valid_numbers(code)
            accepted = [n for n in valid if self.accepted(code, n)]
            if accepted:
                first = self.versions[code][valid[0] - 1]
                states[code] = (
                    "hop_le_dung_han"
                    if first.received_at <= self.on_time_until
                    else "hop_le_tre_han"
                )
                approval[code] = "da_chap_nhan"
                counted_version[code] = accepted[-1]
                written = figures_written(
                    self.versions[code][accepted[-1] - 1].values, len(self.indicators[code])
                )
                for indicator, value in zip(self.indicators[code], written):
                    totals[indicator] += Decimal(value)
                    units_with[indicator] += 1
            elif valid:
                latest = valid[-1]
                if self.returned(code, latest):
                    states[code] = approval[code] = "bi_tra_lai"
                else:
                    states[code] = "cho_duyet"
                    waits_parent = self.parent(code) and not self.holds(
                        self.parent(code), code, latest
                    )
                    approval[code] = "cho_cap_tren_duyet" if waits_parent else "cho_duyet"
            else:
                states[code] = "chua_dien"
                approval[code] = "chua_co_ban_hop_le"
        counted = [c for c, s in states.items() if s.startswith("hop_le")]
        count = lambda state: sum(s == state for s in states.values())  # noqa: E731
        return {
            "expected_reports": len(self.expected),
            "actual_reports": len(counted),
            "on_time_reports": count("hop_le_dung_han"),
            "late_reports": count("hop_le_tre_han"),
            "missing_reports": len(self.expected) - len(counted),
            "awaiting_review_reports": count("cho_duyet"),
            "returned_reports": count("bi_tra_lai"),
            "not_filled_reports": count("chua_dien"),
            "states": states,
            "approval": approval,
            "counted_version": counted_version,
            "totals": {i: (t, units_with[i]) for i, t in totals.items()},
        }

    def sheet_rows(self, reviewer: str) -> list[tuple]:
        """(unit, version number, state there) of every valid version that reached the
        reviewer, in the order they reached it: a district lists its communes' versions, the Sở
        the others' and a commune's once its district accepted it."""
        rows = []
        for code in self.expected:
            for n in self.valid_numbers(code):
                parent = self.parent(code)
                if reviewer == TOP:
                    if parent and (self.holds(parent, code, n) or ("",))[0] != "chap_nhan":
                        continue
                elif parent != reviewer:
                    continue
                held = self.holds(reviewer, code, n)
                if held:
                    state = {"chap_nhan": "da_chap_nhan", "tra_lai": "bi_tra_lai"}[held[0]]
                elif n != self.valid_numbers(code)[-1]:
                    state = "co_ban_moi_hon"
                else:
                    state = "cho_duyet"
                rows.append((code, n, state))
        return sorted(rows)


# ------------------------------------------------------------------ driving it
class ReviewSeason(Season):
    """The season's driver, and what a reviewer does in their sheet."""

    def review_sheet(self, reviewer: str) -> str:
        [(sid,)] = query(
            self.settings.dsn("admin"),
            "select spreadsheet_id from ops.review_sheets where period_code = %s "
            "and reviewer_code = %s",
            (PERIOD, reviewer),
        )
        return sid

    def sheet(self, reviewer: str, as_user: str) -> list[list[str]]:
        from sheets_emulator import emulator_client

        client = emulator_client(self.emulator.url, user=as_user)
        return (
            client.open_by_key(self.review_sheet(reviewer))
            .worksheet("Duyệt báo cáo")
            .get("A1:K200")
        )

    def decide(self, d: Decision, email: str) -> None:
        """The reviewer reads their sheet and writes the decision on the version's row (or on a
        new row of their own, below the table)."""
        from sheets_emulator import emulator_client

        self.emulator.set_clock(d.at)
        rows = self.sheet(d.reviewer, email)
        header = next(i for i, r in enumerate(rows) if "Quyết định" in r)
        if d.version is None:
            row = len(rows) + 2  # a blank row below everything
            data = [{"range": f"'Duyệt báo cáo'!B{row}", "values": [[d.unit]]}]
            data.append({"range": f"'Duyệt báo cáo'!E{row}", "values": [["1"]]})
        else:
            code = UNITS[d.unit]
            row = next(
                i + 1
                for i, r in enumerate(rows)
                if i > header and r[1:2] == [code] and r[3:4] == [str(d.version)]
            )
            data = []
        data.append({"range": f"'Duyệt báo cáo'!J{row}:K{row}", "values": [[d.text, d.reason]]})
        emulator_client(self.emulator.url, user=email).http_client.values_batch_update(
            self.review_sheet(d.reviewer),
            body={"valueInputOption": "USER_ENTERED", "data": data},
        )

    def check_tab(self, unit: str) -> str:
        """The unit's "Kết quả kiểm tra" tab as the unit reads it (Sheets API, as itself)."""
        from sheets import layout
        from sheets_emulator import emulator_client

        [(sid, tab)] = query(
            self.settings.dsn("admin"),
            "select spreadsheet_id, tab_title from ops.sheet_registry where period_code = %s "
            "and unit_code = %s",
            (PERIOD, unit),
        )
        client = emulator_client(self.emulator.url, user=self.catalogue.unit(unit).contact_email)
        rows = client.open_by_key(sid).worksheet(layout.check_tab_title(tab)).get_all_values()
        return "\n".join(" ".join(c for c in r if c) for r in rows)

    def report_text(self) -> str:
        """The newest publication's draft report (its .docx), paragraph by paragraph."""
        from pathlib import Path

        from docx import Document

        [(folder,)] = query(
            self.settings.dsn("admin"),
            "select folder from ops.publications where period_code = %s "
            "order by publication_id desc limit 1",
            (PERIOD,),
        )
        document = Document(Path(folder) / f"bao_cao_{PERIOD}.docx")
        return "\n".join(p.text for p in document.paragraphs)

    def export(self, reviewer: str, as_user: str, path) -> None:
        """The reviewer's sheet as they download it for Excel (Drive's xlsx export), its tab set
        to print on A4 landscape fitted to the width."""
        from gspread.utils import ExportFormat
        from openpyxl import load_workbook

        from sheets_emulator import emulator_client

        client = emulator_client(self.emulator.url, user=as_user)
        path.write_bytes(client.open_by_key(self.review_sheet(reviewer)).export(ExportFormat.EXCEL))
        book = load_workbook(path)
        ws = book["Duyệt báo cáo"]
        ws.page_setup.orientation, ws.page_setup.paperSize = "landscape", ws.PAPERSIZE_A4
        ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        book.save(path)

    def review_figures(self) -> dict:
        bi = self.settings.dsn("bi_reader")
        [summary] = query(
            bi,
            """select awaiting_review_reports, returned_reports, review_required
               from marts.agg_province_summary where period_code = %s""",
            (PERIOD,),
        )
        return {
            "summary": summary,
            "submission": {
                unit: row
                for unit, *row in query(
                    bi,
                    """select unit_code, approval_state, counted_sheet_version_id,
                              has_version_awaiting_review, return_reason, returned_by
                       from marts.fct_submission where period_code = %s""",
                    (PERIOD,),
                )
            },
            "versions": dict(
                query(
                    bi,
                    """select sheet_version_id, version_number from marts.fct_report_version
                       where period_code = %s""",
                    (PERIOD,),
                )
            ),
            "by_level": {
                (reviewer, indicator): (accepted_total, accepted_units, awaiting_total)
                for reviewer, indicator, accepted_total, accepted_units, awaiting_total in query(
                    bi,
                    """select reviewer_code, indicator_code, accepted_total, accepted_units,
                              awaiting_total
                       from marts.agg_indicator_totals_by_level where period_code = %s""",
                    (PERIOD,),
                )
            },
        }


@pytest.fixture(scope="module")
def review_season(settings, catalogue, tmp_path_factory):
    from sheets_emulator import EmulatorServer
    from testing.smtp import airflow_smtp_connection, local_smtp
    from tooling import localdb

    pg_port = localdb.default_cluster().port
    localdb.ensure_warehouse(WAREHOUSE_DB)
    emulator = EmulatorServer(
        tmp_path_factory.mktemp("review-emulator"), host="127.0.0.1", port=0
    ).start()
    settings = settings.for_database(WAREHOUSE_DB).with_overrides(
        emulator_url=emulator.url,
        sheets_backend="emulator",
        output_dir=tmp_path_factory.mktemp("review-output"),
    )
    period = catalogue.period(PERIOD)
    programme = period.programme_code
    expected = sorted(u.unit_code for u in catalogue.expected_units(PERIOD))
    oracle = Oracle(
        expected=expected,
        indicators={
            u: [i.indicator_code for i in catalogue.indicators_for(programme, u)] for u in expected
        },
        on_time_until=period.on_time_until,
    )
    emails = {
        TOP: catalogue.programmes[programme]["contact_email"],
        DISTRICT: catalogue.unit(DISTRICT).contact_email,
    }
    try:
        with (
            local_smtp() as mailbox,
            scheduler(
                settings,
                pg_port,
                METADATA_DB,
                "airflow-review",
                airflow_smtp_connection(mailbox),
            ) as (api, services, env, alerts),
        ):
            season = ReviewSeason(api, services, env, emulator, settings, catalogue, alerts)
            # the opening day: the units' sheets, the period opened from the UI before the
            # calendar's first morning (what the calendar would trigger first that day); the
            # scheduler runs it
            opened = season.trigger(
                "tonghop_provision_period", at("06-01", "05:00:00"), {"period_code": PERIOD}
            )
            runs = season.settle()["tonghop_provision_period"]
            assert [r["state"] for r in runs if r["dag_run_id"] == opened] == ["success"]
            days, previous = {}, at("06-01", "05:00:00")
            for day in MORNINGS:
                morning = at(day)
                for edit in EDITS:
                    if previous and previous <= edit.at < morning:
                        season.edit(edit, UNITS[edit.unit], PERIOD)
                for d in DECISIONS:
                    if previous and previous <= d.at < morning:
                        season.decide(d, emails[d.reviewer])
                season.run_calendar(morning)
                runs = season.settle()
                oracle.pull(morning)
                oracle.read_decisions(previous, morning)
                days[day] = {
                    "failed": season.failed_runs(runs, set()),
                    "figures": season.figures(PERIOD),
                    "review": season.review_figures(),
                    "published": season.published(PERIOD),
                    "sheets": {r: season.sheet(r, emails[r]) for r in (TOP, DISTRICT)},
                    "oracle": oracle.figures(),
                    "rows": {r: oracle.sheet_rows(r) for r in (TOP, DISTRICT)},
                    "mails": [r.message for r in list(mailbox.received)],
                    "tabs": {name: season.check_tab(UNITS[name]) for name in ("A", "B")},
                    "report": season.report_text(),
                }
                if day == "06-15":  # what the Sở's reviewer sees that morning
                    folder = TEST_STATE / "review"
                    folder.mkdir(parents=True, exist_ok=True)
                    season.export(TOP, emails[TOP], folder / "duyet_bao_cao_so.xlsx")
                previous = morning
            yield SimpleNamespace(
                days=days, settings=settings, emails=emails, season=season, oracle=oracle
            )
    finally:
        emulator.stop()


# ------------------------------------------------------------------ the checks
def table(rows: list[list[str]]) -> list[list[str]]:
    """The review sheet's rows under its header, padded to its 11 columns."""
    header = next(i for i, r in enumerate(rows) if "Quyết định" in r)
    return [(r + [""] * 11)[:11] for r in rows[header + 1 :] if any(r)]


@pytest.mark.parametrize("day", MORNINGS)
def test_every_figure_matches_the_oracle_each_morning(review_season, day):
    record = review_season.days[day]
    assert not any(record["failed"].values()), record["failed"]
    actual, expected = record["figures"], record["oracle"]
    for key in ("expected_reports", "actual_reports", "on_time_reports", "late_reports"):
        assert actual[key] == expected[key], key
    assert actual["missing_reports"] == expected["missing_reports"]
    assert actual["not_filled_reports"] == expected["not_filled_reports"]
    assert actual["states"] == expected["states"]
    assert actual["totals"] == expected["totals"]
    summary = record["review"]["summary"]
    assert summary == (expected["awaiting_review_reports"], expected["returned_reports"], True)
    approval = {u: row[0] for u, row in record["review"]["submission"].items()}
    assert approval == expected["approval"]
    # the figures counted are those of the accepted version
    versions = record["review"]["versions"]
    counted = {u: versions[row[1]] for u, row in record["review"]["submission"].items() if row[1]}
    assert counted == expected["counted_version"]


@pytest.mark.parametrize("day", MORNINGS)
def test_each_reviewer_sees_the_versions_that_reached_them(review_season, day):
    """A district's sheet lists its communes' valid versions; the Sở's the others' and a
    commune's once its district accepted it; each row keeps its place and the reviewer's cells."""
    record = review_season.days[day]
    for reviewer in (TOP, DISTRICT):
        rows = [r for r in table(record["sheets"][reviewer]) if r[0]]  # the pipeline's rows
        listed = sorted((r[1], int(r[3]), r[7]) for r in rows)
        expected = sorted(
            (code, n, {**STATE_VI, "co_ban_moi_hon": "Đã có bản mới hơn (duyệt bản mới)"}[s])
            for code, n, s in record["rows"][reviewer]
        )
        assert listed == expected, reviewer
        # numbered in order, never moved: a row added later is below the earlier ones
        assert [r[0] for r in rows] == [str(n) for n in range(1, len(rows) + 1)]


def test_a_return_reaches_the_unit_with_its_reason(review_season):
    """A returned (15/6): its "Kết quả kiểm tra" tab and its mail say so, with the reason; a
    unit waiting for its reviewers gets no mail."""
    from testing.smtp import text_of

    season = review_season.season
    day = review_season.days["06-15"]
    assert day["figures"]["states"][UNITS["A"]] == "bi_tra_lai"
    catalogue = season.catalogue
    mails = {
        m["X-Tonghop-Unit"]: m
        for m in day["mails"]
        if m["X-Tonghop-Period"] == PERIOD and m["X-Tonghop-State"] == "bi_tra_lai"
    }
    text = text_of(mails[UNITS["A"]])
    assert RETURN_A in text and "Ban Tuyên giáo Huyện ủy đã trả lại" in text
    assert mails[UNITS["A"]]["Subject"].startswith("Báo cáo bị trả lại")
    assert RETURN_X3 in text_of(mails[UNITS["X3"]])
    assert "Ủy ban nhân dân huyện Tam Đường đã trả lại" in text_of(mails[UNITS["X3"]])
    waiting = {UNITS["C"], UNITS["X1"], UNITS["X2"]}
    assert not [m for m in day["mails"] if m["X-Tonghop-Unit"] in waiting]
    assert catalogue.unit(UNITS["A"]).contact_email in mails[UNITS["A"]]["To"]
    # the unit's own tab, as it reads it: returned, by whom, why, what to do
    tab = day["tabs"]["A"]
    assert "Ban Tuyên giáo Huyện ủy đã trả lại phiên bản số 1" in tab
    assert f"lý do: “{RETURN_A}”" in tab and "để gửi lại bản mới" in tab
    assert "Báo cáo đã được tính" not in tab
    # once its new version is accepted, it counts
    assert "Báo cáo đã được tính" in review_season.days["06-22"]["tabs"]["A"]


def test_a_reviewers_bad_input_is_told_in_the_sheet_and_changes_nothing(review_season):
    day = review_season.days["06-15"]
    top = {r[1]: r for r in table(day["sheets"][TOP])}
    district = {r[1]: r for r in table(day["sheets"][DISTRICT])}
    # a return without a reason: C still awaits the Sở, the cell to fill is named
    assert day["figures"]["states"][UNITS["C"]] == "cho_duyet"
    assert "cần ghi lý do ở ô Duyệt báo cáo!K" in top[UNITS["C"]][8]
    # a unit that does not report this period
    assert "CB-XA-001" in top and "không phải báo cáo kỳ này" in top["CB-XA-001"][8]
    assert top["CB-XA-001"][9] == "Chấp nhận"  # the reviewer's cells are left as written
    # not one of the two decisions: X2 still awaits its district
    assert "“Đồng ý”, không phải một quyết định" in district[UNITS["X2"]][8]
    assert day["review"]["submission"][UNITS["X2"]][0] == "cho_cap_tren_duyet"
    refused = query(
        review_season.settings.dsn("bi_reader"),
        """select problem_code from marts.fct_review_decision
           where period_code = %s and not is_applicable order by problem_code""",
        (PERIOD,),
    )
    assert [p for (p,) in refused] == [
        "decision.no_reason",
        "decision.unit_not_in_period",
        "decision.unknown",
    ]


def test_an_edit_after_acceptance_awaits_review_and_the_accepted_version_keeps_counting(
    review_season,
):
    """B was accepted (version 1), then edited (version 2): the Sở's acceptance was for version
    1 only; version 2 awaits review, listed on a new row; B's figures stay version 1's."""
    day = review_season.days["06-21"]
    approval, counted, awaiting, *_ = day["review"]["submission"][UNITS["B"]]
    assert approval == "da_chap_nhan" and awaiting is True
    assert day["review"]["versions"][counted] == 1
    rows = [r for r in table(day["sheets"][TOP]) if r[1] == UNITS["B"]]
    assert [(r[3], r[7]) for r in rows] == [("1", "Đã chấp nhận"), ("2", "Chờ duyệt")]
    assert rows[0][9] == "Chấp nhận" and rows[1][9] == ""
    # and B reads it in its tab: counted, its edit awaiting review
    tab = day["tabs"]["B"]
    assert "Báo cáo đã được tính" in tab and "đã được Ban Tuyên giáo Huyện ủy chấp nhận" in tab
    assert "Phiên bản số 2 (đơn vị sửa sau khi được chấp nhận) đang chờ duyệt" in tab


def test_the_district_consolidates_its_communes_before_the_province(review_season):
    """On 22/6 the district has accepted its three communes; the province has accepted two:
    at the district's level the three communes' figures are accepted, at the province's two
    are counted and X3's new version awaits it."""
    day = review_season.days["06-22"]
    oracle = review_season.oracle
    by_level = day["review"]["by_level"]
    indicators = oracle.indicators[UNITS["X1"]]
    for i, indicator in enumerate(indicators):
        district_total = sum(
            Decimal(figures_written(oracle.versions[UNITS[c]][-1].values, len(indicators))[i])
            for c in COMMUNES
        )
        assert by_level[(DISTRICT, indicator)][:2] == (district_total, 3)
    states = day["figures"]["states"]
    assert [states[UNITS[c]] for c in COMMUNES] == ["hop_le_dung_han"] * 2 + ["cho_duyet"]
    assert day["review"]["submission"][UNITS["X3"]][0] == "cho_duyet"
    # the province's accepted figures are the counted ones
    for indicator, (total, _) in day["figures"]["totals"].items():
        assert by_level[(TOP, indicator)][0] == total


def test_who_decided_and_when_is_recorded_from_the_sheets_revisions(review_season):
    """Every decision is kept, with its time from the reviewer's own Drive revision and the
    reviewer's address (in the warehouse; the marts keep no address)."""
    admin = review_season.settings.dsn("admin")
    rows = query(
        admin,
        """select reviewer_code, decided_by, decided_basis, decided_at
           from intermediate.int_review_decisions where period_code = %s""",
        (PERIOD,),
    )
    emails = review_season.emails
    assert {(r, by, basis) for r, by, basis, _ in rows} == {
        (TOP, emails[TOP], "revision"),
        (DISTRICT, emails[DISTRICT], "revision"),
    }
    written = {d.at for d in DECISIONS}
    assert all(any(abs(when - w) < dt.timedelta(seconds=5) for w in written) for *_, when in rows)
    # the readings are append-only: the loader may not delete one, nor may anyone
    import psycopg2

    conn = psycopg2.connect(review_season.settings.dsn("loader"))
    try:
        with pytest.raises(psycopg2.Error, match="permission denied"), conn.cursor() as cur:
            cur.execute("delete from raw.review_readings")
    finally:
        conn.close()
    conn = psycopg2.connect(admin)
    try:
        with pytest.raises(psycopg2.Error, match="append-only"), conn.cursor() as cur:
            cur.execute("delete from raw.review_readings")
    finally:
        conn.close()


def test_the_summary_and_the_report_say_which_figures_are_accepted(review_season):
    day = review_season.days["06-22"]
    oracle = day["oracle"]
    overview = day["published"]["overview"]
    assert (
        overview["Số báo cáo đã được chấp nhận (số liệu được tổng hợp)"] == oracle["actual_reports"]
    )
    assert (
        overview["  – hợp lệ, đang chờ duyệt (chưa cộng vào số liệu)"]
        == oracle["awaiting_review_reports"]
    )
    assert overview["  – bị trả lại, chờ đơn vị sửa"] == oracle["returned_reports"]
    assert overview["Duyệt báo cáo"].startswith("Kỳ này yêu cầu duyệt")
    # the draft report's overview says the same (4 accepted, 1 awaiting, 1 returned that day)
    assert (oracle["actual_reports"], oracle["awaiting_review_reports"]) == (4, 1)
    assert oracle["returned_reports"] == 1
    report = " ".join(day["report"].split())
    assert (
        "Kỳ báo cáo này yêu cầu duyệt: số liệu tổng hợp dưới đây chỉ gồm 4 báo cáo đã được "
        "Ban Tuyên giáo Huyện ủy chấp nhận; 1 báo cáo hợp lệ đang chờ duyệt và 1 báo cáo bị "
        "trả lại chờ đơn vị sửa chưa được cộng vào số liệu."
    ) in report


def test_the_review_sheet_prints_whole(review_season):
    """The Sở's sheet of 15/6 as its reviewer downloads it and prints it (LibreOffice's PDF of
    Drive's xlsx export): every word of the table and of the messages printed whole. With
    TONGHOP_UPDATE_DOCS=1, its first page is drawn into docs/images/review_sheet.png."""
    import subprocess

    from openpyxl import load_workbook

    from publish.report import render_pdf

    path = TEST_STATE / "review" / "duyet_bao_cao_so.xlsx"
    ws = load_workbook(path)["Duyệt báo cáo"]
    assert ws.freeze_panes == "A7"
    pdf = render_pdf(path)
    printed = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    written = {
        word
        for row in ws.iter_rows(min_row=6, values_only=True)
        for value in row
        if isinstance(value, str)
        for word in value.split()
    }
    assert written and not written - set(printed.split()), sorted(written - set(printed.split()))
    if UPDATE_DOCS:  # the first page, cut to what is printed on it
        from PIL import Image, ImageOps

        prefix = str(path.parent / "p")
        subprocess.run(
            ["pdftoppm", "-r", "150", "-png", "-f", "1", "-l", "1", str(pdf), prefix], check=True
        )
        page = Image.open(path.parent / "p-1.png").convert("RGB")
        left, top, right, bottom = ImageOps.invert(page.convert("L")).getbbox()
        page.crop((left - 12, top - 12, right + 12, bottom + 12)).save(
            ROOT / "docs" / "images" / "review_sheet.png"
        )
