"""The dashboard Sở staff open (bi/): Superset started as docker-compose.yml starts it, against a
warehouse of its own read as ``bi_reader``, the dashboards loaded from the repository, and the
page opened in headless Chromium (Debian's), where the figures are read off the rendered page.

The warehouse: the demo province's reports for three periods (CB-2026-6T and CB-2026-NAM, two
periods of one plan; TD-2024-NAM, whose indicator has a target), one unit of each demo
scenario registered and landed through the real pipeline (emulator, pull, Great
Expectations), then ``dbt build``; every other expected unit has no sheet. For each period,
chosen in the dashboard's filter as a person does, the figures on the page are compared with
an oracle computed here from the scenario and the catalogue's seeds (which units were made on
time, late, untouched, with the wrong unit code; the values they wrote; the units' types; the
indicators' targets), and with the marts.

Superset runs with bi/superset_config.py and the variables docker-compose.yml gives its
services (testing/superset.py), its metadata database on the test cluster. Needs
``scripts/bootstrap.sh`` (Superset's venv, chromium, chromium-driver): skipped without them,
failed on CI (CI=true). Screenshots go to the test state folder, and to docs/images/ only with
TONGHOP_UPDATE_DOCS=1.
"""

from __future__ import annotations

import csv
import os
import time
import unicodedata
from collections import Counter
from decimal import Decimal
from pathlib import Path
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo

import pytest
import yaml

from testing import superset as bi
from tests.conftest import TEST_STATE, query
from tonghop.catalogue import CATALOGUE_DIR
from tooling.local_airflow import free_port

#: needs Superset's venv, chromium and chromium-driver; `-m "not dashboard"` leaves it out
pytestmark = pytest.mark.dashboard

ROOT = Path(__file__).resolve().parent.parent
BUNDLE = ROOT / "bi" / "dashboards"
DATABASE = "tonghop_dashboard"
METADATA_DB = "superset_dashboard"
#: two periods of one plan (the rate over periods), and one whose indicator has a target
PERIODS = ("CB-2026-6T", "CB-2026-NAM", "TD-2024-NAM")
SEED = 11  # TD-2024-NAM: the unit with the targeted indicator reports late, below the target
PER_SCENARIO = 1  # units of each demo scenario registered, per period (landing is most of the time)
TARGET_UNIT = "TD-UBND"  # the unit assigned the indicator with a target (TD.CT01, >= 5)
FILTER = "Kỳ báo cáo"
FILTER_ID = "NATIVE_FILTER-ky-bao-cao"
UPDATE_DOCS = os.environ.get("TONGHOP_UPDATE_DOCS") == "1"
COUNTED = {"on_time", "late"}
VN = ZoneInfo("Asia/Ho_Chi_Minh")


def _missing(message: str):
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message)
    pytest.skip(message)


def vn_number(text: str) -> Decimal | None:
    """A figure as the dashboard writes it (1.234,5 and 5,6%) as a number; N/A is None."""
    text = text.strip()
    if text in ("N/A", ""):
        return None
    percent = text.endswith("%")
    value = Decimal(text.rstrip("%").replace(".", "").replace(",", "."))
    return value / 100 if percent else value


def seed_rows(name: str) -> list[dict]:
    with (CATALOGUE_DIR / f"{name}.csv").open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


# ------------------------------------------------------------------ the files, without a server
def bundle_files() -> dict[str, dict]:
    return {
        p.relative_to(BUNDLE).as_posix(): yaml.safe_load(p.read_text(encoding="utf-8"))
        for p in BUNDLE.rglob("*.yaml")
    }


def test_each_dataset_is_a_mart_with_its_contract_columns():
    contracts = {}
    for path in (ROOT / "dbt_project" / "models" / "marts").glob("*/_*__models.yml"):
        for model in yaml.safe_load(path.read_text(encoding="utf-8"))["models"]:
            contracts[model["name"]] = [c["name"] for c in model["columns"]]
    datasets = {k: v for k, v in bundle_files().items() if k.startswith("datasets/")}
    assert datasets
    for name, dataset in datasets.items():
        assert dataset["schema"] == "marts" and dataset["sql"] is None, name
        assert [c["column_name"] for c in dataset["columns"]] == contracts[dataset["table_name"]]


