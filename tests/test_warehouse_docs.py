"""The warehouse documents itself: the build step leaves dbt's documentation site in the output
folder, which opens on a Vietnamese overview of the marts with a glossary; every node and column
of the dbt project is described, the marts' in plain Vietnamese; the marts stand apart from the
engineers' layers; the marts' published interface is typed and enforced, the descriptions reach
PostgreSQL, and the validation rules the marts name are the rules Great Expectations runs."""

from __future__ import annotations

import csv
import json
import os
import re
import unicodedata
from pathlib import Path

import psycopg2
import pytest

from tests.conftest import ROOT, query

DOCUMENTED_NODES = ("model", "seed", "snapshot")
#: words a reader of the marts does not know: never in a mart's or a column's description, each
#: explained once in the overview's glossary (models/overview.md)
JARGON = (
    "DHIS2",
    "SCD",
    "type 2",
    "grain",
    "is_counted",
    "tat_ca",
    "staging",
    "intermediate",
    "snapshot",
    "seed",
    "dbt",
    "Great Expectations",
)
#: nor these, which no glossary explains: the project's code and the APIs it calls
INTERNALS = (r"int_\w+", r"stg_\w+", "ParsedReport", "modifiedTime", "spreadsheets.get", "GX")
#: a parenthesis holding English words only, e.g. "(reporting rate)"
ENGLISH_GLOSS = re.compile(r"\((?=[A-Za-z])[A-Za-z ,'/-]+\)")
MART_COLOUR = "#7b1fa2"


@pytest.fixture(scope="module")
def docs(settings, tmp_path_factory):
    """`stage_build` (dbt build, then the docs) on the session warehouse, into an output folder
    of this module's own; returns (folder, what stage_build said, manifest, catalog)."""
    from pipeline.cycle import stage_build
    from pipeline.dbt import run_dbt

    own = settings.with_overrides(output_dir=tmp_path_factory.mktemp("docs_output"))
    run_dbt(own, ["seed", "--select", "unit_types"])  # a load by hand: the next build reloads
    # as on a warehouse the pipeline never built (a module before this one on the same worker
    # may have built the session warehouse): the build must say why it builds the history in full
    conn = psycopg2.connect(settings.dsn("admin"))
    with conn, conn.cursor() as cur:
        cur.execute("delete from ops.history_builds")
    conn.close()
    built = stage_build(own)
    assert built["catalogue_reloaded"] and built["docs_generated"]
    # no build recorded what the history was built with: this one built it in full
    assert built["history_rebuilt"] == "no build of the history recorded"
    folder = Path(own.output_dir) / "dbt_docs"
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    catalog = json.loads((folder / "catalog.json").read_text(encoding="utf-8"))
    return folder, built, manifest, catalog


def test_a_second_build_neither_reloads_the_catalogue_nor_regenerates_the_docs(settings, docs):
    """Nothing in the project changed since the fixture's build: the seeds stay (no seed node
    runs), the docs site stays as it is, and the marts are built all the same."""
    from pipeline.cycle import stage_build

    folder, first, _, _ = docs
    own = settings.with_overrides(output_dir=folder.parent)
    index_written = (folder / "index.html").stat().st_mtime_ns
    again = stage_build(own)
    assert again["success"] and not again["catalogue_reloaded"] and not again["docs_generated"]
    assert again["history_rebuilt"] is None  # the history took in what was new, nothing else
    assert (folder / "index.html").stat().st_mtime_ns == index_written
    # every node but the seeds (and their tests) ran again
    assert 0 < sum(again["counts"].values()) < sum(first["counts"].values())
    assert not again["failures"]
    assert query(settings.dsn("bi_reader"), "select count(*) from marts.fct_submission")[0][0] > 0


def test_the_catalogue_counts_as_loaded_only_with_its_own_fingerprint(settings, docs):
    from pipeline.dbt import catalogue_fingerprint, catalogue_loaded

    current = catalogue_fingerprint(settings.dbt_project_dir)
    assert catalogue_loaded(settings, current)
    assert not catalogue_loaded(settings, "0" * 64)


