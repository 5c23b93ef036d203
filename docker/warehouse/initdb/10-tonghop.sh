#!/usr/bin/env bash
# Warehouse set-up. The postgres image runs /docker-entrypoint-initdb.d/* once, when the
# warehouse-data volume is empty; by then it has already created POSTGRES_USER and POSTGRES_DB.
# This script makes that explicit and idempotent, so it can also be run by hand against an existing
# volume or after changing the names:
#     docker compose exec warehouse bash /docker-entrypoint-initdb.d/10-tonghop.sh
# Schemas, tables and the read-only `analyst` role belong to the pipeline's migrations (sql/), not here.
# Executable on purpose: the image *sources* non-executable scripts into its own shell, where `set -u`
# or an `exit` would leak. No `set -u` either way, for the same reason.
set -eo pipefail

db="${POSTGRES_DB:-tonghop}"
owner="${POSTGRES_USER:-tonghop}"

# Local socket, as the image's superuser (trusted inside the container). Variables are passed with
# -v and quoted by psql (:'x' literal, :"x" identifier), never spliced into SQL by the shell.
psql -v ON_ERROR_STOP=1 --no-psqlrc --username "${owner}" --dbname postgres \
     -v db="${db}" -v owner="${owner}" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN', :'owner')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'owner') \gexec
SELECT format('CREATE DATABASE %I OWNER %I ENCODING ''UTF8''', :'db', :'owner')
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'db') \gexec
ALTER DATABASE :"db" OWNER TO :"owner";
-- Timestamps (received_at, deadlines) are read in Vietnamese local time by analysts' clients.
ALTER DATABASE :"db" SET timezone TO 'Asia/Ho_Chi_Minh';
SQL

psql -v ON_ERROR_STOP=1 --no-psqlrc --username "${owner}" --dbname "${db}" <<'SQL'
-- Only the owner creates objects; other roles get exactly what the migrations grant.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
SQL

echo "warehouse: database '${db}' owned by '${owner}' is ready"
