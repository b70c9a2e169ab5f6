"""Transport-neutral request/response objects passed through the emulator."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from .errors import bad_request


@dataclass
class ApiRequest:
    """One API call.

    ``path`` is the raw (still percent-encoded) path, ``query`` the parsed
    query string (name -> list of values), ``endpoint`` the stats key
    (e.g. ``sheets.values.get``) and ``path_params`` the decoded pieces the
    route captured (spreadsheet id, range, ...), both filled in by routing.
    """

    method: str
    path: str
    query: dict[str, list[str]] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    endpoint: str = "unknown"
    path_params: tuple[str, ...] = ()
    #: with sharing enforced, the user whose files the call may see (None: every file)
    viewer: str | None = None
    _json: Any = None

    def param(self, name: str, default: str | None = None) -> str | None:
        """Out: the first value of query parameter ``name`` or ``default``."""
        values = self.query.get(name)
        return values[0] if values else default

    def params(self, name: str) -> list[str]:
        """Out: all values of a repeatable query parameter."""
        return list(self.query.get(name, []))

    def flag(self, name: str, default: bool = False) -> bool:
        """Out: a boolean query parameter ('true'/'True'/'1' are true)."""
        value = self.param(name)
        if value is None:
            return default
        return value.strip().lower() in ("true", "1", "yes")

    def simple_params(self) -> dict[str, str | None]:
        """Out: every query parameter with its first value."""
        return {k: (v[0] if v else None) for k, v in self.query.items()}

    def json(self) -> Any:
        """Out: the parsed JSON body ({} when empty); 400 on invalid JSON."""
        if self._json is None:
            if not self.body.strip():
                self._json = {}
            else:
                try:
                    self._json = json.loads(self.body.decode("utf-8"))
                except (ValueError, UnicodeDecodeError):
                    raise bad_request("Invalid JSON payload received.") from None
        return self._json


@dataclass
class ApiResponse:
    """An answer: status, body (dict/list -> JSON, bytes as is, None -> empty)."""

    status: int = 200
    body: Any = None
    content_type: str = "application/json; charset=UTF-8"
    headers: dict[str, str] = field(default_factory=dict)

    def body_bytes(self) -> bytes:
        """Out: the encoded body."""
        if self.body is None:
            return b""
        if isinstance(self.body, (bytes, bytearray)):
            return bytes(self.body)
        return json.dumps(self.body, ensure_ascii=False).encode("utf-8")
