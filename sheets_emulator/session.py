"""Client side: point the real gspread at the emulator.

``EmulatorSession(base_url)`` is a ``requests.Session`` that rewrites
Google's hard-coded API prefixes to ``base_url`` (path and query kept);
``emulator_client(base_url)`` returns a ready ``gspread.Client``.
"""

from __future__ import annotations

from typing import Any

import requests

GOOGLE_PREFIXES = (
    ("https://sheets.googleapis.com/v4/spreadsheets", "/v4/spreadsheets"),
    ("https://www.googleapis.com/drive/v3/files", "/drive/v3/files"),
    ("https://www.googleapis.com/upload/drive/", "/upload/drive/"),
)


def rewrite_url(url: str, base_url: str) -> str:
    """In: a URL gspread built and the emulator base URL. Out: the URL to call."""
    for prefix, local in GOOGLE_PREFIXES:
        if url.startswith(prefix):
            return base_url.rstrip("/") + local + url[len(prefix) :]
    return url


class EmulatorSession(requests.Session):
    """A ``requests.Session`` sending Google Sheets/Drive calls to ``base_url``.

    Proxy environment variables are ignored (``trust_env = False``) so a
    corporate proxy never intercepts calls to the local emulator.
    """

    def __init__(self, base_url: str) -> None:
        super().__init__()
        self.base_url = base_url.rstrip("/")
        self.trust_env = False

    def request(self, method: str, url: Any, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        """Same as ``requests.Session.request`` with Google URLs rewritten."""
        return super().request(method, rewrite_url(str(url), self.base_url), *args, **kwargs)


def emulator_client(base_url: str, user: str | None = None) -> Any:
    """Out: ``gspread.Client(auth=None, session=EmulatorSession(base_url))``.

    ``user``: act as another account (sent as ``X-Emulator-User``) — e.g. a unit's official
    editing their sheet, whose changes are not "by me" for the pipeline's account.
    """
    import gspread

    session = EmulatorSession(base_url)
    if user:
        session.headers["X-Emulator-User"] = user
    return gspread.Client(auth=None, session=session)
