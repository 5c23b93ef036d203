"""docs/analyst-guide.md and its ten example queries (docs/queries/*.sql): every query runs as the analyst
role on the demo warehouse and returns rows, and the guide shows each one verbatim."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from etl.config import PROJECT_ROOT
from etl.demo import run_demo
from tests.conftest import fresh_database
from tests.etl.test_analyst_access import analyst_url

GUIDE = PROJECT_ROOT / "docs" / "analyst-guide.md"
QUERIES = sorted((PROJECT_ROOT / "docs" / "queries").glob("*.sql"))
SQL_KEYWORDS = re.compile(r"\b(SELECT|FROM|WHERE|JOIN|WITH|GROUP|ORDER|AS|AND|OR|ON|CASE|WHEN|THEN|END)\b")


def _query(name: str):
    return next(p for p in QUERIES if p.name.startswith(name))


@pytest.fixture(scope="module")
def demo_warehouse(server_url, tmp_path_factory):
    with fresh_database(server_url, tmp_path_factory.mktemp("home")) as settings:
        run_demo(settings, seed=2025)
        yield settings


@pytest.fixture(scope="module")
def analyst(demo_warehouse):
    engine = sa.create_engine(analyst_url(demo_warehouse.warehouse_url), poolclass=NullPool)
    yield engine
    engine.dispose()


def _run(engine: sa.Engine, path) -> list[sa.Row]:
    with engine.connect() as c:
        assert c.exec_driver_sql("select current_user").scalar() == "analyst"
        return c.execute(sa.text(path.read_text(encoding="utf-8"))).all()


def test_there_are_ten_numbered_queries():
    assert [p.name[:3] for p in QUERIES] == [f"{i:02d}_" for i in range(1, 11)]


@pytest.mark.parametrize("path", QUERIES, ids=lambda p: p.stem)
def test_query_runs_as_analyst_and_returns_rows(analyst, path):
    rows = _run(analyst, path)
    assert len(rows) >= 1, f"{path.name} returned no rows on the demo warehouse"


@pytest.mark.parametrize("path", QUERIES, ids=lambda p: p.stem)
def test_query_style(path):
    text = path.read_text(encoding="utf-8")
    header = text.split("\nwith\n", 1)[0]
    assert header.startswith("-- Câu hỏi:") and "-- Question:" in header, "header: the question in vi and en"
    body = "\n".join(line.split("--", 1)[0] for line in text.splitlines())
    assert not SQL_KEYWORDS.search(body), "lowercase SQL"
    assert re.search(r"^with\n\n\w+ as \(\n    select \* from (core|mart|dq)\.\w+\n\),", text, re.M), \
        "import CTEs first"
    assert text.endswith(";\n")


@pytest.mark.parametrize("path", QUERIES, ids=lambda p: p.stem)
def test_guide_shows_the_query_verbatim(path):
    guide = GUIDE.read_text(encoding="utf-8")
    assert f"```sql\n{path.read_text(encoding='utf-8')}```" in guide, \
        f"docs/analyst-guide.md must embed {path.name} exactly, in a ```sql block"
    assert f"docs/queries/{path.name}" in guide


def test_no_connection_example_splices_the_analyst_password_into_a_uri():
    """Inside a postgresql:// URI a password must be percent-encoded (libpq rejects `100%`, and `@ : / ? #`
    end the password): examples pass it as PGPASSWORD, by the prompt or ~/.pgpass, or via sa.URL.create."""
    for path in (GUIDE, PROJECT_ROOT / "docs" / "production.md", PROJECT_ROOT / "README.md"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"postgres(ql)?://analyst:\$", text), f"{path.name} splices the password into a URI"


def test_below_target_districts_are_below_the_province_target(analyst):
    rows = _run(analyst, _query("01_"))
    assert all(row.gv_kha_tro_len_pct < row.target and row.gap_points < 0 for row in rows)
    assert {row.target for row in rows} == {Decimal(95)}


def test_trend_marks_the_definition_change_once(analyst):
    rows = _run(analyst, _query("02_"))
    changed = {(row.indicator, row.nam_hoc) for row in rows if row.definition_changed}
    assert changed == {("gv_dat_chuan_td", "2020-2021"), ("gv_tren_chuan_td", "2020-2021")}
    assert all(row.comparable_change_points is None for row in rows if row.definition_changed)
    assert min(row.nam_hoc for row in rows) == "2018-2019"


def test_schools_lacking_teachers_add_up_to_thieu_gv(analyst):
    rows = _run(analyst, _query("03_"))
    with analyst.connect() as c:
        thieu_gv = c.exec_driver_sql(
            "select value from mart.province_indicator "
            "where indicator = 'thieu_gv' and nam_hoc = '2024-2025' and ky_bao_cao = 'CN'").scalar()
    assert {row.nam_hoc for row in rows} == {"2024-2025"}
    assert sum(row.thieu_gv for row in rows) == thieu_gv


def test_file_quality_lists_every_district(analyst):
    rows = _run(analyst, _query("06_"))
    assert len(rows) == 12
    assert sum(row.files_received for row in rows) == 96
