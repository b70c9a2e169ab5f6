"""Great Expectations' Data Docs for the engineers who read them: the site works with no
network, a failing row is shown by its unit and cell, and the history is bounded.

A few corpus reports (one problem in each part of the report, and a clean one) are validated
three times through the real checkpoints, in a copy of the project in a temporary folder
(``validate(project_dir=...)``), keeping two runs per suite. No PostgreSQL: validation needs
none. The site is then read as files, and opened in headless Chromium with the network off.
"""

from __future__ import annotations

import base64
import hashlib
import html.parser
import json
import re
import shutil
from pathlib import Path

import pytest
from validation_corpus import (
    CASES,
    CLEAN_UNITS,
    CORPUS_PERIOD,
    build_case_workbook,
    build_clean_workbook,
)

from tests.conftest import ROOT

KEEP = 2
RUNS = KEEP + 1
#: one problem in each part: (corpus case, the suite that finds it)
PROBLEMS = {
    "wrong_unit_code": "unit_report_headers",
    "status_outside_list": "unit_report_tasks",
    "count_thousands_comma": "unit_report_indicators",
    "feedback_kind_without_content": "unit_report_feedback",
}
SUITES = sorted(set(PROBLEMS.values()))


@pytest.fixture(scope="module")
def project(catalogue, tmp_path_factory):
    """A copy of the project (suites, checkpoints, vendored assets; no results), validated
    RUNS times with KEEP runs kept; returns (gx folder, the run folders of each suite after
    each run)."""
    from expectations.runner import ReportToCheck, validate
    from ingest.parse import parse_report
    from sheets_emulator import workbook_to_spreadsheet_resource

    root = tmp_path_factory.mktemp("gx_project")
    shutil.copytree(
        ROOT / "expectations" / "gx", root / "gx", ignore=shutil.ignore_patterns("uncommitted")
    )
    books = {c.unit_code: build_case_workbook(c, catalogue) for c in CASES if c.name in PROBLEMS}
    books[CLEAN_UNITS[0]] = build_clean_workbook(CLEAN_UNITS[0], catalogue)
    reports = [
        ReportToCheck(
            sheet_version_id=n,
            unit_code=unit,
            period_code=CORPUS_PERIOD,
            parsed=parse_report(
                workbook_to_spreadsheet_resource(book, spreadsheet_id=unit, title=unit),
                value_kind_of=catalogue.value_kind_of,
            ),
        )
        for n, (unit, book) in enumerate(books.items(), start=1)
    ]
    after_each = []
    for _ in range(RUNS):
        outcome = validate(reports, catalogue, keep_runs=KEEP, project_dir=root)
        assert outcome.data_docs_path and outcome.errors
        after_each.append(_runs(root / "gx"))
    return root / "gx", after_each


def _runs(gx: Path) -> dict[str, list[str]]:
    """suite -> its run folders (<run name>/<run time>) with a stored result, oldest first."""
    results = gx / "uncommitted" / "validations"
    return {
        suite: sorted(
            {str(f.parent.relative_to(results / suite)) for f in (results / suite).rglob("*.json")},
            key=lambda run: run.rsplit("/", 1)[-1],
        )
        for suite in SUITES
    }


def _site(gx: Path) -> Path:
    return gx / "uncommitted" / "data_docs" / "local_site"


class _Assets(html.parser.HTMLParser):
    """What a page loads: script src, link href (stylesheets, icons), img src."""

    def __init__(self):
        super().__init__()
        self.loaded: list[str] = []

    def handle_starttag(self, tag, attrs):
        found = dict(attrs)
        if tag == "script" and found.get("src"):
            self.loaded.append(found["src"])
        elif tag == "link" and found.get("href"):
            self.loaded.append(found["href"])
        elif tag == "img" and found.get("src"):
            self.loaded.append(found["src"])


def _loaded(page: Path) -> list[str]:
    parser = _Assets()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser.loaded


