"""A reporting season, driven through the DAGs as they run on the calendar.

Airflow runs as services (API server, scheduler, DAG processor; LocalExecutor); the calendar
DAG is run for each simulated morning with ``airflow dags test`` and that day's logical date
(it stays paused, so the scheduler makes no run of its own for the real today), and the
scheduler runs what the calendar triggers — provisioning, the reporting cycles, the day's build
once they are done — and what their Assets trigger: the publication after a build.
The Sheets emulator's clock is moved with the simulated days (its Drive stamps the units'
edits and answers every call with its own time), so Google's clock and Airflow's dates move
together. Units edit their sheets through the Sheets API as themselves, at set moments.

The season of CB-2026-6T (on time until 23:59:59 on 20/6/2026):

| morning | what happened before it, what happens that day |
| --- | --- |
| 1/6 | the period opens: every unit's sheet is provisioned, then the first (full) pull |
| 21/6 | the final full pull, after 19 mornings the scheduler missed (the freshness check alerts). Before it: U1 sent a valid report (3/6), U2 one with an error (4/6), U3 filled without "Đã nộp" (4/6), U7 a valid report (10/6), U4 a valid one at 23:59:30 on 20/6 (on time), U5 at 00:00:30 on 21/6 (late) |
| 22/6 | U1 corrected a figure, U2 fixed its error (late), U7 broke its report with an error, U6 sent a valid report in the late window — all pulled; the warehouse build fails (the transformer lost its rights on the marts), so nothing is published |
| 23/6 | rights back; Drive refuses the pulls' listings (every try), so nothing lands; the day's build still runs after it, catches the marts up and moves the overdue days, and the publication follows. Then the failed cycle runs, the build and the publication are cleared and run again |

Beside it runs an ad hoc period with the same deadline whose sheets are one shared file
(``sheet_layout`` per_period, chosen when the Sở requests it: ``airflow dags test
tonghop_adhoc_report`` at 05:00 on 1/6), a tab per unit, each unit editing its own tab as
itself: V1 on 5/6, V2 at 23:59:50 on 20/6 (on time), V3 at 00:30 on 21/6 (late, so the file
changed after the deadline before anyone read V2's tab), V1 again on 21/6 (a correction after
the deadline); V4 never opens its tab. Each unit's time is its own edit, not the file's.

Every unit not named never opens its sheet. Each morning, every headline figure of the marts
and of the published summary is compared with an oracle computed here from this script alone
(which content each pull saw, by the rules the warehouse states), not from the project's code.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest

from testing.airflow import Api, wait_for_dag
from tests.conftest import TEST_STATE, query, webhook_server

#: the season's fixture plays every morning before its first test, inside that test's timeout
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]

PERIOD = "CB-2026-6T"
#: the ad hoc period requested on 1/6, due the same day, one shared file (per_period)
ADHOC = "CB-2026-DX06"
ADHOC_REQUEST = {
    "programme_code": "CB-KH84",
    "period_code": ADHOC,
    "period_name": "Báo cáo đột xuất kết quả tổ chức các hoạt động 6 tháng",
    "data_from": "2026-01-01",
    "data_to": "2026-05-31",
    "due_date": "2026-06-20",
    "sheet_layout": "per_period",
}
#: the request names no last on-time moment: the end of its due date, Vietnam time
ADHOC_ON_TIME_UNTIL = dt.datetime(
    2026, 6, 20, 23, 59, 59, tzinfo=dt.timezone(dt.timedelta(hours=7))
)
WAREHOUSE_DB = "tonghop_season"
METADATA_DB = "airflow_season"
VN = dt.timezone(dt.timedelta(hours=7))
#: the catalogue's last on-time moment, as periods.csv states it (read here with csv below)
CALENDAR = "tonghop_calendar"
SCHEDULED = (
    "tonghop_provision_period",
    "tonghop_reporting_cycle",
    "tonghop_build_warehouse",
    "tonghop_publish",
)
DAY_TIMEOUT = 600
#: the headline figures of agg_province_summary, compared with the oracle each morning
HEADLINE = (
    "as_of_date",
    "expected_reports",
    "actual_reports",
    "on_time_reports",
    "late_reports",
    "missing_reports",
    "overdue_reports",
    "units_with_errors",
    "not_submitted_reports",
    "not_filled_reports",
    "no_sheet_reports",
)


def execute(dsn: str, sql: str) -> None:
    import psycopg2

    conn = psycopg2.connect(dsn)
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(sql)
    finally:
        conn.close()


def at(day: str, clock: str = "06:00:00") -> dt.datetime:
    return dt.datetime.fromisoformat(f"2026-{day}T{clock}+07:00")


@dataclass(frozen=True)
class Edit:
    unit: str  # U1 … U7, the script's names
    at: dt.datetime
    kind: str  # valid | errors | draft
    values: tuple = ()  # the unit's first indicator rows' figures (the others: 0)


def figures_written(values: tuple, indicators: int) -> tuple:
    """What a unit types in its sheet's indicator rows: the edit's figures, then 0 for every
    other indicator (a blank figure is not a report: "ghi 0 nếu không có")."""
    return tuple(values[:indicators]) + (0,) * (indicators - len(values[:indicators]))


#: the script: what each unit does, and when (Vietnam time)
EDITS = [
    Edit("U1", at("06-03", "10:00:00"), "valid", (12, 7)),
    Edit("U2", at("06-04", "09:00:00"), "errors", (5, 5)),
    Edit("U3", at("06-04", "15:00:00"), "draft", (1, 1)),
    Edit("U7", at("06-10", "11:00:00"), "valid", (9, 4)),
    Edit("U4", at("06-20", "23:59:30"), "valid", (3, 8)),
    Edit("U5", at("06-21", "00:00:30"), "valid", (6, 6)),
    Edit("U2", at("06-21", "14:00:00"), "valid", (5, 11)),
    Edit("U1", at("06-21", "15:00:00"), "valid", (20, 7)),  # corrected after the deadline
    Edit("U7", at("06-21", "16:00:00"), "errors", (9, 4)),  # a later edit with an error
    Edit("U6", at("06-21", "20:00:00"), "valid", (2, 13)),
    # the ad hoc period's shared file
    Edit("V1", at("06-05", "10:00:00"), "valid", (10, 5)),
    Edit("V2", at("06-20", "23:59:50"), "valid", (4, 4)),
    Edit("V3", at("06-21", "00:30:00"), "valid", (7, 1)),
    Edit("V1", at("06-21", "15:30:00"), "valid", (11, 5)),  # corrected after the deadline
]

#: the simulated mornings, and what goes wrong on each
DAYS = {
    "06-01": {},
    "06-21": {},
    "06-22": {"build_fails": True},
    "06-23": {"pull_refused": True, "clear_and_rerun": True},
}


# ------------------------------------------------------------------ the oracle
@dataclass
class Seen:
    """One version of a unit's report as the warehouse holds it: the content a pull read."""

    kind: str  # blank | valid | errors | draft
    received_at: dt.datetime | None
    values: tuple = ()


