"""The read-only `analyst` role, proven by connecting as it: it reads core, mart and dq, and can neither
write nor create anything anywhere, even after turning its read-only default off.

The role is cluster-wide (several test databases may share it): these tests never drop or rename it, and
the password test restores what it found."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import uuid
from urllib.parse import quote, urlsplit, urlunsplit

import pytest
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from etl import registry, warehouse
from tests.conftest import fresh_database

READ_ONLY_SQL_TRANSACTION = "25006"
INSUFFICIENT_PRIVILEGE = "42501"


def analyst_url(url: str) -> str:
    """The same server and database as `url`, as role analyst (with TONGHOP_ANALYST_PASSWORD if set)."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    password = os.environ.get("TONGHOP_ANALYST_PASSWORD")
    user = "analyst" + (f":{quote(password, safe='')}" if password else "")
    return urlunsplit(("postgresql+psycopg", f"{user}@{host}", parts.path, parts.query, parts.fragment))


def _database_url(server_url: str, database: str) -> str:
    parts = urlsplit(server_url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{database}", parts.query, parts.fragment))


@pytest.fixture(scope="module")
def warehouse_settings(server_url, tmp_path_factory):
    """One migrated warehouse with the Sơn La registry for the whole module (dropped afterwards)."""
    with fresh_database(server_url, tmp_path_factory.mktemp("home")) as settings:
        engine = warehouse.prepare(settings)
        registry.load_province(engine, settings.province_config())
        yield settings


@pytest.fixture(scope="module")
def admin_engine(warehouse_settings):
    return warehouse.get_engine(warehouse_settings)


@pytest.fixture(scope="module")
def analyst(warehouse_settings):
    """An engine connecting as analyst; autocommit, so that each statement is its own transaction."""
    engine = sa.create_engine(analyst_url(warehouse_settings.warehouse_url), isolation_level="AUTOCOMMIT",
                              poolclass=NullPool)
    yield engine
    engine.dispose()


def _refused(connection: sa.Connection, statement: str) -> str:
    """Run a statement that must fail; returns its SQLSTATE."""
    with pytest.raises(sa.exc.DBAPIError) as caught:
        connection.exec_driver_sql(statement)
    return caught.value.orig.sqlstate


def _relations(engine: sa.Engine, schemas: tuple[str, ...]) -> list[str]:
    with engine.connect() as c:
        return c.execute(sa.text(
            "select format('%I.%I', n.nspname, cl.relname) from pg_class cl "
            "join pg_namespace n on n.oid = cl.relnamespace "
            "where n.nspname = any(:schemas) and cl.relkind in ('r', 'v', 'm', 'p') order by 1"),
            {"schemas": list(schemas)}).scalars().all()


# ------------------------------------------------------------------------------------------------ reading

def test_analyst_connects_as_itself_in_a_read_only_session(analyst):
    with analyst.connect() as c:
        assert c.exec_driver_sql("select current_user").scalar() == "analyst"
        assert c.exec_driver_sql("show default_transaction_read_only").scalar() == "on"
        assert c.exec_driver_sql("show transaction_read_only").scalar() == "on"
        is_super, create_role, create_db = c.exec_driver_sql(
            "select rolsuper, rolcreaterole, rolcreatedb from pg_roles where rolname = current_user").one()
    assert (is_super, create_role, create_db) == (False, False, False)


def test_analyst_reads_every_table_and_view_of_core_mart_dq(analyst, admin_engine):
    relations = _relations(admin_engine, ("core", "mart", "dq"))
    assert {"mart.reporting_status", "mart.indicator_trend", "mart.district_indicator",
            "mart.province_indicator", "dq.submission", "dq.issue", "core.fact_school_period"} <= set(relations)
    with analyst.connect() as c:
        for relation in relations:
            c.exec_driver_sql(f"select * from {relation} limit 1").all()
        # the registry loaded by the owner is visible, and the views compute as the analyst
        assert c.exec_driver_sql("select count(*) from core.district").scalar() == 12
        assert c.exec_driver_sql("select count(*) from mart.reporting_status").scalar() > 0
        c.exec_driver_sql("select * from mart.indicator_trend").all()


@pytest.mark.parametrize("kind, body", [("table", "(x int)"), ("view", "as select 1 as x")])
def test_objects_created_later_in_core_mart_dq_are_readable_too(analyst, admin_engine, kind, body):
    """Default privileges: a table or view a later migration adds needs no new grant."""
    name = f"later_{uuid.uuid4().hex[:8]}"
    with admin_engine.begin() as c:
        for schema in ("core", "mart", "dq"):
            c.exec_driver_sql(f"create {kind} {schema}.{name} {body}")
            if kind == "table":
                c.exec_driver_sql(f"insert into {schema}.{name} values (1)")
    try:
        with analyst.connect() as c:
            for schema in ("core", "mart", "dq"):
                assert c.exec_driver_sql(f"select x from {schema}.{name}").scalar() == 1
    finally:
        with admin_engine.begin() as c:
            for schema in ("core", "mart", "dq"):
                c.exec_driver_sql(f"drop {kind} {schema}.{name}")


def test_tables_created_later_in_staging_stay_hidden(analyst, admin_engine):
    name = f"later_{uuid.uuid4().hex[:8]}"
    with admin_engine.begin() as c:
        c.exec_driver_sql(f"create table staging.{name} (x int)")
    try:
        with analyst.connect() as c:
            assert _refused(c, f"select x from staging.{name}") == INSUFFICIENT_PRIVILEGE
    finally:
        with admin_engine.begin() as c:
            c.exec_driver_sql(f"drop table staging.{name}")


def test_analyst_cannot_read_staging(analyst, admin_engine):
    relations = _relations(admin_engine, ("staging",))
    assert "staging.thong_tin" in relations
    with analyst.connect() as c:
        for relation in relations:
            assert _refused(c, f"select * from {relation} limit 1") == INSUFFICIENT_PRIVILEGE, relation


# ------------------------------------------------------------------------------------------------ writing

WRITES = [
    "insert into core.round (ky_bao_cao, ten_ky, sort_order) values ('X', 'x', 9)",
    "update core.district set email = 'x@example.org'",
    "delete from core.school",
    "truncate core.round cascade",
    # the indicator marts are views over these two tables (mart.unit_sums is a view over district_sums)
    "insert into mart.unit_target (unit_type, unit_code, nam_hoc, indicator, target, target_nam_hoc) "
    "values ('district', '116', '2019-2020', 'gv_tong', 1, '2019-2020')",
    "update mart.district_sums set gv_tong = 0",
    "delete from mart.unit_target",
    "truncate mart.district_sums",
    "insert into dq.period_lock (nam_hoc, ky_bao_cao) values ('2019-2020', 'CN')",
    "update dq.submission set status = 'accepted'",
    "delete from dq.issue",
    "truncate dq.alert_log",
    "insert into staging.thong_tin (submission_id) values (1)",
    "update staging.doi_ngu set gv_tong = 0",
    "delete from staging.truong_lop",
    "truncate staging.lop_boi_duong",
    "select * from core.district for update",
    "select nextval('dq.submission_submission_id_seq')",
    "select setval('dq.issue_issue_id_seq', 1)",
    "copy core.district to '/tmp/analyst_scratch.csv'",
    "copy core.round from '/etc/hostname'",
    "copy (select 1) to program 'true'",
    "set role postgres",
    "set session authorization postgres",
]
CREATES = [
    "create table public.analyst_scratch (x int)",
    "create table core.analyst_scratch (x int)",
    "create table mart.analyst_scratch (x int)",
    "create table dq.analyst_scratch (x int)",
    "create table staging.analyst_scratch (x int)",
    "create table analyst_scratch as select * from core.district",
    "create view public.analyst_scratch as select 1 as x",
    "create view mart.analyst_scratch as select 1 as x",
    "create function public.analyst_scratch() returns int language sql as 'select 1'",
    "create schema analyst_scratch",
    "create temporary table analyst_scratch (x int)",
    "create table pg_temp.analyst_scratch (x int)",
    "create temporary view analyst_scratch as select 1 as x",
    "create function pg_temp.analyst_scratch() returns int language sql as 'select 1'",
    "create sequence pg_temp.analyst_scratch",
    "select lo_create(0)",
    "select lo_creat(-1)",
    "select lo_from_bytea(0, 'x')",
    "create index on core.district (email)",
    "alter table core.district add column analyst_scratch int",
    "drop table mart.district_sums",
    "drop view mart.unit_sums",
    "drop view mart.district_indicator",
    "drop view mart.indicator_trend",
    "comment on table core.district is 'x'",
]


@pytest.mark.parametrize("statement", WRITES + CREATES)
def test_analyst_is_refused_in_its_default_read_only_session(analyst, statement):
    with analyst.connect() as c:
        assert _refused(c, statement) in (READ_ONLY_SQL_TRANSACTION, INSUFFICIENT_PRIVILEGE)


@pytest.mark.parametrize("statement", WRITES + CREATES)
def test_analyst_lacks_the_privilege_even_after_turning_read_only_off(analyst, statement):
    """Read-only is only a default the analyst may change; the grants are what actually stop it."""
    with analyst.connect() as c:
        c.exec_driver_sql("set default_transaction_read_only = off")
        assert c.exec_driver_sql("show transaction_read_only").scalar() == "off"
        assert _refused(c, statement) == INSUFFICIENT_PRIVILEGE


def test_nothing_was_changed_or_created(analyst, admin_engine):
    with analyst.connect() as c:
        c.exec_driver_sql("set default_transaction_read_only = off")
        for statement in WRITES + CREATES:
            with pytest.raises(sa.exc.DBAPIError):
                c.exec_driver_sql(statement)
    with admin_engine.connect() as c:
        assert c.exec_driver_sql("select count(*) from core.round").scalar() == 2
        assert c.exec_driver_sql("select count(*) from core.district where email = 'x@example.org'").scalar() == 0
        assert c.exec_driver_sql("select count(*) from core.school").scalar() == 230
        assert c.exec_driver_sql("select count(*) from dq.period_lock").scalar() == 0
        assert c.exec_driver_sql(
            "select count(*) from pg_class where relname = 'analyst_scratch'").scalar() == 0
        assert c.exec_driver_sql(
            "select count(*) from pg_namespace where nspname = 'analyst_scratch'").scalar() == 0
        assert c.exec_driver_sql("select count(*) from pg_proc where proname = 'analyst_scratch'").scalar() == 0
        assert c.exec_driver_sql(
            "select count(*) from pg_attribute where attname = 'analyst_scratch'").scalar() == 0
        assert c.exec_driver_sql(
            "select count(*) from pg_largeobject_metadata where lomowner = 'analyst'::regrole").scalar() == 0


def test_analyst_cannot_create_large_objects(analyst, admin_engine):
    with analyst.connect() as c:
        c.exec_driver_sql("set default_transaction_read_only = off")
        try:
            created = c.exec_driver_sql("select lo_from_bytea(0, 'x')").scalar()
        except sa.exc.DBAPIError as e:
            assert e.orig.sqlstate == INSUFFICIENT_PRIVILEGE
            return
    with admin_engine.begin() as c:
        c.execute(sa.text("select lo_unlink(:oid)"), {"oid": created})
    pytest.fail(f"analyst created large object {created}")


def test_analyst_cannot_create_temporary_tables_in_the_maintenance_database(analyst, warehouse_settings):
    """The role may connect to every database of the server (PUBLIC's default), and PUBLIC may create temporary
    tables in `postgres`: the migrations close that too, where the migrating role may (a superuser: the
    embedded server, the bundled container); on a shared server it is the DBA's (docs/production.md)."""
    url = analyst.url.set(database="postgres")
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with engine.connect() as c:
            c.exec_driver_sql("set default_transaction_read_only = off")
            assert _refused(c, "create temporary table analyst_scratch (x int)") == INSUFFICIENT_PRIVILEGE
    finally:
        engine.dispose()


def _database(engine: sa.Engine) -> str:
    with engine.connect() as c:
        return c.exec_driver_sql("select current_database()").scalar()


def test_the_next_run_restores_a_read_only_default_the_analyst_turned_off(analyst, admin_engine, warehouse_settings):
    """PostgreSQL lets every role change its own session defaults (ALTER ROLE ... SET), which no grant can
    prevent: one analyst could make every later analyst session read-write for everyone sharing the login.
    The grants still refuse every write; and warehouse.prepare(), which every command and task runs, puts
    the read-only default back. (Scoped to this test database: the role is shared across databases.)"""
    database = _database(admin_engine)
    with analyst.connect() as c:
        c.exec_driver_sql("set default_transaction_read_only = off")
        c.exec_driver_sql(f'alter role analyst in database "{database}" set default_transaction_read_only = off')
    try:
        with analyst.connect() as c:
            assert c.exec_driver_sql("show default_transaction_read_only").scalar() == "off"
        warehouse.prepare(warehouse_settings)
        with analyst.connect() as c:
            assert c.exec_driver_sql("show default_transaction_read_only").scalar() == "on"
            assert c.exec_driver_sql("show transaction_read_only").scalar() == "on"
    finally:
        with admin_engine.begin() as c:
            c.exec_driver_sql(f'alter role analyst in database "{database}" reset default_transaction_read_only')


# ------------------------------------------------------------------------------------------------ password

def _verifies(stored: str, password: str, role: str = "analyst") -> bool:
    """Whether a pg_authid.rolpassword (SCRAM-SHA-256 or md5) is the verifier of `password`."""
    if stored.startswith("md5"):
        return stored == "md5" + hashlib.md5((password + role).encode()).hexdigest()
    method, params, keys = stored.split("$")
    assert method == "SCRAM-SHA-256"
    iterations, salt = params.split(":")
    stored_key, server_key = keys.split(":")
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), base64.b64decode(salt), int(iterations))
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    return (base64.b64encode(hashlib.sha256(client_key).digest()).decode() == stored_key
            and base64.b64encode(hmac.new(salted, b"Server Key", hashlib.sha256).digest()).decode() == server_key)


