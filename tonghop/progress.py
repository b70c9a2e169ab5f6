"""Progress of a reporting cycle's stages, for the person watching the console.

A stage says three things: it started (and, when it knows, how many items it will handle), it
handled some items, it finished (with its key counts). Who listens:

- in the same process (``tonghop run``), a callback installed with :func:`listen`;
- across processes (``tonghop demo`` runs the stages inside ``airflow dags test``), the JSON
  lines file named by ``TONGHOP_PROGRESS_FILE``, which the console reads while the DAGs run.

With neither, reporting costs a dictionary look-up. Events are small dicts:
``{"event": "started"|"advanced"|"finished", "stage": ..., "at": epoch seconds, ...}``.
Stage names are the keys of :data:`STAGES`.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable

#: the stages of a cycle, in order, as the console names them
STAGES = {
    "pull": "Đọc bảng tính",
    "validate": "Kiểm tra",
    "build": "Dựng kho dữ liệu (dbt)",
    "feedback": "Phản hồi đơn vị",
    "publish": "Công bố",
}
PROGRESS_FILE_ENV = "TONGHOP_PROGRESS_FILE"
#: "advanced" events are written at most this often per stage (a pull of 3,400 spreadsheets
#: would otherwise write 3,400 lines for a bar redrawn a few times a second)
ADVANCE_EVERY_SECONDS = 0.5

_listeners: list[Callable[[dict], None]] = []
_lock = threading.Lock()
_pending: dict[str, int] = {}
_last_flush: dict[str, float] = {}


def listen(callback: Callable[[dict], None]) -> Callable[[], None]:
    """Send every event of this process to ``callback``; returns the function that stops it."""
    _listeners.append(callback)
    return lambda: _listeners.remove(callback)


def _emit(event: dict) -> None:
    event.setdefault("at", time.time())
    for callback in list(_listeners):
        callback(event)
    path = os.environ.get(PROGRESS_FILE_ENV)
    if path:
        line = json.dumps(event, ensure_ascii=False, default=str) + "\n"
        with _lock, open(path, "a", encoding="utf-8") as fh:  # one short append per line
            fh.write(line)


def _active() -> bool:
    return bool(_listeners) or bool(os.environ.get(PROGRESS_FILE_ENV))


def started(stage: str, total: int | None = None) -> None:
    """``stage`` began; ``total`` items to handle when known (adds up over several calls, as
    each pull shard adds its own)."""
    if _active():
        _emit({"event": "started", "stage": stage, "total": total})


def advanced(stage: str, done: int = 1) -> None:
    """``done`` more items of ``stage`` handled (throttled to :data:`ADVANCE_EVERY_SECONDS`;
    :func:`finished` flushes what is left)."""
    if not _active():
        return
    with _lock:
        _pending[stage] = _pending.get(stage, 0) + done
        now = time.monotonic()
        if now - _last_flush.get(stage, 0.0) < ADVANCE_EVERY_SECONDS:
            return
        _last_flush[stage] = now
        count = _pending.pop(stage)
    _emit({"event": "advanced", "stage": stage, "done": count})


def flush(stage: str) -> None:
    """Send the items of ``stage`` counted but not sent yet (the end of a shard)."""
    if not _active():
        return
    with _lock:
        count = _pending.pop(stage, 0)
    if count:
        _emit({"event": "advanced", "stage": stage, "done": count})


def finished(stage: str, summary: str, **counts) -> None:
    """``stage`` ended; ``summary`` is the console's words for its counts (Vietnamese), and
    ``counts`` the figures themselves (kept in the event for tests and logs)."""
    if _active():
        flush(stage)
        _emit({"event": "finished", "stage": stage, "summary": summary, "counts": counts})


def done(stage: str, result: dict) -> dict:
    """:func:`finished` with the console's :func:`words` for what ``stage`` returned (its
    ``as_dict``); returns ``result``, so that a stage function can end with it."""
    finished(stage, words(stage, result))
    return result


def failed(stage: str, message: str) -> None:
    """``stage`` ended with an error (``message``: one line)."""
    if _active():
        flush(stage)
        _emit({"event": "failed", "stage": stage, "message": message})


class stage:
    """``with progress.stage("validate"):`` — :func:`started` on entry, :func:`failed` (with
    the error's first line) if the block raises. :func:`finished` is the block's own call,
    since only it knows the counts."""

    def __init__(self, name: str, total: int | None = None):
        self.name, self.total = name, total

    def __enter__(self) -> stage:
        started(self.name, self.total)
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc is not None:
            first = (str(exc).strip().splitlines() or [exc_type.__name__])[0]
            failed(self.name, f"{exc_type.__name__}: {first}"[:300])


def words(stage_name: str, result: dict) -> str:
    """The console's words (Vietnamese) for what a stage returned (its ``as_dict``)."""
    if stage_name == "pull":
        text = (
            f"{result.get('fetched', 0)} bảng tính đã đọc, "
            f"{result.get('new_versions', 0)} phiên bản mới"
        )
        if result.get("failed"):
            text += f", {result['failed']} không đọc được"
        return text
    if stage_name == "validate":
        return (
            f"{result.get('reports', 0)} báo cáo, {result.get('errors', 0)} lỗi, "
            f"{result.get('warnings', 0)} cảnh báo"
        )
    if stage_name == "feedback":
        text = f"{result.get('tabs_written', 0)} trang “Kết quả kiểm tra” đã ghi"
        if result.get("failed"):
            text += f", {result['failed']} chưa ghi được"
        return text
    if stage_name == "build":
        counts = result.get("counts") or {}
        nodes = sum(counts.values())
        bad = sum(counts.get(k, 0) for k in ("error", "fail", "runtime error"))
        text = f"{nodes} bước, {bad} lỗi"
        if counts.get("warn"):
            text += f", {counts['warn']} kiểm thử cảnh báo"
        return text
    if stage_name == "publish":
        made = [
            "bảng tổng hợp (.xlsx)",
            "dự thảo báo cáo (.docx" + (", .pdf)" if result.get("pdf_path") else "; chưa có .pdf)"),
        ]
        if result.get("spreadsheet_id"):
            made.append("trang tính Tổng hợp")
        return ", ".join(made)
    return ""