@dataclass
class Oracle:
    """What the figures must be, from the script: which pulls read what, and the stated rules
    (a report counts from its first valid version, on time when received by the last on-time
    moment; its figures are its latest valid version's; one state per unit)."""

    units: dict[str, str]  # script name -> unit code
    indicators: dict[str, list[str]]  # unit code -> its sheet's indicator codes, in order
    expected: list[str]  # every expected unit's code
    on_time_until: dt.datetime
    versions: dict[str, list[Seen]] = field(default_factory=lambda: defaultdict(list))

    def pull(self, morning: dt.datetime) -> None:
        """A pull that read every sheet at ``morning``: a new version where the content
        changed (the unit's last edit before the pull; a blank sheet before any)."""
        for code in self.expected:
            name = next((n for n, c in self.units.items() if c == code), None)
            edits = [e for e in EDITS if e.unit == name and e.at < morning]
            seen = (
                Seen(edits[-1].kind, edits[-1].at, edits[-1].values)
                if edits
                else Seen("blank", None)
            )
            history = self.versions[code]
            if not history or history[-1] != seen:
                history.append(seen)

    def figures(self, as_of: dt.date) -> dict:
        states, totals, units_with = {}, defaultdict(Decimal), defaultdict(int)
        for code in self.expected:
            history = self.versions.get(code, [])
            valid = [v for v in history if v.kind == "valid"]
            if valid:
                first = valid[0]
                states[code] = (
                    "hop_le_dung_han"
                    if first.received_at <= self.on_time_until
                    else "hop_le_tre_han"
                )
                written = figures_written(valid[-1].values, len(self.indicators[code]))
                for indicator, value in zip(self.indicators[code], written):
                    totals[indicator] += Decimal(value)
                    units_with[indicator] += 1
            elif not history:
                states[code] = "chua_co_bang"
            else:
                states[code] = {
                    "errors": "con_loi",
                    "draft": "chua_chon_da_nop",
                    "blank": "chua_dien",
                }[history[-1].kind]
        counted = [c for c, s in states.items() if s.startswith("hop_le")]
        last_on_time_day = self.on_time_until.date()
        return {
            "as_of_date": as_of,
            "expected_reports": len(self.expected),
            "actual_reports": len(counted),
            "on_time_reports": sum(s == "hop_le_dung_han" for s in states.values()),
            "late_reports": sum(s == "hop_le_tre_han" for s in states.values()),
            "missing_reports": len(self.expected) - len(counted),
            "overdue_reports": (len(self.expected) - len(counted))
            if as_of > last_on_time_day
            else 0,
            "units_with_errors": sum(s == "con_loi" for s in states.values()),
            "not_submitted_reports": sum(s == "chua_chon_da_nop" for s in states.values()),
            "not_filled_reports": sum(s == "chua_dien" for s in states.values()),
            "no_sheet_reports": sum(s == "chua_co_bang" for s in states.values()),
            "states": states,
            "totals": {i: (t, units_with[i]) for i, t in totals.items()},
        }


