"""HTTP front end: ``ThreadingHTTPServer`` around :class:`EmulatorApp`.

``EmulatorServer(root, host, port)`` owns a store and an app; ``start()``
serves in a background thread, ``stop()`` shuts down; ``url`` is the base
URL to hand to :class:`sheets_emulator.session.EmulatorSession`.
``config=EmulatorConfig(...)`` turns on quotas, latency and fault rules
(see :mod:`sheets_emulator.faults`); ``configure()`` swaps it at runtime.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import logging
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from .app import EmulatorApp
from .faults import Clock, EmulatorConfig
from .store import SpreadsheetStore

log = logging.getLogger("sheets_emulator.http")


class _Handler(BaseHTTPRequestHandler):
    """Reads one request, passes it to the app, writes the answer."""

    protocol_version = "HTTP/1.1"
    server_version = "sheets_emulator"
    # headers and body go out in two writes: with Nagle's algorithm on, the body waits for the
    # client's delayed ACK of the headers, ~40 ms on every call of a kept-alive connection —
    # latency the emulator is not configured to have
    disable_nagle_algorithm = True
    app: EmulatorApp  # set on the subclass made per server

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        path, _, query = self.path.partition("?")
        response = self.app.handle(self.command, path, query, dict(self.headers.items()), body)
        try:
            self._write(response)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (e.g. timed out)
            self.close_connection = True

    def _write(self, response: Any) -> None:
        payload = response.body_bytes()
        self.send_response(response.status)
        if response.status != 204:
            self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(payload) if response.status != 204 else 0))
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if payload and response.status != 204 and self.command != "HEAD":
            self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

    def date_time_string(self, timestamp: float | None = None) -> str:
        """The ``Date`` header every answer carries (``send_response`` asks for it): the
        emulator's clock, which stands in for Google's, in RFC 7231 format."""
        if timestamp is None:
            timestamp = self.app.store.now().timestamp()
        return email.utils.formatdate(timestamp, usegmt=True)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.client_address[0], *args)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128
    allow_reuse_address = True


class EmulatorServer:
    """The emulator over HTTP.

    In: ``root`` folder of the store (or a ready :class:`SpreadsheetStore`),
    ``host`` and ``port`` (0 = pick a free one), optional ``config``
    (:class:`EmulatorConfig`) and ``clock`` for the quota window.  Use ``start()``/``stop()``
    or ``with EmulatorServer(root) as server: ...``.
    """

    def __init__(
        self,
        root: str | Path | SpreadsheetStore,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        config: EmulatorConfig | None = None,
        clock: Clock = time.monotonic,
        **store_options: Any,
    ) -> None:
        self.store = (
            root if isinstance(root, SpreadsheetStore) else SpreadsheetStore(root, **store_options)
        )
        self.app = EmulatorApp(self.store, config=config, clock=clock)
        self.host = host
        self.port = port
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    def bind(self) -> None:
        """Open the listening socket (``start`` and ``serve_forever`` call this)."""
        if self._httpd is None:
            handler = type("Handler", (_Handler,), {"app": self.app})
            self._httpd = _Server((self.host, self.port), handler)
            self.port = self._httpd.server_address[1]

    @property
    def url(self) -> str:
        """Out: base URL such as ``http://127.0.0.1:43121``."""
        return f"http://{self.host}:{self.port}"

    def start(self) -> EmulatorServer:
        """Serve in a daemon thread. Out: self."""
        self.bind()
        assert self._httpd is not None
        self.app.faults.rearm()
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, args=(0.1,), name="sheets-emulator", daemon=True
        )
        self._thread.start()
        log.info("Sheets emulator listening on %s (root %s)", self.url, self.store.root)
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread until ``stop()`` is called from elsewhere."""
        self.bind()
        assert self._httpd is not None
        self.app.faults.rearm()
        self._httpd.serve_forever(0.1)

    def stop(self) -> None:
        """Stop serving and close the socket."""
        if self._httpd is None:
            return
        self.app.faults.wake()  # cut injected delays short so handler threads finish
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._httpd = None
        self._thread = None

    @property
    def config(self) -> EmulatorConfig:
        """Out: the quotas/latency/faults config in force."""
        return self.app.config

    def configure(self, config: EmulatorConfig) -> None:
        """Replace the config at runtime (same as ``POST /_emulator/config``)."""
        self.app.configure(config)

    def stats(self) -> dict[str, Any]:
        """Out: ``{"calls": {endpoint: n}, "total": n}`` plus ``"faults": {kind: n}`` once any."""
        return self.app.stats.snapshot()

    def set_clock(self, when: dt.datetime | None) -> None:
        """The emulator's now becomes ``when`` and runs on from there (None: real time again);
        see :meth:`SpreadsheetStore.set_clock`."""
        self.store.set_clock(when)

    def reset_stats(self) -> None:
        """Zero the call counters."""
        self.app.stats.reset()

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()
