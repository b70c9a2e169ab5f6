"""Drive v3 handlers: files.list/get/create/update/delete/copy/export and permissions.

Each handler takes ``(store, request)`` and returns a JSON dict, an
:class:`ApiResponse` or raises :class:`ApiError`.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
from typing import Any

from .access import can_see, owner_of_new_files
from .drive_query import QueryError, compile_query
from .errors import ApiError, drive_invalid, unsupported
from .faults import request_user
from .fieldmask import FieldMaskError, apply_mask, mask_selects, parse_mask
from .protocol import ApiRequest, ApiResponse
from .sheets_values import number_format
from .store import (
    FOLDER_MIME,
    ROOT_FOLDER_ID,
    SPREADSHEET_MIME,
    SpreadsheetStore,
    file_version,
    last_modifying_user,
    permission_id,
)
from .values import render

FILE_DEFAULT_FIELDS = "kind,id,name,mimeType"
LIST_DEFAULT_FIELDS = "kind,incompleteSearch,nextPageToken,files(kind,id,name,mimeType)"
PERMISSION_DEFAULT_FIELDS = "kind,id,type,role"
PERMISSION_LIST_DEFAULT = "kind,nextPageToken,permissions(kind,id,type,role,emailAddress,domain)"
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ORDER_KEYS = {
    "createdTime": "createdTime",
    "modifiedTime": "modifiedTime",
    "recency": "modifiedTime",
    "name": "name",
    "name_natural": "name",
    "folder": "folder",
}
ROLES = {"owner", "organizer", "fileOrganizer", "writer", "commenter", "reader"}
PERMISSION_TYPES = {"user", "group", "domain", "anyone"}


def user_resource(email: str, caller: str | None) -> dict[str, Any]:
    """Out: the Drive ``User`` JSON of the account ``email`` as ``caller`` sees it (``me``)."""
    return {
        "kind": "drive#user",
        "displayName": email.split("@")[0],
        "emailAddress": email,
        "me": email == caller,
        "permissionId": permission_id("user", email),
    }


def file_resource(
    record: dict[str, Any], owner_email: str, user: str | None = None, size: int | None = None
) -> dict[str, Any]:
    """Out: the full Drive ``File`` JSON of a record (what ``fields=*`` gives), as ``user`` (the
    caller) sees it: ``modifiedByMeTime`` is when that caller last modified it.  ``version`` counts
    every change; ``lastModifyingUser`` is absent when the last change had no known user (as
    Drive leaves it out for an anonymous change); ``size`` (the content's bytes, here those of
    the stored .xlsx) only when given."""
    mine = (record.get("modifiedBy") or {}).get(user) if user else None
    permissions = [dict(p) for p in record.get("permissions", [])]
    out: dict[str, Any] = {
        "kind": "drive#file",
        "id": record["id"],
        "name": record["name"],
        "mimeType": record["mimeType"],
        "starred": bool(record.get("starred", False)),
        "trashed": bool(record.get("trashed", False)),
        "explicitlyTrashed": bool(record.get("trashed", False)),
        "parents": list(record.get("parents") or []),
        "spaces": ["drive"],
        "version": str(file_version(record)),
        "createdTime": record["createdTime"],
        "modifiedTime": record["modifiedTime"],
        "modifiedByMe": mine is not None,
        "owners": [{"kind": "drive#user", "emailAddress": owner_email, "me": True}],
        "ownedByMe": True,
        "permissions": permissions,
        "permissionIds": [p["id"] for p in permissions],
        # shared with anyone but its owner
        "shared": any(p.get("role") != "owner" for p in permissions),
    }
    if mine:
        out["modifiedByMeTime"] = mine
    editor = last_modifying_user(record)
    if editor:
        out["lastModifyingUser"] = user_resource(editor, user)
    if size is not None:
        out["size"] = str(size)
    for key in ("appProperties", "properties"):
        if record.get(key):
            out[key] = dict(record[key])
    if record.get("description"):
        out["description"] = record["description"]
    if record["mimeType"] == SPREADSHEET_MIME:
        out["webViewLink"] = (
            f"https://docs.google.com/spreadsheets/d/{record['id']}/edit?usp=drivesdk"
        )
    elif record["mimeType"] == FOLDER_MIME:
        out["webViewLink"] = f"https://drive.google.com/drive/folders/{record['id']}"
    return out


def _mask(text: str | None, default: str) -> Any:
    try:
        return parse_mask(text if text else default)
    except FieldMaskError:
        raise drive_invalid(f"Invalid field selection {text}", "fields") from None


def _project(store: SpreadsheetStore, record: dict, req: ApiRequest) -> dict:
    mask = _mask(req.param("fields"), FILE_DEFAULT_FIELDS)
    size = store.content_size(record["id"]) if mask_selects(mask, "size") else None
    return apply_mask(file_resource(record, store.owner_email, request_user(req), size), mask)


def _page_token(offset: int, key: str) -> str:
    raw = json.dumps({"o": offset, "k": key}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _read_token(token: str, key: str) -> int:
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        if data["k"] != key:
            raise ValueError
        return int(data["o"])
    except (ValueError, KeyError, TypeError):
        raise drive_invalid("Invalid Value", "pageToken") from None


def _sort(records: list[dict], order_by: str | None) -> list[dict]:
    keys: list[tuple[str, bool]] = []
    for part in (order_by or "").split(","):
        words = part.split()
        if not words:
            continue
        if words[0] not in ORDER_KEYS or (
            len(words) > 1 and words[1].lower() not in ("asc", "desc")
        ):
            raise drive_invalid("Invalid Value", "orderBy")
        keys.append((ORDER_KEYS[words[0]], len(words) > 1 and words[1].lower() == "desc"))
    keys += [("createdTime", False), ("id", False)]
    ordered = list(records)
    for key, desc in reversed(keys):
        if key == "name":
            ordered.sort(key=lambda r: r["name"].casefold(), reverse=desc)
        elif key == "folder":
            ordered.sort(key=lambda r: r["mimeType"] != FOLDER_MIME, reverse=desc)
        else:
            ordered.sort(key=lambda r, k=key: r[k], reverse=desc)
    return ordered


def _page_size(req: ApiRequest, *, default: int, largest: int) -> int:
    """A list call's ``pageSize`` (``default`` when not given), refused as Drive does when it
    is not a whole number from 1 to ``largest``."""
    try:
        size = int(req.param("pageSize") or default)
    except ValueError:
        raise drive_invalid("Invalid Value", "pageSize") from None
    if not 1 <= size <= largest:
        raise drive_invalid("Invalid Value", "pageSize")
    return size


def files_list(store: SpreadsheetStore, req: ApiRequest) -> dict[str, Any]:
    """files.list with q, pageSize, pageToken, orderBy, fields."""
    query = req.param("q") or ""
    try:
        predicate = compile_query(query, ROOT_FOLDER_ID)
    except QueryError:
        raise drive_invalid("Invalid Value", "q") from None
    page_size = _page_size(req, default=100, largest=1000)
    mask = _mask(req.param("fields"), LIST_DEFAULT_FIELDS)
    order_by = req.param("orderBy")
    token_key = hashlib.sha256(f"{query}|{order_by}".encode()).hexdigest()[:16]
    offset = _read_token(req.param("pageToken"), token_key) if req.param("pageToken") else 0
    with store.lock:
        matches = _sort(
            [
                r
                for r in store.records()
                if predicate(r) and (req.viewer is None or can_see(r, req.viewer))
            ],
            order_by,
        )
        user = request_user(req)
        sized = mask_selects(mask, "files", "size")
        page = [
            file_resource(
                r, store.owner_email, user, store.content_size(r["id"]) if sized else None
            )
            for r in matches[offset : offset + page_size]
        ]
    out: dict[str, Any] = {"kind": "drive#fileList", "incompleteSearch": False, "files": page}
    if offset + page_size < len(matches):
        out["nextPageToken"] = _page_token(offset + page_size, token_key)
    return apply_mask(out, mask)


def files_get(store: SpreadsheetStore, req: ApiRequest) -> Any:
    """files.get (metadata only; ``alt=media`` is refused like Google does for Sheets)."""
    (file_id,) = req.path_params
    with store.lock:
        record = store.get_record(file_id)
        if req.param("alt") == "media":
            raise ApiError(
                403,
                "Only files with binary content can be downloaded. Use Export with Docs Editors files.",
                drive_reason="fileNotDownloadable",
                location="alt",
            )
        return _project(store, record, req)


def _writable(body: dict, record: dict | None = None) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for key in ("name", "description", "starred", "trashed", "modifiedTime"):
        if key in body:
            changes[key] = body[key]
    for key in ("appProperties", "properties"):
        if key in body and body[key] is not None:
            merged = dict((record or {}).get(key) or {})
            for k, v in body[key].items():
                if v is None:
                    merged.pop(k, None)
                else:
                    merged[k] = str(v)
            changes[key] = merged
    return changes


def files_create(store: SpreadsheetStore, req: ApiRequest) -> Any:
    """files.create for Google Sheets files and folders (metadata only, no uploads)."""
    if req.param("uploadType"):
        raise unsupported("Uploading file content")
    body = req.json()
    mime = body.get("mimeType")
    if mime not in (SPREADSHEET_MIME, FOLDER_MIME):
        raise unsupported(f"Creating files of type {mime!r}; only Google Sheets files and folders")
    default_name = "Untitled spreadsheet" if mime == SPREADSHEET_MIME else "Untitled folder"
    extra = _writable(body)
    name = extra.pop("name", None) or default_name
    extra.pop("modifiedTime", None)
    app_properties = extra.pop("appProperties", None)
    with store.lock:
        record = store.create_file(
            name,
            mime,
            body.get("parents"),
            app_properties,
            extra=extra,
            user=request_user(req),
            owner=owner_of_new_files(req.viewer) if req.viewer else None,
        )
        return _project(store, record, req)


def files_update(store: SpreadsheetStore, req: ApiRequest) -> Any:
    """files.update (PATCH): name, description, starred, trashed, appProperties, parents params."""
    (file_id,) = req.path_params
    if req.param("uploadType"):
        raise unsupported("Uploading file content")
    body = req.json()
    if "parents" in body:
        raise ApiError(
            403,
            "The parents field is not directly writable in update requests. "
            "Use the addParents and removeParents parameters instead.",
            drive_reason="fieldNotWritable",
        )
    with store.lock:
        record = store.get_record(file_id)
        changes = _writable(body, record)
        parents = list(record.get("parents") or [])
        for folder in (req.param("removeParents") or "").split(","):
            if folder.strip() in parents:
                parents.remove(folder.strip())
        for folder in (req.param("addParents") or "").split(","):
            if folder.strip() and folder.strip() not in parents:
                parents.append(folder.strip())
        if parents != record.get("parents"):
            changes["parents"] = parents
        record = store.update_file(file_id, changes, user=request_user(req))
        return _project(store, record, req)


def files_delete(store: SpreadsheetStore, req: ApiRequest) -> ApiResponse:
    """files.delete: permanent delete. Out: 204."""
    (file_id,) = req.path_params
    store.delete_file(file_id)
    return ApiResponse(204, None)


def files_copy(store: SpreadsheetStore, req: ApiRequest) -> Any:
    """files.copy for spreadsheets."""
    (file_id,) = req.path_params
    body = req.json()
    with store.lock:
        record = store.copy_file(
            file_id,
            body.get("name"),
            body.get("parents"),
            body.get("appProperties"),
            owner=owner_of_new_files(req.viewer) if req.viewer else None,
        )
        return _project(store, record, req)


def files_export(store: SpreadsheetStore, req: ApiRequest) -> ApiResponse:
    """files.export as xlsx or csv (first sheet, formatted values)."""
    (file_id,) = req.path_params
    mime = req.param("mimeType")
    if not store.is_spreadsheet(file_id):
        store.get_record(file_id)
        raise drive_invalid("Export only supports Docs Editors files.", "fileId")
    if mime == XLSX_MIME:
        return ApiResponse(200, store.export_xlsx(file_id), content_type=XLSX_MIME)
    if mime == "text/csv":
        model = store.snapshot(file_id)
        sheet = model.sheets[0]
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        rows, cols = sheet.used_extent()
        for r in range(rows):
            writer.writerow(
                [
                    render(
                        sheet.get(r, c),
                        locale=model.locale,
                        number_format=number_format(sheet, r, c),
                    )
                    or ""
                    for c in range(cols)
                ]
            )
        return ApiResponse(200, buffer.getvalue().encode("utf-8"), content_type="text/csv")
    raise unsupported(f"Export to {mime!r}")


REVISION_LIST_DEFAULT = "kind,nextPageToken,revisions(kind,id,mimeType,modifiedTime)"


def revision_resource(
    record: dict[str, Any], revision: dict[str, Any], caller: str | None
) -> dict[str, Any]:
    """Out: one Drive ``Revision`` of a record as ``caller`` sees it (``me``: theirs).
    ``lastModifyingUser`` is absent when the editor is not known (as Drive does for an
    anonymous edit)."""
    out: dict[str, Any] = {
        "kind": "drive#revision",
        "id": revision["id"],
        "mimeType": record["mimeType"],
        "modifiedTime": revision["modifiedTime"],
        "keepForever": False,
        "published": False,
    }
    user = revision.get("user")
    if user:
        out["lastModifyingUser"] = user_resource(user, caller)
    return out


def revisions_list(store: SpreadsheetStore, req: ApiRequest) -> Any:
    """revisions.list: the file's revisions oldest first (the newest last, as Drive lists
    them), ``pageSize`` 1-1000 (default 200) with ``nextPageToken``, ``fields``. Every content
    change is a revision here; Google may merge or omit revisions of Docs-editor files."""
    (file_id,) = req.path_params
    mask = _mask(req.param("fields"), REVISION_LIST_DEFAULT)
    size = _page_size(req, default=200, largest=1000)
    key = hashlib.sha256(f"revisions|{file_id}".encode()).hexdigest()[:16]
    offset = _read_token(req.param("pageToken"), key) if req.param("pageToken") else 0
    caller = request_user(req)
    with store.lock:
        record = store.get_record(file_id)
        revisions = [revision_resource(record, r, caller) for r in record.get("revisions", [])]
    out: dict[str, Any] = {"kind": "drive#revisionList"}
    if offset + size < len(revisions):
        out["nextPageToken"] = _page_token(offset + size, key)
    out["revisions"] = revisions[offset : offset + size]
    return apply_mask(out, mask)


def comments_list(store: SpreadsheetStore, req: ApiRequest) -> Any:
    """comments.list: the emulator keeps no comments, so always an empty list."""
    (file_id,) = req.path_params
    store.get_drive_file(file_id)
    return apply_mask(
        {"kind": "drive#commentList", "comments": []}, _mask(req.param("fields"), "*")
    )


# ------------------------------------------------------------------ permissions
def _permission(body: dict) -> dict[str, Any]:
    kind, role = body.get("type"), body.get("role")
    if kind not in PERMISSION_TYPES:
        raise drive_invalid("The permission type field is required.", "permission.type")
    if role not in ROLES:
        raise drive_invalid("The permission role field is required.", "permission.role")
    who = None
    perm: dict[str, Any] = {"kind": "drive#permission", "type": kind, "role": role}
    if kind in ("user", "group"):
        who = body.get("emailAddress")
        if not who:
            raise drive_invalid(
                "The permission emailAddress field is required.", "permission.emailAddress"
            )
        perm["emailAddress"] = who
        perm["displayName"] = who.split("@")[0]
    elif kind == "domain":
        who = body.get("domain")
        if not who:
            raise drive_invalid("The permission domain field is required.", "permission.domain")
        perm["domain"] = who
        perm["allowFileDiscovery"] = bool(
            body.get("allowFileDiscovery", not body.get("withLink", False))
        )
    else:
        perm["allowFileDiscovery"] = bool(
            body.get("allowFileDiscovery", not body.get("withLink", True))
        )
    perm["id"] = permission_id(kind, who, kind == "anyone" and not perm["allowFileDiscovery"])
    perm["deleted"] = False
    perm["pendingOwner"] = False
    return perm


def permissions_create(store: SpreadsheetStore, req: ApiRequest) -> Any:
    """permissions.create: adds (or updates the role of) a grantee."""
    (file_id,) = req.path_params
    new = _permission(req.json())
    with store.lock:
        record = store.get_record(file_id)
        perms = [p for p in record.get("permissions", []) if p["id"] != new["id"]]
        perms.append(new)
        store.update_file(file_id, {"permissions": perms}, touch=False)
    return apply_mask(new, _mask(req.param("fields"), PERMISSION_DEFAULT_FIELDS))


def permissions_list(store: SpreadsheetStore, req: ApiRequest) -> Any:
    """permissions.list: the whole list when ``pageSize`` is not set (a My Drive file, as
    Google does), else pages of ``pageSize`` (1-100) with ``nextPageToken``."""
    (file_id,) = req.path_params
    mask = _mask(req.param("fields"), PERMISSION_LIST_DEFAULT)
    with store.lock:
        perms = [dict(p) for p in store.get_record(file_id).get("permissions", [])]
    out: dict[str, Any] = {"kind": "drive#permissionList"}
    if req.param("pageSize"):
        size = _page_size(req, default=100, largest=100)
        key = hashlib.sha256(f"permissions|{file_id}".encode()).hexdigest()[:16]
        offset = _read_token(req.param("pageToken"), key) if req.param("pageToken") else 0
        if offset + size < len(perms):
            out["nextPageToken"] = _page_token(offset + size, key)
        perms = perms[offset : offset + size]
    out["permissions"] = perms
    return apply_mask(out, mask)


def _find_permission(record: dict, perm_id: str) -> dict:
    for perm in record.get("permissions", []):
        if perm["id"] == perm_id:
            return perm
    raise ApiError(
        404, f"Permission not found: {perm_id}.", drive_reason="notFound", location="permissionId"
    )


def permissions_get(store: SpreadsheetStore, req: ApiRequest) -> Any:
    """permissions.get."""
    file_id, perm_id = req.path_params
    with store.lock:
        perm = dict(_find_permission(store.get_record(file_id), perm_id))
    return apply_mask(perm, _mask(req.param("fields"), PERMISSION_DEFAULT_FIELDS))


def permissions_update(store: SpreadsheetStore, req: ApiRequest) -> Any:
    """permissions.update: change the role."""
    file_id, perm_id = req.path_params
    role = req.json().get("role")
    if role not in ROLES:
        raise drive_invalid("The permission role field is required.", "permission.role")
    with store.lock:
        record = store.get_record(file_id)
        perms = [dict(p) for p in record.get("permissions", [])]
        perm = _find_permission({"permissions": perms}, perm_id)
        perm["role"] = role
        store.update_file(file_id, {"permissions": perms}, touch=False)
    return apply_mask(perm, _mask(req.param("fields"), PERMISSION_DEFAULT_FIELDS))


def permissions_delete(store: SpreadsheetStore, req: ApiRequest) -> ApiResponse:
    """permissions.delete. Out: 204."""
    file_id, perm_id = req.path_params
    with store.lock:
        record = store.get_record(file_id)
        perm = _find_permission(record, perm_id)
        if perm["role"] == "owner":
            raise ApiError(
                403, "The owner of a file cannot be removed.", drive_reason="cannotRemoveOwner"
            )
        perms = [p for p in record["permissions"] if p["id"] != perm_id]
        store.update_file(file_id, {"permissions": perms}, touch=False)
    return ApiResponse(204, None)
