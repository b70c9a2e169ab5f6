"""Routing, call accounting and the single dispatch seam.

:class:`EmulatorApp` turns ``(method, path, query, headers, body)`` into an
:class:`ApiResponse` without any socket code, so tests and benchmarks can
call it in-process too.  Every API request goes through
:meth:`EmulatorApp.handle`: route -> count -> interceptors -> handler.
Interceptors (``app.add_interceptor(fn)``) are the hook for quotas and
fault injection: ``fn(request)`` may return an ApiResponse (or raise
ApiError) to answer instead of the handler, or None to let it through.
The first interceptor is always the app's :class:`FaultInjector`
(``app.faults``), which applies the :class:`EmulatorConfig` (quotas,
latency, fault rules); ``GET``/``POST /_emulator/config`` read/replace it.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, unquote, unquote_plus

from . import drive_api, sheets_api
from .access import DEFAULT_USER, UNCHECKED, can_see, denied
from .errors import ApiError, drive_file_not_found, spreadsheet_not_found, unsupported
from .faults import Clock, EmulatorConfig, FaultInjector, request_user
from .protocol import ApiRequest, ApiResponse
from .store import SpreadsheetStore, UnknownFile

log = logging.getLogger("sheets_emulator")
Interceptor = Callable[[ApiRequest], ApiResponse | None]
_ID = r"([^/:?]+)"
ROUTES: list[tuple[str, re.Pattern, str, Callable]] = [
    (m, re.compile(p), key, fn)
    for m, p, key, fn in [
        (
            "POST",
            r"^/v4/spreadsheets$",
            "sheets.spreadsheets.create",
            sheets_api.spreadsheets_create,
        ),
        (
            "GET",
            rf"^/v4/spreadsheets/{_ID}$",
            "sheets.spreadsheets.get",
            sheets_api.spreadsheets_get,
        ),
        (
            "POST",
            rf"^/v4/spreadsheets/{_ID}:batchUpdate$",
            "sheets.spreadsheets.batchUpdate",
            sheets_api.spreadsheets_batch_update,
        ),
        (
            "POST",
            rf"^/v4/spreadsheets/{_ID}/sheets/(\d+):copyTo$",
            "sheets.spreadsheets.sheets.copyTo",
            sheets_api.sheets_copy_to,
        ),
        (
            "GET",
            rf"^/v4/spreadsheets/{_ID}/values:batchGet$",
            "sheets.values.batchGet",
            sheets_api.values_batch_get,
        ),
        (
            "POST",
            rf"^/v4/spreadsheets/{_ID}/values:batchUpdate$",
            "sheets.values.batchUpdate",
            sheets_api.values_batch_update,
        ),
        (
            "POST",
            rf"^/v4/spreadsheets/{_ID}/values:batchClear$",
            "sheets.values.batchClear",
            sheets_api.values_batch_clear,
        ),
        (
            "POST",
            rf"^/v4/spreadsheets/{_ID}/values/(.+):append$",
            "sheets.values.append",
            sheets_api.values_append,
        ),
        (
            "POST",
            rf"^/v4/spreadsheets/{_ID}/values/(.+):clear$",
            "sheets.values.clear",
            sheets_api.values_clear,
        ),
        (
            "GET",
            rf"^/v4/spreadsheets/{_ID}/values/(.+)$",
            "sheets.values.get",
            sheets_api.values_get,
        ),
        (
            "PUT",
            rf"^/v4/spreadsheets/{_ID}/values/(.+)$",
            "sheets.values.update",
            sheets_api.values_update,
        ),
        ("GET", r"^/drive/v3/files$", "drive.files.list", drive_api.files_list),
        ("POST", r"^/drive/v3/files$", "drive.files.create", drive_api.files_create),
        ("GET", rf"^/drive/v3/files/{_ID}$", "drive.files.get", drive_api.files_get),
        ("PATCH", rf"^/drive/v3/files/{_ID}$", "drive.files.update", drive_api.files_update),
        ("DELETE", rf"^/drive/v3/files/{_ID}$", "drive.files.delete", drive_api.files_delete),
        ("POST", rf"^/drive/v3/files/{_ID}/copy$", "drive.files.copy", drive_api.files_copy),
        ("GET", rf"^/drive/v3/files/{_ID}/export$", "drive.files.export", drive_api.files_export),
        (
            "GET",
            rf"^/drive/v3/files/{_ID}/comments$",
            "drive.comments.list",
            drive_api.comments_list,
        ),
        (
            "GET",
            rf"^/drive/v3/files/{_ID}/revisions$",
            "drive.revisions.list",
            drive_api.revisions_list,
        ),
        (
            "POST",
            rf"^/drive/v3/files/{_ID}/permissions$",
            "drive.permissions.create",
            drive_api.permissions_create,
        ),
        (
            "GET",
            rf"^/drive/v3/files/{_ID}/permissions$",
            "drive.permissions.list",
            drive_api.permissions_list,
        ),
        (
            "GET",
            rf"^/drive/v3/files/{_ID}/permissions/{_ID}$",
            "drive.permissions.get",
            drive_api.permissions_get,
        ),
        (
            "PATCH",
            rf"^/drive/v3/files/{_ID}/permissions/{_ID}$",
            "drive.permissions.update",
            drive_api.permissions_update,
        ),
        (
            "DELETE",
            rf"^/drive/v3/files/{_ID}/permissions/{_ID}$",
            "drive.permissions.delete",
            drive_api.permissions_delete,
        ),
    ]
]
#: routes whose last path piece is an A1 range: Google reads it form-encoded, so a ``+`` there is
#: a space (``'Hướng+dẫn'!A1`` is the tab "Hướng dẫn"; a literal plus is sent as ``%2B``)
RANGE_IN_PATH = frozenset(
    {"sheets.values.get", "sheets.values.update", "sheets.values.append", "sheets.values.clear"}
)


class CallStats:
    """Thread-safe per-endpoint call counter, plus injected faults by kind."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: Counter[str] = Counter()
        self._faults: Counter[str] = Counter()
        self._users: defaultdict[str, Counter[str]] = defaultdict(Counter)

    def count(self, endpoint: str, user: str = DEFAULT_USER) -> None:
        """Add one call to ``endpoint``, made by ``user``."""
        with self._lock:
            self._calls[endpoint] += 1
            self._users[user][endpoint] += 1

    def count_fault(self, kind: str) -> None:
        """Add one throttled/faulted call of ``kind`` ("429", "503", "timeout", "slow", ...)."""
        with self._lock:
            self._faults[kind] += 1

    def snapshot(self) -> dict[str, Any]:
        """Out: ``{"calls": {endpoint: n}, "total": n}``, plus
        ``"faults": {kind: n}`` once any call was throttled or faulted, and
        ``"users": {user: {endpoint: n}}`` once a call named its user."""
        with self._lock:
            calls = dict(sorted(self._calls.items()))
            faults = dict(sorted(self._faults.items()))
            users = {
                user: dict(sorted(c.items()))
                for user, c in sorted(self._users.items())
                if sum(c.values())
            }
        snap: dict[str, Any] = {"calls": calls, "total": sum(calls.values())}
        if faults:
            snap["faults"] = faults
        if set(users) - {DEFAULT_USER}:
            snap["users"] = users
        return snap

    def reset(self) -> None:
        """Forget all counts."""
        with self._lock:
            self._calls.clear()
            self._faults.clear()
            self._users.clear()


