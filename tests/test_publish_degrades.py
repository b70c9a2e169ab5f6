"""Publication degrades, never fails, for one unit's content; a crash leaves no half run folder.

A few units of the demo province (CB-2026-6T) are landed through the real pipeline (emulator,
pull, validation, ``dbt build``) into a warehouse database of its own
(``tonghop_publish_degrades``); one of them typed 200 difficulties of 49,000 characters each in
"Khó khăn, kiến nghị" — within every limit, and enough to keep LibreOffice busy past any budget
when quoted whole. Then:

- the period publishes, the draft report quotes the text bounded and says how many more there
  are and where, the PDF renders (real LibreOffice) within its budget, and the full text is in
  the marts and the summary spreadsheet;
- with the PDF budget forced tiny, the real LibreOffice is stopped with its whole process group:
  the workbook, the .docx, the manifest (the PDF missing, and why) and the summary spreadsheet
  are published, and an alert reaches a webhook (a small HTTP server here);
- the server ends the publisher's session (``pg_terminate_backend``) while it waits for the
  marts' read locks, and while it waits for the summary spreadsheet's lock (its files all
  written): ``WarehouseConnectionLost`` says so, and there is no run folder, not a half one;
- the same for the feedback writer's session while it records what it wrote to the units.
"""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from tests.conftest import api_calls, query, run_until_its_session_ends

DATABASE = "tonghop_publish_degrades"
PERIOD = "CB-2026-6T"
SEED = 19
UNITS = 3
LONG_ROWS = 200
LONG_CHARS = 49_000
FILLER = (
    "Nhà văn hóa thôn xuống cấp, thiếu kinh phí tu sửa và mua sắm trang thiết bị; "
    "đội văn nghệ quần chúng hoạt động cầm chừng vì không có người hướng dẫn. "
)


