"""The local warehouse: roles do only their jobs, raw is append-only, bi_reader reads the marts
and nothing else, and no personal data reaches the marts."""

from __future__ import annotations

import re

import psycopg2
import pytest

from tests.conftest import ROOT, query


def test_start_is_idempotent(settings):
    from tonghop import localdb
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
LANDED_AND_DBT_SCHEMAS = ("raw", "parsed", "quality", "ops", "staging", "intermediate",
                          "snapshots", "catalogue")
PERSONAL_COLUMN = re.compile(r"^reporter_|email|phone|^row_data$|^contact", re.IGNORECASE)


def relations(settings, schema: str) -> list[str]:
    """Tables, views and materialized views of a schema (as admin, who sees them all)."""
    return [name for (name,) in query(settings.dsn("admin"), """
        select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = %s and c.relkind in ('r', 'v', 'm', 'p', 'f')
        order by c.relname""", (schema,))]


@pytest.fixture(scope="module")
def warehouse(settings):
    """The session warehouse with its dbt schemas built (built here if no test has yet)."""
    from tonghop.dbt import run_dbt
    [(built,)] = query(settings.dsn("admin"),
                       "select to_regclass('marts.fct_submission') is not null")
    if not built:
        run_dbt(settings, ["build"])
    return settings


def test_bi_reader_can_read_every_mart(warehouse):
    marts = relations(warehouse, "marts")
    models = {p.stem for p in (ROOT / "dbt_project" / "models" / "marts").glob("*.sql")}
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


@pytest.mark.parametrize("statement", [
    "create table marts.bi_scratch (n integer)",
    "create view marts.bi_scratch as select 1 as n",
    "create table public.bi_scratch (n integer)",
    "create schema bi_scratch",
    "delete from marts.dim_period",
    "update marts.fct_submission set unit_name_at_period = 'x'",
    "insert into marts.dim_programme (programme_code) values ('x')",
    "truncate marts.fct_indicator_value",
])
def test_bi_reader_cannot_create_or_change_anything(warehouse, statement):
    conn = psycopg2.connect(warehouse.dsn("bi_reader"))
    try:
        with conn.cursor() as cur, pytest.raises(psycopg2.errors.InsufficientPrivilege):
            cur.execute(statement)
    finally:
        conn.rollback()
        conn.close()


def test_no_personal_data_reaches_the_marts(warehouse):
    columns = query(warehouse.dsn("admin"), """
        select c.relname, a.attname
        from pg_class c
        join pg_namespace n on n.oid = c.relnamespace
        join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
        where n.nspname = 'marts' and c.relkind in ('r', 'v', 'm', 'p')""")
    assert len(columns) > 200
    # the pattern does find what the landed tables hold
    landed = {name for (name,) in query(warehouse.dsn("admin"), """
        select column_name from information_schema.columns
        where table_schema in ('parsed', 'quality', 'catalogue')""")}
    assert {"reporter_phone", "reporter_email", "row_data", "contact_email"} <= \
        {name for name in landed if PERSONAL_COLUMN.search(name)}
    personal = sorted(f"{rel}.{col}" for rel, col in columns if PERSONAL_COLUMN.search(col))
    assert not personal, f"personal data in marts: {personal}"
