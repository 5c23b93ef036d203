#!/usr/bin/env bash
# airflow-init (docker-compose.yml): one-shot preparation before the Airflow services start.
# Runs as root (user "0:0") because fresh named volumes may belong to root; everything it creates is
# handed to AIRFLOW_UID:0. Fails loudly: the other services wait for it to complete successfully.
set -euo pipefail

: "${AIRFLOW_UID:=50000}"
: "${AIRFLOW_HOME:=/opt/airflow}"
# The image's entrypoint (waits for the database, sets up the environment). Overridable for tests.
: "${AIRFLOW_ENTRYPOINT:=/entrypoint}"
: "${TONGHOP_HOME:=/opt/tonghop/var}"
: "${_AIRFLOW_WWW_USER_USERNAME:=admin}"
: "${_AIRFLOW_WWW_USER_PASSWORD:?_AIRFLOW_WWW_USER_PASSWORD is not set (.env)}"
: "${AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE:?not set (docker-compose.yml)}"

if [[ "${AIRFLOW_UID}" == "0" ]]; then
    echo "WARNING: AIRFLOW_UID=0: the Airflow services would run as root. Set AIRFLOW_UID in .env." >&2
fi

echo "== Volumes"
# Top-level directories only, not -R: the archive grows for years and a recursive chown on every
# start would get slow. Files already inside stay writable through group 0 (the image's umask 0002).
auth_dir="$(dirname "${AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE}")"
dirs=("${AIRFLOW_HOME}/logs" "${auth_dir}" "${TONGHOP_HOME}")
for sub in landing archive quarantine reports outbox; do
    dirs+=("${TONGHOP_HOME}/${sub}")
done
mkdir -p "${dirs[@]}"
chown "${AIRFLOW_UID}:0" "${dirs[@]}"
chmod 2775 "${dirs[@]}"
chmod 2770 "${auth_dir}"
ls -ld "${dirs[@]}"

echo "== Metadata database"
# The image's entrypoint waits for the database (airflow db check) and then runs the command.
# Not via _AIRFLOW_DB_MIGRATE: the entrypoint runs that as `airflow db migrate || true`, which would
# hide a failed migration and let the other services start against a half-migrated schema.
"${AIRFLOW_ENTRYPOINT}" airflow version
"${AIRFLOW_ENTRYPOINT}" airflow db migrate

echo "== UI user '${_AIRFLOW_WWW_USER_USERNAME}'"
# SimpleAuthManager reads passwords from this JSON file ({"user": "password"}). Rewritten on every
# run so .env stays the single source: change the password there and `docker compose up -d`.
# Other users listed in AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS keep their entries (the api-server
# generates and logs a password for any user missing from the file).
python - <<'PY'
import json
import os

path = os.environ["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"]
try:
    with open(path, encoding="utf-8") as f:
        passwords = json.loads(f.read().strip() or "{}")
except FileNotFoundError:
    passwords = {}
passwords[os.environ["_AIRFLOW_WWW_USER_USERNAME"]] = os.environ["_AIRFLOW_WWW_USER_PASSWORD"]
tmp = path + ".tmp"
with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o660), "w", encoding="utf-8") as f:
    json.dump(passwords, f)
    f.write("\n")
os.replace(tmp, path)
PY
chown "${AIRFLOW_UID}:0" "${AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE}"
chmod 0660 "${AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE}"

echo "== Done"