def test_charts_datasets_and_dashboard_refer_to_each_other():
    files = bundle_files()
    datasets = {v["uuid"]: v for k, v in files.items() if k.startswith("datasets/")}
    charts = {v["uuid"]: v for k, v in files.items() if k.startswith("charts/")}
    (database,) = [v for k, v in files.items() if k.startswith("databases/")]
    assert all(d["database_uuid"] == database["uuid"] for d in datasets.values())
    assert all(c["dataset_uuid"] in datasets for c in charts.values())
    # no password in the repository: the loader sends it with the import
    uri = urlsplit(database["sqlalchemy_uri"])
    assert uri.username == "bi_reader" and uri.password is None
    assert not database["allow_dml"] and not database["allow_file_upload"]
    (dashboard,) = [v for k, v in files.items() if k.startswith("dashboards/")]
    placed = {
        item["meta"]["uuid"]
        for item in dashboard["position"].values()
        if isinstance(item, dict) and item.get("type") == "CHART"
    }
    assert placed == set(charts)
    (period_filter,) = dashboard["metadata"]["native_filter_configuration"]
    assert (period_filter["name"], period_filter["id"]) == (FILTER, FILTER_ID)
    (target,) = period_filter["targets"]
    assert target["column"]["name"] == "period_code" and target["datasetUuid"] in datasets


def test_what_staff_read_is_vietnamese_in_nfc():
    for name, text in {
        p.name: p.read_text(encoding="utf-8") for p in BUNDLE.rglob("*.yaml")
    }.items():
        assert unicodedata.is_normalized("NFC", text), name
    for chart in (v for k, v in bundle_files().items() if k.startswith("charts/")):
        assert any(
            ch in chart["slice_name"]
            for ch in "ạảãáàâấầẩẫậăắằẳẵặđêếềểễệôốồổỗộơớờởỡợưứừửữựỷỳýỹỵíìỉĩịúùủũụóòỏõọéèẻẽẹ"
        ), chart["slice_name"]


def loader_module():
    """bi/load_dashboards.py as a module (it needs requests, PyYAML and psycopg2 only)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "load_dashboards", ROOT / "bi" / "load_dashboards.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_new_stack_loads_without_a_default_period(settings, tmp_path):
    """Before the first dbt build there is no marts.dim_period: the loader leaves the period
    filter without a default instead of failing the stack's start."""
    from tooling import localdb

    loader = loader_module()
    localdb.recreate_warehouse("tonghop_dashboard_new")
    admin = urlsplit(settings.dsn("admin"))
    bi.write_secrets(
        tmp_path, {"bi_reader_password": unquote(urlsplit(settings.dsn("bi_reader")).password)}
    )
    env = {
        "SECRETS_DIR": str(tmp_path),
        "TONGHOP_PG_HOST": admin.hostname,
        "TONGHOP_PG_PORT": str(admin.port),
        "TONGHOP_PG_DB": "tonghop_dashboard_new",
    }
    assert loader.newest_period(env) is None
    (dashboard,) = [v for k, v in bundle_files().items() if k.startswith("dashboards/")]
    (period_filter,) = loader.with_default_period(dashboard, None)["metadata"][
        "native_filter_configuration"
    ]
    assert period_filter["defaultDataMask"]["filterState"] == {}


# ------------------------------------------------------------------ the warehouse
@pytest.fixture(scope="module")
def warehouse(superset_starting, settings, catalogue, tmp_path_factory):
    """The three periods landed and built; returns (settings of the warehouse,
    {period: manifest}, {period: the units registered})."""
    from pipeline.dbt import run_dbt
    from testing.province import demo_province, land, own_warehouse, register_entries

    begun = time.monotonic()
    manifests, sampled = {}, {}
    with own_warehouse(settings, DATABASE, tmp_path_factory.mktemp("dashboard")) as (
        own,
        server,
    ):
        for period in PERIODS:
            manifest, entries = demo_province(server, period, seed=SEED)
            sample = {TARGET_UNIT} & set(manifest.scenarios)
            for scenario in sorted(set(manifest.scenarios.values())):
                sample |= set(manifest.units_with(scenario)[:PER_SCENARIO])
            register_entries(own, [e for e in entries if e.unit_code in sample])
            land(own, catalogue, period)
            manifests[period], sampled[period] = manifest, sample
    landed = time.monotonic()
    run_dbt(own, ["build", "--exclude-resource-type", "test"])
    print(
        f"\nwarehouse: landed in {landed - begun:.0f} s, built in {time.monotonic() - landed:.0f} s"
    )
    return own, manifests, sampled


