# The project's image: Airflow, dbt, Great Expectations and our code, from requirements.lock.
FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    AIRFLOW_HOME=/opt/airflow GX_ANALYTICS_ENABLED=false TONGHOP_STATE_DIR=/opt/airflow/state
RUN pip install --no-cache-dir uv && useradd --create-home --uid 50000 airflow
WORKDIR /opt/tonghop
COPY requirements.lock pyproject.toml README.md ./
RUN uv pip sync --system --require-hashes requirements.lock
COPY dags dags
COPY dbt_project dbt_project
COPY expectations expectations
COPY ingest ingest
COPY publish publish
COPY sheets_emulator sheets_emulator
COPY tonghop tonghop
RUN uv pip install --system --no-deps . \
 && mkdir -p /opt/airflow/state /opt/tonghop/output \
 && chown -R airflow /opt/airflow /opt/tonghop/output /opt/tonghop/expectations /opt/tonghop/dbt_project
USER airflow
