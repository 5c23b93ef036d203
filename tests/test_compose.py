"""The production stack (docker-compose.yml, Dockerfile, .env.example, docker/) checked without Docker.

No Docker engine runs here, so the compose file is parsed with PyYAML (safe_load resolves the `<<:`
merge keys) and its `${VAR...}` references are resolved by a small interpolator that follows the
compose rules (`${V}`, `${V:-default}`, `${V-default}`, `${V:?message}`, `${V?message}`, `$$`,
nested defaults), against the values of .env.example, much like `docker compose config` would.
The helper scripts run for real where that needs no Docker (bash -n, the init scripts with a stub).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tomllib
from fnmatch import fnmatch
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
ENV_EXAMPLE = ROOT / ".env.example"
INIT_SCRIPT = ROOT / "docker" / "airflow-init.sh"
WAREHOUSE_INITDB = ROOT / "docker" / "warehouse" / "initdb"
GEN_ENV = ROOT / "docker" / "gen-env.sh"

AIRFLOW_COMMANDS = {
    "airflow-apiserver": "api-server",
    "airflow-scheduler": "scheduler",
    "airflow-dag-processor": "dag-processor",
    "airflow-triggerer": "triggerer",
    "airflow-worker": "celery worker",
    "flower": "celery flower",
}
AIRFLOW_SERVICES = set(AIRFLOW_COMMANDS) | {"airflow-init"}
SERVICES = AIRFLOW_SERVICES | {"postgres", "redis", "warehouse", "mailpit"}
# Variables whose values are secrets: they must be required (`:?`) and never have a default.
SECRET_NAME = re.compile(r"PASSWORD|SECRET|FERNET|_KEY$|^AIRFLOW_CONN_")
TONGHOP_HOME = "/opt/tonghop/var"
# The only acceptable value for a secret in the compose file: a required reference.
REQUIRED_REF = re.compile(r"\$\{[A-Za-z_][A-Za-z0-9_]*:\?[^}]*\}")


# ---------------------------------------------------------------- compose-style interpolation


class MissingVariable(Exception):
    """A `${VAR:?message}` whose variable is unset or empty: compose refuses to start."""


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_OPS = (":-", ":?", ":+", "-", "?", "+")


def _braced_end(s: str, start: int) -> int:
    """Index of the `}` closing a `${` whose body starts at `start` (nested `${...}` allowed)."""
    depth, k = 0, start
    while k < len(s):
        if s.startswith("$$", k):
            k += 2
        elif s.startswith("${", k):
            depth, k = depth + 1, k + 2
        elif s[k] == "}":
            if depth == 0:
                return k
            depth, k = depth - 1, k + 1
        else:
            k += 1
    raise ValueError(f"unterminated ${{ in {s!r}")


def interpolate(s: str, env: dict[str, str]) -> str:
    out, i = [], 0
    while i < len(s):
        if s[i] != "$":
            out.append(s[i])
            i += 1
            continue
        if s.startswith("$$", i):
            out.append("$")
            i += 2
            continue
        if s.startswith("${", i):
            m = _NAME.match(s, i + 2)
            if not m:
                raise ValueError(f"bad interpolation in {s!r}")
            name, k = m.group(), m.end()
            end = _braced_end(s, k)
            op = next((o for o in _OPS if s.startswith(o, k)), "")
            if not op and k != end:
                raise ValueError(f"bad interpolation in {s!r}")
            arg = s[k + len(op) : end]
            is_set = name in env if op in ("-", "?", "+") else bool(env.get(name))
            if op in (":-", "-"):
                value = env[name] if is_set else interpolate(arg, env)
            elif op in (":?", "?"):
                if not is_set:
                    raise MissingVariable(f"{name}: {arg}")
                value = env[name]
            elif op in (":+", "+"):
                value = interpolate(arg, env) if is_set else ""
            else:
                value = env.get(name, "")
            out.append(value)
            i = end + 1
            continue
        m = _NAME.match(s, i + 1)
        if m:  # unbraced $VAR
            out.append(env.get(m.group(), ""))
            i = m.end()
        else:
            out.append("$")
            i += 1
    return "".join(out)


def interpolate_tree(node, env):
    if isinstance(node, str):
        return interpolate(node, env)
    if isinstance(node, list):
        return [interpolate_tree(x, env) for x in node]
    if isinstance(node, dict):
        return {k: interpolate_tree(v, env) for k, v in node.items()}
    return node


def references(text: str) -> list[tuple[str, str]]:
    """Every `${NAME<op>` outside comments, as (name, op), op '' for a bare `${NAME}`; `$${` is not one."""
    refs = []
    text = re.sub(r"(?m)^\s*#.*$", "", text)
    for m in re.finditer(r"(\$+)\{([A-Za-z_][A-Za-z0-9_]*)(:?[-?+])?", text):
        if len(m.group(1)) % 2 == 1:
            refs.append((m.group(2), m.group(3) or ""))
    return refs


def read_dotenv(path: Path) -> tuple[dict[str, str], set[str]]:
    """(values set, names mentioned at all, including commented-out `# NAME=...` lines)."""
    values, mentioned = {}, set()
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        m = re.match(r"^(#\s*)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$", line)
        if not m:
            continue
        mentioned.add(m.group(2))
        if m.group(1):
            continue
        value = m.group(3)
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[m.group(2)] = value
    return values, mentioned


# ---------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def raw_text() -> str:
    return COMPOSE_FILE.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def raw(raw_text) -> dict:
    return yaml.safe_load(raw_text)


@pytest.fixture(scope="module")
def env_example() -> tuple[dict[str, str], set[str]]:
    return read_dotenv(ENV_EXAMPLE)


@pytest.fixture(scope="module")
def filled_env(env_example) -> dict[str, str]:
    """.env.example with every empty secret filled, as an operator's .env would be."""
    values, _ = env_example
    return {k: (v or "test-" + k.lower().strip("_").replace("_", "-")) for k, v in values.items()}


