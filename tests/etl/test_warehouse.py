"""The warehouse: migrations, idempotent registry load, analyst role."""

import datetime as dt
import uuid
from urllib.parse import urlsplit, urlunsplit

import sqlalchemy as sa

from etl import migrations, registry, warehouse
from etl.config import Settings
from tests.conftest import ROOT


def test_migrations_create_the_schemas_and_are_idempotent(settings):
    engine = warehouse.get_engine(settings)
    assert migrations.pending_revisions(engine) == ["0001_foundation", "0002_period_lock", "0003_alert_log",
                                                    "0004_comments_and_large_objects",
                                                    "0005_mart_views_over_unit_sums",
                                                    "0006_append_only_staging",
                                                    "0007_district_facts_no_row_fks",
                                                    "0008_unit_target_from_config",
                                                    "0009_province_sums_on_read",
                                                    "0010_school_type_as_reported",
                                                    "0011_school_facts_by_key_only",
                                                    "0012_due_after_the_deadline_day",
                                                    "0013_analyst_no_temp_elsewhere",
                                                    "0014_held_files_are_sent", "0015_periods_to_roll_up"]
    assert warehouse.prepare(settings) is engine
    assert migrations.pending_revisions(engine) == []
    assert migrations.upgrade(engine) == []
    with engine.connect() as c:
        schemas = set(c.execute(sa.text("select nspname from pg_namespace")).scalars())
    assert {"staging", "core", "mart", "dq"} <= schemas


def test_registry_load_is_idempotent_and_complete(engine, settings):
    registry.load_province(engine, settings.province_config())
    with engine.connect() as c:
        assert c.execute(sa.text("select count(*) from core.district")).scalar() == 12
        assert c.execute(sa.text("select count(*) from core.school")).scalar() == 230
        open_2019 = c.execute(sa.text(
            "select count(*) from core.school where mo_tu_nam_hoc <= '2019-2020' "
            "and (dong_tu_nam_hoc is null or '2019-2020' < dong_tu_nam_hoc)")).scalar()
        assert open_2019 == 228
        assert c.execute(sa.text("select count(*) from core.target")).scalar() == 23
        floors = dict(c.execute(sa.text(
            "select nam_hoc, qualification_floor from core.school_year "
            "where nam_hoc in ('2019-2020', '2020-2021')")).all())
    assert floors == {"2019-2020": "trung_cap", "2020-2021": "cao_dang"}


def test_libpq_url_is_accepted_by_sqlalchemy(settings):
    url = warehouse.libpq_url(settings)
    assert url.startswith("postgresql://")
    with sa.create_engine(warehouse.sqlalchemy_url(url)).connect() as c:
        assert c.execute(sa.text("select 1")).scalar() == 1


def test_every_analyst_facing_object_has_comments(engine):
    with engine.connect() as c:
        missing = c.execute(sa.text(
            "select n.nspname || '.' || cl.relname from pg_class cl join pg_namespace n on n.oid = cl.relnamespace "
            "where n.nspname in ('core', 'mart', 'dq', 'staging') and cl.relkind in ('r', 'v') "
            "and obj_description(cl.oid, 'pg_class') is null")).scalars().all()
        uncommented_columns = c.execute(sa.text(
            "select n.nspname || '.' || cl.relname || '.' || a.attname from pg_attribute a "
            "join pg_class cl on cl.oid = a.attrelid join pg_namespace n on n.oid = cl.relnamespace "
            "where n.nspname = 'mart' and cl.relkind in ('r', 'v') and a.attnum > 0 and not a.attisdropped "
            "and col_description(a.attrelid, a.attnum) is null")).scalars().all()
    assert missing == []
    assert uncommented_columns == []


def test_upgrading_a_warehouse_with_data_rebuilds_the_marts(settings):
    """0005 replaced the mart tables by views over mart.unit_sums: data loaded before must show after."""
    from etl.registry import load_province
    from tests.etl.test_rollup import write_facts

    engine = warehouse.get_engine(settings)
    migrations.upgrade(engine, "0004_comments_and_large_objects")
    load_province(engine, settings.province_config())
    write_facts(engine, "2019-2020", {"14118001": {"ma_don_vi": "118", "gv_tong": 9}}, {"118": (1, 1, 1)})
    assert warehouse.prepare(settings) is engine
    with engine.connect() as c:
        gv = c.execute(sa.text("select value from mart.province_indicator where indicator = 'gv_tong'")).scalar()
    assert gv == 9


def _columns(connection: sa.Connection, relation: str) -> list[tuple[str, str]]:
    return connection.execute(sa.text(
        "select column_name, data_type from information_schema.columns where table_schema = 'mart' "
        "and table_name = :t order by ordinal_position"), {"t": relation}).all()