# ------------------------------------------------------------------ offline
def test_no_page_loads_anything_from_the_internet(project):
    """Every script, stylesheet, icon and image of every page is a file of the site."""
    gx, _ = project
    site = _site(gx)
    pages = sorted(site.rglob("*.html"))
    assert len(pages) == 1 + len(SUITES) + KEEP * len(SUITES)  # index, suites, kept runs
    remote, absent, checked = [], [], 0
    for page in pages:
        for url in _loaded(page):
            checked += 1
            if re.match(r"(https?:)?//", url):
                remote.append(f"{page.relative_to(site)}: {url}")
            elif not (page.parent / url.split("?", 1)[0]).is_file():
                absent.append(f"{page.relative_to(site)}: {url}")
    assert checked > 10 * len(pages)
    assert not remote, "loaded from the internet:\n" + "\n".join(remote)
    assert not absent, "missing files:\n" + "\n".join(absent)
    # the icon font the vendored stylesheet names for the icons the pages use
    css = site / "static" / "vendor" / "fontawesome-free-6.6.0" / "css" / "all.min.css"
    assert (css.parent / "../webfonts/fa-solid-900.woff2").resolve().is_file()
    assert "fa-solid-900.woff2" in css.read_text(encoding="utf-8")


def test_every_asset_the_templates_name_is_vendored_as_the_cdn_serves_it():
    """Whatever Great Expectations' installed templates load from the internet has a local
    copy or is dropped on purpose (an upgrade that adds one fails here); the files the
    templates pin with a hash are byte for byte the CDN's; every vendored file is used, and
    every package has its licence."""
    import great_expectations

    from expectations.data_docs import CDN_ASSETS, VENDORED

    templates = Path(great_expectations.__file__).parent / "render" / "view" / "templates"
    named, pinned = set(), {}
    for template in templates.glob("*.j2"):
        text = template.read_text(encoding="utf-8")
        for tag in re.findall(r"<(?:script|link|img)\b[^>]*>", text):
            url = re.search(r'(?:src|href)="(https?://[^"]+)"', tag)
            if url:
                named.add(url[1])
                sri = re.search(r'integrity="sha384-([^"]+)"', tag)
                if sri:
                    pinned[url[1]] = sri[1]
        # the logo's host is put together in the template
        named |= {
            f"{host}logo-long.png"
            for host in re.findall(r'static_images_dir = "(https://[^"]+/)"', text)
        }
    assert named, "no remote asset found in the templates: the test reads them wrongly"
    assert sorted(named - set(CDN_ASSETS)) == [], "new remote assets: vendor them"
    assert sorted(set(CDN_ASSETS) - named) == [], "assets the templates no longer name"

    vendor = ROOT / "expectations" / "gx" / "plugins" / "custom_data_docs" / "vendor"
    assert len(pinned) == 2
    for url, digest in pinned.items():
        copy = vendor / CDN_ASSETS[url].removeprefix(VENDORED)
        assert base64.b64encode(hashlib.sha384(copy.read_bytes()).digest()).decode() == digest
    used = {
        target.removeprefix(VENDORED)
        for target in CDN_ASSETS.values()
        if target and target.startswith(VENDORED)
    }
    used.add("fontawesome-free-6.6.0/webfonts/fa-solid-900.woff2")  # named by all.min.css
    files = {
        str(p.relative_to(vendor))
        for p in vendor.rglob("*")
        if p.is_file() and not p.name.startswith(("LICENSE", "README"))
    }
    assert files == used
    packages = {Path(f).parts[0] for f in files}
    assert all(list((vendor / p).glob("LICENSE*")) for p in packages), packages


def test_the_index_and_a_result_page_render_offline(project):
    """The index's table of runs is drawn by its scripts (blank without them); a result page's
    tables are turned into bootstrap tables by its scripts."""
    from testing.browser import offline_dom, require_chromium

    require_chromium()
    gx, after_each = project
    site = _site(gx)
    index = offline_dom((site / "index.html").as_uri())
    # a row per kept run, each leading to its page
    rows = re.findall(r'<tr[^>]*data-href="validations/(unit_report_\w+)/[^"]*"', index)
    assert sorted(rows) == sorted(SUITES * KEEP), "the index's table of runs is not drawn"

    run = after_each[-1]["unit_report_tasks"][-1]
    page = next((site / "validations" / "unit_report_tasks" / run).glob("*.html"))
    dom = offline_dom(page.as_uri())
    assert 'class="bootstrap-table' in dom  # the page's scripts ran
    assert "unit_report_tasks" in dom and "<table" in dom


