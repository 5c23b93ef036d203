# syntax=docker/dockerfile:1
# tonghop Airflow image: the official Airflow image + the project's exact pins + the etl package.
# Built by `docker compose build` (docker-compose.yml, x-airflow-common.build). The base tag must
# match apache-airflow==X in requirements.lock (tests/test_compose.py checks it).
FROM apache/airflow:3.3.2-python3.11

# The project lives in /opt/tonghop; TONGHOP_HOME (/opt/tonghop/var) is created here so that a fresh
# named volume mounted over it starts owned by airflow:0 (Docker copies the image's directory).
USER root
RUN mkdir -p /opt/tonghop/docker \
             /opt/tonghop/var/landing /opt/tonghop/var/archive /opt/tonghop/var/quarantine \
             /opt/tonghop/var/reports /opt/tonghop/var/outbox \
 && chown -R airflow:0 /opt/tonghop \
 && chmod -R g+rwX /opt/tonghop
USER airflow

# Dependencies first, in their own layer: rebuilt only when the lock changes. The lock pins
# apache-airflow==3.3.2, the same as the base image, so pip keeps Airflow and brings every other
# package to the versions the test suite ran against (pip, as the airflow user, per the image docs).
COPY --chown=airflow:0 requirements.lock /opt/tonghop/requirements.lock
RUN pip install --no-cache-dir -r /opt/tonghop/requirements.lock

# The base image preinstalls ~30 providers (amazon, google, fab, ...). Those not in the lock were
# built against other pins (fab 3.10.2 needs python-dateutil<3, the lock has 4.0.0) and would log
# import errors at every start; remove them so the installed providers are exactly the locked ones.
RUN sed -n 's/^\(apache-airflow-providers-[a-z0-9-]*\)==.*/\1/p' /opt/tonghop/requirements.lock \
        | sort -u > /tmp/providers-locked \
 && pip freeze | sed -n 's/^\(apache[-_]airflow[-_]providers[-_][A-Za-z0-9_-]*\)==.*/\1/p' \
        | tr 'A-Z_' 'a-z-' | sort -u > /tmp/providers-installed \
 && comm -23 /tmp/providers-installed /tmp/providers-locked | xargs -r pip uninstall -y \
 && rm /tmp/providers-locked /tmp/providers-installed

# The project itself. Editable (-e) on purpose: etl/config.py finds config/, sql/ and expectations/
# relative to the package (PROJECT_ROOT), so the package must stay in /opt/tonghop, not site-packages.
# README.m[d]: copied when present (pyproject.toml does not need it to build).
COPY --chown=airflow:0 pyproject.toml README.m[d] /opt/tonghop/
COPY --chown=airflow:0 etl/ /opt/tonghop/etl/
COPY --chown=airflow:0 config/ /opt/tonghop/config/
COPY --chown=airflow:0 sql/ /opt/tonghop/sql/
COPY --chown=airflow:0 expectations/ /opt/tonghop/expectations/
COPY --chown=airflow:0 docker/airflow-init.sh /opt/tonghop/docker/airflow-init.sh
RUN pip install --no-cache-dir --no-deps -e /opt/tonghop \
 && python -c "import etl.config, airflow.providers.celery, airflow.providers.postgres, airflow.providers.smtp"

# Province configuration: baked in, and overridden by the read-only ./config mount in compose.
ENV TONGHOP_CONFIG_DIR=/opt/tonghop/config \
    TONGHOP_HOME=/opt/tonghop/var
WORKDIR /opt/tonghop
