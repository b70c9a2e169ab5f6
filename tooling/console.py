"""What ``tonghop demo`` and ``tonghop run`` show a person: one line per stage with its counts and
time, a progress bar while a long stage runs (on a terminal only), and where the full log is.

Everything else — Airflow's, dbt's and Great Expectations' own logs — goes to a log file
(:func:`log_to_file`), without colour codes. The stages report through :mod:`tonghop.progress`;
:class:`StageLines` turns those events into lines, and :class:`FollowFile` feeds it the events
that stages running in other processes (``airflow dags test``) append to a file.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from tonghop.progress import STAGES

#: ANSI/VT100 escape sequences (colours, cursor moves) that libraries write to a terminal
ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b[@-Z\\-_]")
#: a stage shorter than this gets no progress bar, only its line
BAR_AFTER_SECONDS = 2.0
BAR_WIDTH = 24


def strip_ansi(text: str) -> str:
    return ANSI.sub("", text)


def seconds_vi(seconds: float) -> str:
    """``12 s``, ``2 phút 05 s``: the elapsed time as the console shows it."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    return f"{seconds // 60} phút {seconds % 60:02d} s"


class StageLines:
    """Prints ``n/5 <stage>: <counts> (<time>)`` as each stage of :data:`STAGES` finishes, and
    redraws one progress bar line while a stage with a known total runs (terminals only)."""

    def __init__(self, out: IO[str] | None = None, *, bar: bool | None = None):
        self.out = out or sys.stdout
        self.bar = self.out.isatty() if bar is None else bar
        self.started_at: dict[str, float] = {}
        self.total: dict[str, int] = {}
        self.done: dict[str, int] = {}
        self.ended: dict[str, str] = {}  # stage -> "finished" / "failed"
        self.lines: list[str] = []  # what was printed (tests read it)
        self._bar_shown = False
        self._lock = threading.Lock()

    def number(self, stage: str) -> str:
        return f"{list(STAGES).index(stage) + 1}/{len(STAGES)}" if stage in STAGES else "-"

    def __call__(self, event: dict) -> None:
        with self._lock:
            self._handle(event)

    def _handle(self, event: dict) -> None:
        stage, kind = event.get("stage"), event.get("event")
        if stage not in STAGES:
            return
        at = float(event.get("at") or time.time())
        if kind == "started":
            if self.ended.pop(stage, None):  # run again (a retry, a second DAG run)
                self.started_at.pop(stage, None)
                self.total.pop(stage, None)
                self.done.pop(stage, None)
            self.started_at.setdefault(stage, at)
            if event.get("total"):
                self.total[stage] = self.total.get(stage, 0) + int(event["total"])
        elif kind == "advanced":
            self.done[stage] = self.done.get(stage, 0) + int(event.get("done") or 0)
            self._draw_bar(stage, at)
        elif kind in ("finished", "failed"):
            if stage in self.ended:  # the same stage reported twice
                return
            self.ended[stage] = kind
            took = at - self.started_at.get(stage, at)
            if kind == "finished":
                text = f"{self.number(stage)} {STAGES[stage]}: {event.get('summary', '')}"
            else:
                text = f"{self.number(stage)} {STAGES[stage]}: LỖI — {event.get('message', '')}"
            self.print(f"{text} ({seconds_vi(took)})")

    def _draw_bar(self, stage: str, at: float) -> None:
        total = self.total.get(stage)
        if not (self.bar and total) or at - self.started_at.get(stage, at) < BAR_AFTER_SECONDS:
            return
        done = min(self.done.get(stage, 0), total)
        filled = round(BAR_WIDTH * done / total)
        self.out.write(
            f"\r{self.number(stage)} {STAGES[stage]} [{'#' * filled}"
            f"{'.' * (BAR_WIDTH - filled)}] {done}/{total}\x1b[K"
        )
        self.out.flush()
        self._bar_shown = True

    def print(self, line: str) -> None:
        """A line of its own (clears a progress bar first)."""
        if self._bar_shown:
            self.out.write("\r\x1b[K")
            self._bar_shown = False
        self.out.write(line + "\n")
        self.out.flush()
        self.lines.append(line)

    def skipped(self, stage: str, why: str) -> None:
        """A stage that did not run (e.g. nothing new to build)."""
        with self._lock:
            if stage not in self.ended:
                self.ended[stage] = "skipped"
                self.print(f"{self.number(stage)} {STAGES[stage]}: {why}")


class FollowFile:
    """Reads the JSON lines another process appends to ``path`` and hands each event to
    ``callback``, in a thread, until :meth:`stop` (which reads what is left first)."""

    def __init__(self, path: Path, callback, interval: float = 0.2):
        self.path, self.callback, self.interval = Path(path), callback, interval
        self._stop = threading.Event()
        self._offset = 0
        self._thread = threading.Thread(target=self._run, name="progress-follower", daemon=True)

    def __enter__(self) -> FollowFile:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._read()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._read()

    def _read(self) -> None:
        if not self.path.exists():
            return
        with self.path.open("rb") as fh:
            fh.seek(self._offset)
            chunk = fh.read()
        end = chunk.rfind(b"\n") + 1  # only whole lines; the rest comes next time
        self._offset += end
        for raw in chunk[:end].splitlines():
            try:
                event = json.loads(raw.decode("utf-8"))
            except ValueError:
                continue
            if isinstance(event, dict):
                self.callback(event)


# ------------------------------------------------------------------ the log file
def log_dir(state: Path) -> Path:
    """Where the commands' log files go: ``<state>/logs``."""
    return Path(state) / "logs"


def log_file_path(state: Path, command: str) -> Path:
    """``<state>/logs/<command>-<YYYYmmdd-HHMMSS>.log``."""
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    folder = log_dir(state)
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{command}-{stamp}.log"


class _NoAnsi(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return strip_ansi(super().format(record))


@contextmanager
def log_to_file(path: Path, level: int = logging.INFO) -> Iterator[IO[str]]:
    """For the ``with`` block, every log record of this process goes to ``path`` (no colour
    codes) instead of the console; yields the open file, for child processes' output."""
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    fh = open(path, "a", encoding="utf-8", buffering=1)  # noqa: SIM115 (closed when the block ends)
    handler = logging.StreamHandler(fh)
    handler.setFormatter(_NoAnsi("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.handlers = [handler]
    root.setLevel(level)
    try:
        yield fh
    finally:
        root.handlers = saved_handlers
        root.setLevel(saved_level)
        handler.close()
        fh.close()


def copy_stripped(stream: IO[bytes], sink: IO[str]) -> None:
    """Copy a child process's output into ``sink`` line by line, without colour codes."""
    for raw in iter(stream.readline, b""):
        sink.write(strip_ansi(raw.decode("utf-8", errors="replace")))
    sink.flush()
