"""Publishing one period: everything Sở VHTTDL sends at a deadline, in one folder per run.

``output/<period>/<run>/`` receives the summary workbook (``tong_hop_<period>.xlsx``), the draft
report (``bao_cao_<period>.docx`` and its ``.pdf``), its charts, and ``manifest.json``: the
inputs (which marts, how many rows, a checksum of the data read, the latest version and
validation run they reflect), every file with its size and SHA-256, and whether the PDF was
made (and if not, why). The summary spreadsheet is rewritten through gspread at the same time.

Publication degrades, never fails, for one unit's content: the report quotes units' text
bounded (publish/report.py), the PDF has a budget, and a PDF that cannot be made leaves the
rest published with an alert. The run folder is complete or absent: its files are written into
``<run>.partial-<pid>`` and renamed into place at the end.

Publishing the same data twice gives the same files (the PDF aside: LibreOffice stamps it
with the time it was made), so ``content_sha256`` in the manifest is equal across runs that
read equal data.
"""

from __future__ import annotations

import dataclasses
import errno
import glob
import hashlib
import json
import logging
import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg2

from publish.marts import query, reading_marts
from publish.outdated import marts_fingerprint, record_publication
from publish.report import PdfNotRendered, render_pdf, write_report
from publish.summary import build_summary, write_spreadsheet, write_xlsx
from sheets.client import make_client
from tonghop import alerts
from tonghop.errors import WarehouseConnectionLost, connection_lost, one_line
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
    #: the fingerprint of the marts read (publish/outdated.py), recorded in ops.publications
    marts_fingerprint: str = ""
    #: the manifest's "pdf" entry: {"status": "rendered", "file"} or {"status": "missing",
    #: "reason_code", "reason_vi", "detail"}
    pdf_status: dict = dataclasses.field(default_factory=dict)

    def as_dict(self) -> dict:
        return self.__dict__.copy()


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _canonical(value) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def run_folder(settings: Settings, period_code: str, run_id: str) -> Path:
    return Path(settings.output_dir) / period_code / re.sub(r"[^0-9A-Za-z_-]+", "-", run_id)


@contextmanager
def summary_lock(settings: Settings, period_code: str, lost: list | None = None) -> Iterator[None]:
    """One writer of a period's "Tổng hợp" spreadsheet at a time.

    Finding the spreadsheet (by its appProperties) and creating it when missing are two calls:
    two publishes of a period at once (two cycles started together) would each find nothing
    and each create one. The second waits on this PostgreSQL advisory lock (taken as
    bi_reader, who may), then finds the first one's spreadsheet and rewrites it. A lost
    session is appended to ``lost``, as :func:`reading_marts` does.
    """
    conn = psycopg2.connect(settings.dsn("bi_reader"))
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(
                "select pg_advisory_lock(hashtext('tonghop.publish'), hashtext(%s))", (period_code,)
            )
        yield
    except (psycopg2.OperationalError, psycopg2.InterfaceError) as exc:
        if lost is not None and connection_lost(conn, exc):
            lost.append(conn)
        raise
    finally:
        conn.close()  # ends the session, and the lock with it


#: the manifest's words when the draft report has no PDF, by reason code
PDF_MISSING_VI = {
    "not_requested": "Không tạo bản PDF trong lần xuất bản này.",
    "soffice_missing": "Máy chủ chưa cài LibreOffice nên không tạo được bản PDF; dùng bản .docx.",
    "over_budget": "Tạo bản PDF quá thời gian cho phép nên đã dừng; dùng bản .docx "
    "(bộ phận kỹ thuật đã được báo).",
    "soffice_failed": "LibreOffice gặp lỗi khi tạo bản PDF; dùng bản .docx "
    "(bộ phận kỹ thuật đã được báo).",
    "no_output": "LibreOffice không tạo ra bản PDF; dùng bản .docx (bộ phận kỹ thuật đã được báo).",
}


def partial_folder(folder: Path) -> Path:
    """Where a run's files are written before they are moved into ``folder`` at once."""
    return folder.with_name(f"{folder.name}.partial-{os.getpid()}")


def _clear_leftovers(folder: Path) -> None:
    """Remove what an earlier attempt of this run left aside (it crashed or was killed before
    moving its files into place): a retry starts again from the marts."""
    name = glob.escape(folder.name)
    for leftover in [
        *folder.parent.glob(f"{name}.partial-*"),
        *folder.parent.glob(f"{name}.replaced-*"),
    ]:
        log.warning("publish: removing %s, left by an attempt that did not finish", leftover)
        shutil.rmtree(leftover, ignore_errors=True)


