"""The local warehouse: roles do only their jobs, raw is append-only."""

from __future__ import annotations

import psycopg2
import pytest

from tests.conftest import query


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
