"""Local emulator of the Google Sheets v4 / Drive v3 calls gspread 6 makes.

Spreadsheets live as ``<root>/<id>.xlsx`` with Drive metadata in
``<root>/_drive.json``.  Typical use::

    from sheets_emulator import EmulatorServer, emulator_client

    with EmulatorServer(root) as server:
        gc = emulator_client(server.url)          # a real gspread.Client
        sh = gc.create("Báo cáo tháng 6")
"""

from .app import CallStats, EmulatorApp
from .errors import ApiError
from .faults import EmulatorConfig, FaultInjector, FaultRule
from .inverse import spreadsheet_resource_to_model, spreadsheet_resource_to_workbook
from .model import SheetModel, WorkbookModel
from .protocol import ApiRequest, ApiResponse
from .resource import spreadsheet_resource, workbook_to_spreadsheet_resource
from .server import EmulatorServer
from .session import EmulatorSession, emulator_client, rewrite_url
from .store import (
    FOLDER_MIME,
    ROOT_FOLDER_ID,
    SPREADSHEET_MIME,
    SpreadsheetStore,
    UnknownFile,
    new_file_id,
)
from .xlsx_grid import load_model, save_model

__all__ = [
    "ApiError",
    "ApiRequest",
    "ApiResponse",
    "CallStats",
    "EmulatorApp",
    "EmulatorConfig",
    "EmulatorServer",
    "EmulatorSession",
    "FaultInjector",
    "FaultRule",
    "FOLDER_MIME",
    "ROOT_FOLDER_ID",
    "SPREADSHEET_MIME",
    "SheetModel",
    "SpreadsheetStore",
    "UnknownFile",
    "WorkbookModel",
    "emulator_client",
    "load_model",
    "new_file_id",
    "rewrite_url",
    "save_model",
    "spreadsheet_resource",
    "spreadsheet_resource_to_model",
    "spreadsheet_resource_to_workbook",
    "workbook_to_spreadsheet_resource",
]
