"""Every `tonghop` command answers bad input with a message, not a traceback.

Through the real entry point (``tooling.cli.main`` in this process, and ``.venv/bin/tonghop``
in a subprocess where what reaches the console matters): unreadable, encrypted, truncated,
non-workbook, missing, oversized and zip-bomb files for `check`; unknown and out-of-programme
unit and period codes for every command (with the nearest codes suggested); the environment not
ready (exit 3, with the command that fixes it); any other failure (exit 4, one line and the log
with the traceback). Every message is Vietnamese, in NFC, and no "Traceback" reaches the console
unless -v is given.
"""

from __future__ import annotations

import argparse
import os
import socket
import struct
import subprocess
import sys
import time
import unicodedata
import zipfile
from pathlib import Path

import pytest

from sheets import xlsx_guard
from tooling import cli
from tooling.cli import main

UNIT, PERIOD = "CB-XA-001", "CB-2026-6T"
#: a warehouse database of this module's own: a `run` here must find no registered sheet
DATABASE = "tonghop_cli_errors"


def tonghop(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("tonghop")
    return subprocess.run(
        [str(exe), *args], capture_output=True, text=True, env={**os.environ, **(env or {})}
    )


def run_main(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def assert_message(code: int, out: str, err: str, expected_code: int, *words: str) -> None:
    text = out + err
    assert code == expected_code, text
    assert "Traceback" not in text, text
    assert err.startswith("Lỗi: "), err
    assert unicodedata.is_normalized("NFC", err), err
    for word in words:
        assert word in err, (word, err)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ------------------------------------------------------------------ help
def _parsers(parser: argparse.ArgumentParser):
    yield parser.prog, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for _name, subparser in action.choices.items():
                yield from _parsers(subparser)


def test_every_option_of_every_command_has_help():
    parser = cli.build_parser()
    seen = []
    for prog, p in _parsers(parser):
        assert p.description, prog
        for action in p._actions:
            assert action.help and action.help != argparse.SUPPRESS, (prog, action.dest)
            seen.append((prog, action.dest))
            if isinstance(action, argparse._SubParsersAction):
                for choice in action._choices_actions:  # the line of each command
                    assert choice.help, (prog, choice.dest)
    assert ("tonghop check", "file") in seen and ("tonghop run", "unit") in seen
    assert len({prog for prog, _ in seen}) == 9  # tonghop and its 8 commands


def test_help_lists_the_exit_codes():
    result = tonghop("--help")
    assert result.returncode == 0
    for line in (
        "0  valid / done",
        "1  check: the report would not count as it is",
        "2  bad usage or unreadable input",
        "3  the environment is not ready",
        "4  a stage failed otherwise",
    ):
        assert line in result.stdout
    check_help = tonghop("check", "--help").stdout
    assert "tệp báo cáo đã điền" in check_help and "3  the environment is not ready" in check_help


# ------------------------------------------------------------------ check: files it cannot read
@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("template") / "mau.xlsx"
    assert main(["template", "--unit", UNIT, "--period", PERIOD, "-o", str(path)]) == 0
    return path


def parts_of(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def rezip(dest: Path, parts: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            zf.writestr(name, data)
    return dest


def sheet_xml(rows: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f"<sheetData>{rows}</sheetData></worksheet>"
    ).encode()


def cfb(stream_names: list[str]) -> bytes:
    """A compound file (OLE/CFB) with a directory naming these streams, no content."""
    header = bytearray(512)
    header[0:8] = xlsx_guard.OLE_MAGIC
    header[0x18:0x1C] = struct.pack("<HH", 0x3E, 3)
    header[0x1C:0x20] = struct.pack("<HH", 0xFFFE, 9)  # byte order, 512-byte sectors
    header[0x30:0x34] = struct.pack("<I", 0)  # the directory: sector 0
    directory = bytearray()
    for name in ["Root Entry", *stream_names]:
        encoded = (name + "\0").encode("utf-16-le")
        entry = bytearray(128)
        entry[0 : len(encoded)] = encoded
        entry[64:66] = struct.pack("<H", len(encoded))
        directory += entry
    return bytes(header) + bytes(directory).ljust(4096, b"\0")


def bad_file(kind: str, folder: Path, template: Path) -> Path:
    path = folder / "bao_cao.xlsx"
    if kind == "text":
        path = folder / "bao_cao.txt"
        path.write_text("Mã đơn vị;Tên\nCB-XA-001;Xã Quảng Lâm\n", encoding="utf-8")
    elif kind == "random_bytes":
        path.write_bytes(bytes(range(256)) * 40)
    elif kind == "empty":
        path.write_bytes(b"")
    elif kind == "truncated":
        data = template.read_bytes()
        path.write_bytes(data[: len(data) * 2 // 3])
    elif kind == "encrypted":
        path.write_bytes(cfb(["\x06DataSpaces", "EncryptionInfo", "EncryptedPackage"]))
    elif kind == "ole_header_only":
        path.write_bytes(xlsx_guard.OLE_MAGIC + b"\0" * 8192)
    elif kind == "html_as_xls":
        path.write_bytes(b"<html><body><table><tr><td>1</td></tr></table></body></html>")
    elif kind == "folder":
        path = folder / "thu_muc"
        path.mkdir()
        (path / "a.xlsx").write_bytes(template.read_bytes())
    elif kind == "missing":
        path = folder / "khong_co.xlsx"
    elif kind == "missing_folder":
        path = folder / "khong_co" / "bao_cao.xlsx"
    elif kind == "oversized":
        with path.open("wb") as fh:  # sparse: no disk, no time
            fh.write(b"PK\x03\x04")
            fh.truncate(xlsx_guard.MAX_FILE_BYTES + 1)
    elif kind == "malformed_xml":
        parts = parts_of(template)
        parts["xl/worksheets/sheet3.xml"] = parts["xl/worksheets/sheet3.xml"][:-200]
        rezip(path, parts)
    elif kind == "doctype_entities":
        parts = parts_of(template)
        parts["xl/sharedStrings.xml"] = (
            b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
            b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;">]><sst><si><t>&lol2;</t></si></sst>'
        )
        rezip(path, parts)
    elif kind == "too_many_members":
        parts = parts_of(template)
        parts.update({f"xl/media/x{i}.bin": b"" for i in range(xlsx_guard.MAX_ZIP_MEMBERS)})
        with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
            for name, data in parts.items():
                zf.writestr(name, data)
    elif kind == "word_document":
        rezip(path, {"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<document/>"})
    elif kind == "zip_not_a_workbook":
        rezip(path, {"readme.txt": b"hello"})
    elif kind == "xlsx_named_txt":
        path = folder / "bao_cao.txt"
        path.write_bytes(template.read_bytes())
    elif kind == "too_many_cells":
        # under the byte limit (a few MB), over the cell limit
        parts = parts_of(template)
        row = "".join(f'<c r="{col}1"/>' for col in "ABCDEFGHIJ")
        rows = "".join(
            f"<row r='{r}'>{row.replace('1', str(r))}</row>"
            for r in range(1, xlsx_guard.MAX_CELLS // 10 + 10)
        )
        parts["xl/worksheets/sheet3.xml"] = sheet_xml(rows)
        rezip(path, parts)
    elif kind == "one_cell_far_away":
        parts = parts_of(template)
        parts["xl/worksheets/sheet3.xml"] = sheet_xml(
            '<row r="1"><c r="A1" t="inlineStr"><is><t>x</t></is></c></row>'
            '<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>'
        )
        rezip(path, parts)
    else:
        raise AssertionError(kind)
    return path


BAD_FILES = {
    "text": ("văn bản", "không phải bảng tính Excel"),
    "random_bytes": ("không phải bảng tính Excel",),
    "empty": ("trống (0 byte)",),
    "truncated": ("bị hỏng hoặc chưa được tải về",),
    "encrypted": ("đặt mật khẩu (mã hóa)", "gỡ mật khẩu"),
    "ole_header_only": ("Excel 97-2003 (.xls)", "mật khẩu"),
    "html_as_xls": ("trang web (HTML)",),
    "folder": ("là một thư mục", "a.xlsx"),
    "missing": ("Không tìm thấy tệp",),
    "missing_folder": ("Không tìm thấy tệp", "không tồn tại"),
    "oversized": ("quá lớn", "giới hạn 20 MB"),
    "malformed_xml": ("bị hỏng", "trang “Nhiệm vụ”", "XML lỗi"),
    "doctype_entities": ("DOCTYPE",),
    "too_many_members": ("10.013 thành phần nén", "giới hạn 10.000"),
    "word_document": ("văn bản Word",),
    "zip_not_a_workbook": ("không phải bảng tính Excel",),
    "xlsx_named_txt": ("có đuôi “.txt”", "đổi tên thành “bao_cao.xlsx”"),
    "too_many_cells": ("quá nhiều ô", "200.000"),
    "one_cell_far_away": ("trải quá rộng", "trang “Nhiệm vụ”", "hàng 1.048.576"),
}


@pytest.mark.parametrize("kind", list(BAD_FILES))
def test_check_refuses_a_file_it_cannot_read_with_the_reason(kind, template, tmp_path, capsys):
    path = bad_file(kind, tmp_path, template)
    started = time.monotonic()
    assert_message(*run_main(capsys, "check", str(path)), 2, *BAD_FILES[kind])
    assert time.monotonic() - started < 5


def test_check_refuses_a_file_it_may_not_read(template, tmp_path, capsys, monkeypatch):
    # the tests run as root, for whom chmod 000 changes nothing: the refusal is simulated
    path = tmp_path / "bao_cao.xlsx"
    path.write_bytes(template.read_bytes())
    real_open = Path.open

    def denied(self, *args, **kwargs):
        if self == path:
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", denied)
    assert_message(*run_main(capsys, "check", str(path)), 2, "không có quyền đọc")


def zip_bomb(template: Path, dest: Path, expanded: int) -> Path:
    """The template whose "Nhiệm vụ" sheet is ``expanded`` bytes of cells once inflated,
    streamed into the zip (the test holds 1 MB at a time)."""
    parts = parts_of(template)
    row = b'<row><c t="n"><v>1</v></c>' + b'<c t="n"><v>1</v></c>' * 49 + b"</row>"
    chunk = row * (1024 * 1024 // len(row))
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in parts.items():
            if name != "xl/worksheets/sheet3.xml":
                zf.writestr(name, data)
        with zf.open("xl/worksheets/sheet3.xml", "w") as member:
            member.write(sheet_xml("").split(b"</sheetData>")[0])
            for _ in range(expanded // len(chunk)):
                member.write(chunk)
            member.write(b"</sheetData></worksheet>")
    return dest


#: starts its command from a fresh, small interpreter and writes the command's peak RSS (KB):
#: a child's ru_maxrss starts from its parent's RSS at the fork (Linux keeps the larger of the
#: memory before and after exec), and the test process grows with every module before this one
_PEAK_OF = """
import os, sys
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as fh:
    fh.write(str(usage.ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(status))
"""


def _check_in_subprocess(path: Path) -> tuple[subprocess.CompletedProcess, float, int]:
    """`tonghop check` in a child process: the result, seconds and the child's peak RSS (KB)."""
    exe = Path(sys.executable).with_name("tonghop")
    peak = path.with_name("peak_kb")
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-c", _PEAK_OF, str(peak), str(exe), "check", str(path)],
        capture_output=True,
        text=True,
    )
    seconds = time.monotonic() - started
    result.args = result.args[4:]
    return result, seconds, int(peak.read_text())


def test_a_zip_bomb_is_refused_from_the_zip_directory_quickly_and_in_little_memory(
    template, tmp_path
):
    path = zip_bomb(template, tmp_path / "bao_cao.xlsx", expanded=200 * 1024 * 1024)
    assert path.stat().st_size < 1024 * 1024
    result, seconds, peak_kb = _check_in_subprocess(path)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert "khi giải nén lên tới 200" in result.stderr and "zip bomb" in result.stderr
    assert seconds < 10 and peak_kb < 200 * 1024, (seconds, peak_kb)


def test_a_zip_whose_directory_understates_a_member_is_refused_as_damaged(template, tmp_path):
    """The sizes of the central directory bound what is inflated: a member declaring 1 KB but
    holding 5 MB of cells is read up to 1 KB, then fails its CRC."""
    path = zip_bomb(template, tmp_path / "bao_cao.xlsx", expanded=5 * 1024 * 1024)
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo("xl/worksheets/sheet3.xml")
    name = info.filename.encode()
    at = data.index(b"PK\x01\x02")
    while data[at + 46 : at + 46 + len(name)] != name:  # this member's directory entry
        at = data.index(b"PK\x01\x02", at + 4)
    data[at + 24 : at + 28] = struct.pack("<I", 1024)
    path.write_bytes(bytes(data))
    result, seconds, peak_kb = _check_in_subprocess(path)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert "bị hỏng" in result.stderr and "CRC" in result.stderr
    assert seconds < 10 and peak_kb < 200 * 1024, (seconds, peak_kb)


def test_the_guard_lets_a_real_report_through(template):
    stats = xlsx_guard.guard_xlsx(template)
    assert 0 < stats.cells < 1000 and stats.uncompressed < 100_000


def test_no_traceback_reaches_the_console_for_bad_files(template, tmp_path):
    for kind in ("truncated", "encrypted", "random_bytes", "malformed_xml", "missing"):
        (tmp_path / kind).mkdir()
        path = bad_file(kind, tmp_path / kind, template)
        result = tonghop("check", str(path))
        assert result.returncode == 2, (kind, result.stderr)
        assert result.stderr.startswith("Lỗi: ") and "Traceback" not in result.stderr, kind
        assert result.stderr.count("\n") == 1, (kind, result.stderr)  # one line


# ------------------------------------------------------------------ codes
@pytest.mark.parametrize(
    "args, words",
    [
        (
            ["template", "--unit", "CB-XA-01", "--period", PERIOD, "-o", "{tmp}/a.xlsx"],
            ("Không có đơn vị mã “CB-XA-01”", "Có phải ý bạn là: CB-XA-001 (UBND xã"),
        ),
        (
            ["template", "--unit", UNIT, "--period", "CB-2026-6X", "-o", "{tmp}/a.xlsx"],
            (
                "Không có kỳ báo cáo “CB-2026-6X”",
                "Có phải ý bạn là: CB-2026-6T",
                "Các kỳ hiện có: CB-2026-6T, CB-2026-DX01",
            ),
        ),
        (
            ["template", "--unit", "cb-xa-1", "--period", "cb-2026-6t", "-o", "{tmp}/a.xlsx"],
            ("Có phải ý bạn là: CB-2026-6T",),
        ),
        (
            ["template", "--unit", "Sở Nội vụ", "--period", PERIOD, "-o", "{tmp}/a.xlsx"],
            ("Có phải ý bạn là: CB-SO-NV (Sở Nội vụ)",),
        ),
        (["check", "{tmp}/a.xlsx", "--unit", "CB-XA-1"], ("Có phải ý bạn là: CB-XA-001",)),
        (["check", "{tmp}/a.xlsx", "--period", "CB-2026-NAMM"], ("Có phải ý bạn là: CB-2026-NAM",)),
        (
            ["generate", "--period", "CB-2026-6X", "--no-register", "--root", "{tmp}/emu"],
            ("Không có kỳ báo cáo “CB-2026-6X”", "Có phải ý bạn là: CB-2026-6T"),
        ),
        (["demo", "--period", "CB-2026-6X"], ("Có phải ý bạn là: CB-2026-6T",)),
        (["run", "--period", PERIOD, "--unit", "CB-XA-01"], ("Có phải ý bạn là: CB-XA-001",)),
        (["run", "--period", PERIOD, "--unit", "TD-UBND"], ("không phải báo cáo kỳ CB-2026-6T",)),
    ],
)
def test_an_unknown_code_is_answered_with_the_nearest_ones(args, words, tmp_path, capsys):
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    assert_message(*run_main(capsys, *args), 2, *words)
    assert not (tmp_path / "emu").exists()  # nothing was done


def test_a_unit_outside_the_periods_programme_gets_no_template(tmp_path, capsys):
    out = tmp_path / "a.xlsx"
    assert_message(
        *run_main(capsys, "template", "--unit", "TD-UBND", "--period", PERIOD, "-o", str(out)),
        2,
        "TD-UBND (Ủy ban nhân dân huyện Tam Đường) không được giao nhiệm vụ nào",
        "chương trình CB-KH84",
        "Các kỳ đơn vị này phải báo cáo: TD-2024-NAM, TD-2025-6T",
    )
    assert not out.exists()


@pytest.mark.parametrize(
    "output, words",
    [
        ("{tmp}", "là một thư mục"),
        ("{tmp}/a.txt", "phải có đuôi .xlsx"),
        ("{tmp}/tep/a.xlsx", "Không ghi được tệp"),
    ],
)
def test_template_says_where_it_cannot_write(output, words, tmp_path, capsys):
    (tmp_path / "tep").write_text("a file where a folder should be")
    assert_message(
        *run_main(
            capsys,
            "template",
            "--unit",
            UNIT,
            "--period",
            PERIOD,
            "-o",
            output.replace("{tmp}", str(tmp_path)),
        ),
        2,
        words,
    )


def test_codes_are_checked_before_the_database_is_needed(tmp_path):
    """No cluster here (a closed port): a wrong unit of a seeded period is still a usage error,
    said at once."""
    env = {"TONGHOP_PG_PORT": str(free_port())}
    started = time.monotonic()
    result = tonghop("run", "--period", PERIOD, "--unit", "CB-XA-01", env=env)
    assert result.returncode == 2, result.stderr
    assert "Có phải ý bạn là: CB-XA-001" in result.stderr and "Traceback" not in result.stderr
    result = tonghop(
        "template",
        "--unit",
        "KHONG-CO",
        "--period",
        PERIOD,
        "-o",
        str(tmp_path / "a.xlsx"),
        env=env,
    )
    assert result.returncode == 2 and "Không có đơn vị mã “KHONG-CO”" in result.stderr
    assert time.monotonic() - started < 20


# ------------------------------------------------------------------ the environment (exit 3)
@pytest.mark.parametrize(
    "args",
    [
        ["run", "--period", PERIOD],
        ["provision", "--period", PERIOD],
        ["generate", "--period", PERIOD],
    ],
)
def test_no_database_is_exit_3_with_what_to_run(args, monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("TONGHOP_PG_PORT", str(free_port()))
    assert_message(
        *run_main(capsys, *args, *(["--root", str(tmp_path)] if args[0] == "generate" else [])),
        3,
        "PostgreSQL",
        "`tonghop db start`",
    )


def test_an_unknown_period_without_a_database_names_both_problems(monkeypatch, capsys):
    """A code not in the seeds may be an ad hoc period, kept in the warehouse: with no
    database it cannot be told, and the message says so along with the nearest seeded code."""
    monkeypatch.setenv("TONGHOP_PG_PORT", str(free_port()))
    assert_message(
        *run_main(capsys, "run", "--period", "CB-2026-6X"),
        3,
        "Có phải ý bạn là: CB-2026-6T",
        "kỳ đột xuất",
        "`tonghop db start`",
    )


@pytest.fixture()
def warehouse(settings, monkeypatch):
    """The test cluster, with a warehouse database of this module's own (empty registry)."""
    from tooling import localdb

    localdb.ensure_warehouse(DATABASE)
    monkeypatch.setenv("TONGHOP_PG_DB", DATABASE)
    return settings


@pytest.mark.parametrize(
    "args", [["run", "--period", "CB-2026-6X"], ["provision", "--period", "CB-2026-6X"]]
)
def test_with_the_database_an_unknown_period_is_a_usage_error(args, warehouse, capsys):
    assert_message(
        *run_main(capsys, *args),
        2,
        "Không có kỳ báo cáo “CB-2026-6X”",
        "Có phải ý bạn là: CB-2026-6T",
    )


def test_no_emulator_is_exit_3_with_what_to_run(warehouse, monkeypatch, capsys):
    monkeypatch.setenv("TONGHOP_EMULATOR_URL", f"http://127.0.0.1:{free_port()}")
    assert_message(
        *run_main(capsys, "run", "--period", PERIOD),
        3,
        "Trình giả lập Google Sheets không trả lời",
        "`tonghop emulator`",
    )


def test_a_unit_without_a_provisioned_sheet_is_exit_3_with_what_to_run(
    warehouse, emulator, monkeypatch, capsys
):
    monkeypatch.setenv("TONGHOP_EMULATOR_URL", emulator.url)
    assert_message(
        *run_main(capsys, "run", "--period", PERIOD, "--unit", UNIT),
        3,
        f"Chưa có bảng tính nào được đăng ký cho kỳ {PERIOD} của đơn vị {UNIT}",
        f"`tonghop provision --period {PERIOD}`",
    )


# ------------------------------------------------------------------ any other failure (exit 4)
def _boom(*_args, **_kwargs):
    raise RuntimeError("the disk said no\nsecond line of the cause")


def test_an_unexpected_failure_is_one_line_and_a_log_with_the_traceback(
    monkeypatch, capsys, tmp_path
):
    monkeypatch.setattr("sheets.template.write_template", _boom)
    code, out, err = run_main(
        capsys, "template", "--unit", UNIT, "--period", PERIOD, "-o", str(tmp_path / "a.xlsx")
    )
    assert code == 4 and "Traceback" not in out + err
    assert err.count("\n") == 1
    assert err.startswith(
        "Lỗi: `tonghop template` thất bại: RuntimeError: the disk said no second line of the cause."
    )
    log = Path(err.split("Chi tiết (traceback): ")[1].split()[0])
    assert log.is_file() and log.parent == cli._log_dir()
    text = log.read_text(encoding="utf-8")
    assert "Traceback (most recent call last)" in text and "_boom" in text
    assert f"tonghop template --unit {UNIT}" in text
    # -v: the traceback on the console too
    code, out, err = run_main(
        capsys, "-v", "template", "--unit", UNIT, "--period", PERIOD, "-o", str(tmp_path / "a.xlsx")
    )
    assert code == 4 and "Traceback (most recent call last)" in err and "_boom" in err


def test_verbose_shows_the_cause_of_an_unreadable_workbook(template, tmp_path, capsys):
    path = bad_file("malformed_xml", tmp_path, template)
    code, _, err = run_main(capsys, "-v", "check", str(path))
    assert code == 2 and "Traceback" in err and err.rstrip().splitlines()[-1].startswith("Lỗi: ")
