#!/usr/bin/env bash
# The whole test suite: installs what is missing, then pytest. The tests start their own
# PostgreSQL cluster (.local/test, port 55433) and Sheets emulator; nothing is faked.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
exec .venv/bin/pytest "$@"
