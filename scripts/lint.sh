#!/usr/bin/env bash
# The linters, one section each, over the whole tree; exits non-zero when any of them finds a
# problem (each one still runs, so one run shows everything). The linters are pinned in
# requirements.lock (bash scripts/bootstrap.sh installs them); CI runs this script through
# tests/test_lint.py.
set -uo pipefail
cd "$(dirname "$0")/.."
status=0

# ------------------------------------------------------------------ Python: ruff
# Rules and format: [tool.ruff] in pyproject.toml. Fix: .venv/bin/ruff check --fix . &&
# .venv/bin/ruff format .
echo "lint: ruff check, ruff format --check"
.venv/bin/ruff check . || status=1
.venv/bin/ruff format --check . || status=1

# ------------------------------------------------------------------ imports: import-linter
# The packages are the stages in data-flow order; imports only point down (.importlinter,
# docs/architecture.md#layout).
echo "lint: lint-imports"
.venv/bin/lint-imports --config .importlinter || status=1

# ------------------------------------------------------------------ SQL: sqlfluff
# The dbt project's models, analyses and singular tests; rules, templater and what is left out:
# dbt_project/.sqlfluff and dbt_project/.sqlfluffignore. Fix: .venv/bin/sqlfluff fix dbt_project
echo "lint: sqlfluff dbt_project"
.venv/bin/sqlfluff lint dbt_project || status=1

exit "$status"
