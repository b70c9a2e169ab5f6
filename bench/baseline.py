"""Baseline (a): the way a typical script reads unit sheets into PostgreSQL.

What people write with gspread and pandas, faithfully and without change detection: list the
spreadsheets the account can see (``list_spreadsheet_files``), then for each one
``open_by_key``, ``worksheets()`` and every worksheet's ``get_all_records()``, and
``DataFrame.to_sql`` per unit and tab into its own schema of the same PostgreSQL (one table per
tab title, the first unit's rows ``replace`` the table, the others ``append``; a column the first
unit lacked is added). Every run reads everything again.

It uses gspread's own ``BackOffHTTPClient`` (what gspread's documentation offers for quota
errors: a 429 is retried with exponential backoff), so that it finishes under a quota instead
of dying on the first 429 — the throttled calls are counted by the emulator.
"""

from __future__ import annotations

import re

import gspread
import pandas as pd
import sqlalchemy

from tonghop.settings import Settings

#: the files gspread lists are the units' report sheets (plus the summary sheet, which the
#: script reads too: it does not know better)


def table_name(title: str) -> str:
    """A PostgreSQL table name for a tab title, as a script would make it."""
    ascii_title = re.sub(r"[^0-9a-z]+", "_", title.lower().encode("ascii", "ignore").decode())
    return (ascii_title.strip("_") or "tab")[:50]


def client(settings: Settings) -> gspread.Client:
    from sheets_emulator import EmulatorSession

    return gspread.Client(
        auth=None,
        session=EmulatorSession(settings.emulator_url),
        http_client=gspread.BackOffHTTPClient,
    )


def run_script(settings: Settings, schema: str = "baseline_script") -> dict:
    gc = client(settings)
    engine = sqlalchemy.create_engine(
        settings.dsn("loader").replace("postgresql://", "postgresql+psycopg2://", 1)
    )
    files = gc.list_spreadsheet_files()
    created: dict[str, set[str]] = {}
    rows = spreadsheets = worksheets = 0
    with engine.connect() as conn:
        for f in files:
            spreadsheet = gc.open_by_key(f["id"])
            spreadsheets += 1
            for worksheet in spreadsheet.worksheets():
                worksheets += 1
                records = worksheet.get_all_records()
                if not records:
                    continue
                frame = pd.DataFrame(records).astype(str)
                frame.columns = [str(c)[:60] or f"col_{i}" for i, c in enumerate(frame.columns)]
                frame = frame.loc[:, ~frame.columns.duplicated()]
                frame["spreadsheet_id"] = f["id"]
                frame["spreadsheet_name"] = f["name"]
                table = table_name(worksheet.title)
                if table in created:
                    for column in set(frame.columns) - created[table]:
                        conn.execute(
                            sqlalchemy.text(
                                f'alter table "{schema}"."{table}" add column "{column}" text'
                            )
                        )
                        created[table].add(column)
                frame.to_sql(
                    table,
                    conn,
                    schema=schema,
                    index=False,
                    if_exists="append" if table in created else "replace",
                )
                created.setdefault(table, set(frame.columns))
                conn.commit()
                rows += len(frame)
    engine.dispose()
    return {
        "spreadsheets": spreadsheets,
        "worksheets": worksheets,
        "rows": rows,
        "tables": sorted(created),
    }
