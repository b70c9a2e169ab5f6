"""The local warehouse: roles do only their jobs, raw is append-only, bi_reader reads the marts
and nothing else, and no personal data reaches the marts."""

from __future__ import annotations

import re

import psycopg2
import pytest

from tests.conftest import ROOT, query


def test_start_is_idempotent(settings):
    from tooling import localdb

    localdb.start()
    assert query(settings.dsn("loader"), "select current_user") == [("loader",)]


def test_bi_reader_cannot_read_raw_or_parsed(settings):
    for table in ("raw.sheet_versions", "parsed.report_headers", "quality.validation_issues"):
        with pytest.raises(psycopg2.errors.InsufficientPrivilege):
            query(settings.dsn("bi_reader"), f"select * from {table}")


def test_raw_is_append_only_even_for_the_loader(settings):
    conn = psycopg2.connect(settings.dsn("loader"))
    try:
        with conn.cursor() as cur:
            cur.execute("""insert into raw.sheet_versions (spreadsheet_id, fetched_at,
                content_sha256, payload, pull_run_id) values ('x', now(), 'h', '{}', 'test')""")
            conn.commit()
            with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                cur.execute("update raw.sheet_versions set spreadsheet_id = 'y'")
            conn.rollback()
            with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                cur.execute("delete from raw.sheet_versions")
            conn.rollback()
    finally:
        conn.close()
    admin = psycopg2.connect(settings.dsn("admin"))
    try:
        with admin.cursor() as cur, pytest.raises(psycopg2.errors.RaiseException):
            cur.execute("delete from raw.sheet_versions where spreadsheet_id = 'x'")
    finally:
        admin.close()


# ------------------------------------------------------------------ bi_reader and the marts
LANDED_AND_DBT_SCHEMAS = (
    "raw",
    "parsed",
    "quality",
    "ops",
    "staging",
    "intermediate",
    "snapshots",
    "catalogue",
)
PERSONAL_COLUMN = re.compile(r"^reporter_|email|phone|^row_data$|^contact", re.IGNORECASE)


def relations(settings, schema: str) -> list[str]:
    """Tables, views and materialized views of a schema (as admin, who sees them all)."""
    return [
        name
        for (name,) in query(
            settings.dsn("admin"),
            """
        select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = %s and c.relkind in ('r', 'v', 'm', 'p', 'f')
        order by c.relname""",
            (schema,),
        )
    ]


@pytest.fixture(scope="module")
def warehouse(settings):
    """The session warehouse with its dbt schemas built (built here if no test has yet)."""
    from pipeline.dbt import run_dbt

    [(built,)] = query(
        settings.dsn("admin"), "select to_regclass('marts.fct_submission') is not null"
    )
    if not built:
        run_dbt(settings, ["build"])
    return settings


def test_bi_reader_can_read_every_mart(warehouse):
    marts = relations(warehouse, "marts")
    models = {p.stem for p in (ROOT / "dbt_project" / "models" / "marts").rglob("*.sql")}
    assert set(marts) >= models
    refused = []
    conn = psycopg2.connect(warehouse.dsn("bi_reader"))
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            for name in marts:
                try:
                    cur.execute(f'select * from marts."{name}" limit 1')
                    cur.fetchall()
                except psycopg2.Error as exc:
                    refused.append(f"{name}: {exc.pgerror}")
    finally:
        conn.close()
    assert not refused, "\n".join(refused)


@pytest.mark.parametrize("schema", LANDED_AND_DBT_SCHEMAS)
def test_bi_reader_is_refused_everything_outside_marts(warehouse, schema):
    names = relations(warehouse, schema)
    assert names, f"schema {schema} holds nothing to try"
    allowed = []
    conn = psycopg2.connect(warehouse.dsn("bi_reader"))
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            for name in names:
                try:
                    cur.execute(f'select * from {schema}."{name}" limit 1')
                    allowed.append(name)
                except psycopg2.errors.InsufficientPrivilege:
                    pass
    finally:
        conn.close()
    assert not allowed, f"bi_reader can read {schema}: {allowed}"


@pytest.mark.parametrize(
    "statement",
    [
        "create table marts.bi_scratch (n integer)",
        "create view marts.bi_scratch as select 1 as n",
        "create table public.bi_scratch (n integer)",
        "create schema bi_scratch",
        "delete from marts.dim_period",
        "update marts.fct_submission set unit_name_at_period = 'x'",
        "insert into marts.dim_programme (programme_code) values ('x')",
        "truncate marts.fct_indicator_value",
    ],
)
def test_bi_reader_cannot_create_or_change_anything(warehouse, statement):
    conn = psycopg2.connect(warehouse.dsn("bi_reader"))
    try:
        with conn.cursor() as cur, pytest.raises(psycopg2.errors.InsufficientPrivilege):
            cur.execute(statement)
    finally:
        conn.rollback()
        conn.close()