def test_prepare_sets_the_analyst_password_from_the_environment(admin_engine, warehouse_settings, monkeypatch):
    with admin_engine.connect() as c:
        if not c.exec_driver_sql("select rolsuper from pg_roles where rolname = current_user").scalar():
            pytest.skip("reading pg_authid needs a superuser")
        before = c.exec_driver_sql("select rolpassword from pg_authid where rolname = 'analyst'").scalar()
    # Keep a password already in use (other test databases share the role); else a fresh one with quotes
    # and percent signs, which prepare() must pass through as a literal.
    password = os.environ.get("TONGHOP_ANALYST_PASSWORD") or f"it's 100% {uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("TONGHOP_ANALYST_PASSWORD", password)
    try:
        warehouse.prepare(warehouse_settings)
        with admin_engine.connect() as c:
            stored = c.exec_driver_sql("select rolpassword from pg_authid where rolname = 'analyst'").scalar()
        assert stored is not None
        assert stored != before  # written now (a fresh salt even for the same password)
        assert _verifies(stored, password)
        assert not _verifies(stored, password + "x")
    finally:
        # Put back what was there: NULL, or the previous verifier (stored as given, so the previous password
        # keeps working for other sessions).
        with admin_engine.begin() as c:
            statement = c.execute(sa.text("select format('alter role analyst password %L', cast(:v as text))"),
                                  {"v": before}).scalar()
            warehouse.run_script(c, statement)