# ------------------------------------------------------------------ driving the season
def part_origins(catalogue, code: str, period_code: str, tab: str) -> dict[str, tuple]:
    """Where each part of a unit's report is, as the unit sees its sheet: part title → (tab,
    rows above it). Its own tabs in the per_unit layout (``tab`` empty); in a shared file, the
    parts stacked in the unit's tab with a blank row between them."""
    from sheets import layout

    parts = [
        t for t in layout.report_tabs(catalogue, code, period_code) if t.title != layout.TAB_GUIDE
    ]
    if not tab:
        return {part.title: (part.title, 0) for part in parts}
    origins, row = {}, 0
    for part in parts:
        origins[part.title] = (tab, row)
        row += len(part.rows) + 1
    return origins


class Season:
    def __init__(self, api: Api, services, env: dict, emulator, settings, catalogue, alerts: list):
        self.api, self.services, self.env = api, services, env
        self.emulator, self.settings, self.catalogue = emulator, settings, catalogue
        self.alerts = alerts
        self.log = Path(env["AIRFLOW_HOME"]) / "season-dags-test.log"

    # the units, through the Sheets API as themselves
    def edit(self, edit: Edit, code: str, period_code: str) -> None:
        from sheets import layout
        from sheets_emulator import emulator_client

        unit = self.catalogue.unit(code)
        programme = self.catalogue.period(period_code).programme_code
        [(sid, tab)] = query(
            self.settings.dsn("admin"),
            """
            select spreadsheet_id, tab_title from ops.sheet_registry
            where period_code = %s and unit_code = %s""",
            (period_code, code),
        )
        tasks = self.catalogue.tasks_for(programme, code)
        indicators = self.catalogue.indicators_for(programme, code)
        where = part_origins(self.catalogue, code, period_code, tab)

        def cell(part, column, row):
            title, offset = where[part]
            return f"'{title}'!{column}{offset + row}"

        def column(columns, key):
            return layout.column_letter(layout.column_index(columns, key))

        info_row = 4 + [k for k, _, _ in layout.INFO_FIELDS].index("submitted")
        reporter_row = 4 + [k for k, _, _ in layout.INFO_FIELDS].index("reporter_name")
        status = column(layout.TASK_COLUMNS, "status")
        value = column(layout.INDICATOR_COLUMNS, "value")
        values = [str(v) for v in figures_written(edit.values, len(indicators))]
        if edit.kind == "errors":
            values[0] = "-3"  # a negative figure: an error
        data = [
            {"range": cell(layout.TAB_INFO, "B", reporter_row), "values": [[unit.short_name]]},
            {
                "range": cell(layout.TAB_INFO, "B", info_row),
                "values": [["Chưa nộp" if edit.kind == "draft" else "Đã nộp"]],
            },
            {
                "range": cell(layout.TAB_TASKS, status, 2) + f":{status}"
                f"{where[layout.TAB_TASKS][1] + len(tasks) + 1}",
                "values": [
                    ["Đang thực hiện thường xuyên" if task.is_ongoing else "Đang triển khai"]
                    for task, _ in tasks
                ],
            },
            {
                "range": cell(layout.TAB_INDICATORS, value, 2) + f":{value}"
                f"{where[layout.TAB_INDICATORS][1] + len(values) + 1}",
                "values": [[v] for v in values],
            },
        ]
        self.emulator.set_clock(edit.at)
        client = emulator_client(self.emulator.url, user=unit.contact_email)
        client.http_client.values_batch_update(
            sid, body={"valueInputOption": "USER_ENTERED", "data": data}
        )

    # one morning
    def run_calendar(self, morning: dt.datetime) -> None:
        """``airflow dags test tonghop_calendar <the morning>``: the calendar's run of that day
        (its triggers reach the scheduler through the metadata database)."""
        self.dags_test(CALENDAR, morning)

    def dags_test(self, dag_id: str, moment: dt.datetime, conf: dict | None = None) -> None:
        """``airflow dags test <dag_id> <moment> [-c conf]`` with the emulator's clock at that
        moment, for a DAG the scheduler leaves alone (paused: the calendar, the ad hoc request).
        A DAG the scheduler runs is triggered instead (:meth:`trigger`): ``dags test`` on an
        unpaused DAG races the scheduler over the same run's rows (a deadlock in the metadata
        database under load, the scheduler expanding a mapped task while ``dags test`` updates
        the run)."""
        dag = self.api.call("GET", f"/dags/{dag_id}")
        assert dag["is_paused"], f"{dag_id} is unpaused: trigger it (Season.trigger)"
        self.emulator.set_clock(moment)
        logical = moment.astimezone(dt.UTC).isoformat()
        airflow = Path(sys.executable).with_name("airflow")
        command = [str(airflow), "dags", "test", dag_id, logical]
        if conf is not None:
            command += ["-c", json.dumps(conf, ensure_ascii=False)]
        with self.log.open("a", encoding="utf-8") as out:
            out.write(f"\n$ {' '.join(command[1:])}\n")
            out.flush()
            done = subprocess.run(
                command,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                timeout=DAY_TIMEOUT,
            )
        assert done.returncode == 0, self.log.read_text(errors="replace")[-4000:]

    def trigger(self, dag_id: str, moment: dt.datetime, conf: dict) -> str:
        """A run of ``dag_id`` as an engineer triggers it from the UI (the REST API), at the
        logical moment ``moment`` with the emulator's clock there; the scheduler runs it (wait
        with :meth:`settle`). Its run id."""
        self.emulator.set_clock(moment)
        run = self.api.call(
            "POST",
            f"/dags/{dag_id}/dagRuns",
            json={
                "logical_date": moment.astimezone(dt.UTC).isoformat(),
                "conf": conf,
                "note": "season: triggered",
            },
        )
        return run["dag_run_id"]

    def runs(self, dag_id: str) -> list[dict]:
        return self.api.call(
            "GET", f"/dags/{dag_id}/dagRuns", params={"limit": 100, "order_by": "-run_after"}
        )["dag_runs"]

    def settle(self) -> dict[str, list[dict]]:
        """Wait until no run of the scheduled DAGs is queued or running and no Asset event
        waits for a run, three polls in a row; the runs of each DAG."""
        deadline = time.monotonic() + DAY_TIMEOUT
        quiet = 0
        while quiet < 3:
            self.services.check_alive()
            busy = [
                (d, r["dag_run_id"], r["state"])
                for d in SCHEDULED
                for r in self.runs(d)
                if r["state"] in ("queued", "running")
            ]
            waiting = [
                d
                for d in ("tonghop_build_warehouse", "tonghop_publish")
                if self.api.call("GET", f"/dags/{d}/assets/queuedEvents", ok=(200, 404)).get(
                    "queued_events"
                )
            ]
            quiet = 0 if busy or waiting else quiet + 1
            if time.monotonic() > deadline:
                pytest.fail(
                    f"the day did not settle within {DAY_TIMEOUT} s: {busy} {waiting}"
                    f"\n{self.services.process_log_tail('scheduler', 3000)}"
                )
            time.sleep(2)
        return {d: self.runs(d) for d in SCHEDULED}

    def failed_runs(self, runs: dict, since: set) -> dict[str, list[str]]:
        return {
            d: [
                r["dag_run_id"]
                for r in rs
                if r["state"] == "failed" and (d, r["dag_run_id"]) not in since
            ]
            for d, rs in runs.items()
        }

    def figures(self, period_code: str = PERIOD) -> dict:
        bi = self.settings.dsn("bi_reader")
        [summary] = query(
            bi,
            f"""select {", ".join(HEADLINE)} from marts.agg_province_summary
                where period_code = %s""",
            (period_code,),
        )
        figures = dict(zip(HEADLINE, summary))
        figures["states"] = dict(
            query(
                bi,
                """
            select unit_code, submission_state from marts.fct_submission
            where period_code = %s""",
                (period_code,),
            )
        )
        figures["totals"] = {
            code: (total, units)
            for code, total, units in query(
                bi,
                """
            select indicator_code, total_value, reporting_units from marts.agg_indicator_totals
            where period_code = %s and total_value is not null""",
                (period_code,),
            )
        }
        figures["days_late"] = dict(
            query(
                bi,
                """
            select unit_code, days_late from marts.fct_submission where period_code = %s""",
                (period_code,),
            )
        )
        return figures

    def published(self, period_code: str = PERIOD) -> dict:
        """The newest publication of the period: its record and the summary's overview."""
        from openpyxl import load_workbook

        rows = query(
            self.settings.dsn("admin"),
            """
            select run_id, as_of_date, folder from ops.publications where period_code = %s
            order by publication_id""",
            (period_code,),
        )
        if not rows:
            return {"count": 0}
        run_id, as_of, folder = rows[-1]
        sheet = load_workbook(Path(folder) / f"tong_hop_{period_code}.xlsx")["Tổng quan"]
        overview = {r[0]: r[1] for r in sheet.iter_rows(min_row=4, values_only=True) if r[0]}
        return {"count": len(rows), "run_id": run_id, "as_of_date": as_of, "overview": overview}

    def received(self, period_code: str) -> dict:
        """The registry of the period's sheets and, per unit, its versions' received time and
        the rule that decided it."""
        admin = self.settings.dsn("admin")
        registry = query(
            admin,
            """select unit_code, spreadsheet_id, tab_title, layout
                                   from ops.sheet_registry where period_code = %s""",
            (period_code,),
        )
        versions = query(
            admin,
            """
            select unit_code, version_number, received_at, received_basis
            from marts.fct_report_version where period_code = %s
            order by unit_code, version_number""",
            (period_code,),
        )
        return {"registry": registry, "versions": versions}

    def asset_chain(self) -> dict:
        """What the scheduler did with the Assets over the season: every run of the build and
        the publication (its type and conf), every asset event (its source run, its extra, the
        runs it made), and the newest publication of the period with what its task returned,
        read through the API (XCom)."""
        runs = {d: self.runs(d) for d in ("tonghop_build_warehouse", "tonghop_publish")}
        events = self.api.call(
            "GET", "/assets/events", params={"limit": 100, "order_by": "timestamp"}
        )
        run_id, folder = query(
            self.settings.dsn("admin"),
            """select run_id, folder from ops.publications where period_code = %s
               order by publication_id desc limit 1""",
            (PERIOD,),
        )[0]
        returned = [
            self.api.xcom("tonghop_publish", run_id, "publish", ti["map_index"])
            for ti in self.api.task_instances("tonghop_publish", run_id)
            if ti["task_id"] == "publish"
        ]
        return {
            "runs": runs,
            "events": events["asset_events"],
            "events_total": events["total_entries"],
            "publication": {"run_id": run_id, "folder": folder, "returned": returned},
        }

    def counts(self) -> dict:
        [row] = query(
            self.settings.dsn("admin"),
            """
            select (select count(*) from raw.sheet_versions),
                   (select count(*) from raw.sheet_fetches),
                   (select count(*) from ops.pull_runs where period_code = %s),
                   (select count(*) from parsed.report_headers)""",
            (PERIOD,),
        )
        return dict(zip(("versions", "fetches", "pulls", "headers"), row))