def test_0009_keeps_the_district_sums_and_sums_the_province_rows_on_read(settings):
    """0009 turned mart.unit_sums into a view (district rows of mart.district_sums, province rows summed on
    read): the same columns, types and indicator values as the table, without a rebuild."""
    engine = warehouse.get_engine(settings)
    migrations.upgrade(engine, "0008_unit_target_from_config")
    registry.load_province(engine, settings.province_config())
    indicators = "select * from mart.{} order by 1, 2, 3, 4"
    with engine.begin() as c:
        columns = _columns(c, "unit_sums")
        counts = [name for name, kind in columns[6:]]
        districts = {"118": {"gv_tong": 9, "so_lop_mau_giao": 3, "kinh_phi_bd": 1.5, "dan_so_3_5": None},
                     "119": {"gv_tong": 4, "so_lop_mau_giao": 1, "kinh_phi_bd": 2.25, "dan_so_3_5": 7}}
        province = {name: 0 for name in counts}
        for code, values in districts.items():
            row = {name: values.get(name, 1) for name in counts}
            province = {name: province[name] + (row[name] or 0) for name in counts}
            c.execute(sa.text(f"insert into mart.unit_sums values ('district', :code, '2019-2020', 'CN', 1, "
                              f"'trung_cap', {', '.join(':' + n for n in counts)})"), {"code": code, **row})
        province["dan_so_3_5"] = 7
        c.execute(sa.text(f"insert into mart.unit_sums select 'province', ma_tinh, '2019-2020', 'CN', 2, "
                          f"'trung_cap', {', '.join(':' + n for n in counts)} from core.province"), province)
        before = {view: c.execute(sa.text(indicators.format(view))).all()
                  for view in ("district_indicator", "province_indicator")}
        sums_before = c.execute(sa.text("select * from mart.unit_sums order by 1, 2")).all()
    assert len(before["province_indicator"]) > 60

    assert migrations.upgrade(engine) == ["0009_province_sums_on_read", "0010_school_type_as_reported",
                                          "0011_school_facts_by_key_only", "0012_due_after_the_deadline_day",
                                          "0013_analyst_no_temp_elsewhere", "0014_held_files_are_sent",
                                          "0015_periods_to_roll_up"]
    with engine.connect() as c:
        assert _columns(c, "unit_sums") == columns
        assert c.execute(sa.text("select count(*) from mart.district_sums")).scalar() == 2
        assert c.execute(sa.text("select * from mart.unit_sums order by 1, 2")).all() == sums_before
        for view, rows in before.items():
            assert c.execute(sa.text(indicators.format(view))).all() == rows, view


def test_a_period_is_due_the_day_after_its_deadline(engine):
    """The deadline day is the district's to its end (the reminders say "hết ngày"): a district that has sent
    nothing is `missing` from the day after, in Vietnam; one that sent something is shown at once."""
    with engine.begin() as c:
        today = c.execute(sa.text("select (now() at time zone 'Asia/Ho_Chi_Minh')::date")).scalar_one()
        c.execute(sa.text("insert into core.school_year (nam_hoc, start_year) values ('2098-2099', 2098), "
                          "('2099-2100', 2099) on conflict do nothing"))
        c.execute(sa.text("insert into core.reporting_period (nam_hoc, ky_bao_cao, deadline) values "
                          "('2098-2099', 'CN', :yesterday), ('2099-2100', 'CN', :today)"),
                  {"today": today, "yesterday": today - dt.timedelta(days=1)})
        due = c.execute(sa.text("select nam_hoc, status, count(*) from mart.reporting_status "
                                "where nam_hoc in ('2098-2099', '2099-2100') group by 1, 2")).all()
        districts = c.execute(sa.text("select count(*) from core.district")).scalar_one()
    assert due == [("2098-2099", "missing", districts)]


def test_the_migrations_run_as_a_database_owner_that_is_not_a_superuser(server_url, tmp_path):
    """docs/production.md's shared server: the DBA creates the database and an owner with CREATEROLE (and lets it
    manage an `analyst` that exists already). Only a superuser may revoke PUBLIC's large-object functions, and
    0004 stopped every migration there; it now leaves that to the DBA with a notice."""
    name, owner = f"tonghop_test_{uuid.uuid4().hex[:10]}", f"tonghop_owner_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine("postgresql+psycopg" + server_url[len("postgresql"):], isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.exec_driver_sql(f"create role {owner} login createrole")
        c.exec_driver_sql(f"create database {name} owner {owner}")
        if c.exec_driver_sql("select count(*) from pg_roles where rolname = 'analyst'").scalar():
            # the DBA's step when `analyst` exists already (PostgreSQL 16+ asks for it: docs/production.md)
            c.exec_driver_sql(f"grant analyst to {owner} with admin option")
    parts = urlsplit(server_url)
    url = urlunsplit((parts.scheme, f"{owner}@{parts.netloc.split('@')[-1]}", f"/{name}", parts.query, ""))
    try:
        engine = warehouse.prepare(Settings(home=tmp_path, province="son-la", warehouse_url=url,
                                            config_dir=ROOT / "config"))
        with engine.connect() as c:
            assert c.exec_driver_sql("select current_user").scalar() == owner
            assert migrations.pending_revisions(engine) == []
            assert c.exec_driver_sql("select to_regclass('mart.reporting_status') is not null").scalar()
        engine.dispose()
    finally:
        warehouse._engine.cache_clear()
        with admin.connect() as c:
            c.exec_driver_sql(f"drop database if exists {name} with (force)")
            c.exec_driver_sql(f"drop owned by {owner}")
            c.exec_driver_sql(f"drop role {owner}")
        admin.dispose()


