"""Landing a province for a test: a warehouse database and a Sheets emulator of its own, the
units' spreadsheets put into it (the demo province, or workbooks a test built), registered,
pulled and checked through the real stages.

Each step is a function, so a module takes what it needs (a sample of the units, an edit
between two pulls, a build with its own options) and says so in a line:

    with own_warehouse(settings, "tonghop_marts", tmp) as (own, server):
        manifest, entries = demo_province(server, PERIOD, seed=5)
        register_entries(own, [e for e in entries if e.unit_code in sample])
        pulled, checked = land(own, catalogue, PERIOD)
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def own_warehouse(
    settings, database: str, folder: Path, *, recreate: bool = False, **overrides
) -> Iterator[tuple]:
    """A warehouse database of its own (created if missing; ``recreate``: dropped first) and a
    Sheets emulator of its own (files under ``folder``); yields (settings pointing at both, the
    emulator server) and stops the emulator after the ``with`` block. The output folder
    defaults to ``folder/output``."""
    from sheets_emulator import EmulatorServer
    from tooling import localdb

    (localdb.recreate_warehouse if recreate else localdb.ensure_warehouse)(database)
    server = EmulatorServer(Path(folder) / "emulator", host="127.0.0.1", port=0).start()
    own = settings.for_database(database).with_overrides(
        **{
            "emulator_url": server.url,
            "sheets_backend": "emulator",
            "output_dir": Path(folder) / "output",
            **overrides,
        }
    )
    try:
        yield own, server
    finally:
        server.stop()


def demo_province(server, period_code: str, *, seed: int) -> tuple:
    """The demo province's spreadsheets for ``period_code`` in the emulator (not registered):
    (its manifest — which unit plays which scenario —, the registry entries)."""
    from tooling.demo_setup import generate_into_emulator

    return generate_into_emulator(period_code, seed=seed, root=server.store.root, register=False)


def put_workbooks(server, catalogue, period_code: str, books: dict, programme: str) -> dict:
    """Workbooks a test built (unit code → openpyxl workbook) as the units' spreadsheets of
    ``period_code``, named and tagged as provisioning does; returns unit code → registry
    entry."""
    from ingest.registry import RegistryEntry
    from sheets.layout import app_properties, spreadsheet_title
    from tooling.demo_setup import demo_spreadsheet_id

    entries = {}
    with server.store.batch():
        for unit, book in books.items():
            sid = server.store.put_workbook(
                demo_spreadsheet_id(period_code, unit),
                book,
                name=spreadsheet_title(catalogue, unit, period_code),
                app_properties=app_properties(unit, period_code),
            )
            entries[unit] = RegistryEntry(sid, programme, period_code, unit)
    return entries


def register_entries(own, entries) -> None:
    """Record the spreadsheets in ``ops.sheet_registry`` (as the loader, as provisioning does)."""
    import psycopg2

    from ingest.registry import register

    conn = psycopg2.connect(own.dsn("loader"))
    try:
        register(conn, list(entries))
    finally:
        conn.close()


def land(own, catalogue, period_code: str, **pull_options) -> tuple:
    """One pull of the period and the check of what it landed, through the stages' own
    functions; fails the test if a spreadsheet could not be read. Returns (pull summary,
    validation summary)."""
    from expectations.landed import validate_landed
    from ingest.pull import pull_period

    pulled = pull_period(own, catalogue, period_code, **pull_options)
    assert pulled.failed == 0, pulled.failures
    return pulled, validate_landed(own, catalogue, period_code, pulled.pull_run_id)