@contextlib.contextmanager
def scheduler(settings, pg_port: int, metadata_db: str, home: str, extra_env: dict | None = None):
    """Airflow's services (API server, scheduler, DAG processor; LocalExecutor) over the
    warehouse of ``settings``, a metadata database of their own and an alert webhook, the
    scheduled DAGs unpaused and the calendar paused (it runs each simulated morning with
    ``airflow dags test``): yields (the REST API, the services, their environment, the alerts
    received). Shared with the review season (tests/test_review_season.py)."""
    from tooling import local_airflow

    with webhook_server() as (hook, alerts):
        env = local_airflow.airflow_env(settings, pg_port)
        env = local_airflow.with_metadata_database(env, metadata_db, pg_port)
        env["AIRFLOW_HOME"] = str(TEST_STATE / home)
        env["TONGHOP_PG_DB"] = settings.warehouse_db
        env["TONGHOP_RETRY_DELAY_SECONDS"] = "2"
        # the calendar's waits for the runs it triggered end on their next look (10 s apart in
        # production): a look every 2 s, about a minute less a season
        env["TONGHOP_POKE_SECONDS"] = "2"
        env["TONGHOP_ALERT_WEBHOOK"] = hook
        env.pop("TONGHOP_ALERT_EMAIL", None)
        env.update(extra_env or {})
        local_airflow.migrate(env)
        with local_airflow.running_airflow(env) as services:
            api = Api(services.base_url, services.token())
            for dag_id in SCHEDULED:
                wait_for_dag(api, services, dag_id)
                api.call("PATCH", f"/dags/{dag_id}", json={"is_paused": False})
            assert wait_for_dag(api, services, CALENDAR)["is_paused"]
            yield api, services, env, alerts


