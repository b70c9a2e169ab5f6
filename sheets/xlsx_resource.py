"""An .xlsx workbook read the way the Sheets API serves a spreadsheet (``spreadsheets.get`` with
grid data), for checking a report a unit sends as a file (``tonghop check``) with the same
parser as the Sheets it fills online.

The conversion is the Sheets emulator's own (``sheets_emulator``, a package apart that knows
how Sheets renders cells and imports nothing of ours): the emulator serves its spreadsheets
from this very model, so a file and a Sheet reach the parser in one shape. This module is the
one place besides the emulator backend (``sheets.client``) where the product reaches it — the
import rule (``.importlinter``) allows exactly these two.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def workbook_resource(path: Path, spreadsheet_id: str, title: str) -> dict[str, Any]:
    """The spreadsheet resource (JSON as ``spreadsheets.get?includeGridData=true`` returns it)
    of the workbook at ``path``."""
    from sheets_emulator import workbook_to_spreadsheet_resource

    return workbook_to_spreadsheet_resource(path, spreadsheet_id=spreadsheet_id, title=title)
