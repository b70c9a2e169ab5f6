#!/usr/bin/env bash
# The warehouse's roles and structure, run by the one-shot service `warehouse-init` (postgres
# image, so psql) on every `docker compose up`, once the warehouse server is healthy:
#   - the roles loader, transformer and bi_reader (tonghop.settings.ROLES), created if missing,
#     each given the password in /run/secrets/<role>_password - so changing a secret file and
#     running `docker compose up -d` again rotates the password;
#   - the warehouse database (TONGHOP_PG_DB, default tonghop), created if missing;
#   - tonghop/sql/warehouse.sql, the schemas raw/parsed/quality/ops and the grants, applied as
#     the admin (it is idempotent; `tonghop db start` applies the same file to the local cluster).
# The admin role is the server's superuser (POSTGRES_USER of the warehouse service); its password
# is /run/secrets/warehouse_admin_password. No password is passed on a command line: psql reads
# each one from its file.
set -euo pipefail

export PGHOST="${PGHOST:-warehouse}" PGPORT="${PGPORT:-5432}" PGUSER="${PGUSER:-tonghop_admin}"
secrets="${SECRETS_DIR:-/run/secrets}"
PGPASSWORD="$(cat "${secrets}/warehouse_admin_password")"
export PGPASSWORD
database="${TONGHOP_PG_DB:-tonghop}"
warehouse_sql="${WAREHOUSE_SQL:-/opt/tonghop/warehouse.sql}"
export PGOPTIONS="-c client_min_messages=warning"
psql=(psql -X -q -v ON_ERROR_STOP=1)

for attempt in $(seq 30); do
  pg_isready -q && break
  echo "warehouse-init: waiting for ${PGHOST}:${PGPORT} (${attempt})" >&2
  sleep 2
done

for role in loader transformer bi_reader; do
  "${psql[@]}" -d postgres -v role="$role" -v pwfile="${secrets}/${role}_password" <<'SQL'
\set password `cat :'pwfile'`
select format('create role %I', :'role')
 where not exists (select from pg_roles where rolname = :'role') \gexec
select format('alter role %I with login nosuperuser nocreatedb nocreaterole password %L',
              :'role', :'password') \gexec
SQL
  echo "warehouse-init: role ${role} ready"
done

"${psql[@]}" -d postgres -v db="$database" -v owner="$PGUSER" <<'SQL'
select format('create database %I owner %I', :'db', :'owner')
 where not exists (select from pg_database where datname = :'db') \gexec
SQL

"${psql[@]}" -d "$database" <<SQL
select pg_advisory_lock(hashtext('tonghop.apply_structure')) \\g /dev/null
\\i ${warehouse_sql}
select pg_advisory_unlock(hashtext('tonghop.apply_structure')) \\g /dev/null
SQL
echo "warehouse-init: ${warehouse_sql} applied to database ${database}"
