"""Where the fault suite's report goes (``tests/faults_support.write_report``): an ordinary test
run writes it to the test state folder and changes no tracked file; only with
``TONGHOP_UPDATE_DOCS=1`` does it rewrite the tracked copies (``tests/results/faults.{md,json}``
and the table of ``docs/reliability.md``). Runs in a second: a fake outcome list, no cluster."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess

import pytest

from tests import faults_support as fs

TRACKED = (fs.RESULTS / "faults.md", fs.RESULTS / "faults.json", fs.DOCS_PAGE)


def outcomes() -> list[fs.Outcome]:
    return [
        fs.Outcome(
            "API storm",
            "429 ×3 | 503 ×1",
            "3 retries",
            "the client's retries",
            "all landed",
            "raw and landed rows",
            [],
            1.5,
        ),
        fs.Outcome(
            "pull killed",
            "kill -9\nwhile landing",
            "1 kill",
            "the task's retry",
            "11 + 12 versions",
            "raw, landed rows and marts",
            ["raw: 1 version lost"],
            2.0,
        ),
    ]


def digests() -> dict[str, str]:
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in TRACKED}


def git_status() -> str | None:
    git = shutil.which("git")
    if git is None:
        return None
    result = subprocess.run(
        [git, "-C", str(fs.ROOT), "status", "--porcelain"], capture_output=True, text=True
    )
    return result.stdout if result.returncode == 0 else None


def test_the_docs_page_has_the_markers():
    text = fs.DOCS_PAGE.read_text(encoding="utf-8")
    assert text.count(fs.BEGIN) == 1 and text.count(fs.END) == 1
    assert text.index(fs.BEGIN) < text.index(fs.END)


def test_render_keeps_one_row_per_scenario():
    table = fs.render(outcomes(), "a reference", 3.0)
    rows = [line for line in table.splitlines() if line.startswith("| ")]
    assert len(rows) == 2 + 2  # header, rule, two scenarios
    assert "429 ×3 / 503 ×1" in table  # a | in a cell does not split it
    assert "kill -9 while landing" in table
    assert "**nothing** (raw and landed rows equal)" in table
    assert "**raw: 1 version lost**" in table


def test_an_ordinary_run_writes_only_to_the_state_folder(tmp_path, monkeypatch):
    monkeypatch.delenv(fs.UPDATE_DOCS, raising=False)
    monkeypatch.setenv("TONGHOP_STATE_DIR", str(tmp_path / "state"))
    before, status = digests(), git_status()
    path = fs.write_report(outcomes(), "a reference", reference_seconds=3.0)
    assert path == tmp_path / "state" / "results" / "faults.md"
    assert "| API storm |" in path.read_text(encoding="utf-8")
    data = json.loads((path.parent / "faults.json").read_text(encoding="utf-8"))
    assert [o["scenario"] for o in data["outcomes"]] == ["API storm", "pull killed"]
    assert digests() == before
    if status is not None:
        assert git_status() == status


@pytest.mark.parametrize("value", ["0", "", "yes"])
def test_only_1_asks_for_the_docs(value, tmp_path, monkeypatch):
    monkeypatch.setenv(fs.UPDATE_DOCS, value)
    monkeypatch.setenv("TONGHOP_STATE_DIR", str(tmp_path / "state"))
    before = digests()
    fs.write_report(outcomes(), "a reference")
    assert digests() == before


def test_update_docs_rewrites_the_tracked_copies(tmp_path, monkeypatch):
    """With TONGHOP_UPDATE_DOCS=1 (here on copies of the tracked files): the docs block is
    replaced, the text around it kept, and tests/results rewritten."""
    page = tmp_path / "reliability.md"
    shutil.copy(fs.DOCS_PAGE, page)
    monkeypatch.setattr(fs, "DOCS_PAGE", page)
    monkeypatch.setattr(fs, "RESULTS", tmp_path / "results")
    monkeypatch.setenv(fs.UPDATE_DOCS, "1")
    monkeypatch.setenv("TONGHOP_STATE_DIR", str(tmp_path / "state"))
    original = page.read_text(encoding="utf-8")
    fs.write_report(outcomes(), "a new reference", reference_seconds=3.0)

    text = page.read_text(encoding="utf-8")
    head, rest = text.split(fs.BEGIN)
    block, tail = rest.split(fs.END)
    assert head == original.split(fs.BEGIN)[0]
    assert tail == original.split(fs.END)[1]
    table = fs.render(outcomes(), "a new reference", 3.0)
    assert block == "\n" + table + "\n"
    assert (tmp_path / "results" / "faults.md").read_text(encoding="utf-8") == table + "\n"
    assert (
        json.loads((tmp_path / "results" / "faults.json").read_text(encoding="utf-8"))["reference"]
        == "a new reference"
    )
    assert (tmp_path / "state" / "results" / "faults.md").exists()
