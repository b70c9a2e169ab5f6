"""A Docker secret, printed for Airflow's ``AIRFLOW__<SECTION>__<KEY>_CMD`` settings.

    python -I -S /opt/tonghop/deploy/secret.py /run/secrets/airflow_jwt_secret
    python -I -S /opt/tonghop/deploy/secret.py /run/secrets/airflow_db_password \\
        postgresql+psycopg2://airflow:{}@airflow-db:5432/airflow

Airflow runs the command (split like a shell would, but without a shell) whenever it reads the
setting, and takes its output as is: so this prints the file's content without its trailing
newline, and in a URL template puts it percent-encoded, so that a password may hold any
character. Standard library only (``-I -S``: fast, whatever the environment).
"""

import sys
from urllib.parse import quote


def render(path: str, template: str | None = None) -> str:
    with open(path, encoding="utf-8") as fh:
        value = fh.read().rstrip("\r\n")
    return value if template is None else template.replace("{}", quote(value, safe=""))


if __name__ == "__main__":
    if not 2 <= len(sys.argv) <= 3:
        sys.exit("usage: secret.py FILE [TEMPLATE_WITH_{}]")
    sys.stdout.write(render(*sys.argv[1:]))
