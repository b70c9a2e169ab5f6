"""Superset's configuration (SUPERSET_CONFIG_PATH): the one file docker-compose.yml's services
and tests/test_dashboard.py start Superset with.

Every setting comes from the environment variables below, the same names in both; secrets are
files in SECRETS_DIR (in the stack, Docker secrets mounted at /run/secrets), never values:

- SECRETS_DIR                  folder of the secret files (default /run/secrets):
                               ``superset_secret_key`` (signs sessions, encrypts the warehouse
                               password Superset keeps) and ``superset_db_password``
- SUPERSET_DB_HOST, SUPERSET_DB_PORT, SUPERSET_DB_NAME, SUPERSET_DB_USER
                               Superset's own metadata database (PostgreSQL): users, charts,
                               dashboards; never the warehouse
- SUPERSET_WEBSERVER_TIMEOUT   seconds a chart's query may take (default 60)

What Sở staff read is Vietnamese: the dashboard's titles, labels and filter (bi/dashboards/),
numbers written the Vietnamese way (1.234,5) and dates as 20/06/2026. Superset 6.1 ships no
Vietnamese translation of its own menus (no ``vi`` in superset/translations), so those stay in
English and no language switcher is offered.

Nothing is loaded from outside the server: the content security policy allows this origin only
(no map tiles, no web fonts, no documentation widgets), Mapbox has no key. Superset's front end
has a usage pixel built in (Scarf, on every page, with no setting to turn it off): the policy
makes the browser refuse it (tests/test_dashboard.py checks that nothing else is asked for).
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import quote

SECRETS_DIR = Path(os.environ.get("SECRETS_DIR", "/run/secrets"))


def _secret(name: str) -> str:
    return (SECRETS_DIR / name).read_text(encoding="utf-8").strip()


SECRET_KEY = _secret("superset_secret_key")

SQLALCHEMY_DATABASE_URI = "postgresql+psycopg2://{user}:{password}@{host}:{port}/{name}".format(
    user=quote(os.environ.get("SUPERSET_DB_USER", "superset"), safe=""),
    password=quote(_secret("superset_db_password"), safe=""),
    host=os.environ.get("SUPERSET_DB_HOST", "superset-db"),
    port=int(os.environ.get("SUPERSET_DB_PORT", "5432")),
    name=os.environ.get("SUPERSET_DB_NAME", "superset"),
)

APP_NAME = "Tổng hợp báo cáo văn hóa"

# Superset has no Vietnamese catalogue: English menus, no switcher (see above)
BABEL_DEFAULT_LOCALE = "en"
LANGUAGES: dict = {}

# numbers and dates as Vietnamese write them: 1.234,5 and 20/06/2026
D3_FORMAT = {"decimal": ",", "thousands": ".", "grouping": [3], "currency": ["", " ₫"]}
D3_TIME_FORMAT = {
    "dateTime": "%H:%M:%S %d/%m/%Y",
    "date": "%d/%m/%Y",
    "time": "%H:%M:%S",
    "periods": ["SA", "CH"],
    "days": ["Chủ nhật", "Thứ hai", "Thứ ba", "Thứ tư", "Thứ năm", "Thứ sáu", "Thứ bảy"],
    "shortDays": ["CN", "T2", "T3", "T4", "T5", "T6", "T7"],
    "months": [f"Tháng {m}" for m in range(1, 13)],
    "shortMonths": [f"Th{m}" for m in range(1, 13)],
}

# the marts are rebuilt every morning: no query cache, so a chart never shows yesterday's figures
DATA_CACHE_CONFIG = {"CACHE_TYPE": "NullCache"}
SUPERSET_WEBSERVER_TIMEOUT = int(os.environ.get("SUPERSET_WEBSERVER_TIMEOUT", "60"))

FEATURE_FLAGS = {
    # the period filter is a native filter of the dashboard (bi/dashboards/dashboards/)
    "DASHBOARD_NATIVE_FILTERS": True,
    # no Jinja in datasets: their SQL is plain, read-only SQL on the marts
    "ENABLE_TEMPLATE_PROCESSING": False,
    # staff read; alerts, reports by e-mail and file uploads are not offered
    "ALERT_REPORTS": False,
}
# no map service (file uploads are off on the warehouse connection: bi/dashboards/databases/)
MAPBOX_API_KEY = ""

# this origin only: Superset's default policy also allows Mapbox, OpenStreetMap tiles, Scarf's
# usage pixel, Google and Adobe web fonts and a documentation host
TALISMAN_ENABLED = True
TALISMAN_CONFIG = {
    "content_security_policy": {
        "base-uri": ["'self'"],
        "default-src": ["'self'"],
        "img-src": ["'self'", "blob:", "data:"],
        "worker-src": ["'self'", "blob:"],
        "connect-src": ["'self'"],
        "object-src": "'none'",
        "style-src": ["'self'", "'unsafe-inline'"],
        "font-src": ["'self'", "data:"],
        "script-src": ["'self'", "'strict-dynamic'"],
    },
    "content_security_policy_nonce_in": ["script-src"],
    "force_https": False,
    "session_cookie_secure": False,
}
THEME_FONT_URL_ALLOWED_DOMAINS: list = []
