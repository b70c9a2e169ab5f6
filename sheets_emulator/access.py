"""Who may see a file, when the config's ``enforce_sharing`` is on.

As Google: a user (the ``Authorization`` bearer token or ``X-Emulator-User``, see
:func:`.faults.request_user`) sees the files it owns or that are shared with it — a ``user`` or
``group`` permission with its e-mail, or an ``anyone`` one —; files.list lists only those; any
other call on a file it cannot see is answered as Google answers it (the Sheets API: 403 "The
caller does not have permission"; the Drive API: 404 "File not found", which says nothing of
the file's existence). A file a user creates is owned by it. The emulator's ``default`` user (a
caller that says nothing of who it is) sees every file, so that a store filled by hand, or a
client that names no account, behaves as with the option off.
"""

from __future__ import annotations

from typing import Any

from .errors import ApiError, drive_file_not_found

DEFAULT_USER = "default"
#: endpoints that name no existing file (nothing to check before the handler)
UNCHECKED = ("drive.files.list", "drive.files.create", "sheets.spreadsheets.create")


def can_see(record: dict[str, Any], user: str) -> bool:
    """Out: whether ``user`` sees the file of ``record``."""
    if user == DEFAULT_USER:
        return True
    for permission in record.get("permissions", []):
        kind = permission.get("type")
        if kind == "anyone":
            return True
        if kind in ("user", "group") and (permission.get("emailAddress") or "").lower() == (
            user.lower()
        ):
            return True
    return False


def denied(endpoint: str, file_id: str) -> ApiError:
    """Out: Google's answer to a call on a file the caller cannot see."""
    if endpoint.startswith("drive."):
        return drive_file_not_found(file_id)
    return ApiError(403, "The caller does not have permission")


def owner_of_new_files(user: str) -> str | None:
    """Out: the owner of a file ``user`` creates (None: the store's default owner)."""
    return None if user == DEFAULT_USER else user