def test_no_personal_data_reaches_the_marts(warehouse):
    columns = query(
        warehouse.dsn("admin"),
        """
        select c.relname, a.attname
        from pg_class c
        join pg_namespace n on n.oid = c.relnamespace
        join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
        where n.nspname = 'marts' and c.relkind in ('r', 'v', 'm', 'p')""",
    )
    assert len(columns) > 200
    # the pattern does find what the landed tables hold
    landed = {
        name
        for (name,) in query(
            warehouse.dsn("admin"),
            """
        select column_name from information_schema.columns
        where table_schema in ('parsed', 'quality', 'catalogue')""",
        )
    }
    assert {"reporter_phone", "reporter_email", "row_data", "contact_email"} <= {
        name for name in landed if PERSONAL_COLUMN.search(name)
    }
    personal = sorted(f"{rel}.{col}" for rel, col in columns if PERSONAL_COLUMN.search(col))
    assert not personal, f"personal data in marts: {personal}"


# ------------------------------------------------------------------ least privilege, per role
ROLES = ("loader", "transformer", "bi_reader")
PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER")
EVERYTHING = frozenset(PRIVILEGES)
#: schema -> role -> the privileges it has on every relation of the schema
EXPECTED = {
    **{
        schema: {"loader": {"SELECT", "INSERT"}, "transformer": {"SELECT"}, "bi_reader": set()}
        for schema in ("raw", "parsed", "quality")
    },
    "ops": {
        "loader": {"SELECT", "INSERT", "UPDATE", "DELETE"},
        "transformer": {"SELECT"},
        "bi_reader": set(),
    },
    **{
        schema: {"loader": set(), "transformer": EVERYTHING, "bi_reader": set()}
        for schema in ("catalogue", "staging", "intermediate", "snapshots")
    },
    "marts": {"loader": set(), "transformer": EVERYTHING, "bi_reader": {"SELECT"}},
}
#: (schema, relation) -> role -> privileges, where a relation differs from its schema
EXCEPTIONS = {
    # the transformer records which catalogue it loaded (and any seed load clears the record)
    ("ops", "catalogue_loads"): {"transformer": {"SELECT", "INSERT", "DELETE"}},
    # ... and which definitions the incremental history was last built in full from
    ("ops", "history_builds"): {"transformer": {"SELECT", "INSERT", "DELETE"}},
    # the sharing record is append-only (ingest/sharing.py): the loader only adds to it
    ("ops", "sharing_checks"): {"loader": {"SELECT", "INSERT"}},
    ("ops", "sharing_findings"): {"loader": {"SELECT", "INSERT"}},
    ("ops", "publications"): {"loader": {"SELECT", "INSERT"}},
    # the record of reminder mails is append-only (publish/reminder_mail.py)
    ("ops", "reminder_mails"): {"loader": {"SELECT", "INSERT"}},
}


def expected(schema: str, name: str, role: str) -> set[str]:
    return set(EXCEPTIONS.get((schema, name), {}).get(role, EXPECTED[schema][role]))


def test_each_role_holds_exactly_its_privileges_on_every_relation(warehouse):
    """The whole grant matrix, relation by relation: a future `grant all`, a dbt grant to the
    wrong role or a table created outside warehouse.sql shows up here."""
    rows = query(
        warehouse.dsn("admin"),
        f"""
        select n.nspname, c.relname, r.rolname,
               array_remove(array[{
            ", ".join(
                f"case when has_table_privilege(r.oid, c.oid, '{p}') then '{p}' end"
                for p in PRIVILEGES
            )
        }], null)
        from pg_class c
        join pg_namespace n on n.oid = c.relnamespace
        cross join pg_roles r
        where n.nspname = any(%s) and c.relkind in ('r', 'v', 'm', 'p')
          and c.relname not like '%%\\_\\_dbt\\_%%' and r.rolname = any(%s)""",
        (list(EXPECTED), list(ROLES)),
    )
    assert {schema for schema, *_ in rows} == set(EXPECTED)
    wrong = [
        f"{role} on {schema}.{name}: {sorted(set(granted))} "
        f"(expected {sorted(expected(schema, name, role))})"
        for schema, name, role, granted in rows
        if set(granted) != expected(schema, name, role)
    ]
    assert {(schema, name) for schema, name, *_ in rows} >= set(EXCEPTIONS)
    assert not wrong, "\n".join(wrong)


def test_each_role_enters_and_creates_only_where_its_job_is(warehouse):
    schemas = [*EXPECTED, "public"]
    rows = query(
        warehouse.dsn("admin"),
        """
        select r.rolname, s.name, has_schema_privilege(r.oid, s.name, 'USAGE'),
               has_schema_privilege(r.oid, s.name, 'CREATE')
        from pg_roles r cross join unnest(%s::text[]) s(name)
        where r.rolname = any(%s)""",
        (schemas, list(ROLES)),
    )
    landed, built = (
        {"raw", "parsed", "quality", "ops"},
        {"catalogue", "staging", "intermediate", "snapshots", "marts"},
    )
    usage = {"loader": landed, "transformer": landed | built, "bi_reader": {"marts"}}
    create = {"loader": set(), "transformer": built, "bi_reader": set()}
    for role, schema, can_use, can_create in rows:
        if schema == "public":  # PostgreSQL 15: everyone may look, nobody creates
            assert not can_create, (role, schema)
            continue
        assert can_use == (schema in usage[role]), (role, schema, "usage")
        assert can_create == (schema in create[role]), (role, schema, "create")