@pytest.fixture(scope="module")
def season(settings, catalogue, tmp_path_factory):
    from sheets_emulator import EmulatorServer
    from sheets_emulator.faults import EmulatorConfig, FaultRule
    from tonghop.catalogue import load_catalogue
    from tooling import localdb

    pg_port = localdb.default_cluster().port
    localdb.ensure_warehouse(WAREHOUSE_DB)
    emulator = EmulatorServer(
        tmp_path_factory.mktemp("season-emulator"), host="127.0.0.1", port=0
    ).start()
    settings = settings.for_database(WAREHOUSE_DB).with_overrides(
        emulator_url=emulator.url,
        sheets_backend="emulator",
        output_dir=tmp_path_factory.mktemp("season-output"),
    )
    period = catalogue.period(PERIOD)
    programme = period.programme_code
    expected = sorted(u.unit_code for u in catalogue.expected_units(PERIOD))
    with_indicators = [u for u in expected if len(catalogue.indicators_for(programme, u)) >= 2]
    units = {f"U{n}": code for n, code in enumerate(with_indicators[:7], start=1)}
    with (Path(settings.dbt_project_dir) / "seeds" / "catalogue" / "periods.csv").open(
        encoding="utf-8"
    ) as fh:
        import csv

        row = next(r for r in csv.DictReader(fh) if r["period_code"] == PERIOD)

    def indicators(codes):
        return {
            u: [i.indicator_code for i in catalogue.indicators_for(programme, u)] for u in codes
        }

    oracle = Oracle(
        units=units,
        expected=expected,
        indicators=indicators(expected),
        on_time_until=dt.datetime.fromisoformat(row["on_time_until"]),
    )
    # the ad hoc period's units: four others, each with an e-mail (its tab's editor)
    adhoc_units = {
        f"V{n}": code
        for n, code in enumerate(
            [u for u in with_indicators[7:] if catalogue.unit(u).contact_email][:4], start=1
        )
    }
    adhoc_oracle = Oracle(
        units=adhoc_units,
        expected=sorted(adhoc_units.values()),
        indicators=indicators(adhoc_units.values()),
        on_time_until=ADHOC_ON_TIME_UNTIL,
    )
    period_of = {**dict.fromkeys(units, PERIOD), **dict.fromkeys(adhoc_units, ADHOC)}
    code_of = {**units, **adhoc_units}
    try:
        with scheduler(settings, pg_port, METADATA_DB, "airflow-season") as (
            api,
            services,
            env,
            alerts,
        ):
            season = Season(api, services, env, emulator, settings, catalogue, alerts)
            days, failed_before = {}, set()
            # the Sở requests the ad hoc report before the first morning; it opens at once
            season.dags_test(
                "tonghop_adhoc_report",
                at("06-01", "05:00:00"),
                {**ADHOC_REQUEST, "unit_codes": sorted(adhoc_units.values())},
            )
            season.settle()
            season.catalogue = load_catalogue(settings=settings)  # with the request
            for day, what in DAYS.items():
                morning = at(day)
                for edit in EDITS:
                    if days and list(days.values())[-1]["morning"] <= edit.at < morning:
                        season.edit(edit, code_of[edit.unit], period_of[edit.unit])
                admin = settings.dsn("admin")
                if what.get("build_fails"):
                    execute(admin, "revoke create on schema marts from transformer")
                if what.get("pull_refused"):
                    execute(admin, "grant create on schema marts to transformer")
                    # each period's pull: its listing's try and retry (the day's only
                    # listings: nothing is provisioned after the last on-time day)
                    emulator.configure(
                        EmulatorConfig(
                            faults=[
                                FaultRule(
                                    endpoint="drive.files.list",
                                    status=403,
                                    times=4,
                                    message="The caller does not have permission",
                                )
                            ]
                        )
                    )
                alerts_before = len(alerts)
                season.run_calendar(morning)
                runs = season.settle()
                emulator.configure(EmulatorConfig())
                failed = season.failed_runs(runs, failed_before)
                failed_before |= {(d, r) for d, ids in failed.items() for r in ids}
                if not what.get("pull_refused"):
                    oracle.pull(morning)
                    adhoc_oracle.pull(morning)
                record = {
                    "morning": morning,
                    "figures": season.figures(),
                    "published": season.published(),
                    "failed": failed,
                    "alerts": alerts[alerts_before:],
                    "counts": season.counts(),
                    "oracle": oracle.figures(morning.date()),
                    "adhoc": {
                        "figures": season.figures(ADHOC),
                        "published": season.published(ADHOC),
                        "oracle": adhoc_oracle.figures(morning.date()),
                        "received": season.received(ADHOC),
                    },
                }
                if what.get("clear_and_rerun"):
                    record["rerun"] = clear_and_rerun(season, runs, failed)
                days[day] = record
            chain = season.asset_chain()
            yield SimpleNamespace(
                days=days,
                chain=chain,
                units=units,
                oracle=oracle,
                settings=settings,
                expected=expected,
                adhoc_units=adhoc_units,
            )
    finally:
        emulator.stop()


