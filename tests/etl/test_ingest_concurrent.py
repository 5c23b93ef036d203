"""Two ingests at once: `tonghop ingest` typed by an operator while the nightly DAG's ingest task runs
(max_active_runs covers only the same DAG). Each file must be recorded, staged and published once."""

from __future__ import annotations

import threading

import sqlalchemy as sa

import etl.ingest
from etl.generate import generate_district_workbook
from etl.ingest import ingest_files, ingest_landing


def test_a_cli_ingest_during_the_nightly_ingest_waits_and_records_nothing_twice(engine, settings, monkeypatch):
    province = settings.province_config()
    settings.landing_dir.mkdir(parents=True)
    generate_district_workbook(province, "118", "2019-2020", "CN", settings.landing_dir / "quynh-nhai.xlsx", seed=1)
    # the nightly ingest is slow (a national night): it holds while reading, once its file is recorded
    reading, go = threading.Event(), threading.Event()
    read_chunk = etl.ingest._read_chunk

    def slow_read(*args, **kwargs):
        if threading.current_thread().name == "nightly":
            reading.set()
            go.wait(timeout=60)
        return read_chunk(*args, **kwargs)

    monkeypatch.setattr(etl.ingest, "_read_chunk", slow_read)
    results: dict[str, list] = {}
    errors: list[BaseException] = []

    def run(name, work):
        try:
            results[name] = work()
        except BaseException as error:  # noqa: BLE001 - reported by the assertions below
            errors.append(error)

    nightly = threading.Thread(target=run, name="nightly", args=("nightly", lambda: ingest_landing(engine, settings)))
    nightly.start()
    assert reading.wait(timeout=60)
    waits: list[int] = []
    cli = threading.Thread(target=run, name="cli", args=("cli", lambda: ingest_files(
        engine, settings, [settings.landing_dir], on_wait=lambda: waits.append(1))))
    cli.start()
    cli.join(timeout=5)
    assert cli.is_alive(), "the second ingest waits for the first"
    assert waits == [1], "and says so"
    go.set()
    nightly.join(timeout=120)
    cli.join(timeout=120)
    assert not errors, errors
    assert [(v.file_name, v.status) for v in results["nightly"]] == [("quynh-nhai.xlsx", "accepted")]
    assert results["cli"] == [], "the file left the landing folder with its verdict: nothing is left to take"
    [sid] = [v.submission_id for v in results["nightly"]]
    with engine.connect() as c:
        submissions = c.execute(sa.text("select submission_id, status from dq.submission")).all()
        staged = c.execute(sa.text("select count(*), count(distinct row_number) from staging.truong_lop "
                                   "where submission_id = :s"), {"s": sid}).one()
        issues = c.execute(sa.text("select count(*), count(distinct (rule, sheet, row_number, column_key, message)) "
                                   "from dq.issue where submission_id = :s"), {"s": sid}).one()
    assert submissions == [(sid, "accepted")]
    assert staged[0] == staged[1] > 0, "each Excel row staged once"
    assert issues[0] == issues[1], "each finding recorded once"
