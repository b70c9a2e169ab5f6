#!/usr/bin/env bash
# One whole reporting cycle on a demo province: installs what is missing, starts the local
# PostgreSQL and Sheets emulator, and runs the Airflow DAG (`tonghop demo`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
exec .venv/bin/tonghop demo "$@"
