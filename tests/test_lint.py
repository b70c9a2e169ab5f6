"""The tree is lint-clean: scripts/lint.sh (ruff, the import rule, sqlfluff on the dbt project)
finds nothing."""

from __future__ import annotations

import subprocess

from tests.conftest import ROOT


def test_scripts_lint_finds_nothing():
    run = subprocess.run(
        ["bash", "scripts/lint.sh"], cwd=ROOT, capture_output=True, text=True, timeout=900
    )
    assert run.returncode == 0, (
        f"scripts/lint.sh exited {run.returncode}:\n{run.stdout}\n{run.stderr}"
    )