# ------------------------------------------------------------------ unit and cell
def test_failing_rows_are_shown_by_unit_and_cell(project):
    """Each problem is stored and shown with its unit, its cell (where the corpus says it
    is) and the version read, not the row's position in the DataFrame."""
    gx, after_each = project
    results = gx / "uncommitted" / "validations"
    site = _site(gx)
    cases = {c.name: c for c in CASES}
    for name, suite in PROBLEMS.items():
        case = cases[name]
        [expected] = [e for e in case.expected if e.cell_ref]
        run = after_each[-1][suite][-1]
        [stored] = (results / suite / run).glob("*.json")
        results_of_run = json.loads(stored.read_text(encoding="utf-8"))["results"]
        indexed = [
            row
            for r in results_of_run
            if not r["success"] and r["expectation_config"]["meta"]["rule"] == expected.rule_code
            for row in r["result"]["unexpected_index_list"]
        ]
        assert indexed, (name, expected.rule_code)
        assert all(isinstance(row, dict) for row in indexed)
        assert {(row["unit_code"], row["cell"]) for row in indexed} == {
            (case.unit_code, expected.cell_ref)
        }, name
        assert all("unexpected_index_query" not in r["result"] for r in results_of_run)
        [page] = (site / "validations" / suite / run).glob("*.html")
        text = page.read_text(encoding="utf-8")
        cells = re.findall(r'<td[^>]*><div class="show-scrollbars">([^<]*)</div></td>', text)
        assert case.unit_code in cells and expected.cell_ref in cells, name
    # no result anywhere indexes a row by its position
    for stored in results.rglob("*.json"):
        for r in json.loads(stored.read_text(encoding="utf-8"))["results"]:
            assert all(isinstance(i, dict) for i in r["result"].get("unexpected_index_list", []))


# ------------------------------------------------------------------ bounded history
def test_the_history_keeps_the_last_runs_of_each_suite(project):
    """After RUNS runs, each suite keeps its last KEEP results and their pages, and the index
    links those and nothing else."""
    gx, after_each = project
    site = _site(gx)
    last = after_each[-1]
    for suite in SUITES:
        assert len(last[suite]) == KEEP
        # the newest: the last run's result, and the one before it
        assert last[suite][-1] not in after_each[-2][suite]
        assert last[suite][0] == after_each[-2][suite][-1]
    pages = {
        str(p.parent.relative_to(site / "validations")) for p in site.rglob("validations/*/*/*/*")
    }
    assert pages == {f"{suite}/{run}" for suite in SUITES for run in last[suite]}
    index = (site / "index.html").read_text(encoding="utf-8")
    linked = set(re.findall(r"validations/(unit_report_\w+/[^/\"']+/[^/\"']+)/", index))
    assert linked == pages
    # nothing empty is left behind, and the project's lock file stays
    results = gx / "uncommitted" / "validations"
    assert all(any(d.iterdir()) for d in (*results.rglob("*"), *site.rglob("*")) if d.is_dir())
    assert (gx / "uncommitted" / ".tonghop.lock").is_file()


def test_how_many_runs_are_kept_is_a_setting():
    from tonghop.settings import Settings, load_settings

    assert load_settings({}).gx_keep_runs == Settings.gx_keep_runs == 30
    assert load_settings({"TONGHOP_GX_KEEP_RUNS": "5"}).gx_keep_runs == 5
    with pytest.raises(ValueError, match="TONGHOP_GX_KEEP_RUNS"):
        load_settings({"TONGHOP_GX_KEEP_RUNS": "0"})
