"""The report's PDF, rendered by LibreOffice from the .docx within a budget
(:data:`PDF_BUDGET_SECONDS`), in a session and profile of its own; on overrun its whole process
group is ended, so no ``soffice.bin`` is left behind. LibreOffice draws "Times New Roman" with
Liberation Serif 2 (:mod:`publish.report.fonts`)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path


def soffice_path() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


#: seconds LibreOffice may take to turn the draft report into a PDF. The report of a province
#: renders in 5-15 s on one core (a fresh profile included); its quoted text is bounded
#: (:data:`QUOTE_MAX_CHARS`), so a render past two minutes is stuck, not busy, and waiting longer
#: would eat the publish stage's budget (tonghop/alerts.py STAGE_BUDGETS["publish"]).
#: Override with TONGHOP_PDF_BUDGET_SECONDS.
PDF_BUDGET_SECONDS = 120.0
#: after SIGTERM, seconds LibreOffice gets to exit before its process group is killed
PDF_KILL_GRACE_SECONDS = 5.0


def pdf_budget() -> float:
    """The PDF render's budget in seconds: ``TONGHOP_PDF_BUDGET_SECONDS`` or the default."""
    return float(os.environ.get("TONGHOP_PDF_BUDGET_SECONDS") or PDF_BUDGET_SECONDS)


class PdfNotRendered(RuntimeError):
    """No PDF: ``reason_code`` (English, for logs and the manifest) says why —
    ``soffice_missing``, ``over_budget``, ``soffice_failed``, ``no_output``."""

    def __init__(self, reason_code: str, message: str):
        super().__init__(message)
        self.reason_code = reason_code


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def _end_group(process: subprocess.Popen, grace: float = PDF_KILL_GRACE_SECONDS) -> None:
    """SIGTERM to the process's whole group (soffice and the soffice.bin it starts), SIGKILL to
    what is left of it after ``grace`` seconds; the child is reaped."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        process.poll()  # a leader that exited is reaped, not counted as alive
        if not _group_alive(process.pid):
            break
        time.sleep(0.05)
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()


def render_pdf(docx_path: Path, budget: float | None = None) -> Path:
    """The PDF next to the .docx, through LibreOffice, within ``budget`` seconds
    (:func:`pdf_budget`). Raises :class:`PdfNotRendered` when there is none: LibreOffice is not
    installed, failed, or ran over its budget — then its whole process group is ended, so no
    ``soffice.bin`` is left behind."""
    soffice = soffice_path()
    if soffice is None:
        raise PdfNotRendered("soffice_missing", "LibreOffice (soffice) is not installed")
    budget = pdf_budget() if budget is None else budget
    pdf = docx_path.with_suffix(".pdf")
    with tempfile.TemporaryDirectory(prefix="tonghop-lo-") as profile:
        # a profile of its own (two renders at once do not share one), and a session of its
        # own: on overrun the whole group is ended, soffice.bin with it
        process = subprocess.Popen(
            [
                soffice,
                f"-env:UserInstallation=file://{profile}",
                "--headless",
                "--norestore",
                "--convert-to",
                "pdf",
                "--outdir",
                str(docx_path.parent),
                str(docx_path),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            output, _ = process.communicate(timeout=budget)
        except subprocess.TimeoutExpired:
            _end_group(process)
            pdf.unlink(missing_ok=True)
            raise PdfNotRendered(
                "over_budget",
                f"LibreOffice ran past its budget of {budget:g} s on "
                f"{docx_path.name} and was stopped",
            ) from None
        except BaseException:
            _end_group(process)
            raise
        try:  # soffice has exited; a child it left in the group has no reason to stay
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    if process.returncode != 0:
        pdf.unlink(missing_ok=True)
        tail = " ".join(output.decode(errors="replace").split())[-300:]
        raise PdfNotRendered(
            "soffice_failed",
            f"LibreOffice exited with {process.returncode} on {docx_path.name}: {tail}",
        )
    if not pdf.exists():
        raise PdfNotRendered("no_output", f"LibreOffice did not write {pdf.name}")
    return pdf