def clear_and_rerun(season: Season, runs: dict, failed: dict) -> dict:
    """Clear the morning's whole reporting-cycle runs that failed (one per period), the newest
    build and the newest publication run, as an engineer reruns them from the UI, and wait for
    everything to settle again."""

    def state():
        return {
            "figures": season.figures(),
            "counts": season.counts(),
            "published": season.published(),
            "adhoc_figures": season.figures(ADHOC),
            "adhoc_published": season.published(ADHOC),
        }

    before = state()
    cleared = [("tonghop_reporting_cycle", run_id) for run_id in failed["tonghop_reporting_cycle"]]
    cleared += [
        (dag_id, runs[dag_id][0]["dag_run_id"])  # the newest (by run_after)
        for dag_id in ("tonghop_build_warehouse", "tonghop_publish")
    ]
    for dag_id, run_id in cleared:
        season.api.call(
            "POST",
            f"/dags/{dag_id}/clearTaskInstances",
            json={
                "dry_run": False,
                "dag_run_id": run_id,
                "only_failed": False,
                "reset_dag_runs": True,
                "note": "test_season: cleared",
            },
        )
    after_runs = season.settle()
    states = {
        (d, run_id): next(r["state"] for r in after_runs[d] if r["dag_run_id"] == run_id)
        for d, run_id in cleared
    }
    return {"before": before, "cleared": cleared, "states": states, **state()}


# ------------------------------------------------------------------ the checks


def oracle_of(season, day: str, period: str) -> dict:
    return season.days[day]["oracle"] if period == PERIOD else season.days[day]["adhoc"]["oracle"]


def expected_on(season, day: str, period: str = PERIOD) -> dict:
    """The oracle's figures for the marts at the end of ``day``: on the morning the build
    failed, the marts are still those of the morning before."""
    if DAYS[day].get("build_fails"):
        previous = list(DAYS)[list(DAYS).index(day) - 1]
        return oracle_of(season, previous, period)
    return oracle_of(season, day, period)


@pytest.mark.parametrize("period", [PERIOD, ADHOC])
@pytest.mark.parametrize("day", list(DAYS))
def test_every_headline_figure_matches_the_oracle_each_morning(season, day, period):
    record = season.days[day]
    actual = record["figures"] if period == PERIOD else record["adhoc"]["figures"]
    expected = expected_on(season, day, period)
    assert {k: actual[k] for k in HEADLINE} == {k: expected[k] for k in HEADLINE}
    assert actual["states"] == expected["states"]
    assert actual["totals"] == expected["totals"]


def published_on(season, day: str, period: str = PERIOD) -> dict:
    """The oracle's figures for the newest publication at the end of ``day``: those of the
    last morning whose build could run."""
    days = list(DAYS)[: list(DAYS).index(day) + 1]
    last = next(d for d in reversed(days) if not DAYS[d].get("build_fails"))
    return oracle_of(season, last, period)


