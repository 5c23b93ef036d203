#!/usr/bin/env bash
# Print a ready .env: .env.example with every empty secret filled with fresh random values.
#     docker/gen-env.sh > .env && chmod 600 .env
# Needs only bash and openssl. Hex values need no escaping inside URLs; the Fernet key is 32 random
# bytes in url-safe base64, which is what Fernet expects.
set -euo pipefail

example="$(dirname "$0")/../.env.example"

while IFS= read -r line || [[ -n "${line}" ]]; do
    case "${line}" in
        AIRFLOW_FERNET_KEY=)      echo "AIRFLOW_FERNET_KEY=$(openssl rand -base64 32 | tr '+/' '-_')" ;;
        AIRFLOW_JWT_SECRET=|AIRFLOW_API_SECRET_KEY=)
                                  echo "${line}$(openssl rand -hex 32)" ;;
        [A-Z_]*_PASSWORD=)        echo "${line}$(openssl rand -hex 24)" ;;
        *)                        echo "${line}" ;;
    esac
done < "${example}"
