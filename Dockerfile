# The project's image, for every Airflow service of docker-compose.yml:
# Airflow with the CeleryExecutor, dbt, Great Expectations, LibreOffice for the report's PDF, and
# the pipeline's code. Python packages come only from requirements.lock plus
# deploy/requirements-celery.lock (the CeleryExecutor), every file's hash checked, no dependency
# resolved at build time. No secret enters the image: they are mounted at run time (/run/secrets).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 LANG=C.UTF-8 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 \
    PATH=/opt/venv/bin:$PATH \
    AIRFLOW_HOME=/opt/airflow GX_ANALYTICS_ENABLED=false TONGHOP_STATE_DIR=/opt/airflow/state

# LibreOffice Writer renders the draft report's PDF; Liberation fonts 2 are Times New Roman's metric
# twin with every Vietnamese letter (1.07, fonts-liberation, lacks Ơ, Ư, ạ…: publish/report/fonts.py);
# curl serves the health checks.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libreoffice-writer-nogui fonts-liberation2 curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --create-home --uid 50000 --gid 0 airflow \
 && python -m venv /opt/venv

WORKDIR /opt/tonghop
COPY requirements.lock ./
COPY deploy/requirements-celery.lock deploy/
RUN pip install --no-deps --require-hashes -r requirements.lock -r deploy/requirements-celery.lock \
 && pip check

COPY pyproject.toml README.md ./
COPY dags dags
COPY dbt_project dbt_project
COPY tonghop tonghop
COPY sheets sheets
COPY ingest ingest
COPY expectations expectations
COPY publish publish
COPY pipeline pipeline
COPY tooling tooling
COPY sheets_emulator sheets_emulator
COPY deploy deploy

# The code runs where it is, from /opt/tonghop (PYTHONPATH, without fetching a build backend);
# TONGHOP_HOME tells the settings where the resources are (dbt_project/, the catalogue seeds,
# expectations/gx/, dags/). Local build leftovers are dropped; Data Docs
# (expectations/gx/uncommitted), the output and the logs are volumes, owned by the airflow user
# so that the named volumes start with that owner.
ENV PYTHONPATH=/opt/tonghop \
    TONGHOP_HOME=/opt/tonghop
RUN printf '#!/opt/venv/bin/python\nimport sys\nfrom tooling.cli import main\nsys.exit(main())\n' \
      > /opt/venv/bin/tonghop \
 && chmod 0755 /opt/venv/bin/tonghop \
 && rm -rf dbt_project/target dbt_project/logs dbt_project/dbt_packages expectations/gx/uncommitted \
 && find . -name __pycache__ -prune -exec rm -rf {} + \
 && mkdir -p /opt/airflow/logs /opt/airflow/state /opt/tonghop/output \
      /opt/tonghop/expectations/gx/uncommitted \
 && chown -R airflow:0 /opt/airflow /opt/tonghop/output /opt/tonghop/expectations \
      /opt/tonghop/dbt_project \
 && python -c "import tonghop.settings as s; assert str(s.PROJECT_ROOT) == '/opt/tonghop', s.PROJECT_ROOT" \
 && AIRFLOW_HOME=/tmp/build-check python -c \
      "from airflow.providers.celery.executors.celery_executor import CeleryExecutor, app" \
 && rm -rf /tmp/build-check

USER airflow
# builds the pipeline's Airflow connections from the mounted secrets, then runs the command
ENTRYPOINT ["python", "/opt/tonghop/deploy/entrypoint.py"]
CMD ["airflow", "version"]