def _move_into_place(work: Path, folder: Path) -> None:
    """``work`` becomes ``folder`` in one rename. A folder already there is moved aside first:
    the same run published before (the task retried after), or the ``remind`` task, which runs
    beside ``publish`` and writes its reminder into the run folder. What it holds that the new
    folder has not (the reminder) is carried over; the rest of it is removed."""
    aside: list[Path] = []
    for attempt in range(5):
        if folder.exists():
            old = folder.with_name(f"{folder.name}.replaced-{os.getpid()}-{attempt}")
            os.replace(folder, old)
            aside.append(old)
        try:
            os.replace(work, folder)
            break
        except OSError as exc:
            # made again between the two renames (the reminder written just then)
            if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST) or attempt == 4:
                raise
    for old in aside:
        for entry in old.iterdir():
            if not (folder / entry.name).exists():
                os.replace(entry, folder / entry.name)
        shutil.rmtree(old, ignore_errors=True)


def _render_pdf(docx: Path, period_code: str, run_id: str) -> tuple[Path | None, dict]:
    """The PDF of the draft report, or its absence: (path or None, the manifest's entry). A PDF
    that could not be made is an alert, never a failed publication."""
    try:
        pdf = render_pdf(docx)
    except PdfNotRendered as exc:
        entry = {
            "status": "missing",
            "reason_code": exc.reason_code,
            "reason_vi": PDF_MISSING_VI[exc.reason_code],
            "detail": str(exc),
        }
        log.error("publish %s run %s: no PDF (%s): %s", period_code, run_id, exc.reason_code, exc)
        if exc.reason_code != "soffice_missing":
            alerts.send(
                f"[tonghop] Thiếu bản PDF / PDF not rendered: {period_code} ({run_id})",
                {
                    "period_code": period_code,
                    "run_id": run_id,
                    "reason_code": exc.reason_code,
                    "error": str(exc),
                    "published": "workbook, .docx, manifest and summary spreadsheet "
                    "published without the PDF",
                },
            )
        return None, entry
    return pdf, {"status": "rendered", "file": pdf.name}