@pytest.mark.parametrize("period", [PERIOD, ADHOC])
@pytest.mark.parametrize("day", list(DAYS))
def test_the_published_summary_is_the_marts_of_that_morning(season, day, period):
    """Published every morning its figures changed, and caught up the first morning the
    build and the publication could run again; its overview says what the oracle says."""
    record = season.days[day]
    published = record["published"] if period == PERIOD else record["adhoc"]["published"]
    expected = published_on(season, day, period)
    overview = published["overview"]
    assert published["as_of_date"] == expected["as_of_date"]
    assert overview["Số đơn vị phải báo cáo"] == expected["expected_reports"]
    assert overview["Số báo cáo đã nộp (hợp lệ)"] == expected["actual_reports"]
    assert overview["Số báo cáo nộp đúng hạn"] == expected["on_time_reports"]
    assert overview["Số báo cáo nộp trễ hạn"] == expected["late_reports"]
    assert overview["Số đơn vị chưa nộp báo cáo hợp lệ"] == expected["missing_reports"]


def test_the_season_covers_every_state_and_both_sides_of_the_deadline(season):
    final = season.days["06-23"]["oracle"]["states"]
    u = season.units
    assert final[u["U4"]] == "hop_le_dung_han"  # 23:59:30 on the last day
    assert final[u["U5"]] == "hop_le_tre_han"  # 00:00:30 the day after
    assert final[u["U1"]] == "hop_le_dung_han"  # corrected after the deadline
    assert final[u["U2"]] == "hop_le_tre_han"  # its errors fixed late
    assert final[u["U7"]] == "hop_le_dung_han"  # a later edit with an error
    assert final[u["U3"]] == "chua_chon_da_nop"
    assert final[u["U6"]] == "hop_le_tre_han"
    assert set(season.days["06-01"]["oracle"]["states"].values()) == {"chua_dien"}
    assert set(season.days["06-21"]["oracle"]["states"].values()) == {
        "hop_le_dung_han",
        "hop_le_tre_han",
        "con_loi",
        "chua_chon_da_nop",
        "chua_dien",
    }
    # the correction after the deadline changed the totals, not the status
    before = season.days["06-21"]["oracle"]["totals"]
    after = season.days["06-23"]["oracle"]["totals"]
    assert before != after


def test_in_the_shared_file_each_unit_is_received_at_its_own_edit(season):
    """The ad hoc period's sheets are one file (its sheet_layout, chosen in the request), a tab
    per unit. V3 changed the file after the deadline before V2's tab was first read, and V1
    corrected its figures later still: V2 is on time by its own edit, V1 stays on time with
    its new figures, V3 is late, V4 never opened its tab."""
    v = season.adhoc_units
    received = season.days["06-23"]["adhoc"]["received"]
    assert {layout for *_, layout in received["registry"]} == {"per_period"}
    assert len({sid for _, sid, _, _ in received["registry"]}) == 1
    assert sorted(u for u, *_ in received["registry"]) == sorted(v.values())
    final = season.days["06-23"]["adhoc"]["oracle"]["states"]
    assert [final[v[n]] for n in ("V1", "V2", "V3", "V4")] == [
        "hop_le_dung_han",
        "hop_le_dung_han",
        "hop_le_tre_han",
        "chua_dien",
    ]
    v3_edit = next(e.at for e in EDITS if e.unit == "V3")
    v2_edit = next(e.at for e in EDITS if e.unit == "V2")
    assert v2_edit <= ADHOC_ON_TIME_UNTIL < v3_edit < at("06-21")
    # the evidence: V2's first version was received at its own edit, by its own revision
    [moment] = {
        t
        for u, _, t, basis in received["versions"]
        if u == v["V2"] and basis == "unit_revision" and t > at("06-02")
    }
    assert abs(moment - v2_edit) < dt.timedelta(seconds=5), received["versions"]
    before = season.days["06-21"]["adhoc"]["oracle"]["totals"]
    assert before != season.days["06-22"]["adhoc"]["oracle"]["totals"]


def test_overdue_days_move_on_a_day_nothing_landed(season):
    """23/6 landed nothing (its pull failed); the day's build still ran after it and moved the
    days late of the units that never reported, and the overdue count is as of that day."""
    quiet, before = season.days["06-23"], season.days["06-22"]
    assert quiet["counts"]["versions"] == before["counts"]["versions"]
    never = next(u for u in season.expected if u not in season.units.values())
    assert season.days["06-21"]["figures"]["days_late"][never] == 1
    assert quiet["figures"]["days_late"][never] == 3
    assert quiet["figures"]["as_of_date"] == dt.date(2026, 6, 23)


def test_the_failed_build_failed_alerted_and_was_caught_up(season):
    failed = season.days["06-22"]["failed"]
    assert failed["tonghop_build_warehouse"], failed
    assert not failed["tonghop_reporting_cycle"] and not failed["tonghop_publish"]
    assert any("build_warehouse" in a.get("text", "") for a in season.days["06-22"]["alerts"])
    # nothing published on the morning of the failed build; the next build that succeeded
    # (23/6, with no new pull) published the corrections pulled on 22/6
    assert season.days["06-22"]["published"]["count"] == season.days["06-21"]["published"]["count"]
    assert season.days["06-23"]["published"]["count"] > season.days["06-22"]["published"]["count"]
    assert season.days["06-23"]["figures"]["totals"] != season.days["06-21"]["figures"]["totals"]