def test_fingerprints_follow_what_the_seeds_and_the_docs_are_made_of(settings, tmp_path):
    """A changed CSV changes the catalogue's fingerprint; a changed model only the docs'; dbt's
    own output (target/) neither. What the history is computed with follows both, not a data
    test."""
    import shutil

    from pipeline.dbt import catalogue_fingerprint, docs_fingerprint, history_definitions

    project = tmp_path / "dbt_project"
    shutil.copytree(
        settings.dbt_project_dir,
        project,
        ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"),
    )
    own = settings.with_overrides(dbt_project_dir=project)

    def both():
        return catalogue_fingerprint(project), docs_fingerprint(own)

    def history():
        return history_definitions(own).project

    start, history_start = both(), history()
    assert start == both()
    (project / "target").mkdir()
    (project / "target" / "manifest.json").write_text("{}")
    assert both() == start
    test = project / "tests" / "assert_checked_rows_are_complete.sql"
    test.write_text(test.read_text(encoding="utf-8") + "\n-- edited\n", encoding="utf-8")
    assert history() == history_start
    model = project / "models" / "marts" / "dimensions" / "dim_unit.sql"
    model.write_text(model.read_text(encoding="utf-8") + "\n-- edited\n", encoding="utf-8")
    after_model = both()
    assert after_model[0] == start[0] and after_model[1] != start[1]
    assert history() != history_start
    history_after_model = history()
    seed = project / "seeds" / "catalogue" / "unit_types.csv"
    seed.write_text(seed.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    after_seed = both()
    assert after_seed[0] != start[0] and after_seed[1] != after_model[1]
    assert history() != history_after_model
    assert docs_fingerprint(own.with_overrides(warehouse_db="another")) != after_seed[1]


def project_nodes(manifest, *resource_types: str) -> dict[str, dict]:
    return {
        uid: node
        for uid, node in manifest["nodes"].items()
        if node["resource_type"] in resource_types and node["package_name"] == "tonghop"
    }


def is_mart(node: dict) -> bool:
    return node["resource_type"] == "model" and Path(node["original_file_path"]).parts[:2] == (
        "models",
        "marts",
    )


def test_the_docs_site_is_in_the_output_folder(docs):
    folder, built, manifest, catalog = docs
    index = folder / "index.html"
    assert built["docs_path"] == str(index) and built["success"]
    assert index.stat().st_size > 100 * 1024
    html = index.read_text(encoding="utf-8")
    assert "fct_submission" in html and "dim_unit_history" in html  # self-contained: data inlined
    assert manifest["metadata"]["project_name"] == "tonghop"
    assert "model.tonghop.fct_submission" in catalog["nodes"]


def test_every_node_source_and_exposure_is_described(docs):
    _, _, manifest, _ = docs
    nodes = project_nodes(manifest, *DOCUMENTED_NODES)
    assert {n["resource_type"] for n in nodes.values()} == set(DOCUMENTED_NODES)
    undescribed = sorted(uid for uid, n in nodes.items() if not n["description"].strip())
    undescribed += sorted(
        uid
        for uid, s in manifest["sources"].items()
        if not s["description"].strip() or not s["source_description"].strip()
    )
    undescribed += sorted(
        uid for uid, e in manifest["exposures"].items() if not e["description"].strip()
    )
    assert manifest["sources"] and manifest["exposures"]
    assert not undescribed, "no description: " + ", ".join(undescribed)


def test_every_column_in_the_database_is_documented(docs):
    _, _, manifest, catalog = docs
    nodes = project_nodes(manifest, *DOCUMENTED_NODES)
    gaps, checked = [], 0
    for uid, node in sorted(nodes.items()):
        assert uid in catalog["nodes"], f"{uid} is not in the database"
        documented = {name.lower(): column for name, column in node["columns"].items()}
        for name in catalog["nodes"][uid]["columns"]:
            checked += 1
            column = documented.get(name.lower())
            if column is None:
                gaps.append(f"{uid}.{name}: not in any yml")
            elif not (column.get("description") or "").strip():
                gaps.append(f"{uid}.{name}: empty description")
    assert checked > 300
    assert not gaps, f"{len(gaps)} undocumented columns:\n" + "\n".join(gaps)


def test_marts_are_a_typed_enforced_contract(docs):
    _, _, manifest, catalog = docs
    marts = {uid: n for uid, n in project_nodes(manifest, "model").items() if is_mart(n)}
    files = {p.stem for p in (ROOT / "dbt_project" / "models" / "marts").rglob("*.sql")}
    assert {n["name"] for n in marts.values()} == files
    problems = []
    for uid, node in sorted(marts.items()):
        if node["config"].get("contract", {}).get("enforced") is not True:
            problems.append(f"{uid}: contract not enforced")
        if node["schema"] != "marts":
            problems.append(f"{uid}: built in schema {node['schema']}")
        for name, column in node["columns"].items():
            if not (column.get("data_type") or "").strip():
                problems.append(f"{uid}.{name}: no data_type")
        declared = {c.lower() for c in node["columns"]}
        in_db = {c.lower() for c in catalog["nodes"][uid]["columns"]}
        if declared != in_db:
            problems.append(f"{uid}: declared {sorted(declared ^ in_db)} differ from the table")
    assert not problems, "\n".join(problems)


def test_exposures_read_marts_only(docs):
    _, _, manifest, _ = docs
    exposures = manifest["exposures"]
    assert len(exposures) >= 2
    for uid, exposure in exposures.items():
        parents = exposure["depends_on"]["nodes"]
        assert parents, f"{uid} depends on nothing"
        for parent in parents:
            node = manifest["nodes"].get(parent)
            assert node is not None and is_mart(node), f"{uid} depends on {parent}, not a mart"


def test_descriptions_are_persisted_in_postgres(docs, settings):
    """persist_docs: what BI tools show next to each table and column of marts."""
    admin = settings.dsn("admin")
    relations = query(
        admin,
        """
        select c.relname, coalesce(obj_description(c.oid, 'pg_class'), '')
        from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = 'marts' and c.relkind in ('r', 'v', 'm', 'p')""",
    )
    columns = query(
        admin,
        """
        select c.relname, a.attname, coalesce(col_description(c.oid, a.attnum), '')
        from pg_class c
        join pg_namespace n on n.oid = c.relnamespace
        join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
        where n.nspname = 'marts' and c.relkind in ('r', 'v', 'm', 'p')""",
    )
    files = {p.stem for p in (ROOT / "dbt_project" / "models" / "marts").rglob("*.sql")}
    assert {name for name, _ in relations} >= files
    gaps = [f"marts.{name}" for name, comment in relations if not comment.strip()]
    gaps += [f"marts.{rel}.{col}" for rel, col, comment in columns if not comment.strip()]
    assert len(columns) > 200
    assert not gaps, f"{len(gaps)} without a comment in PostgreSQL:\n" + "\n".join(sorted(gaps))


def test_the_rule_seed_is_the_rules_great_expectations_runs():
    suites = sorted((ROOT / "expectations" / "gx" / "expectations").glob("*.json"))
    assert len(suites) == 4
    parts = {
        "headers": "header",
        "tasks": "tasks",
        "indicators": "indicators",
        "feedback": "feedback",
    }
    in_suites: dict[str, tuple[str, str]] = {}
    for path in suites:
        part = parts[path.stem.removeprefix("unit_report_")]
        for expectation in json.loads(path.read_text(encoding="utf-8"))["expectations"]:
            meta = expectation["meta"]
            rule = meta["rule"]
            assert rule not in in_suites or in_suites[rule] == (part, meta["severity"]), rule
            in_suites[rule] = (part, meta["severity"])
    with (ROOT / "dbt_project" / "seeds" / "catalogue" / "validation_rules.csv").open(
        encoding="utf-8", newline=""
    ) as fh:
        rows = list(csv.DictReader(fh))
    seeded = {r["rule_code"]: (r["part"], r["severity"]) for r in rows}
    assert len(seeded) == len(rows), "a rule code twice in validation_rules.csv"
    assert sorted(set(seeded) - set(in_suites)) == [], "seeded rules no suite runs"
    assert sorted(set(in_suites) - set(seeded)) == [], "rules missing from the seed"
    assert {r: s for r, (_, s) in seeded.items()} == {r: s for r, (_, s) in in_suites.items()}
    assert seeded == in_suites
    assert all(r["rule_name_vi"].strip() and r["rule_name_en"].strip() for r in rows)


def test_dbt_writes_its_output_in_a_folder_of_the_database(settings, docs):
    """dbt's target folder is the warehouse database's own: the build's results are there,
    and another database gets another folder (whose saved parse this build did not replace)."""
    from pipeline.dbt import target_dir

    own = target_dir(settings)  # the fixture built the session warehouse
    # dbt_project/target/, or the folder TONGHOP_DBT_TARGET_DIR names (the tests' own)
    root = os.environ.get("TONGHOP_DBT_TARGET_DIR")
    assert (
        own
        == (Path(root) if root else Path(settings.dbt_project_dir) / "target")
        / settings.warehouse_db
    )
    results = json.loads((own / "run_results.json").read_text(encoding="utf-8"))
    assert results["args"]["which"] in {"build", "generate"} and results["results"]
    assert (own / "partial_parse.msgpack").is_file()
    other = settings.for_database("tonghop_elsewhere")
    assert target_dir(other) == own.parent / "tonghop_elsewhere"


def _term(term: str) -> re.Pattern:
    return re.compile(rf"(?<![\w.]){term}(?!\w)", re.IGNORECASE)


def _overview(manifest: dict) -> str:
    overview = manifest["docs"].get("doc.tonghop.__overview__")
    assert overview, "no overview of the project's own: the site opens on dbt's English Welcome!"
    return overview["block_contents"]


def test_the_site_opens_on_a_vietnamese_overview_that_links_every_mart(docs):
    folder, _, manifest, _ = docs
    text = _overview(manifest)
    assert unicodedata.is_normalized("NFC", text)
    assert text.lstrip().startswith("# Kho dữ liệu tổng hợp báo cáo văn hóa, nghệ thuật")
    marts = {n["name"] for n in project_nodes(manifest, "model").values() if is_mart(n)}
    linked = set(re.findall(r"\(#!/model/model\.tonghop\.(\w+)\)", text))
    assert linked == marts, f"not linked: {sorted(marts - linked)}; not marts: {linked - marts}"
    # what the _vi columns are, and where "được tính" is defined (pointed to, not restated)
    sections = dict(re.findall(r"^## ([^\n]+)\n(.*?)(?=^## |\Z)", text, re.MULTILINE | re.DOTALL))
    assert "_vi" in next(title for title in sections if "_vi" in title)
    counted = next(body for title, body in sections.items() if "được tính" in title)
    assert "(#!/model/model.tonghop.fct_submission)" in counted

    from testing.browser import offline_dom, require_chromium

    require_chromium()
    dom = offline_dom((folder / "index.html").as_uri())
    assert re.search(r"<h1[^>]*>\s*Kho dữ liệu tổng hợp báo cáo văn hóa, nghệ thuật", dom)
    assert not re.search(r"<h3[^>]*>\s*Welcome!", dom)


def test_mart_descriptions_are_plain_vietnamese_and_jargon_is_explained_once(docs):
    """What BI shows next to a mart or a column says it in plain Vietnamese, without the
    engineers' words, English glosses or the code's names; each such word is explained in the
    overview's glossary."""
    _, _, manifest, _ = docs
    glossary = _overview(manifest).split("## Thuật ngữ", 1)[1]
    assert [term for term in JARGON if not _term(term).search(glossary)] == []
    found, checked = [], 0
    for node in project_nodes(manifest, "model").values():
        if not is_mart(node):
            continue
        texts = {node["name"]: node["description"]}
        texts |= {f"{node['name']}.{c}": col["description"] for c, col in node["columns"].items()}
        for where, text in texts.items():
            checked += 1
            assert unicodedata.is_normalized("NFC", text), where
            found += [f"{where}: {term}" for term in JARGON + INTERNALS if _term(term).search(text)]
            found += [f"{where}: {gloss}" for gloss in ENGLISH_GLOSS.findall(text)]
    assert checked > 300
    assert not found, "\n".join(found)


def test_the_marts_stand_apart_from_the_engineers_layers(docs):
    """In the lineage graph the marts have a colour of their own, and they are the only
    members of the group "marts" (the site's Group tab); staging stays documented and shown."""
    _, _, manifest, _ = docs
    assert set(manifest["groups"]) == {"group.tonghop.marts"}
    layers: dict[str, set] = {}
    for node in project_nodes(manifest, "model").values():
        layer = Path(node["original_file_path"]).parts[1]
        docs_config = node["config"]["docs"]
        layers.setdefault(layer, set()).add((docs_config["node_color"], node["group"]))
        assert docs_config["show"], node["name"]
    assert layers["marts"] == {(MART_COLOUR, "marts")}
    assert all(
        len(found) == 1 and colour != MART_COLOUR and group is None
        for layer, found in layers.items()
        if layer != "marts"
        for colour, group in found
    ), layers
    assert set(layers) == {"staging", "intermediate", "marts"}