class Oracle:
    """What the dashboard must show for a period, from the scenario and the seeds alone."""

    def __init__(self, catalogue, manifest, registered: set[str]):
        self.catalogue = catalogue
        self.period = manifest.period_code
        self.expected = {u.unit_code: u for u in catalogue.expected_units(self.period)}
        scenario = {u: manifest.scenarios[u] for u in registered}
        self.counted = {u for u, s in scenario.items() if s in COUNTED}
        self.late = {u for u, s in scenario.items() if s == "late"}
        self.on_time = self.counted - self.late
        self.missing = set(self.expected) - self.counted
        self.untouched = {u for u, s in scenario.items() if s == "untouched"}
        self.wrong_unit = {u for u, s in scenario.items() if s == "wrong_unit"}
        self.values = manifest.valid_values

    def name(self, unit: str) -> str:
        return self.expected[unit].unit_name

    def by_type(self) -> dict[str, tuple[int, int, int, int, int]]:
        """unit type name → (expected, actual, on time, late, missing), and the row of all."""
        names = {r["unit_type"]: r["unit_type_name"] for r in seed_rows("unit_types")}
        rows: dict[str, list[int]] = {}
        for code, unit in self.expected.items():
            for key in (names[unit.unit_type], "Tất cả loại đơn vị"):
                row = rows.setdefault(key, [0, 0, 0, 0, 0])
                row[0] += 1
                row[1] += code in self.counted
                row[2] += code in self.on_time
                row[3] += code in self.late
                row[4] += code in self.missing
        return {k: tuple(v) for k, v in rows.items()}

    def indicator_totals(self) -> dict[str, tuple[Decimal | None, int]]:
        """indicator name → (total of the counted units' values, units that gave one)."""
        out = {}
        programme = self.catalogue.period(self.period).programme_code
        for indicator in self.catalogue.indicators.values():
            if indicator.programme_code != programme:
                continue
            given = [
                self.values[u][indicator.indicator_code]
                for u in self.counted
                if self.values.get(u, {}).get(indicator.indicator_code) is not None
            ]
            out[indicator.indicator_name] = (sum(given) if given else None, len(given))
        return out


# ------------------------------------------------------------------ Superset, as the stack runs it
@pytest.fixture(scope="module")
def superset_starting(settings, tmp_path_factory):
    """Superset's metadata set up (or restored from the state folder's cache) and its server
    started in the background, while the warehouse is built; yields (stack, the thread, what
    it started and timed). The server is stopped at the end of the module."""
    import threading

    if missing := bi.missing_tools():
        _missing(f"not installed: {', '.join(missing)} (bash scripts/bootstrap.sh, as root)")
    work = tmp_path_factory.mktemp("superset")
    stack = bi.local_stack(settings, work, metadata_db=METADATA_DB, warehouse_db=DATABASE, port=0)
    log = TEST_STATE / "superset.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text("", encoding="utf-8")
    started: dict = {}

    def start():
        try:
            begun = time.monotonic()
            started["metadata"] = bi.metadata_database(
                settings.dsn("admin"), stack, TEST_STATE / "superset-cache", log
            )
            started["metadata_s"] = time.monotonic() - begun
            # a port the OS finds free now, not a fixed one: fixed ports in the ephemeral range
            # were taken by other connections of the suite (gunicorn: 'Connection in use')
            stack.port = free_port()
            started["process"] = bi.start_server(stack, log)
        except BaseException as exc:
            started["error"] = exc

    thread = threading.Thread(target=start, daemon=True)
    thread.start()
    yield stack, thread, started
    thread.join()
    if "process" in started:
        bi.stop_server(started["process"])