def _unknown(endpoint: str, path_params: tuple) -> ApiError:
    file_id = path_params[0] if path_params else ""
    return (
        spreadsheet_not_found() if endpoint.startswith("sheets.") else drive_file_not_found(file_id)
    )


class EmulatorApp:
    """The emulator minus the socket: routing, stats, interceptors, handlers."""

    def __init__(
        self,
        store: SpreadsheetStore,
        config: EmulatorConfig | None = None,
        clock: Clock = time.monotonic,
    ) -> None:
        self.store = store
        self.stats = CallStats()
        self.faults = FaultInjector(self.stats, config, clock)
        self.interceptors: list[Interceptor] = [self.faults]

    @property
    def config(self) -> EmulatorConfig:
        """Out: the quotas/latency/faults config in force."""
        return self.faults.config

    def configure(self, config: EmulatorConfig) -> None:
        """Replace the config at runtime (rule counters and quota windows restart)."""
        self.faults.configure(config)

    def add_interceptor(self, fn: Interceptor) -> None:
        """Register ``fn(request) -> ApiResponse | None`` run before every API handler."""
        self.interceptors.append(fn)

    def route(self, req: ApiRequest) -> Callable | None:
        """Fill ``req.endpoint``/``req.path_params``. Out: the handler or None."""
        for method, pattern, key, fn in ROUTES:
            match = pattern.match(req.path)
            if match and method == req.method:
                req.endpoint = key
                params = [unquote(g) for g in match.groups()]
                if key in RANGE_IN_PATH:
                    params[-1] = unquote_plus(match.groups()[-1])
                req.path_params = tuple(params)
                return fn
        if req.path.startswith("/upload/"):
            req.endpoint = "drive.upload"
        return None

    def handle(
        self,
        method: str,
        path: str,
        query: str = "",
        headers: dict | None = None,
        body: bytes = b"",
    ) -> ApiResponse:
        """In: the raw HTTP pieces. Out: the response (admin routes included)."""
        admin = self._admin(method.upper(), path, body)
        if admin is not None:
            return admin
        req = ApiRequest(
            method=method.upper(),
            path=path,
            query=parse_qs(query, keep_blank_values=True),
            headers=dict(headers or {}),
            body=body,
        )
        handler = self.route(req)
        self.stats.count(req.endpoint, request_user(req))
        try:
            for interceptor in self.interceptors:
                early = interceptor(req)
                if early is not None:
                    return early
            if self.config.enforce_sharing:
                self._check_access(req)
            if handler is None:
                if req.endpoint == "drive.upload":
                    raise unsupported("Drive media uploads")
                raise ApiError(404, f"Method not found: {method} {path}")
            result = handler(self.store, req)
        except ApiError as exc:
            return ApiResponse(exc.code, exc.to_json())
        except UnknownFile:
            return ApiResponse(404, _unknown(req.endpoint, req.path_params).to_json())
        except Exception:  # a bug in the emulator: answer like Google's 500
            log.exception("sheets_emulator failed on %s %s", method, path)
            return ApiResponse(500, ApiError(500, "Internal error encountered.").to_json())
        return result if isinstance(result, ApiResponse) else ApiResponse(200, result)

    def _check_access(self, req: ApiRequest) -> None:
        """With sharing enforced: the call sees only its user's files (:mod:`.access`)."""
        req.viewer = request_user(req)
        if req.endpoint in UNCHECKED or not req.path_params:
            return
        file_id = req.path_params[0]
        with self.store.lock:
            if not self.store.exists(file_id):
                return  # the handler answers "not found"
            record = self.store.get_record(file_id)
            if not can_see(record, req.viewer):
                raise denied(req.endpoint, file_id)

    def _admin(self, method: str, path: str, body: bytes = b"") -> ApiResponse | None:
        if not path.startswith("/_emulator/"):
            return None
        if path == "/_emulator/health" and method == "GET":
            return ApiResponse(200, {"status": "ok"})
        if path == "/_emulator/stats" and method == "GET":
            return ApiResponse(200, self.stats.snapshot())
        if path == "/_emulator/reset-stats" and method == "POST":
            self.stats.reset()
            return ApiResponse(200, {"status": "ok"})
        if path == "/_emulator/config" and method == "GET":
            return ApiResponse(200, self.config.to_dict())
        if path == "/_emulator/config" and method == "POST":
            try:
                config = EmulatorConfig.from_dict(json.loads(body.decode("utf-8") or "{}"))
            except (ValueError, TypeError, UnicodeDecodeError) as exc:
                return ApiResponse(400, ApiError(400, f"Invalid emulator config: {exc}").to_json())
            self.configure(config)
            return ApiResponse(200, config.to_dict())
        return ApiResponse(404, ApiError(404, f"Unknown admin route {method} {path}").to_json())
