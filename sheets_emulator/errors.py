"""Google-style API errors raised by the emulator's handlers.

An :class:`ApiError` carries an HTTP status code, a message and a Google
status name; :meth:`ApiError.to_json` gives the body Google sends:
``{"error": {"code": 404, "message": "...", "status": "NOT_FOUND"}}``
(Drive errors additionally carry the ``errors`` list Drive v3 uses).
"""

from __future__ import annotations

from typing import Any

STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ALREADY_EXISTS",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    501: "UNIMPLEMENTED",
    503: "UNAVAILABLE",
}


class ApiError(Exception):
    """An error answered to the client as Google's JSON error body.

    In: ``code`` (HTTP status), ``message``, optional ``status`` (Google
    status name; derived from the code when omitted) and optional Drive
    ``reason``/``location`` for the Drive-style ``errors`` list.
    """

    def __init__(
        self,
        code: int,
        message: str,
        status: str | None = None,
        *,
        drive_reason: str | None = None,
        location: str | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status or STATUS_NAMES.get(code, "UNKNOWN")
        self.drive_reason = drive_reason
        self.location = location

    def to_json(self) -> dict[str, Any]:
        """Out: the JSON body Google returns for this error."""
        error: dict[str, Any] = {
            "code": self.code,
            "message": self.message,
            "status": self.status,
        }
        if self.drive_reason:
            item = {"message": self.message, "domain": "global", "reason": self.drive_reason}
            if self.location:
                item["location"] = self.location
                item["locationType"] = "parameter"
            error["errors"] = [item]
        return {"error": error}


def bad_request(message: str) -> ApiError:
    """Out: a 400 INVALID_ARGUMENT error with ``message``."""
    return ApiError(400, message)


def spreadsheet_not_found() -> ApiError:
    """Out: the 404 Sheets answers for an unknown spreadsheet id."""
    return ApiError(404, "Requested entity was not found.")


def drive_file_not_found(file_id: str) -> ApiError:
    """Out: the 404 Drive answers for an unknown file id."""
    return ApiError(404, f"File not found: {file_id}.", drive_reason="notFound", location="fileId")


def drive_invalid(message: str, location: str = "q") -> ApiError:
    """Out: the 400 Drive answers for an invalid parameter (e.g. a bad query)."""
    return ApiError(400, message, drive_reason="invalid", location=location)


def unsupported(message: str) -> ApiError:
    """Out: a 501 UNIMPLEMENTED error for Google features the emulator lacks."""
    return ApiError(501, f"{message} (not supported by sheets_emulator)")