@pytest.fixture(scope="module")
def compose(raw, filled_env) -> dict:
    return interpolate_tree(raw, filled_env)


def env_of(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {k: "" if v is None else str(v) for k, v in env.items()}


def mounts(service: dict) -> list[tuple[str, str]]:
    """(source, target) of each short-syntax volume."""
    result = []
    for v in service.get("volumes") or []:
        parts = v.split(":")
        result.append((parts[0], parts[1]))
    return result


def published(service: dict) -> list[int]:
    """Container ports published on the host."""
    return [int(str(p).split(":")[-1].split("/")[0]) for p in service.get("ports") or []]


# ---------------------------------------------------------------- the interpolator itself


def test_interpolator_follows_compose_rules():
    env = {"A": "a", "EMPTY": ""}
    assert interpolate("x${A}y$$z", env) == "xay$z"
    assert interpolate("${EMPTY:-d}|${EMPTY-d}|${NONE-d}", env) == "d||d"
    assert interpolate("${NONE:-p://${A:?need A}@h}", env) == "p://a@h"
    assert interpolate("$${HOSTNAME}", env) == "${HOSTNAME}"
    with pytest.raises(MissingVariable):
        interpolate("${EMPTY:?set it}", env)
    with pytest.raises(MissingVariable):
        interpolate("${NONE:-x${MISSING:?nested}}", env)
    assert references("${A:?m} $${B} ${C:-${D}}") == [("A", ":?"), ("C", ":-"), ("D", "")]


# ---------------------------------------------------------------- services, images, commands


def test_services_are_exactly_the_production_set(raw):
    assert set(raw["services"]) == SERVICES
    # flower is optional: only with --profile flower.
    assert raw["services"]["flower"].get("profiles") == ["flower"]
    assert all(not raw["services"][s].get("profiles") for s in SERVICES - {"flower"})


def test_airflow_services_run_the_image_built_from_the_dockerfile(raw, compose):
    assert raw["x-airflow-common"]["build"] == "."
    for name in AIRFLOW_SERVICES:
        service = compose["services"][name]
        assert service["build"] == ".", name
        assert service["image"] == "tonghop-airflow:0.1.0", name
        assert service["user"] == ("0:0" if name == "airflow-init" else "50000:0"), name
    # Dependencies come from the image, never from a pip install at container start.
    assert all("_PIP_ADDITIONAL_REQUIREMENTS" not in env_of(compose["services"][n]) for n in AIRFLOW_SERVICES)


@pytest.mark.parametrize(("name", "command"), sorted(AIRFLOW_COMMANDS.items()))
def test_airflow_service_commands(compose, name, command):
    assert compose["services"][name]["command"] == command


def test_airflow_init_migrates_and_creates_the_admin(compose):
    init = compose["services"]["airflow-init"]
    assert init["entrypoint"] == "/bin/bash"
    assert init["command"] == ["/opt/tonghop/docker/airflow-init.sh"]
    assert init["user"] == "0:0"
    env = env_of(init)
    assert env["_AIRFLOW_WWW_USER_USERNAME"] == "admin"
    assert env["_AIRFLOW_WWW_USER_PASSWORD"] == "test-airflow-www-user-password"
    assert "COPY --chown=airflow:0 docker/airflow-init.sh /opt/tonghop/docker/airflow-init.sh" in (
        DOCKERFILE.read_text(encoding="utf-8")
    )
    script = INIT_SCRIPT.read_text(encoding="utf-8")
    assert '"${AIRFLOW_ENTRYPOINT}" airflow db migrate' in script
    assert "SIMPLE_AUTH_MANAGER_PASSWORDS_FILE" in script
    # The other Airflow services start only after it succeeded.
    for name in AIRFLOW_SERVICES - {"airflow-init"}:
        assert compose["services"][name]["depends_on"]["airflow-init"] == {
            "condition": "service_completed_successfully"
        }, name


def test_third_party_images(compose):
    services = compose["services"]
    assert services["postgres"]["image"] == "postgres:16"
    assert services["warehouse"]["image"] == "postgres:16"
    assert services["redis"]["image"] == "redis:7.2-bookworm"
    assert services["mailpit"]["image"].split(":")[0] == "axllent/mailpit"
    for name in ("postgres", "redis", "warehouse", "mailpit"):
        assert "build" not in services[name], name


# ---------------------------------------------------------------- Airflow configuration


def test_executor_broker_result_backend_and_metadata_db(compose):
    env = env_of(compose["services"]["airflow-scheduler"])
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    broker = urlsplit(env["AIRFLOW__CELERY__BROKER_URL"])
    assert (broker.scheme, broker.hostname, broker.port) == ("redis", "redis", 6379)
    assert broker.password == "test-redis-password"
    for key in ("AIRFLOW__CELERY__RESULT_BACKEND", "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"):
        url = urlsplit(env[key])
        assert url.hostname == "postgres", key
        assert url.scheme in ("db+postgresql", "postgresql+psycopg2"), key
        assert (url.username, url.password, url.path) == ("airflow", "test-airflow-db-password", "/airflow")
    pg = env_of(compose["services"]["postgres"])
    assert (pg["POSTGRES_USER"], pg["POSTGRES_PASSWORD"], pg["POSTGRES_DB"]) == (
        "airflow",
        "test-airflow-db-password",
        "airflow",
    )
    redis_cmd = compose["services"]["redis"]["command"]
    assert redis_cmd[redis_cmd.index("--requirepass") + 1] == broker.password


def test_airflow_settings(compose):
    env = env_of(compose["services"]["airflow-apiserver"])
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://airflow-apiserver:8080/execution/"
    assert env["AIRFLOW__CORE__LOAD_EXAMPLES"].lower() == "false"
    assert env["AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION"].lower() in ("true", "false")
    assert env["AIRFLOW__CORE__DEFAULT_TIMEZONE"] == "Asia/Ho_Chi_Minh"
    assert env["AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK"].lower() == "true"
    assert env["AIRFLOW__CORE__FERNET_KEY"] == "test-airflow-fernet-key"
    assert env["AIRFLOW__API_AUTH__JWT_SECRET"] == "test-airflow-jwt-secret"
    assert env["AIRFLOW__API__SECRET_KEY"] == "test-airflow-api-secret-key"
    assert env["TONGHOP_HOME"] == TONGHOP_HOME
    assert env["TONGHOP_CONFIG_DIR"] == "/opt/tonghop/config"
    assert env["TONGHOP_PROVINCE"] == "son-la"
    assert (ROOT / "config" / "provinces" / env["TONGHOP_PROVINCE"]).is_dir()
    assert env["TONGHOP_ANALYST_PASSWORD"] == "test-tonghop-analyst-password"
    assert env["AIRFLOW__CORE__AUTH_MANAGER"].endswith("SimpleAuthManager")
    assert env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"] == "admin:admin"


def test_smtp_default_connection_goes_to_mailpit(compose):
    conn = json.loads(env_of(compose["services"]["airflow-worker"])["AIRFLOW_CONN_SMTP_DEFAULT"])
    assert conn["conn_type"] == "smtp"
    assert (conn["host"], conn["port"]) == ("mailpit", 1025)
    # The SMTP hook defaults to SSL and STARTTLS on; mailpit speaks neither (guides/airflow-gx.md, 6).
    assert conn["extra"]["disable_tls"] is True and conn["extra"]["disable_ssl"] is True
    assert "@" in conn["extra"]["from_email"]
    assert 1025 in [int(p) for p in compose["services"]["mailpit"]["expose"]]


def test_every_airflow_service_gets_the_common_environment(raw, compose):
    common = set(raw["x-airflow-common"]["environment"])
    for name in AIRFLOW_SERVICES:
        missing = common - set(env_of(compose["services"][name]))
        assert not missing, (name, missing)
    assert env_of(compose["services"]["airflow-worker"])["DUMB_INIT_SETSID"] == "0"


def test_warehouse_url_points_at_the_warehouse_not_the_metadata_db(raw, compose, filled_env):
    url = urlsplit(env_of(compose["services"]["airflow-worker"])["WAREHOUSE_URL"])
    assert url.hostname == "warehouse" and url.hostname != "postgres"
    assert url.scheme == "postgresql" and (url.port or 5432) == 5432
    wh = env_of(compose["services"]["warehouse"])
    assert (url.username, url.password, url.path.lstrip("/")) == (
        wh["POSTGRES_USER"],
        wh["POSTGRES_PASSWORD"],
        wh["POSTGRES_DB"],
    )
    assert wh["POSTGRES_PASSWORD"] != env_of(compose["services"]["postgres"])["POSTGRES_PASSWORD"]
    # An external server: WAREHOUSE_URL in .env wins over the bundled service.
    external = "postgresql://tonghop:x@db.example.org:5432/tonghop?sslmode=require"
    other = interpolate_tree(raw, {**filled_env, "WAREHOUSE_URL": external})
    assert env_of(other["services"]["airflow-worker"])["WAREHOUSE_URL"] == external


# ---------------------------------------------------------------- secrets


def test_every_secret_is_required_and_listed_in_env_example(raw_text, raw, env_example, filled_env):
    values, mentioned = env_example
    refs = references(raw_text)
    secrets = {name for name, _ in refs if SECRET_NAME.search(name)}
    assert secrets >= {
        "AIRFLOW_DB_PASSWORD",
        "REDIS_PASSWORD",
        "AIRFLOW_FERNET_KEY",
        "AIRFLOW_JWT_SECRET",
        "AIRFLOW_API_SECRET_KEY",
        "WAREHOUSE_PASSWORD",
        "TONGHOP_ANALYST_PASSWORD",
        "AIRFLOW_CONN_SMTP_DEFAULT",
        "_AIRFLOW_WWW_USER_PASSWORD",
    }
    for name, op in refs:
        if name in secrets:
            assert op == ":?", f"${{{name}}} must be written ${{{name}:?message}} (no default for a secret)"
        assert name in mentioned, f"{name} is used in docker-compose.yml but not documented in .env.example"
    # Secrets are set (uncommented) in .env.example so that gen-env.sh / the operator fill them in.
    assert secrets <= set(values), secrets - set(values)
    # And compose really refuses to start without each of them.
    for name in sorted(secrets):
        env = {k: v for k, v in filled_env.items() if k != name}
        with pytest.raises(MissingVariable):
            interpolate_tree(raw, env)


def test_env_example_holds_no_real_secret(env_example):
    values, _ = env_example
    for name, value in values.items():
        if name == "AIRFLOW_CONN_SMTP_DEFAULT":
            conn = json.loads(value)
            assert "password" not in conn and conn["host"] == "mailpit"
        elif SECRET_NAME.search(name):
            assert value == "", f"{name} must stay empty in .env.example"


def literal_secrets(node, path="") -> list[str]:
    """Places in a (raw, uninterpolated) compose tree where a secret is written out literally."""
    found = []
    if isinstance(node, dict):
        for k, v in node.items():
            here = f"{path}.{k}"
            # (SIMPLE_AUTH_MANAGER_PASSWORDS_FILE is a path, not a password.)
            secret_key = SECRET_NAME.search(str(k)) and not str(k).startswith("AIRFLOW__CORE__SIMPLE")
            if secret_key and isinstance(v, (str, int)) and not REQUIRED_REF.fullmatch(str(v)):
                found.append(f"{here}={v}")
            found += literal_secrets(v, here)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            found += literal_secrets(v, f"{path}[{i}]")
            if v == "--requirepass" and i + 1 < len(node) and not str(node[i + 1]).startswith("${"):
                found.append(f"{path}[{i + 1}]={node[i + 1]}")
    elif isinstance(node, str):
        for m in re.finditer(r"://[^/\s:@]*:([^@\s]*)@", node):
            if not m.group(1).startswith("${"):
                found.append(f"{path}: {node}")
    return found


def test_no_literal_passwords_in_the_compose_file(raw):
    assert literal_secrets(raw) == []


def test_literal_password_detector_catches_the_usual_mistakes():
    bad = {
        "services": {
            "db": {"environment": {"POSTGRES_PASSWORD": "airflow"}, "command": ["redis-server", "--requirepass", "x"]},
            "app": {"environment": ["URL=postgresql://u:hunter2@db/x"]},
            "ok": {"environment": {"POSTGRES_PASSWORD": "${P:?set P}", "URL": "postgresql://u:${P:?}@db/x"}},
            "weak": {"environment": {"AIRFLOW__API__SECRET_KEY": "${K:-changeme}"}},
        }
    }
    found = literal_secrets(bad)
    assert len(found) == 4, found
    assert not [f for f in found if ".ok." in f]


# ---------------------------------------------------------------- volumes, dependencies, ports


def test_named_volumes_are_declared_and_mounted(raw, compose):
    declared = set(raw["volumes"])
    assert declared >= {"tonghop-landing", "tonghop-data", "warehouse-data", "airflow-metadata-db", "airflow-logs"}
    used = set()
    for name, service in compose["services"].items():
        for source, _ in mounts(service):
            if not source.startswith((".", "/")):
                assert source in declared, f"{name} mounts undeclared volume {source}"
                used.add(source)
    assert used == declared, declared - used
    assert ("airflow-metadata-db", "/var/lib/postgresql/data") in mounts(compose["services"]["postgres"])
    assert ("warehouse-data", "/var/lib/postgresql/data") in mounts(compose["services"]["warehouse"])
    for name in AIRFLOW_SERVICES:
        m = dict((t, s) for s, t in mounts(compose["services"][name]))
        assert m.get(TONGHOP_HOME) == "tonghop-data", name
        assert m.get(f"{TONGHOP_HOME}/landing") == "tonghop-landing", name
        assert m.get("/opt/airflow/logs") == "airflow-logs", name
        passwords_file = env_of(compose["services"][name])["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"]
        assert m.get(str(Path(passwords_file).parent)) == "airflow-auth", name


def test_repository_mounts_exist_and_code_is_read_only(compose):
    for name, service in compose["services"].items():
        for v in service.get("volumes") or []:
            source, target = v.split(":")[:2]
            if source.startswith("."):
                assert (ROOT / source).exists(), f"{name}: {source} does not exist"
                assert v.endswith(":ro"), f"{name}: {v} should be read-only"
    targets = {t: s for s, t in mounts(compose["services"]["airflow-worker"])}
    assert targets["/opt/airflow/dags"] == "./dags"
    assert targets["/opt/airflow/plugins"] == "./plugins"
    assert targets["/opt/tonghop/config"] == "./config"


def bad_dependencies(services: dict) -> list[str]:
    problems = []
    for name, service in services.items():
        deps = service.get("depends_on") or {}
        for dep, spec in deps.items() if isinstance(deps, dict) else ((d, {}) for d in deps):
            condition = spec.get("condition", "service_started")
            if dep not in services:
                problems.append(f"{name} -> unknown {dep}")
            elif condition == "service_healthy" and "healthcheck" not in services[dep]:
                problems.append(f"{name} -> {dep} is service_healthy but {dep} has no healthcheck")
            elif condition == "service_completed_successfully" and services[dep].get("restart", "no") != "no":
                problems.append(f"{name} -> {dep} must be a one-shot (restart: no)")
            elif condition == "service_started":
                problems.append(f"{name} -> {dep} has no readiness condition")
    return problems


def test_depends_on_conditions_point_at_healthchecked_services(compose):
    assert bad_dependencies(compose["services"]) == []
    worker = compose["services"]["airflow-worker"]["depends_on"]
    assert worker["warehouse"] == {"condition": "service_healthy"}
    assert worker["redis"] == worker["postgres"] == {"condition": "service_healthy"}


def test_dependency_checker_catches_a_missing_healthcheck():
    services = {
        "a": {"depends_on": {"b": {"condition": "service_healthy"}, "c": {"condition": "service_healthy"}}},
        "b": {"healthcheck": {"test": ["CMD", "true"]}},
        "c": {},
    }
    assert bad_dependencies(services) == ["a -> c is service_healthy but c has no healthcheck"]


def test_long_running_services_have_healthchecks(compose):
    for name, service in compose["services"].items():
        if name != "airflow-init":
            assert service.get("healthcheck", {}).get("test"), name
            assert service.get("restart") == "always", name
    api = " ".join(compose["services"]["airflow-apiserver"]["healthcheck"]["test"])
    assert "http://localhost:8080/api/v2/version" in api
    scheduler = " ".join(compose["services"]["airflow-scheduler"]["healthcheck"]["test"])
    assert "http://localhost:8974/health" in scheduler
    for database in ("warehouse", "postgres"):
        check = compose["services"][database]["healthcheck"]["test"]
        # TCP, not the socket: during the image's first-start initialisation only a temporary, socket-only
        # server runs, and the socket check called it ready before the real server listened.
        assert "pg_isready" in check and check[check.index("-h") + 1] == "127.0.0.1", database


def test_env_example_values_are_literal(env_example):
    """Compose reads .env literally and runs no command: `AIRFLOW_UID=$(id -u)`, as a comment suggested, is no
    user id (compose refuses it or passes it on as text)."""
    # anywhere on a line, comments included: a comment's `NAME=value` is what operators copy
    shell_values = re.findall(r"\b[A-Z_][A-Z0-9_]*=(?:\$\(|`)[^\s]*", ENV_EXAMPLE.read_text(encoding="utf-8"))
    assert shell_values == []


def test_published_ports(compose):
    services = compose["services"]
    assert published(services["airflow-apiserver"]) == [8080]
    assert published(services["mailpit"]) == [8025]
    # Broker and metadata DB stay inside the compose network.
    assert published(services["redis"]) == published(services["postgres"]) == []


def test_container_side_dollars_are_escaped(raw_text):
    """`$HOSTNAME` in a healthcheck must be `$$HOSTNAME`, or compose substitutes the host's value."""
    body = re.sub(r"(?m)^\s*#.*$", "", raw_text)
    stray = re.findall(r"(?<!\$)\$(?!\$|\{)[A-Za-z_]\w*", body.replace("$$", ""))
    assert stray == []


# ---------------------------------------------------------------- Dockerfile, .dockerignore, git


def locked_version(package: str) -> str:
    text = (ROOT / "requirements.lock").read_text(encoding="utf-8")
    m = re.search(rf"(?m)^{re.escape(package)}==([^\s;]+)", text)
    assert m, f"{package} not pinned in requirements.lock"
    return m.group(1)


def test_dockerfile_base_image_matches_the_locked_airflow():
    airflow = locked_version("apache-airflow")
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["requires-python"]
    python = re.search(r"(\d+\.\d+)", requires).group(1)
    froms = re.findall(r"(?im)^FROM\s+(\S+)", DOCKERFILE.read_text(encoding="utf-8"))
    assert froms == [f"apache/airflow:{airflow}-python{python}"]


def test_dockerfile_installs_the_lock_then_the_project():
    text = DOCKERFILE.read_text(encoding="utf-8")
    joined = re.sub(r"\\\n\s*", " ", text)
    assert re.search(r"(?m)^COPY\b.*\brequirements\.lock\b", joined)
    lock_install = re.search(r"(?m)^RUN pip install --no-cache-dir -r \S*requirements\.lock", joined)
    project_install = re.search(r"(?m)^RUN pip install --no-cache-dir --no-deps (-e )?/opt/tonghop\b", joined)
    assert lock_install and project_install and lock_install.start() < project_install.start()
    for folder in ("etl", "config", "sql", "expectations"):
        assert re.search(rf"(?m)^COPY\b.*\s{folder}/ /opt/tonghop/{folder}/", joined), folder
    assert "ENV TONGHOP_CONFIG_DIR=/opt/tonghop/config" in joined
    assert re.search(r"(?m)^WORKDIR /opt/tonghop$", joined)
    # pip runs as the airflow user, as the image requires.
    users = re.findall(r"(?m)^USER (\S+)", joined)
    assert users and users[-1] == "airflow"
    assert joined.index(f"USER {users[-1]}") < lock_install.start()


def test_dockerignore_keeps_junk_and_secrets_out_but_not_the_sources():
    patterns = [
        p.strip()
        for p in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if p.strip() and not p.startswith("#")
    ]
    excluded = [p for p in patterns if not p.startswith("!")]
    normalised = {p.removeprefix("**/").rstrip("/") for p in excluded}
    assert normalised >= {".venv", "var", ".git", ".env", "__pycache__", ".pytest_cache"}

    def ignored(path: str) -> bool:
        verdict = False
        for p in patterns:
            negate = p.startswith("!")
            pat = p.lstrip("!").removeprefix("**/").rstrip("/")
            parts = path.split("/")
            if any(fnmatch("/".join(parts[: i + 1]), pat) or fnmatch(parts[i], pat) for i in range(len(parts))):
                verdict = not negate
        return verdict

    needed = ["requirements.lock", "pyproject.toml", "etl/config.py", "config/provinces", "sql", "expectations"]
    needed.append("docker/airflow-init.sh")
    assert [p for p in needed if ignored(p)] == []
    assert ignored(".env") and ignored(".venv/bin/python") and ignored("etl/__pycache__/x.pyc")


def git(*args: str) -> subprocess.CompletedProcess:
    if not shutil.which("git") or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)


