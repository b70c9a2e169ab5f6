#!/usr/bin/env bash
# Runs once, when the warehouse volume is empty (postgres image: /docker-entrypoint-initdb.d).
# Creates the pipeline's roles with passwords read from Docker secrets, the database, and the
# structure of tonghop/sql/warehouse.sql.
set -euo pipefail
for role in loader transformer bi_reader; do
  password=$(cat "/run/secrets/${role}_password")
  psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
       -v role="$role" -v password="$password" <<'SQL'
select format('create role %I login password %L', :'role', :'password') \gexec
SQL
done
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres -c "create database tonghop"
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname tonghop -f /opt/tonghop/warehouse.sql
