"""One DagBag test for every DAG: imports cleanly, has docs, tags, an owner and retries (telemetry-airflow style)."""

import pytest

from tests.conftest import ROOT


@pytest.fixture(scope="module")
def dag_bag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(ROOT / "dags"))


def test_no_import_errors(dag_bag):
    assert dag_bag.import_errors == {}


def test_expected_dags(dag_bag):
    assert set(dag_bag.dag_ids) == {"tonghop_nightly", "tonghop_reminders"}


def test_every_dag_is_documented_owned_tagged_and_retried(dag_bag):
    for dag_id, dag in dag_bag.dags.items():
        assert dag.doc_md and len(dag.doc_md) > 100, f"{dag_id}: the DAG docstring is its documentation"
        assert "tonghop" in dag.tags, f"{dag_id}: tag 'tonghop' missing"
        assert not dag.catchup, f"{dag_id}: catch-up must be off"
        assert str(dag.timezone) in ("Asia/Ho_Chi_Minh", "Timezone('Asia/Ho_Chi_Minh')"), dag_id
        for t in dag.tasks:
            assert t.owner == "so-gddt", f"{dag_id}.{t.task_id}: owner"
            assert t.retries >= 1, f"{dag_id}.{t.task_id}: retries"


def test_dag_files_only_wire(dag_bag):
    """DAG files import from etl.tasks only: the logic lives in the library."""
    for path in (ROOT / "dags").glob("*.py"):
        imports = [line for line in path.read_text().splitlines() if line.startswith(("import ", "from "))]
        for line in imports:
            assert line.split()[1].split(".")[0] in {"datetime", "pendulum", "airflow", "etl"}, f"{path.name}: {line}"
        assert "from etl import tasks" in imports or "from etl import tasks, alerts" in " ".join(imports)
