"""Sheets v4 handlers: spreadsheets.create/get/batchUpdate/sheets.copyTo and values.*.

Each handler takes ``(store, request)`` and returns JSON or raises
:class:`ApiError`.  Unknown spreadsheet ids surface as ``UnknownFile``
from the store and are turned into Google's 404 by the app.
"""

from __future__ import annotations

from typing import Any

from . import sheets_values
from .access import owner_of_new_files
from .errors import bad_request
from .faults import request_user
from .fieldmask import FieldMaskError, apply_mask, mask_selects, parse_mask
from .inverse import spreadsheet_resource_to_model
from .model import clone_sheet
from .protocol import ApiRequest
from .ranges import check_cell_limit, check_read_start, resolve_range
from .resource import sheet_properties, spreadsheet_resource
from .sheets_batch import apply_requests
from .store import SPREADSHEET_MIME, SpreadsheetStore


def _mask(req: ApiRequest) -> Any:
    fields = req.param("fields")
    try:
        return parse_mask(fields) if fields else None
    except FieldMaskError:
        raise bad_request(f"Invalid field selection {fields}") from None


def spreadsheets_create(store: SpreadsheetStore, req: ApiRequest) -> Any:
    """spreadsheets.create: body may hold properties (title, locale, timeZone) and sheets;
    without a locale or time zone, the store's for new spreadsheets (the creating account's)."""
    body = req.json()
    try:
        model = spreadsheet_resource_to_model(body, store.new_locale, store.new_time_zone)
    except ValueError as exc:
        raise bad_request(f"Invalid spreadsheet: {exc}") from None
    with store.lock:
        record = store.create_file(
            model.title,
            SPREADSHEET_MIME,
            model=model,
            user=request_user(req),
            owner=owner_of_new_files(req.viewer) if req.viewer else None,
        )
        resource = spreadsheet_resource(store.snapshot(record["id"]), record["id"])
    return apply_mask(resource, _mask(req))


def spreadsheets_get(store: SpreadsheetStore, req: ApiRequest) -> Any:
    """spreadsheets.get with includeGridData, ranges (repeatable) and fields."""
    (spreadsheet_id,) = req.path_params
    mask = _mask(req)
    model = store.snapshot(spreadsheet_id)
    if req.param("fields"):
        include = mask_selects(mask, "sheets", "data")
    else:
        include = req.flag("includeGridData")
    ranges = None
    if req.params("ranges"):
        ranges = []
        for text in req.params("ranges"):
            sheet, rect = resolve_range(model, text)
            check_read_start(sheet, rect, text)
            ranges.append((sheet, rect))
    return apply_mask(spreadsheet_resource(model, spreadsheet_id, include, ranges), mask)


def spreadsheets_batch_update(store: SpreadsheetStore, req: ApiRequest) -> Any:
    """spreadsheets.batchUpdate: all requests apply, or none."""
    (spreadsheet_id,) = req.path_params
    body = req.json()
    with store.edit(spreadsheet_id, user=request_user(req)) as model:
        replies = apply_requests(model, body.get("requests"))
        check_cell_limit(model)
    out: dict[str, Any] = {"spreadsheetId": spreadsheet_id, "replies": replies}
    if body.get("includeSpreadsheetInResponse"):
        out["updatedSpreadsheet"] = spreadsheet_resource(
            store.snapshot(spreadsheet_id),
            spreadsheet_id,
            bool(body.get("responseIncludeGridData")),
        )
    return out


def sheets_copy_to(store: SpreadsheetStore, req: ApiRequest) -> Any:
    """spreadsheets.sheets.copyTo: copy one tab into another spreadsheet."""
    spreadsheet_id, sheet_id = req.path_params
    destination = req.json().get("destinationSpreadsheetId")
    if not destination:
        raise bad_request("destinationSpreadsheetId is required")
    source = store.snapshot(spreadsheet_id).sheet_by_id(int(sheet_id))
    if source is None:
        raise bad_request(f"No grid with id: {sheet_id}")
    with store.edit(destination, user=request_user(req)) as model:
        copy = clone_sheet(source)
        copy.protected_ranges = []
        copy.title = model.unique_title(f"Copy of {source.title}")
        copy.sheet_id = model.new_sheet_id(f"{spreadsheet_id}|{sheet_id}|{len(model.sheets)}")
        model.sheets.append(copy)
        check_cell_limit(model)
        return sheet_properties(copy, len(model.sheets) - 1)


# ------------------------------------------------------------------ values
def values_get(store: SpreadsheetStore, req: ApiRequest) -> Any:
    """values.get."""
    spreadsheet_id, text = req.path_params
    return sheets_values.get_range(store.snapshot(spreadsheet_id), text, req.simple_params())


def values_batch_get(store: SpreadsheetStore, req: ApiRequest) -> Any:
    """values.batchGet (``ranges`` repeatable)."""
    (spreadsheet_id,) = req.path_params
    model = store.snapshot(spreadsheet_id)
    params = req.simple_params()
    out: dict[str, Any] = {"spreadsheetId": spreadsheet_id}
    ranges = req.params("ranges")
    if ranges:
        out["valueRanges"] = [sheets_values.get_range(model, text, params) for text in ranges]
    return out


def values_update(store: SpreadsheetStore, req: ApiRequest) -> Any:
    """values.update (PUT)."""
    spreadsheet_id, text = req.path_params
    params = req.simple_params()
    sheets_values.input_option(params.get("valueInputOption"))
    with store.edit(spreadsheet_id, user=request_user(req)) as model:
        return sheets_values.update_range(model, spreadsheet_id, text, req.json(), params)


def values_batch_update(store: SpreadsheetStore, req: ApiRequest) -> Any:
    """values.batchUpdate."""
    (spreadsheet_id,) = req.path_params
    with store.edit(spreadsheet_id, user=request_user(req)) as model:
        return sheets_values.batch_update(model, spreadsheet_id, req.json())


def values_append(store: SpreadsheetStore, req: ApiRequest) -> Any:
    """values.append."""
    spreadsheet_id, text = req.path_params
    with store.edit(spreadsheet_id, user=request_user(req)) as model:
        out = sheets_values.append(model, spreadsheet_id, text, req.json(), req.simple_params())
        check_cell_limit(model)
        return out


def values_clear(store: SpreadsheetStore, req: ApiRequest) -> Any:
    """values.clear."""
    spreadsheet_id, text = req.path_params
    with store.edit(spreadsheet_id, user=request_user(req)) as model:
        return {"spreadsheetId": spreadsheet_id, "clearedRange": sheets_values.clear(model, text)}


def values_batch_clear(store: SpreadsheetStore, req: ApiRequest) -> Any:
    """values.batchClear (body ``ranges``)."""
    (spreadsheet_id,) = req.path_params
    ranges = req.json().get("ranges") or []
    with store.edit(spreadsheet_id, user=request_user(req)) as model:
        cleared = [sheets_values.clear(model, text) for text in ranges]
    out: dict[str, Any] = {"spreadsheetId": spreadsheet_id}
    if cleared:
        out["clearedRanges"] = cleared
    return out
