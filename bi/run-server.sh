#!/usr/bin/env bash
# Superset's web server, as docker-compose.yml's service `superset` runs it and
# tests/test_dashboard.py starts it: gunicorn with threaded workers over Superset's app, the
# configuration in SUPERSET_CONFIG_PATH (bi/superset_config.py). Run bi/setup_metadata.py first.
#   SUPERSET_LISTEN   address:port it listens on (default 0.0.0.0:8088; the stack publishes 8088 on
#                     127.0.0.1 of the host)
#   SUPERSET_WORKERS  processes (default 2: ~300 MB each, docs/benchmarks.md#the-dashboards-bi-tool)
#   SUPERSET_THREADS  threads per process (default 8: a dashboard asks for its charts at once)
# No control socket (gunicorn 27 makes one in $HOME/.gunicorn by default): nothing uses it, and
# two servers on one machine (a test beside a benchmark) would share its path.
set -euo pipefail
exec gunicorn \
  --bind "${SUPERSET_LISTEN:-0.0.0.0:8088}" \
  --workers "${SUPERSET_WORKERS:-2}" \
  --worker-class gthread \
  --threads "${SUPERSET_THREADS:-8}" \
  --timeout 120 \
  --limit-request-line 0 \
  --limit-request-field_size 0 \
  --no-control-socket \
  "superset.app:create_app()"