@pytest.fixture(scope="module")
def superset(superset_starting, warehouse):
    """The server healthy and the dashboards loaded from bi/dashboards/ into it; returns
    (stack, timings)."""
    stack, thread, started = superset_starting
    thread.join()
    if "error" in started:
        raise started["error"]
    process = started["process"]
    begun = time.monotonic()
    bi.wait_healthy(stack.url, process, log=TEST_STATE / "superset.log")
    timings = {
        "metadata": started["metadata"],
        "metadata_s": started["metadata_s"],
        # what is left of the start once the warehouse is built (the bench times a start)
        "waited_for_server_s": time.monotonic() - begun,
        "server_pid": process.pid,
    }
    begun = time.monotonic()
    bi.run_script(stack, "load_dashboards.py", TEST_STATE / "superset.log")
    timings["load_s"] = time.monotonic() - begun
    return stack, timings


@pytest.fixture(scope="module")
def browser(superset, tmp_path_factory):
    stack, _ = superset
    with bi.chromium(tmp_path_factory.mktemp("chromium"), width=1600, height=3000) as driver:
        bi.sign_in(driver, stack.url, bi.ADMIN, stack.admin_password())
        yield driver


@pytest.fixture(scope="module")
def pages(superset, browser, warehouse, catalogue):
    """Each period chosen in the dashboard's filter: {period: (what the page shows, states)}."""
    stack, timings = superset
    own, _, _ = warehouse
    names = dict(
        query(own.dsn("bi_reader"), "select period_code, period_name from marts.dim_period")
    )
    browser.get(f"{stack.url}/superset/dashboard/tong-hop/")
    started = time.monotonic()
    bi.wait_settled(browser)
    timings["first_render_s"] = time.monotonic() - started
    shown, shots = {}, TEST_STATE / "dashboard"
    # as the dashboard opens, on the filter's default period
    shown["default"] = (bi.read_charts(browser), bi.charts_settled(browser))
    timings["default_period"] = shown["default"][0]["Kỳ báo cáo"]["rows"][0][0]
    shots.mkdir(parents=True, exist_ok=True)
    for period in PERIODS:
        bi.choose_period(browser, FILTER_ID, period)
        states = bi.wait_settled(
            browser,
            until=lambda seen, p=period: (
                seen.get("Kỳ báo cáo", {}).get("rows", [[None]])[0][0] == names[p]
            ),
        )
        shown[period] = (bi.read_charts(browser), states)
        browser.save_screenshot(str(shots / f"{period}.png"))
    timings["rss_after_render"] = bi.process_tree_rss(timings["server_pid"])
    print(f"\nSuperset: {timings}")
    return shown


def rows_of(shown: dict, title: str) -> list[dict[str, str]]:
    table = shown[title]
    return [dict(zip(table["header"], row)) for row in table["rows"]]


# ------------------------------------------------------------------ what the page shows
def test_every_chart_renders_for_every_period(pages):
    for period, (_, states) in pages.items():
        assert states, period
        wrong = {title: state for title, state in states.items() if state != "rendered"}
        assert not wrong, (period, wrong)


def test_the_big_numbers_are_the_periods_counts(pages, warehouse, catalogue):
    own, manifests, sampled = warehouse
    for period in PERIODS:
        shown, _ = pages[period]
        oracle = Oracle(catalogue, manifests[period], sampled[period])
        expected, counted, missing = len(oracle.expected), len(oracle.counted), len(oracle.missing)
        assert vn_number(shown["Báo cáo phải nộp"]["number"]) == expected, period
        assert vn_number(shown["Đã nộp hợp lệ"]["number"]) == counted, period
        assert vn_number(shown["Chưa nộp"]["number"]) == missing, period
        assert vn_number(shown["Tỷ lệ nộp"]["number"]) == round(Decimal(counted) / expected, 3), (
            period
        )
        (mart,) = query(
            own.dsn("bi_reader"),
            """select expected_reports, actual_reports, missing_reports, reporting_rate
               from marts.agg_province_summary where period_code = %s""",
            (period,),
        )
        assert (expected, counted, missing) == mart[:3]
        assert round(mart[3], 3) == vn_number(shown["Tỷ lệ nộp"]["number"])


