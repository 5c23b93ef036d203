"""docs/data-dictionary.md is generated from the warehouse's COMMENT ON texts and kept in step with them."""

from __future__ import annotations

import difflib

import pytest
import sqlalchemy as sa

from etl import warehouse
from etl.docs import DATA_DICTIONARY, SCHEMAS, render_data_dictionary


@pytest.fixture
def migrated(settings) -> sa.Engine:
    return warehouse.prepare(settings)


def test_data_dictionary_is_up_to_date(migrated):
    rendered = render_data_dictionary(migrated)
    committed = DATA_DICTIONARY.read_text(encoding="utf-8") if DATA_DICTIONARY.exists() else ""
    if rendered != committed:
        diff = "".join(list(difflib.unified_diff(
            committed.splitlines(keepends=True), rendered.splitlines(keepends=True),
            "docs/data-dictionary.md (committed)", "from the migrations"))[:60])
        pytest.fail("docs/data-dictionary.md is stale: regenerate it with `tonghop docs` "
                    "(e.g. `TONGHOP_HOME=$(mktemp -d) .venv/bin/tonghop docs`) and commit it.\n" + diff)


def test_data_dictionary_lists_every_table_and_view_with_its_columns(migrated):
    text = render_data_dictionary(migrated)
    with migrated.connect() as c:
        objects = c.execute(sa.text(
            "select n.nspname, cl.relname, cl.oid from pg_class cl join pg_namespace n on n.oid = cl.relnamespace "
            "where n.nspname = any(:schemas) and cl.relkind in ('r', 'v', 'm')"), {"schemas": list(SCHEMAS)}).all()
        for schema, name, oid in objects:
            assert f"### `{schema}.{name}` (" in text
            section = text.split(f"### `{schema}.{name}` (", 1)[1].split("\n### ", 1)[0]
            columns = c.execute(sa.text(
                "select attname from pg_attribute where attrelid = :oid and attnum > 0 and not attisdropped"),
                {"oid": oid}).scalars()
            for column in columns:
                assert f"| `{column}` |" in section, f"{schema}.{name}.{column}"
    for schema in SCHEMAS:
        assert f"## Schema `{schema}`" in text
    assert {"mart.reporting_status", "mart.indicator_trend", "dq.submission", "dq.issue"} <= {
        f"{schema}.{name}" for schema, name, _ in objects}


def test_every_table_and_view_states_its_grain(migrated):
    with migrated.connect() as c:
        lacking = c.execute(sa.text(
            "select format('%I.%I', n.nspname, cl.relname) from pg_class cl "
            "join pg_namespace n on n.oid = cl.relnamespace "
            "where n.nspname = any(:schemas) and cl.relkind in ('r', 'v', 'm') "
            "and coalesce(obj_description(cl.oid, 'pg_class'), '') !~* '(grain|one row per)' order by 1"),
            {"schemas": list(SCHEMAS)}).scalars().all()
    assert lacking == [], f"tables and views whose COMMENT states no grain ('grain' or 'One row per'): {lacking}"


def test_every_schema_has_a_comment(migrated):
    with migrated.connect() as c:
        missing = c.execute(sa.text(
            "select nspname from pg_namespace where nspname = any(:schemas) "
            "and obj_description(oid, 'pg_namespace') is null"), {"schemas": list(SCHEMAS)}).scalars().all()
    assert missing == []
