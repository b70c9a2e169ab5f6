"""The console of `tonghop demo` and `tonghop run`: stage lines from progress events, the
progress bar (terminals only), events passed between processes through a file, and the log file
without colour codes. The whole demo's console is checked in test_reporting_cycle.py."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys

import pytest

from tonghop import progress
from tooling import console


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def events(*items):
    t = 1000.0
    for kind, stage, extra in items:
        t += extra.pop("after", 0)
        yield {"event": kind, "stage": stage, "at": t, **extra}


def test_a_finished_stage_is_one_line_with_its_number_counts_and_time():
    out = io.StringIO()
    lines = console.StageLines(out)
    for event in events(
        ("started", "validate", {}),
        ("finished", "validate", {"summary": "71 báo cáo, 70 lỗi, 146 cảnh báo", "after": 12.4}),
    ):
        lines(event)
    assert out.getvalue() == "2/5 Kiểm tra: 71 báo cáo, 70 lỗi, 146 cảnh báo (12 s)\n"


def test_a_failed_stage_says_so_and_a_stage_reported_twice_prints_once():
    out = io.StringIO()
    lines = console.StageLines(out)
    for event in events(
        ("started", "build", {}),
        ("failed", "build", {"message": "DbtFailed: dbt build failed", "after": 75}),
        ("finished", "build", {"summary": "x"}),
    ):
        lines(event)
    assert (
        out.getvalue() == "3/5 Dựng kho dữ liệu (dbt): LỖI — DbtFailed: dbt build failed "
        "(1 phút 15 s)\n"
    )


def test_the_bar_is_drawn_on_a_terminal_for_a_long_stage_and_cleared_by_its_line():
    term = Terminal()
    lines = console.StageLines(term)
    for event in events(
        ("started", "pull", {"total": 40}),
        ("advanced", "pull", {"done": 10, "after": 0.5}),  # too early: no bar
        ("advanced", "pull", {"done": 10, "after": 3}),
        ("finished", "pull", {"summary": "40 bảng tính đã đọc", "after": 2}),
    ):
        lines(event)
    text = term.getvalue()
    assert text.count("\r1/5 Đọc bảng tính [") == 1
    assert "20/40" in text and "[############............]" in text
    assert text.endswith("\r\x1b[K1/5 Đọc bảng tính: 40 bảng tính đã đọc (6 s)\n")


def test_no_bar_and_no_escape_codes_when_the_output_is_not_a_terminal():
    out = io.StringIO()
    lines = console.StageLines(out)
    for event in events(
        ("started", "pull", {"total": 40}),
        ("advanced", "pull", {"done": 40, "after": 30}),
        ("finished", "pull", {"summary": "40 bảng tính đã đọc"}),
    ):
        lines(event)
    assert out.getvalue() == "1/5 Đọc bảng tính: 40 bảng tính đã đọc (30 s)\n"


def test_shards_add_their_totals_and_a_rerun_starts_the_clock_again():
    term = Terminal()
    lines = console.StageLines(term)
    for event in events(
        ("started", "pull", {}),
        ("started", "pull", {"total": 200}),
        ("started", "pull", {"total": 100}),
        ("advanced", "pull", {"done": 150, "after": 5}),
        ("finished", "pull", {"summary": "a", "after": 1}),
        ("started", "pull", {"after": 100}),
        ("finished", "pull", {"summary": "b", "after": 3}),
    ):
        lines(event)
    assert "150/300" in term.getvalue()
    assert lines.lines == ["1/5 Đọc bảng tính: a (6 s)", "1/5 Đọc bảng tính: b (3 s)"]


def test_events_of_another_process_reach_the_console_through_the_file(tmp_path, monkeypatch):
    path = tmp_path / "events.jsonl"
    out = io.StringIO()
    lines = console.StageLines(out)
    script = (
        "from tonghop import progress\n"
        "progress.started('feedback', total=3)\n"
        "for _ in range(3): progress.advanced('feedback')\n"
        "progress.finished('feedback', '3 trang “Kết quả kiểm tra” đã ghi', tabs=3)\n"
    )
    with console.FollowFile(path, lines, interval=0.05):
        subprocess.run(
            [sys.executable, "-c", script],
            check=True,
            env={"PATH": "/usr/bin:/bin", progress.PROGRESS_FILE_ENV: str(path)},
        )
    assert len(lines.lines) == 1, lines.lines
    assert lines.lines[0].startswith("4/5 Phản hồi đơn vị: 3 trang “Kết quả kiểm tra” đã ghi (")
    sent = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]
    assert sum(e.get("done", 0) for e in sent if e["event"] == "advanced") == 3
    assert sent[-1]["counts"] == {"tabs": 3}


def test_a_half_written_line_waits_for_its_end(tmp_path):
    path = tmp_path / "events.jsonl"
    seen = []
    follower = console.FollowFile(path, seen.append)
    path.write_text('{"event": "started", "stage": "pull"}\n{"event": "fin', encoding="utf-8")
    follower._read()
    assert seen == [{"event": "started", "stage": "pull"}]
    with path.open("a", encoding="utf-8") as fh:
        fh.write('ished", "stage": "pull", "summary": "x"}\n')
    follower._read()
    assert [e["event"] for e in seen] == ["started", "finished"]


def test_without_a_listener_progress_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.delenv(progress.PROGRESS_FILE_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    progress.started("pull", 3)
    progress.advanced("pull")
    progress.finished("pull", "x")
    assert list(tmp_path.iterdir()) == []


def test_advances_are_throttled_but_none_is_lost(monkeypatch):
    monkeypatch.delenv(progress.PROGRESS_FILE_ENV, raising=False)
    got = []
    stop = progress.listen(got.append)
    try:
        for _ in range(1000):
            progress.advanced("validate")
        progress.finished("validate", "done")
    finally:
        stop()
    advanced = [e for e in got if e["event"] == "advanced"]
    assert len(advanced) < 10
    assert sum(e["done"] for e in advanced) == 1000


def test_a_stage_that_raises_reports_its_error_and_raises_it():
    got = []
    stop = progress.listen(got.append)
    try:
        with pytest.raises(RuntimeError):
            with progress.stage("publish"):
                raise RuntimeError("LibreOffice did not answer\nsecond line")
    finally:
        stop()
    assert got[-1] == {
        "event": "failed",
        "stage": "publish",
        "at": got[-1]["at"],
        "message": "RuntimeError: LibreOffice did not answer",
    }


def test_the_log_file_has_no_colour_codes(tmp_path):
    path = tmp_path / "run.log"
    with console.log_to_file(path) as fh:
        logging.getLogger("dbt").info("\x1b[32mOK\x1b[0m created sql view model staging.x")
        fh.write("child output\n")
        console.copy_stripped(io.BytesIO(b"\x1b[1mbold\x1b[0m line\n"), fh)
    text = path.read_text(encoding="utf-8")
    assert "OK created sql view model staging.x" in text
    assert "bold line" in text and "child output" in text
    assert "\x1b" not in text


@pytest.mark.parametrize(
    "seconds, shown", [(0.4, "0 s"), (12.4, "12 s"), (59.6, "1 phút 00 s"), (125, "2 phút 05 s")]
)
def test_elapsed_time_as_the_console_shows_it(seconds, shown):
    assert console.seconds_vi(seconds) == shown


def test_the_words_of_each_stage():
    assert (
        progress.words("pull", {"fetched": 71, "new_versions": 70, "failed": 1})
        == "71 bảng tính đã đọc, 70 phiên bản mới, 1 không đọc được"
    )
    assert (
        progress.words("build", {"counts": {"success": 60, "pass": 480, "warn": 2}})
        == "542 bước, 0 lỗi, 2 kiểm thử cảnh báo"
    )
    assert (
        progress.words("publish", {"pdf_path": None, "spreadsheet_id": "x"})
        == "bảng tổng hợp (.xlsx), dự thảo báo cáo (.docx; chưa có .pdf), trang tính Tổng hợp"
    )
