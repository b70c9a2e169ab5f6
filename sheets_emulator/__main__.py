"""Command line: ``python -m sheets_emulator serve --root DIR --host H --port P [--config FILE.json]``.

``--config`` loads an :class:`~sheets_emulator.faults.EmulatorConfig`
(quotas, latency, fault rules) from JSON.

Serves in the foreground until SIGTERM / SIGINT, then shuts down cleanly.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading

from .faults import EmulatorConfig
from .server import EmulatorServer


def main(argv: list[str] | None = None) -> int:
    """In: command-line arguments. Out: process exit code."""
    parser = argparse.ArgumentParser(prog="python -m sheets_emulator")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the Sheets/Drive emulator in the foreground")
    serve.add_argument("--root", required=True, help="folder holding <id>.xlsx and _drive.json")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8931)
    serve.add_argument("--log-level", default="WARNING")
    serve.add_argument("--config", help="JSON file with quotas, latency and fault rules")
    args = parser.parse_args(argv)

    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(name)s %(levelname)s %(message)s"
    )
    config = EmulatorConfig.from_json_file(args.config) if args.config else None
    server = EmulatorServer(args.root, host=args.host, port=args.port, config=config)
    stopping = threading.Event()

    def on_signal(signum: int, frame: object) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    server.start()
    print(f"Sheets emulator listening on {server.url} (root {args.root})", flush=True)
    while not stopping.wait(0.5):
        pass
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
