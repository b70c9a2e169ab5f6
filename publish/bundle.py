"""Publishing one period: everything Sở VHTTDL sends at a deadline, in one folder per run.

``output/<period>/<run>/`` receives the summary workbook (``tong_hop_<period>.xlsx``), the draft
report (``bao_cao_<period>.docx`` and, where LibreOffice is installed, ``.pdf``), its charts,
and ``manifest.json``: the inputs (which marts, how many rows, a checksum of the data read, the
latest version and validation run they reflect), and every file with its size and SHA-256.
The summary spreadsheet is rewritten through gspread at the same time.

Publishing the same data twice gives the same files (the PDF aside: LibreOffice stamps it
with the time it was made), so ``content_sha256`` in the manifest is equal across runs that
read equal data.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import re
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import psycopg2

from ingest.sheets import make_client
from publish.marts import query
from publish.report import write_report
from publish.summary import build_summary, write_spreadsheet, write_xlsx
from tonghop.settings import Settings

log = logging.getLogger(__name__)


@dataclass
class PublishResult:
    period_code: str
    folder: str
    xlsx_path: str
    docx_path: str
    pdf_path: str | None
    manifest_path: str
    spreadsheet_id: str | None
    spreadsheet_url: str | None
    row_counts: dict[str, int]
    content_sha256: str

    def as_dict(self) -> dict:
        return self.__dict__.copy()


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _canonical(value) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def run_folder(settings: Settings, period_code: str, run_id: str) -> Path:
    return Path(settings.output_dir) / period_code / re.sub(r"[^0-9A-Za-z_-]+", "-", run_id)


@contextmanager
def reading_marts(settings: Settings) -> Iterator:
    """A bi_reader connection in one read-only, repeatable-read transaction over the marts.

    Every mart is locked (ACCESS SHARE, what any read takes) before the first read, so the
    transaction's snapshot is taken after the locks: a ``dbt build`` running meanwhile swaps a
    mart in only after this transaction ends, or before it starts. Without the locks, a mart
    swapped in after the snapshot reads as an EMPTY table (its rows were written after the
    snapshot) — tests/test_bi_consistency.py.
    """
    conn = psycopg2.connect(settings.dsn("bi_reader"))
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("""
                select format('%I.%I', n.nspname, c.relname)
                from pg_class c join pg_namespace n on n.oid = c.relnamespace
                where n.nspname = 'marts' and c.relkind in ('r', 'v', 'm', 'p')
                  and c.relname not like '%\\_\\_dbt\\_%'
                  and has_table_privilege(c.oid, 'select')""")
            names = [name for (name,) in cur.fetchall()]
        conn.autocommit = False
        conn.set_session(readonly=True, isolation_level="REPEATABLE READ")
        if names:
            with conn.cursor() as cur:
                cur.execute(f"lock table {', '.join(names)} in access share mode")
        yield conn
    finally:
        conn.close()


@contextmanager
def summary_lock(settings: Settings, period_code: str) -> Iterator[None]:
    """One writer of a period's "Tổng hợp" spreadsheet at a time.

    Finding the spreadsheet (by its appProperties) and creating it when missing are two calls:
    two publishes of a period at once (two cycles started together) would each find nothing
    and each create one. The second waits on this PostgreSQL advisory lock (taken as
    bi_reader, who may), then finds the first one's spreadsheet and rewrites it.
    """
    conn = psycopg2.connect(settings.dsn("bi_reader"))
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("select pg_advisory_lock(hashtext('tonghop.publish'), hashtext(%s))",
                        (period_code,))
        yield
    finally:
        conn.close()          # ends the session, and the lock with it


def publish_period(settings: Settings, period_code: str, run_id: str, *, client=None,
                   pdf: bool = True) -> PublishResult:
    folder = run_folder(settings, period_code, run_id)
    folder.mkdir(parents=True, exist_ok=True)
    with reading_marts(settings) as conn:
        tables = build_summary(conn, period_code)
        report = write_report(conn, period_code, folder, pdf=pdf)
        reflects = query(conn, """
            select max(sheet_version_id) as latest_sheet_version_id,
                   max(validation_run_id) as latest_validation_run_id,
                   count(*) as report_versions
            from marts.fct_report_version where period_code = %s""", (period_code,))[0]
    xlsx_path = write_xlsx(tables, folder / f"tong_hop_{period_code}.xlsx")
    period_name = tables[0].rows[0][1]
    client = client or make_client(settings)
    with summary_lock(settings, period_code):
        spreadsheet_id = write_spreadsheet(client, tables, period_code,
                                           f"Tổng hợp – {period_name}")
    url = f"https://docs.google.com/spreadsheets/d/{spreadsheet_id}"

    row_counts = {t.title: len(t.rows) for t in tables}
    deterministic = [xlsx_path, report["docx"], *report["charts"].values()]
    files = {p.name: {"bytes": p.stat().st_size, "sha256": _sha256(p), "reproducible": True}
             for p in deterministic}
    if report["pdf"]:
        files[report["pdf"].name] = {"bytes": report["pdf"].stat().st_size,
                                     "sha256": _sha256(report["pdf"]), "reproducible": False}
    content = hashlib.sha256(_canonical(
        {name: f["sha256"] for name, f in files.items() if f["reproducible"]}).encode()
    ).hexdigest()
    data_sha = hashlib.sha256(_canonical(
        {"summary": [dataclasses.asdict(t) for t in tables],
         "report": report["data"]}).encode()).hexdigest()
    manifest = {
        "period_code": period_code,
        "run_id": run_id,
        "inputs": {
            "database": settings.warehouse_db,
            "marts_rows_read": {**report["input_row_counts"],
                                **{f"summary: {k}": v for k, v in row_counts.items()}},
            "data_sha256": data_sha,
            "reflects": reflects,
        },
        "files": files,
        "content_sha256": content,
        "summary_spreadsheet": {"id": spreadsheet_id, "url": url},
    }
    manifest_path = folder / "manifest.json"
    manifest_path.write_text(json.dumps(manifest, ensure_ascii=False, indent=2, default=str),
                             encoding="utf-8")
    log.info("published %s into %s (spreadsheet %s, content %s)", period_code, folder,
             spreadsheet_id, content[:12])
    return PublishResult(
        period_code=period_code, folder=str(folder), xlsx_path=str(xlsx_path),
        docx_path=str(report["docx"]), pdf_path=str(report["pdf"]) if report["pdf"] else None,
        manifest_path=str(manifest_path), spreadsheet_id=spreadsheet_id, spreadsheet_url=url,
        row_counts=row_counts, content_sha256=content)