def test_each_role_reaches_the_warehouse_database_only(warehouse):
    rows = query(
        warehouse.dsn("admin"),
        """
        select r.rolname, d.datname,
               has_database_privilege(r.oid, d.oid, 'CONNECT'),
               has_database_privilege(r.oid, d.oid, 'CREATE'),
               has_database_privilege(r.oid, d.oid, 'TEMPORARY')
        from pg_roles r cross join pg_database d
        where r.rolname = any(%s) and d.datname in (current_database(), 'airflow', 'postgres')
        """,
        (list(ROLES),),
    )
    here = warehouse.warehouse_db
    for role, database, connect, create, temporary in rows:
        if database != here:
            assert not (connect or temporary), (role, database)
            continue
        assert connect, role
        # only dbt creates schemas and (incremental models) temporary tables
        assert (create, temporary) == ((True, True) if role == "transformer" else (False, False)), (
            role
        )
    for role in ROLES:
        other = warehouse.for_database("airflow").dsn(role)
        with pytest.raises(psycopg2.OperationalError, match="permission denied"):
            psycopg2.connect(other).close()


@pytest.mark.parametrize(
    "role, statement",
    [
        # the loader adds what it reads and what it finds; it never rewrites or reads the marts
        ("loader", "update raw.sheet_fetches set outcome = 'failed'"),
        ("loader", "truncate raw.sheet_versions"),
        ("loader", "delete from parsed.task_rows"),
        ("loader", "update parsed.indicator_rows set value_number = 0"),
        ("loader", "delete from quality.validation_issues"),
        ("loader", "update quality.quarantined_rows set rule_codes = '{}'"),
        ("loader", "alter table raw.sheet_versions disable trigger all"),
        ("loader", "drop table parsed.task_rows"),
        ("loader", "select * from marts.fct_submission limit 1"),
        ("loader", "select * from staging.stg_parsed__report_headers limit 1"),
        ("loader", "select * from catalogue.units limit 1"),
        ("loader", "create table raw.loader_scratch (n integer)"),
        ("loader", "create table marts.loader_scratch (n integer)"),
        ("loader", "create schema loader_scratch"),
        ("loader", "create temporary table loader_scratch (n integer)"),
        # the transformer reads what was landed and builds its schemas; it never writes the landed
        (
            "transformer",
            "insert into raw.sheet_fetches (pull_run_id, spreadsheet_id, attempted_at, "
            "outcome) values ('x', 'x', now(), 'failed')",
        ),
        ("transformer", "update ops.sheet_registry set unit_code = unit_code"),
        ("transformer", "delete from quality.validation_runs"),
        ("transformer", "truncate parsed.indicator_rows"),
        ("transformer", "alter table raw.sheet_versions add column x integer"),
        ("transformer", "create table raw.transformer_scratch (n integer)"),
        ("transformer", "create table public.transformer_scratch (n integer)"),
        # bi_reader reads the marts and nothing else
        ("bi_reader", "create temporary table bi_scratch (n integer)"),
        ("bi_reader", "select reporter_phone, reporter_email from parsed.report_headers limit 1"),
        ("bi_reader", "select row_data from quality.quarantined_rows limit 1"),
    ],
)
def test_a_role_is_refused_what_is_not_its_job(warehouse, role, statement):
    conn = psycopg2.connect(warehouse.dsn(role))
    try:
        with conn.cursor() as cur, pytest.raises(psycopg2.errors.InsufficientPrivilege):
            cur.execute(statement)
    finally:
        conn.rollback()
        conn.close()


def test_raw_cannot_be_emptied_even_by_its_owner(warehouse):
    loader = psycopg2.connect(warehouse.dsn("loader"))
    try:
        with loader.cursor() as cur:  # a row in each, so that the row triggers fire
            cur.execute("""insert into raw.sheet_fetches (pull_run_id, spreadsheet_id,
                attempted_at, outcome, error_message)
                values ('roles-test', 'x', now(), 'failed', 'test')""")
            cur.execute("""insert into raw.sheet_versions (spreadsheet_id, fetched_at,
                content_sha256, payload, pull_run_id)
                values ('roles-test', now(), 'h', '{}', 'roles-test')""")
        loader.commit()
    finally:
        loader.close()
    admin = psycopg2.connect(warehouse.dsn("admin"))
    try:
        with admin.cursor() as cur:
            for table in ("raw.sheet_versions", "raw.sheet_fetches"):
                with pytest.raises(psycopg2.errors.RaiseException, match="append-only"):
                    cur.execute(f"truncate {table} cascade")
                admin.rollback()
                with pytest.raises(psycopg2.errors.RaiseException, match="append-only"):
                    cur.execute(f"update {table} set pull_run_id = pull_run_id")
                admin.rollback()
    finally:
        admin.close()