def test_the_rate_by_unit_type(pages, warehouse, catalogue):
    own, manifests, sampled = warehouse
    for period in PERIODS:
        shown, _ = pages[period]
        oracle = Oracle(catalogue, manifests[period], sampled[period]).by_type()
        page = {
            row["Loại đơn vị"]: tuple(
                int(vn_number(row[h]))
                for h in ("Phải nộp", "Đã nộp hợp lệ", "Đúng hạn", "Trễ hạn", "Chưa nộp")
            )
            + (vn_number(row["Tỷ lệ nộp"]), vn_number(row["Tỷ lệ đúng hạn"]))
            for row in rows_of(shown, "Tỷ lệ nộp báo cáo theo loại đơn vị")
        }
        assert {k: v[:5] for k, v in page.items()} == oracle, period
        for (
            name,
            (exp, actual, on_time, *_),
        ) in ((k, v) for k, v in oracle.items()):
            assert page[name][5] == round(Decimal(actual) / exp, 3), (period, name)
            assert page[name][6] == round(Decimal(on_time) / exp, 3), (period, name)
        marts = {
            r[0]: r[1:]
            for r in query(
                own.dsn("bi_reader"),
                """select unit_type_name, expected_reports, actual_reports, on_time_reports,
                          late_reports, missing_reports
                   from marts.agg_reporting_rate where period_code = %s""",
                (period,),
            )
        }
        assert {k: v[:5] for k, v in page.items()} == marts


def test_the_rate_over_periods(pages, warehouse, catalogue):
    own, manifests, sampled = warehouse
    shown, _ = pages[PERIODS[0]]
    rows = rows_of(shown, "Tỷ lệ nộp qua các kỳ")
    marts = query(
        own.dsn("bi_reader"),
        """select period_name, expected_reports, actual_reports, reporting_rate
           from marts.agg_reporting_rate where unit_type = 'tat_ca' and due_date <= as_of_date
           order by due_date desc""",
    )
    assert [r["Kỳ báo cáo"] for r in rows] == [m[0] for m in marts]
    for row, (_, expected, actual, rate) in zip(rows, marts):
        assert (vn_number(row["Phải nộp"]), vn_number(row["Đã nộp hợp lệ"])) == (expected, actual)
        assert vn_number(row["Tỷ lệ nộp"]) == round(rate, 3)
    # the landed periods, against the scenario; the others had no sheet at all
    by_name = {r["Kỳ báo cáo"]: r for r in rows}
    for period in PERIODS:
        oracle = Oracle(catalogue, manifests[period], sampled[period])
        row = by_name[catalogue.period(period).period_name]
        assert vn_number(row["Đã nộp hợp lệ"]) == len(oracle.counted), period
    # the same on every period chosen: the chart is outside the filter's scope
    for period in PERIODS[1:]:
        assert rows_of(pages[period][0], "Tỷ lệ nộp qua các kỳ") == rows


def test_missing_and_late_units_are_named(pages, warehouse, catalogue):
    own, manifests, sampled = warehouse
    for period in PERIODS:
        shown, _ = pages[period]
        oracle = Oracle(catalogue, manifests[period], sampled[period])
        missing = rows_of(shown, "Đơn vị chưa nộp báo cáo")
        late = rows_of(shown, "Đơn vị nộp trễ hạn")
        assert sorted(r["Đơn vị"] for r in missing) == sorted(
            oracle.name(u) for u in oracle.missing
        ), period
        assert sorted(r["Đơn vị"] for r in late) == sorted(oracle.name(u) for u in oracle.late)
        # why each one is missing, and how late the late ones were: the marts' words and days
        marts = {
            (name, state, days)
            for name, state, days in query(
                own.dsn("bi_reader"),
                """select unit_name_at_period, submission_state_vi, days_late
                   from marts.fct_submission where period_code = %s and reporting_status = 'missing'""",
                (period,),
            )
        }
        assert {(r["Đơn vị"], r["Tình trạng"], int(r["Số ngày quá hạn"])) for r in missing} == marts
        states = Counter(r["Tình trạng"] for r in missing)
        assert states["Chưa có bảng tính"] == len(oracle.missing - set(sampled[period])), period
        marts_late = {
            name: (days, received)
            for name, days, received in query(
                own.dsn("bi_reader"),
                """select unit_name_at_period, days_late, received_at from marts.fct_submission
                   where period_code = %s and reporting_status = 'late'""",
                (period,),
            )
        }
        assert {r["Đơn vị"]: int(r["Số ngày quá hạn"]) for r in late} == {
            name: days for name, (days, _) in marts_late.items()
        }
        assert all(days > 0 for days, _ in marts_late.values())
        # when, on the Vietnam clock (Superset would show a timestamptz in UTC)
        assert {r["Đơn vị"]: r["Thời điểm nộp"] for r in late} == {
            name: received.astimezone(VN).strftime("%d/%m/%Y %H:%M")
            for name, (_, received) in marts_late.items()
        }