def test_a_stalled_pull_raises_a_freshness_alert(season):
    """The mornings the season skips are mornings the scheduler was down: 21/6, the first
    morning after the pull of 1/6, alerts; the mornings that follow a pull do not."""

    def stalled(day):
        return [
            a
            for a in season.days[day]["alerts"]
            if "pulls stalled" in a.get("text", "") and PERIOD in a.get("text", "")
        ]

    assert stalled("06-21"), season.days["06-21"]["alerts"]
    assert not stalled("06-01") and not stalled("06-22") and not stalled("06-23")
    failed = season.days["06-23"]["failed"]
    assert failed["tonghop_reporting_cycle"] and not failed["tonghop_publish"], failed
    assert not failed["tonghop_build_warehouse"], failed
    assert any("plan_pull" in a.get("text", "") for a in season.days["06-23"]["alerts"])


def test_a_whole_cycle_run_cleared_runs_again_and_changes_nothing(season):
    """23/6's failed cycle run, its build and its publication cleared and run again (Drive
    answers again): the pull now finishes — recorded once — and finds nothing new; the figures,
    the versions and the publication are what they were."""
    rerun = season.days["06-23"]["rerun"]
    assert set(rerun["states"].values()) == {"success"}, rerun
    # both periods' cycle runs had failed and were cleared
    assert [d for d, _ in rerun["cleared"]].count("tonghop_reporting_cycle") == 2, rerun
    assert rerun["figures"] == rerun["before"]["figures"]
    assert rerun["adhoc_figures"] == rerun["before"]["adhoc_figures"]
    assert rerun["adhoc_published"] == rerun["before"]["adhoc_published"]
    assert rerun["counts"]["versions"] == rerun["before"]["counts"]["versions"]
    assert rerun["counts"]["pulls"] == rerun["before"]["counts"]["pulls"] + 1
    assert rerun["published"]["count"] == rerun["before"]["published"]["count"]
    assert rerun["published"]["overview"] == rerun["before"]["published"]["overview"]


def test_the_publication_follows_each_build_on_the_marts_asset(season):
    """The calendar's cycles do not announce what they land (no "landed" event: the calendar
    builds once after the morning's pulls), so every build is the calendar's; each build that
    succeeded updated "marts" with the periods and the day of its conf, and the scheduler itself
    made every publication run from those events; each publication updated "summary" with its
    period."""
    chain = season.chain
    assert chain["events_total"] == len(chain["events"]) < 100
    builds = {r["dag_run_id"]: r for r in chain["runs"]["tonghop_build_warehouse"]}
    publications = {r["dag_run_id"]: r for r in chain["runs"]["tonghop_publish"]}
    by_uri = defaultdict(list)
    for event in chain["events"]:
        by_uri[event["uri"]].append(event)
    assert set(by_uri) == {"tonghop://warehouse/marts", "tonghop://publish/summary"}, by_uri
    # triggered by the calendar's TriggerDagRunOperator
    assert {r["run_type"] for r in builds.values()} == {"operator_triggered"}
    made = set()
    for event in by_uri["tonghop://warehouse/marts"]:
        conf = builds[event["source_run_id"]]["conf"]
        assert event["extra"] == {
            "period_codes": sorted(set(conf["period_codes"])),
            "as_of_date": conf["as_of_date"],
        }
        assert {PERIOD, ADHOC} <= set(event["extra"]["period_codes"])
        made |= {r["run_id"] for r in event["created_dagruns"] if r["dag_id"] == "tonghop_publish"}
    assert {r["run_type"] for r in publications.values()} == {"asset_triggered"}
    assert set(publications) == made
    summaries = by_uri["tonghop://publish/summary"]
    assert {e["source_run_id"] for e in summaries} <= set(publications)
    assert {e["extra"]["period_code"] for e in summaries} == {PERIOD, ADHOC}
    published = query(season.settings.dsn("admin"), "select distinct run_id from ops.publications")
    assert {r for (r,) in published} <= set(publications)


def test_the_newest_publication_is_in_its_runs_folder_and_its_result_is_in_airflow(season):
    """The newest publication of the period: the folder of its run, its manifest naming the
    run and the warehouse, and what the publish task returned, read through the API, naming
    the summary published there."""
    from publish.bundle import run_folder

    publication = season.chain["publication"]
    folder = run_folder(season.settings, PERIOD, publication["run_id"])
    assert Path(publication["folder"]) == folder
    bundle = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert (bundle["run_id"], bundle["inputs"]["database"]) == (
        publication["run_id"],
        WAREHOUSE_DB,
    )
    xlsx = folder / f"tong_hop_{PERIOD}.xlsx"
    assert xlsx.exists()
    assert str(xlsx) in [r.get("xlsx_path") for r in publication["returned"]], publication
