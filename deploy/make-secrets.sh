#!/usr/bin/env bash
# Creates the stack's random secrets (passwords and keys), one file each, in ./secrets/ (or the
# folder given) - only those missing: running it again changes nothing, and a file you replaced
# yourself is kept. The Google service account's key is the one secret it cannot make: copy it to
# secrets/google_service_account.json.
#
# Modes: the folder is 0700 (private on the host); the files are 0444 because the containers read
# them as different users (Airflow as uid 50000, PostgreSQL, Redis, Superset), and a Docker
# secret without swarm is the host file itself, mounted read-only at /run/secrets/<name>.
# Passwords are 64 hex digits, so they are safe inside the URLs built from them.
set -euo pipefail
cd "$(dirname "$0")/.."
dir="${1:-secrets}"

random_hex() { head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
# Airflow's Fernet key: 32 random bytes, URL-safe base64
fernet_key() { head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '\n'; }

mkdir -p "$dir"
chmod 0700 "$dir"
made=()
for name in warehouse_admin_password loader_password transformer_password bi_reader_password \
            airflow_db_password airflow_admin_password airflow_jwt_secret airflow_api_secret_key \
            redis_password superset_db_password superset_admin_password superset_secret_key \
            airflow_fernet_key; do
  if [ ! -s "$dir/$name" ]; then
    if [ "$name" = airflow_fernet_key ]; then fernet_key; else random_hex; fi > "$dir/$name.tmp"
    mv "$dir/$name.tmp" "$dir/$name"
    made+=("$name")
  fi
done
chmod 0444 "$dir"/*
echo "make-secrets: ${#made[@]} new in $dir/ ${made[*]:-}"
if [ ! -s "$dir/google_service_account.json" ]; then
  echo "make-secrets: still missing: $dir/google_service_account.json (the service account's JSON" \
       "key, from Google Cloud console > IAM > Service accounts > Keys)" >&2
fi
