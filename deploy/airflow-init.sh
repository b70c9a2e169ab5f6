#!/usr/bin/env bash
# The one-shot service `airflow-init`, run on every `docker compose up` before the other Airflow
# services start (through deploy/entrypoint.py, so the pipeline's connections are set):
#   1. Airflow's metadata database, created or upgraded;
#   2. the pool of the tasks that call the Google Sheets/Drive API (pipeline.cycle.SHEETS_POOL);
#   3. a check that the connections the DAGs read (pipeline.cycle.settings_from_airflow) reach the
#      warehouse as loader, transformer and bi_reader, and that the Google key is readable; it
#      prints the service account's e-mail, which the units' report sheets are shared with.
set -euo pipefail

airflow db migrate

# How many tasks call Google at once (TONGHOP_SHEETS_POOL_SLOTS, which the shards are sized
# for); Google's quota itself is held by the client's limiter, across every worker.
airflow pools set tonghop_sheets_api "${TONGHOP_SHEETS_POOL_SLOTS:-2}" \
  "Tasks calling the Google Sheets/Drive API (the quota is held by the client's limiter)"

python - <<'PY'
import json

import psycopg2

from pipeline.cycle import settings_from_airflow

settings = settings_from_airflow()
for role in ("loader", "transformer", "bi_reader"):
    psycopg2.connect(settings.dsn(role), connect_timeout=10).close()
    print(f"airflow-init: {role} reaches the warehouse")
if settings.sheets_backend == "google":
    from sheets.client import identities

    for identity in identities(settings):
        with open(identity.key_path, encoding="utf-8") as fh:
            email = json.load(fh)["client_email"]
        print(f"airflow-init: Google service account {email} (the pipeline reads and writes "
              f"the sheets shared with it as this account)")
else:
    print(f"airflow-init: Sheets backend {settings.sheets_backend} at {settings.emulator_url}")
PY