def test_two_runs_migrating_at_once_apply_each_revision_once(settings):
    """After an upgrade, two tasks may prepare the warehouse at the same moment: one migrates, the other waits
    for it and finds nothing left to do (no second run of the same DDL, no error)."""
    from concurrent.futures import ThreadPoolExecutor

    engine = warehouse.get_engine(settings)
    everything = migrations.pending_revisions(engine)
    with ThreadPoolExecutor(max_workers=2) as pool:
        applied = list(pool.map(lambda _: migrations.upgrade(engine), range(2)))
    assert sorted(applied, key=len) == [[], everything]
    assert migrations.pending_revisions(engine) == []


def test_a_libpq_socket_url_without_host_part_is_accepted(settings):
    """`postgresql:///tonghop?host=/run/postgresql` (libpq's form for a Unix socket, or the default one) lost
    its `//` on the way to SQLAlchemy and failed with "Could not parse SQLAlchemy URL"."""
    import dataclasses
    from urllib.parse import urlencode

    parsed = sa.engine.make_url(warehouse.sqlalchemy_url(settings.warehouse_url))
    host = parsed.host or parsed.query["host"]
    url = f"postgresql:///{parsed.database}?" + urlencode({"host": host, "port": parsed.port or 5432,
                                                           "user": parsed.username})
    socket_settings = dataclasses.replace(settings, warehouse_url=url)
    assert warehouse.libpq_url(socket_settings) == url
    assert warehouse.sqlalchemy_url(url) == "postgresql+psycopg" + url[len("postgresql"):]
    engine = warehouse.prepare(socket_settings)
    with engine.connect() as c:
        assert c.execute(sa.text("select current_database()")).scalar() == parsed.database


def test_a_warehouse_restored_onto_a_server_without_the_analyst_role_gets_it_back(tmp_path, monkeypatch):
    """docs/production.md's restore into a new `warehouse` volume: the dump holds the schemas, the data and the
    migrations' version but no role, so its GRANTs to analyst fail, the migrations (at head) never run again,
    and every task then failed with 'role "analyst" does not exist' (analysts could not log in either). A server
    of its own: dropping a role on the shared test server would pull it from under other tests."""
    import dataclasses

    home = tmp_path / "restored"
    own = Settings(home=home, province="son-la", warehouse_url=None, config_dir=ROOT / "config")
    url = warehouse.start_embedded(own)
    try:
        settings = dataclasses.replace(own, warehouse_url=url)
        engine = warehouse.prepare(settings)
        registry.load_province(engine, settings.province_config())
        # what a new server holds after pg_restore: everything but the role and what was granted to it
        admin = sa.create_engine(warehouse.sqlalchemy_url(url), isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.exec_driver_sql("drop owned by analyst")
            postgres_db = sa.create_engine(warehouse.sqlalchemy_url(url.replace("/tonghop?", "/postgres?")),
                                           isolation_level="AUTOCOMMIT")
            with postgres_db.connect() as p:
                p.exec_driver_sql("drop owned by analyst")
            postgres_db.dispose()
            c.exec_driver_sql("drop role analyst")
        warehouse._engine.cache_clear()

        monkeypatch.setenv("TONGHOP_ANALYST_PASSWORD", "mat-khau-moi")
        engine = warehouse.prepare(settings)
        assert migrations.pending_revisions(engine) == []
        with admin.connect() as c:
            assert c.execute(sa.text("select rolcanlogin and rolpassword is not null from pg_authid "
                                     "where rolname = 'analyst'")).scalar() is True
        analyst = sa.create_engine(warehouse.sqlalchemy_url(url.replace("postgres:@", "analyst@")))
        with analyst.connect() as c:
            assert c.execute(sa.text("select current_setting('transaction_read_only')")).scalar() == "on"
            assert c.execute(sa.text("select count(*) from core.district")).scalar() == 12
            assert c.execute(sa.text("select count(*) from mart.district_indicator")).scalar() == 0
            assert c.execute(sa.text("select has_table_privilege('dq.submission', 'select')")).scalar() is True
            assert c.execute(sa.text("select has_table_privilege('core.district', 'insert')")).scalar() is False
        analyst.dispose()
        admin.dispose()
    finally:
        warehouse._engine.cache_clear()
        warehouse.stop_embedded(own)
