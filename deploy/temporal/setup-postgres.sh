#!/bin/sh
# Creates (if missing) and migrates the two Temporal databases. Safe to run on every `docker compose up`:
# `create` fails harmlessly when the database exists, and setup-schema/update-schema only apply what is missing.
set -eu
: "${POSTGRES_SEEDS:?POSTGRES_SEEDS is required}"
: "${POSTGRES_USER:?POSTGRES_USER is required}"
: "${SQL_PASSWORD:?SQL_PASSWORD is required (from POSTGRES_PASSWORD)}"
PORT="${DB_PORT:-5432}"
SCHEMA_ROOT=/etc/temporal/schema/postgresql/v12

echo "Waiting for PostgreSQL at ${POSTGRES_SEEDS}:${PORT}..."
attempt=1
until nc -z -w 5 "$POSTGRES_SEEDS" "$PORT"; do
  [ "$attempt" -ge 30 ] && { echo "PostgreSQL did not open port ${PORT}"; exit 1; }
  attempt=$((attempt + 1)); sleep 2
done

sql() { temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -u "$POSTGRES_USER" -p "$PORT" "$@"; }

for pair in "temporal:temporal" "temporal_visibility:visibility"; do
  db="${pair%%:*}"; schema="${pair##*:}"
  echo "== database ${db}"
  sql --db "$db" create || echo "database ${db} already exists (ok)"
  sql --db "$db" setup-schema -v 0.0
  sql --db "$db" update-schema -d "${SCHEMA_ROOT}/${schema}/versioned"
done
echo "PostgreSQL schema setup complete"