def long_difficulty(n: int) -> str:
    head = f"Khó khăn thứ {n}: "
    return (head + FILLER * (LONG_CHARS // len(FILLER) + 1))[:LONG_CHARS]


# ------------------------------------------------------------------ unit tests (no database)
def test_quoted_text_is_bounded_at_a_word_with_an_ellipsis():
    from publish.report import QUOTE_MAX_CHARS, bounded

    short = "Thiếu kinh phí."
    assert bounded(short) == short
    text = long_difficulty(1)
    cut = bounded(text)
    assert len(cut) <= QUOTE_MAX_CHARS and cut.endswith("…")
    assert text.startswith(cut[:-1]) and text[len(cut) - 1] in " ,;."  # at a word's end
    assert bounded("x" * 1000, 10) == "x" * 9 + "…"  # no space to cut at


def test_quoted_feedback_keeps_the_first_items_and_counts_the_rest():
    from publish.report import quoted_feedback

    items = [{"content": long_difficulty(n), "units": ["Xã A"]} for n in range(5)]
    items[0]["units"] = ["Xã A", "Xã B", "Xã C", "Xã D", "Xã Đ"]
    lines, rest, cut = quoted_feedback(items, limit=3, chars=100)
    assert (len(lines), rest, cut) == (3, 2, 3)
    # the annex names every unit that wrote a text, numbered lines
    assert lines[0].startswith("1. Khó khăn thứ 0: ")
    assert lines[0].endswith("(Xã A, Xã B, Xã C, Xã D, Xã Đ).")
    assert all(len(line) < 100 + 60 for line in lines)
    assert quoted_feedback([{"content": "Ngắn.", "units": ["Xã A"]}]) == (["1. Ngắn (Xã A)."], 0, 0)


def test_a_run_folder_is_moved_into_place_whole_and_leftovers_go(tmp_path):
    from publish.bundle import _clear_leftovers, _move_into_place, partial_folder

    folder = tmp_path / "run-1"
    stale = tmp_path / "run-1.partial-999999"
    stale.mkdir()
    (stale / "bao_cao.docx").write_text("half")
    other = tmp_path / "run-10.partial-1"  # another run's: not ours to remove
    other.mkdir()
    _clear_leftovers(folder)
    assert not stale.exists() and other.exists()
    work = partial_folder(folder)
    work.mkdir()
    (work / "manifest.json").write_text("{}")
    _move_into_place(work, folder)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run-1", "run-10.partial-1"]
    (folder / "nhac_nho.txt").write_text("remind")  # the remind task, beside publish
    work.mkdir()  # the same run published again
    (work / "manifest.json").write_text('{"again": 1}')
    _move_into_place(work, folder)
    assert (folder / "manifest.json").read_text() == '{"again": 1}'
    assert (folder / "nhac_nho.txt").read_text() == "remind"  # carried over
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run-1", "run-10.partial-1"]


# ------------------------------------------------------------------ the pipeline
@pytest.fixture(scope="module")
def world(settings, catalogue, tmp_path_factory):
    """A few units landed, checked and built; one of them with 200 very long difficulties."""
    from pipeline.dbt import run_dbt
    from sheets import layout
    from sheets_emulator import emulator_client
    from testing.province import demo_province, land, own_warehouse, register_entries
    from tooling.demo_setup import demo_spreadsheet_id

    tmp = tmp_path_factory.mktemp("publish-degrades")
    with own_warehouse(settings, DATABASE, tmp, recreate=True) as (own, server):
        manifest, entries = demo_province(server, PERIOD, seed=SEED)
        units = manifest.units_with("on_time")[:UNITS]
        ids = {demo_spreadsheet_id(PERIOD, u) for u in units}
        register_entries(own, [e for e in entries if e.spreadsheet_id in ids])
        writer = units[0]
        kind = layout.column_letter(layout.column_index(layout.FEEDBACK_COLUMNS, "kind"))
        content = layout.column_letter(layout.column_index(layout.FEEDBACK_COLUMNS, "content"))
        rows = [["Khó khăn", long_difficulty(n)] for n in range(1, LONG_ROWS + 1)]
        emulator_client(server.url, user="vanhoa.xa@caobang.gov.vn").http_client.values_update(
            demo_spreadsheet_id(PERIOD, writer),
            f"'{layout.TAB_FEEDBACK}'!{kind}2:{content}{1 + LONG_ROWS}",
            params={"valueInputOption": "RAW"},
            body={"values": rows},
        )

        pulled, checked = land(own, catalogue, PERIOD)
        assert (pulled.new_versions, checked.reports) == (UNITS, UNITS)
        # the marts without dbt's data tests (tests/test_publish.py runs them on the same models)
        run_dbt(own, ["build", "--exclude-resource-type", "test"])

        class World:
            pass

        w = World()
        w.settings, w.server, w.client, w.writer = own, server, emulator_client(server.url), writer
        yield w


def paragraphs(docx_path) -> list[str]:
    from docx import Document

    return [p.text for p in Document(docx_path).paragraphs]


def test_a_report_with_200_long_difficulties_publishes_with_bounded_quotes(world):
    from publish.bundle import publish_period
    from publish.report import QUOTE_MAX_CHARS, QUOTED_ITEMS_MAX, pdf_budget, soffice_path

    w = world
    stored = query(
        w.settings.dsn("bi_reader"),
        """
        select count(*), min(length(content_text)) from marts.fct_feedback
        where period_code = %s and unit_code = %s and feedback_kind = 'kho_khan'""",
        (PERIOD, w.writer),
    )
    assert stored == [(LONG_ROWS, LONG_CHARS)]  # the marts keep every character

    started = time.monotonic()
    published = publish_period(w.settings, PERIOD, "long-text", client=w.client)
    took = time.monotonic() - started
    assert took < pdf_budget() + 60, took

    texts = paragraphs(published.docx_path)
    # quoted in the annex, numbered: "1. ", the text bounded, " (unit name)."
    annex = texts[texts.index("Phụ lục") :]
    quoted = [t for t in annex if re.match(r"\d+\. Khó khăn thứ ", t)]
    assert len(quoted) == QUOTED_ITEMS_MAX
    # one unit's difficulties are its own: the Sở's section II points to the annex
    longest = max(len(t) for t in texts if "Khó khăn thứ " in t)
    assert longest <= QUOTE_MAX_CHARS + 100, longest
    assert all("…" in t for t in quoted)
    assert len("".join(texts)) < 50_000  # 9.8 million characters were typed
    ((difficulties,),) = query(
        w.settings.dsn("bi_reader"),
        """
        select count(distinct content_text) from marts.fct_feedback
        where period_code = %s and feedback_kind = 'kho_khan'""",
        (PERIOD,),
    )
    assert difficulties >= LONG_ROWS
    assert (
        f"Và {difficulties - QUOTED_ITEMS_MAX} ý kiến khác (xem bảng tổng hợp, trang "
        "\u201cKhó khăn, kiến nghị\u201d)." in annex
    )
    body = texts[: texts.index("Phụ lục")]
    assert not [t for t in body if "Khó khăn thứ " in t]
    assert (
        f"- Khó khăn, vướng mắc cụ thể của từng đơn vị ({difficulties} ý kiến): Phụ lục, mục I."
        in body
    )
    assert (
        f"(Ý kiến dài được trích tối đa {QUOTE_MAX_CHARS} ký tự; toàn văn: xem bảng tổng "
        "hợp, trang \u201cKhó khăn, kiến nghị\u201d.)" in texts
    )

    manifest = json.loads(Path(published.manifest_path).read_text(encoding="utf-8"))
    assert Path(published.xlsx_path).exists() and Path(published.docx_path).exists()
    if soffice_path():
        assert manifest["pdf"] == {"status": "rendered", "file": f"bao_cao_{PERIOD}.pdf"}
        assert published.pdf_path and Path(published.pdf_path).exists()
    else:
        assert manifest["pdf"]["status"] == "missing"
    # the full text is in the summary spreadsheet (Google keeps 50,000 characters a cell)
    grid = (
        w.client.open_by_key(published.spreadsheet_id)
        .worksheet("Khó khăn, kiến nghị")
        .get(value_render_option="UNFORMATTED_VALUE")
    )
    full = [
        row[4] for row in grid[3:] if row[1] == w.writer and str(row[4]).startswith("Khó khăn thứ ")
    ]
    assert len(full) == LONG_ROWS and {len(t) for t in full} == {LONG_CHARS}
    assert not [p for p in Path(published.folder).parent.iterdir() if ".partial-" in p.name]


def test_a_pdf_over_its_budget_is_stopped_and_the_rest_is_published(
    world, monkeypatch, tmp_path, alert_webhook
):
    from publish.bundle import publish_period
    from publish.report import soffice_path

    if not soffice_path():
        pytest.skip("LibreOffice not installed")
    w = world
    # LibreOffice's profile folder under a folder of this test: its processes are findable
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(profiles))
    # far below what LibreOffice needs for any report with a fresh profile (the demo's draft:
    # 1.25 s on an idle machine here): the render is always stopped, whatever the load
    monkeypatch.setenv("TONGHOP_PDF_BUDGET_SECONDS", "0.2")
    w.server.reset_stats()
    published = publish_period(w.settings, PERIOD, "pdf-over-budget", client=w.client)

    folder = Path(published.folder)
    assert published.pdf_path is None and not list(folder.glob("*.pdf"))
    manifest = json.loads(Path(published.manifest_path).read_text(encoding="utf-8"))
    assert manifest["pdf"]["status"] == "missing"
    assert manifest["pdf"]["reason_code"] == "over_budget"
    assert manifest["pdf"]["reason_vi"].startswith("Tạo bản PDF quá thời gian cho phép")
    assert "budget of 0.2 s" in manifest["pdf"]["detail"]
    assert {f"tong_hop_{PERIOD}.xlsx", f"bao_cao_{PERIOD}.docx"} <= set(manifest["files"])
    assert {p.name for p in folder.iterdir()} == {*manifest["files"], "manifest.json"}
    assert api_calls(w.server).get("sheets.spreadsheets.batchUpdate") == 1  # the summary
    assert published.spreadsheet_id
    # the alert
    assert len(alert_webhook) == 1, alert_webhook
    alert = alert_webhook[0]
    assert (
        alert["text"] == f"[tonghop] Thiếu bản PDF / PDF not rendered: {PERIOD} (pdf-over-budget)"
    )
    assert alert["reason_code"] == "over_budget" and alert["period_code"] == PERIOD
    # nothing of LibreOffice left running
    left = subprocess.run(["pgrep", "-af", str(profiles)], capture_output=True, text=True)
    assert left.stdout == "", left.stdout


@pytest.mark.parametrize(
    "where, hold, lock, doing",
    [
        (
            "marts",
            "lock table marts.fct_feedback in access exclusive mode",
            "relation",
            "taking the marts' read locks",
        ),
        (
            "summary",
            "select pg_advisory_lock(hashtext('tonghop.publish'), hashtext('CB-2026-6T'))",
            "advisory",
            "waiting for the summary spreadsheet's lock",
        ),
    ],
)
def test_a_crash_during_publication_leaves_no_run_folder_and_names_itself(
    world, where, hold, lock, doing
):
    from publish.bundle import publish_period
    from tonghop.errors import WarehouseConnectionLost, one_line

    w = world
    run_id = f"crash-{where}"
    outcome = run_until_its_session_ends(
        w.settings,
        hold,
        lambda: publish_period(w.settings, PERIOD, run_id, client=w.client, pdf=False),
        "bi_reader",
        lock,
        autocommit=where == "summary",
    )
    error = outcome.get("error")
    assert isinstance(error, WarehouseConnectionLost), repr(error)
    message = str(error)
    assert message.startswith(
        f"publication of {PERIOD} (run {run_id}): the connection to the "
        f"warehouse database was lost while {doing}: "
    ), message
    assert one_line(error.__cause__) in message
    assert f"there is no folder {run_id} under" in message
    output = Path(w.settings.output_dir) / PERIOD
    assert not [p.name for p in output.iterdir() if p.name.startswith(run_id)]

    if where == "summary":  # the task's retry publishes the whole folder
        retried = publish_period(w.settings, PERIOD, run_id, client=w.client, pdf=False)
        manifest = json.loads(Path(retried.manifest_path).read_text(encoding="utf-8"))
        assert manifest["pdf"]["reason_code"] == "not_requested"
        assert {p.name for p in Path(retried.folder).iterdir()} == {
            *manifest["files"],
            "manifest.json",
        }


def test_a_crash_while_telling_units_names_itself_and_the_retry_finishes(world, catalogue):
    from publish.unit_feedback import write_feedback
    from tonghop.errors import WarehouseConnectionLost, one_line

    w = world
    outcome = run_until_its_session_ends(  # what write_feedback records after each one
        w.settings,
        "lock table ops.feedback_writes in exclusive mode",
        lambda: write_feedback(w.settings, catalogue, PERIOD),
        "loader",
        "relation",
    )
    error = outcome.get("error")
    assert isinstance(error, WarehouseConnectionLost), repr(error)
    message = str(error)
    assert message.startswith(
        f"feedback to the units of {PERIOD}: the connection to the "
        "warehouse database was lost while recording what was written "
        "to spreadsheet "
    ), message
    assert one_line(error.__cause__) in message
    assert "The answers of 0 spreadsheet(s) (0 tab(s)) were written and recorded" in message

    told = write_feedback(w.settings, catalogue, PERIOD)  # the task's retry
    assert (told.tabs_written, told.failed) == (UNITS, 0)