def test_indicators_against_targets(pages, warehouse, catalogue):
    own, manifests, sampled = warehouse
    for period in PERIODS:
        shown, _ = pages[period]
        oracle = Oracle(catalogue, manifests[period], sampled[period]).indicator_totals()
        rows = {r["Chỉ tiêu"]: r for r in rows_of(shown, "Chỉ tiêu so với mục tiêu")}
        assert set(rows) == set(oracle), period
        for name, (total, units) in oracle.items():
            assert vn_number(rows[name]["Tổng"]) == total, (period, name)
            assert int(rows[name]["Đơn vị đã báo cáo"]) == units, (period, name)
    # the one indicator with a target: at least 5 a year for each unit it is assigned to
    (target,) = [r for r in seed_rows("indicators") if r["target_value"]]
    shown, _ = pages["TD-2024-NAM"]
    row = {r["Chỉ tiêu"]: r for r in rows_of(shown, "Chỉ tiêu so với mục tiêu")}[
        target["indicator_name"]
    ]
    value = manifests["TD-2024-NAM"].valid_values[TARGET_UNIT][target["indicator_code"]]
    assert manifests["TD-2024-NAM"].scenarios[TARGET_UNIT] in COUNTED and value is not None
    met = value >= Decimal(target["target_value"])  # the operator is ">="
    assert (target["target_operator"], vn_number(row["Mục tiêu"])) == (
        row["So sánh"],
        Decimal(target["target_value"]),
    )
    assert vn_number(row["Tổng"]) == value
    assert row["Kết quả"] == ("Đạt" if met else "Chưa đạt")
    assert vn_number(row["Mức đạt"]) == (1 if met else 0)


def test_data_quality_by_rule(pages, warehouse, catalogue):
    own, manifests, sampled = warehouse
    rule_names = {r["rule_code"]: r["rule_name_vi"] for r in seed_rows("validation_rules")}
    for period in PERIODS:
        shown, _ = pages[period]
        oracle = Oracle(catalogue, manifests[period], sampled[period])
        rows = {r["Quy tắc"]: r for r in rows_of(shown, "Chất lượng dữ liệu theo quy tắc")}
        # what the scenario did on purpose: sheets left blank, a unit code overwritten
        assert int(rows[rule_names["sheet.not_filled"]]["Số đơn vị vi phạm"]) == len(
            oracle.untouched
        ), period
        assert int(rows[rule_names["identity.unit"]]["Số đơn vị vi phạm"]) == len(
            oracle.wrong_unit
        ), period
        marts = {
            rule: tuple(figures)
            for rule, *figures in query(
                own.dsn("bi_reader"),
                """select rule_name_vi, count(distinct unit_code), sum(error_count),
                          sum(warning_count), sum(quarantined_row_count)
                   from marts.agg_data_quality_by_rule where period_code = %s and not is_passed
                   group by rule_name_vi""",
                (period,),
            )
        }
        page = {
            rule: tuple(
                int(vn_number(r[h]))
                for h in ("Số đơn vị vi phạm", "Số lỗi", "Số cảnh báo", "Số dòng bị giữ lại")
            )
            for rule, r in rows.items()
        }
        assert page == marts, period


def test_the_page_loads_nothing_from_outside(superset, browser, pages):
    """Everything comes from Superset itself; the one outside address the front end asks for
    (Superset's usage pixel, built into its pages) is refused by the content security policy of
    bi/superset_config.py, and no host name but localhost resolves in this browser anyway."""
    stack, _ = superset
    browser.refresh()
    bi.wait_settled(browser)
    outside = set(bi.outside_requests(browser, stack.url))
    assert outside <= bi.blocked_by_policy(browser), outside


