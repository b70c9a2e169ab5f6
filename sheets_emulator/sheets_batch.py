"""spreadsheets.batchUpdate: apply structural requests to a model copy.

``apply_requests(model, requests)`` runs each request in order on a model
being edited and returns Google's ``replies`` list.  Handlers live in
:mod:`batch_sheets` and :mod:`batch_cells`.  Unknown request kinds (and
options with effects the emulator does not reproduce, such as sorting)
raise 400 so nobody mistakes them for working no-ops.  Cell formats
(``userEnteredFormat``) are stored for the fields :mod:`formats` knows;
other format fields raise 400 too.
"""

from __future__ import annotations

from typing import Any

from . import batch_cells, batch_sheets  # noqa: F401  (register the handlers)
from .a1 import A1ParseError
from .batch_common import HANDLERS, RequestError
from .errors import ApiError, bad_request
from .fieldmask import FieldMaskError
from .formats import FormatError
from .model import WorkbookModel


def apply_requests(model: WorkbookModel, requests: Any) -> list[dict]:
    """In: a model being edited and the ``requests`` list. Out: ``replies``."""
    if not isinstance(requests, list) or not requests:
        raise bad_request("Must specify at least one request.")
    replies = []
    for i, request in enumerate(requests):
        if not isinstance(request, dict) or len(request) != 1:
            raise bad_request(f"Invalid requests[{i}]: exactly one kind of request must be set.")
        kind, body = next(iter(request.items()))
        handler = HANDLERS.get(kind)
        if handler is None:
            raise bad_request(
                f"Invalid JSON payload received. Unknown name \"{kind}\" at 'requests[{i}]': "
                "request kind not supported by sheets_emulator."
            )
        try:
            reply = handler(model, body or {})
        except (RequestError, FieldMaskError, FormatError, A1ParseError) as exc:
            raise bad_request(f"Invalid requests[{i}].{kind}: {exc}") from None
        except ApiError as exc:
            raise bad_request(f"Invalid requests[{i}].{kind}: {exc.message}") from None
        replies.append(reply or {})
    return replies