# ------------------------------------------------------------------------------------------------ the server's files
SERVER_FILES = [
    "select pg_read_file('/etc/passwd')",
    "select pg_read_file('postgresql.conf')",
    "select pg_read_binary_file('/etc/passwd')",
    "select pg_ls_dir('.')",
    "select pg_stat_file('postgresql.conf')",
    "select pg_ls_logdir()",
    "select pg_ls_waldir()",
    "select lo_import('/etc/passwd')",
    "select lo_export(0, '/tmp/analyst_scratch')",
    "copy (select 1) to '/tmp/analyst_scratch'",
    "create extension dblink",
    "create extension file_fdw",
    "create extension adminpack",
    "select current_setting('data_directory')",
    "select current_setting('hba_file')",
    "select * from pg_authid",
    "select * from pg_user_mapping",
    "select * from pg_file_settings",
    "select * from pg_hba_file_rules",
]


@pytest.mark.parametrize("statement", SERVER_FILES)
def test_analyst_cannot_read_the_servers_files_or_secrets(analyst, statement):
    """Reading the server's files (its configuration, other databases' data, the operating system's), its
    passwords (pg_authid) or reaching another server (dblink): only superusers and roles granted
    pg_read_server_files, pg_monitor... may, and analyst is none of them."""
    with analyst.connect() as c:
        c.exec_driver_sql("set default_transaction_read_only = off")
        refused = _refused(c, statement)
    # an extension the server does not ship cannot be created by anyone (0A000, 58P01): refused all the same
    assert refused == INSUFFICIENT_PRIVILEGE or (statement.startswith("create extension")
                                                 and refused in ("0A000", "58P01")), refused


def test_no_password_is_readable_in_the_warehouse(analyst):
    """The warehouse holds no secret (SMTP and database passwords are Airflow's and the environment's), and
    the analyst sees its own and the owner's password only as PostgreSQL's mask."""
    with analyst.connect() as c:
        columns = c.exec_driver_sql(
            "select table_schema || '.' || table_name || '.' || column_name from information_schema.columns "
            "where table_schema in ('core', 'mart', 'dq', 'staging') and column_name ~* 'passw|secret|token|smtp'"
        ).scalars().all()
        masks = set(c.exec_driver_sql("select passwd from pg_user").scalars())
    assert columns == []
    assert masks <= {"********"}