def test_screenshots(superset, browser, pages):
    """The dashboard as staff see it, per period, in the state folder; also in docs/images/
    with TONGHOP_UPDATE_DOCS=1 (docs/operations.md shows them)."""
    for period in PERIODS:
        shot = TEST_STATE / "dashboard" / f"{period}.png"
        assert shot.stat().st_size > 50_000, shot
    if UPDATE_DOCS:
        import shutil

        for period, name in (
            ("CB-2026-6T", "dashboard_6_thang.png"),
            ("TD-2024-NAM", "dashboard_chi_tieu.png"),
        ):
            shutil.copyfile(
                TEST_STATE / "dashboard" / f"{period}.png", ROOT / "docs" / "images" / name
            )


def admin_api(stack):
    """A requests session signed in to Superset's API as the admin."""
    import requests

    session = requests.Session()
    token = session.post(
        f"{stack.url}/api/v1/security/login",
        json={"username": bi.ADMIN, "password": stack.admin_password(), "provider": "db"},
        timeout=30,
    ).json()["access_token"]
    session.headers["Authorization"] = f"Bearer {token}"
    session.headers["X-CSRFToken"] = session.get(
        f"{stack.url}/api/v1/security/csrf_token/", timeout=30
    ).json()["result"]
    session.headers["Referer"] = stack.url
    return session


def test_a_staff_account_reads_the_dashboard_and_runs_no_sql(superset, pages, tmp_path):
    """An account with the role bi/setup_metadata.py makes for Sở staff (docs/deployment.md):
    the dashboard renders for it, the same figures; SQL Lab refuses it."""
    import requests

    stack, _ = superset
    api = admin_api(stack)
    roles = api.get(f"{stack.url}/api/v1/security/roles/?q=(page_size:100)", timeout=30).json()
    (role,) = [r["id"] for r in roles["result"] if r["name"] == "Xem báo cáo"]
    password = os.urandom(12).hex()
    created = api.post(
        f"{stack.url}/api/v1/security/users/",
        json={
            "first_name": "Cán bộ",
            "last_name": "Phòng Tổng hợp",
            "username": "canbo",
            "email": "canbo@example.gov.vn",
            "active": True,
            "roles": [role],
            "password": password,
        },
        timeout=30,
    )
    assert created.status_code == 201, created.text
    with bi.chromium(tmp_path / "profile", width=1600, height=3000) as driver:
        bi.sign_in(driver, stack.url, "canbo", password)
        driver.get(f"{stack.url}/superset/dashboard/tong-hop/")
        states = bi.wait_settled(driver)
        assert states and all(state == "rendered" for state in states.values()), states
        shown = bi.read_charts(driver)
    assert shown == pages["default"][0]  # what the admin saw as the dashboard opened
    viewer = requests.Session()
    token = viewer.post(
        f"{stack.url}/api/v1/security/login",
        json={"username": "canbo", "password": password, "provider": "db"},
        timeout=30,
    ).json()["access_token"]
    viewer.headers["Authorization"] = f"Bearer {token}"
    viewer.headers["X-CSRFToken"] = viewer.get(
        f"{stack.url}/api/v1/security/csrf_token/", timeout=30
    ).json()["result"]
    viewer.headers["Referer"] = stack.url
    refused = viewer.post(
        f"{stack.url}/api/v1/sqllab/execute/",
        json={"database_id": 1, "sql": "select 1", "runAsync": False},
        timeout=30,
    )
    assert refused.status_code in (401, 403), (refused.status_code, refused.text[:300])


def test_loading_again_adds_nothing(superset, pages):
    """The loader is idempotent: a second run overwrites the objects by UUID."""
    stack, _ = superset

    def counts() -> dict:
        session = admin_api(stack)
        return {
            kind: session.get(f"{stack.url}/api/v1/{kind}/?q=(page_size:1)", timeout=30).json()[
                "count"
            ]
            for kind in ("dashboard", "chart", "dataset", "database")
        }

    before = counts()
    bi.run_script(stack, "load_dashboards.py", TEST_STATE / "superset.log")
    assert (
        counts()
        == before
        == {
            "dashboard": 1,
            "chart": len(list((BUNDLE / "charts").glob("*.yaml"))),
            "dataset": len(list((BUNDLE / "datasets").rglob("*.yaml"))),
            "database": 1,
        }
    )