def test_dotenv_is_ignored_and_not_tracked():
    assert git("ls-files", "--", ".env").stdout.strip() == ""
    assert git("check-ignore", "-q", ".env").returncode == 0
    assert git("check-ignore", "-q", ".env.example").returncode == 1


# ---------------------------------------------------------------- helper scripts, run for real


def test_shell_scripts_parse():
    scripts = [INIT_SCRIPT, GEN_ENV, *sorted(WAREHOUSE_INITDB.glob("*.sh"))]
    assert len(scripts) >= 3
    for script in scripts:
        result = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
        assert result.returncode == 0, (script, result.stderr)
    # The postgres image *sources* non-executable initdb scripts into its own shell.
    for script in WAREHOUSE_INITDB.glob("*.sh"):
        assert script.stat().st_mode & stat.S_IXUSR, f"{script} must be executable"


@pytest.fixture()
def stub_entrypoint(tmp_path):
    calls = tmp_path / "calls"
    stub = tmp_path / "entrypoint"
    stub.write_text(f'#!/bin/sh\necho "$@" >> {calls}\n[ "$2 $3" != "db migrate" ] || exit "${{MIGRATE_RC:-0}}"\n')
    stub.chmod(0o755)
    return stub, calls


def run_init(tmp_path, stub, **extra) -> subprocess.CompletedProcess:
    env = {
        "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}",
        "AIRFLOW_ENTRYPOINT": str(stub),
        "AIRFLOW_HOME": str(tmp_path / "airflow"),
        "AIRFLOW_UID": str(os.getuid()),
        "TONGHOP_HOME": str(tmp_path / "var"),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(tmp_path / "auth" / "passwords.json"),
        "_AIRFLOW_WWW_USER_USERNAME": "admin",
        "_AIRFLOW_WWW_USER_PASSWORD": "s3cret\"'",
        **extra,
    }
    return subprocess.run(["bash", str(INIT_SCRIPT)], env=env, capture_output=True, text=True)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() != 0, reason="chown to group 0 needs root, as in the container")