def publish_period(
    settings: Settings, period_code: str, run_id: str, *, client=None, pdf: bool = True
) -> PublishResult:
    """Publish one period into ``output/<period>/<run>/``.

    The files are written into ``<run>.partial-<pid>`` next to it and moved into place in one
    rename at the end: the run folder is complete or absent, never half. The marts are read in
    one transaction; the PDF is rendered after it, within a budget — a PDF that cannot be made
    leaves everything else published, says so in the manifest and sends an alert. A lost
    connection to the warehouse raises :class:`WarehouseConnectionLost`.
    """
    folder = run_folder(settings, period_code, run_id)
    folder.parent.mkdir(parents=True, exist_ok=True)
    _clear_leftovers(folder)
    work = partial_folder(folder)
    work.mkdir()
    lost: list = []
    doing = "taking the marts' read locks"
    try:
        with reading_marts(settings, lost) as conn:
            doing = "reading the marts"
            tables = build_summary(conn, period_code)
            report = write_report(conn, period_code, work, pdf=False)
            reflects = query(
                conn,
                """
                select max(sheet_version_id) as latest_sheet_version_id,
                       max(validation_run_id) as latest_validation_run_id,
                       count(*) as report_versions
                from marts.fct_report_version where period_code = %s""",
                (period_code,),
            )[0]
            fingerprint = marts_fingerprint(conn, period_code)
            as_of = query(
                conn,
                """select as_of_date from marts.agg_province_summary
                                   where period_code = %s""",
                (period_code,),
            )[0]["as_of_date"]
        if pdf:
            doing = "rendering the PDF"
            pdf_path, pdf_entry = _render_pdf(report["docx"], period_code, run_id)
        else:
            pdf_path = None
            pdf_entry = {
                "status": "missing",
                "reason_code": "not_requested",
                "reason_vi": PDF_MISSING_VI["not_requested"],
            }
        xlsx_path = write_xlsx(tables, work / f"tong_hop_{period_code}.xlsx")
        period_name = tables[0].rows[0][1]
        client = client or make_client(settings)
        doing = "waiting for the summary spreadsheet's lock"
        with summary_lock(settings, period_code, lost):
            doing = "writing the summary spreadsheet"
            spreadsheet_id = write_spreadsheet(
                client, tables, period_code, f"Tổng hợp – {period_name}"
            )
        url = f"https://docs.google.com/spreadsheets/d/{spreadsheet_id}"
        doing = "writing the manifest"
        row_counts = {t.title: len(t.rows) for t in tables}
        manifest_path, content = _write_manifest(
            settings,
            work,
            period_code,
            run_id,
            tables,
            report,
            reflects,
            row_counts,
            xlsx_path,
            pdf_path,
            pdf_entry,
            spreadsheet_id,
            url,
        )
        _move_into_place(work, folder)
        doing = "recording the publication"
        record_publication(
            settings,
            period_code,
            run_id,
            fingerprint,
            as_of,
            reflects["latest_sheet_version_id"],
            str(folder),
        )
    except (psycopg2.OperationalError, psycopg2.InterfaceError) as exc:
        shutil.rmtree(work, ignore_errors=True)
        if doing == "recording the publication":
            # the run's folder is complete and in place; only its record is missing, so the
            # next publish run finds the period out of date and publishes it again
            raise WarehouseConnectionLost(
                f"publication of {period_code} (run {run_id}) is complete in {folder}, but the "
                f"connection to the warehouse database was lost while recording it: "
                f"{one_line(exc)}. The next publish run publishes the period again."
            ) from exc
        if not lost:
            raise
        sheet = (
            " The summary spreadsheet may have been rewritten already; the retry rewrites it again."
            if doing == "writing the summary spreadsheet"
            else ""
        )
        raise WarehouseConnectionLost(
            f"publication of {period_code} (run {run_id}): the connection to the warehouse "
            f"database was lost while {doing}: {one_line(exc)}. The run's files were written "
            f"aside and are removed: there is no folder {folder.name} under {folder.parent}, "
            f"and earlier runs' folders are untouched.{sheet} When the database is back, the "
            f"task's retry publishes the period again from the marts."
        ) from exc
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise

    def moved(path: Path) -> Path:
        return folder / path.name

    log.info(
        "published %s into %s (spreadsheet %s, content %s%s)",
        period_code,
        folder,
        spreadsheet_id,
        content[:12],
        "" if pdf_path else f", no PDF: {pdf_entry['reason_code']}",
    )
    return PublishResult(
        period_code=period_code,
        folder=str(folder),
        xlsx_path=str(moved(xlsx_path)),
        docx_path=str(moved(report["docx"])),
        pdf_path=str(moved(pdf_path)) if pdf_path else None,
        manifest_path=str(moved(manifest_path)),
        spreadsheet_id=spreadsheet_id,
        spreadsheet_url=url,
        row_counts=row_counts,
        content_sha256=content,
        pdf_status=pdf_entry,
        marts_fingerprint=fingerprint,
    )


def _write_manifest(
    settings: Settings,
    work: Path,
    period_code: str,
    run_id: str,
    tables,
    report: dict,
    reflects: dict,
    row_counts: dict,
    xlsx_path: Path,
    pdf_path: Path | None,
    pdf_entry: dict,
    spreadsheet_id: str,
    url: str,
) -> tuple[Path, str]:
    deterministic = [xlsx_path, report["docx"], *report["charts"].values()]
    files = {
        p.name: {"bytes": p.stat().st_size, "sha256": _sha256(p), "reproducible": True}
        for p in deterministic
    }
    if pdf_path:
        files[pdf_path.name] = {
            "bytes": pdf_path.stat().st_size,
            "sha256": _sha256(pdf_path),
            "reproducible": False,
        }
    content = hashlib.sha256(
        _canonical({name: f["sha256"] for name, f in files.items() if f["reproducible"]}).encode()
    ).hexdigest()
    data_sha = hashlib.sha256(
        _canonical(
            {"summary": [dataclasses.asdict(t) for t in tables], "report": report["data"]}
        ).encode()
    ).hexdigest()
    manifest = {
        "period_code": period_code,
        "run_id": run_id,
        "inputs": {
            "database": settings.warehouse_db,
            "marts_rows_read": {
                **report["input_row_counts"],
                **{f"summary: {k}": v for k, v in row_counts.items()},
            },
            "data_sha256": data_sha,
            "reflects": reflects,
        },
        "files": files,
        "pdf": pdf_entry,
        "content_sha256": content,
        "summary_spreadsheet": {"id": spreadsheet_id, "url": url},
    }
    manifest_path = work / "manifest.json"
    manifest_path.write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2, default=str), encoding="utf-8"
    )
    return manifest_path, content