def test_airflow_init_script_prepares_volumes_and_admin(tmp_path, stub_entrypoint):
    stub, calls = stub_entrypoint
    passwords = tmp_path / "auth" / "passwords.json"
    passwords.parent.mkdir()
    passwords.write_text('{"phongkt": "kept", "admin": "old"}\n')

    result = run_init(tmp_path, stub)
    assert result.returncode == 0, result.stderr
    assert calls.read_text().splitlines() == ["airflow version", "airflow db migrate"]
    assert json.loads(passwords.read_text()) == {"phongkt": "kept", "admin": "s3cret\"'"}
    assert stat.S_IMODE(passwords.stat().st_mode) == 0o660
    for sub in ("landing", "archive", "quarantine", "reports", "outbox"):
        d = tmp_path / "var" / sub
        assert d.is_dir() and d.stat().st_gid == 0, sub
    assert (tmp_path / "airflow" / "logs").is_dir()

    # A failed migration must fail the init, so that nothing starts on a half-migrated database.
    failed = run_init(tmp_path, stub, MIGRATE_RC="3")
    assert failed.returncode != 0
    # And so must a missing admin password.
    missing = run_init(tmp_path, stub, _AIRFLOW_WWW_USER_PASSWORD="")
    assert missing.returncode != 0 and "_AIRFLOW_WWW_USER_PASSWORD" in missing.stderr


@pytest.mark.skipif(not shutil.which("openssl"), reason="gen-env.sh needs openssl")
def test_gen_env_fills_every_secret_and_compose_then_resolves(raw, tmp_path):
    out = subprocess.run(["bash", str(GEN_ENV)], capture_output=True, text=True, check=True).stdout
    generated = tmp_path / ".env"
    generated.write_text(out, encoding="utf-8")
    values, _ = read_dotenv(generated)
    secrets = {n for n in values if SECRET_NAME.search(n)}
    assert all(values[n] for n in secrets), [n for n in secrets if not values[n]]
    resolved = interpolate_tree(raw, values)
    fernet = pytest.importorskip("cryptography.fernet")
    fernet.Fernet(values["AIRFLOW_FERNET_KEY"].encode())  # raises if not a valid key
    url = urlsplit(env_of(resolved["services"]["airflow-worker"])["WAREHOUSE_URL"])
    assert url.password == values["WAREHOUSE_PASSWORD"] and re.fullmatch(r"[0-9a-f]{48}", url.password)
