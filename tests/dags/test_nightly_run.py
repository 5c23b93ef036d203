"""Run tonghop_nightly in-process on a landing folder of demo files, against the test warehouse."""

import sqlalchemy as sa

from etl.generate import generate_province


def test_nightly_dag_ingests_the_landing_folder_and_rolls_up(airflow_db, settings, use_settings):
    from airflow.dag_processing.dagbag import DagBag

    province = settings.province_config()
    settings.landing_dir.mkdir(parents=True)
    files = generate_province(province, "2019-2020", "CN", settings.landing_dir, seed=7, districts=["118", "127"])
    use_settings(settings)

    dag = DagBag().get_dag("tonghop_nightly")
    for t in dag.tasks:
        t.retries = 0  # a failure must fail the test now, not after the production retry delay
    run = dag.test()

    assert run.state == "success"
    assert list(settings.landing_dir.iterdir()) == [], "every file leaves the landing folder once it has a verdict"
    from etl import warehouse

    engine = warehouse.get_engine(settings)
    with engine.connect() as c:
        statuses = c.execute(sa.text("select status, count(*) from dq.submission group by status")).all()
        province_schools = c.execute(sa.text(
            "select value from mart.province_indicator where nam_hoc = '2019-2020' and ky_bao_cao = 'CN' "
            "and indicator = 'so_truong'")).scalar()
        district_gv = dict(c.execute(sa.text(
            "select ma_don_vi, value from mart.district_indicator where nam_hoc = '2019-2020' "
            "and ky_bao_cao = 'CN' and indicator = 'gv_tong'")).all())
        core_gv = dict(c.execute(sa.text(
            "select ma_don_vi, sum(gv_tong) from core.fact_school_period group by ma_don_vi")).all())
    assert dict(statuses) == {"accepted": len(files)}
    assert province_schools == 12 + 8  # Quỳnh Nhai and Sốp Cộp schools open in 2019-2020
    assert district_gv == core_gv and set(district_gv) == {"118", "127"}
    assert any(p.suffix == ".xlsx" for p in settings.reports_dir.iterdir())


def test_nightly_dag_with_good_bad_duplicate_and_resubmitted_files(airflow_db, settings, use_settings, smtp_sink,
                                                                     tmp_path):
    """The Sở's nightly question answered: who sent what, is it right, who must fix what."""
    import os
    import shutil

    from airflow.dag_processing.dagbag import DagBag

    from etl import warehouse
    from etl.generate import generate_district_workbook
    from tests.etl.test_ingest import break_sum_rule

    province = settings.province_config()
    landing = settings.landing_dir
    landing.mkdir(parents=True)
    good = generate_district_workbook(province, "118", "2019-2020", "CN", landing / "quynh-nhai.xlsx", seed=1)
    generate_district_workbook(province, "127", "2019-2020", "CN", landing / "sop-cop-lan-1.xlsx", seed=1)
    generate_district_workbook(province, "127", "2019-2020", "CN", landing / "sop-cop-lan-2.xlsx", seed=2)
    valid = generate_district_workbook(province, "128", "2019-2020", "CN", tmp_path / "van-ho.xlsx", seed=1)
    bad, bad_row = break_sum_rule(valid, tmp_path)
    shutil.move(bad, landing / "van-ho-loi.xlsx")
    shutil.copyfile(good, landing / "quynh-nhai-gui-lai.xlsx")  # the same bytes sent twice
    arrival = ["quynh-nhai.xlsx", "sop-cop-lan-1.xlsx", "van-ho-loi.xlsx", "quynh-nhai-gui-lai.xlsx",
               "sop-cop-lan-2.xlsx"]
    for hour, name in enumerate(arrival):
        os.utime(landing / name, (1_591_000_000 + hour * 3600,) * 2)
    use_settings(settings)

    dag = DagBag().get_dag("tonghop_nightly")
    for t in dag.tasks:
        t.retries = 0
    assert dag.test().state == "success"

    engine = warehouse.get_engine(settings)
    with engine.connect() as c:
        status = dict(c.execute(sa.text("select file_name, status from dq.submission")).all())
        current = dict(c.execute(sa.text(
            "select cs.ma_don_vi, s.file_name from core.current_submission cs join dq.submission s using "
            "(submission_id)")).all())
        bad_issue = c.execute(sa.text(
            "select i.severity, i.rule, i.sheet, i.row_number, i.column_key from dq.issue i join dq.submission s "
            "using (submission_id) where s.file_name = 'van-ho-loi.xlsx' and i.severity = 'error'")).all()
    assert status == {"quynh-nhai.xlsx": "accepted", "quynh-nhai-gui-lai.xlsx": "duplicate",
                      "sop-cop-lan-1.xlsx": "superseded", "sop-cop-lan-2.xlsx": "accepted",
                      "van-ho-loi.xlsx": "rejected"}
    assert current == {"118": "quynh-nhai.xlsx", "127": "sop-cop-lan-2.xlsx"}, "a rejected file changes nothing"
    assert ("error", "sum_mismatch", "DoiNgu", bad_row, "gv_tong") in [tuple(i) for i in bad_issue]

    mails = smtp_sink.messages()
    to_van_ho = [m for rcpt, m in mails if "pgd-vanho@example.org" in rcpt]
    to_so = [m for rcpt, m in mails if "so-gddt@example.org" in rcpt]
    assert len(to_van_ho) == 1 and len(to_so) == 1
    assert "lỗi" in to_van_ho[0]["Subject"]
    attachments = list(to_van_ho[0].iter_attachments())
    assert attachments and attachments[0].get_filename().endswith(".xlsx")
    summary = to_so[0].get_body(("plain",)).get_content()
    assert "Vân Hồ" in summary and "Sốp Cộp" in summary


def test_a_file_replaced_while_the_night_runs_stays_in_the_landing_folder(airflow_db, settings, use_settings,
                                                                          monkeypatch, tmp_path):
    """A district re-uploading its corrected workbook under the same name while the ingest runs (an on-demand
    run on a deadline day) must not have the new version deleted unread: only archived bytes leave landing."""
    import os

    from airflow.dag_processing.dagbag import DagBag

    from etl import ingest, warehouse
    from etl.generate import generate_district_workbook

    province = settings.province_config()
    landing = settings.landing_dir
    landing.mkdir(parents=True)
    generate_district_workbook(province, "118", "2019-2020", "CN", landing / "quynh-nhai.xlsx", seed=1)
    corrected = generate_district_workbook(province, "118", "2019-2020", "CN", tmp_path / "quynh-nhai.xlsx", seed=2)
    use_settings(settings)
    quarantine = ingest._quarantine  # runs once a chunk's verdicts are committed, before the run ends

    def district_reuploads_meanwhile(*args):
        quarantine(*args)
        if corrected.exists():
            os.replace(corrected, landing / "quynh-nhai.xlsx")  # the SFTP upload's atomic rename

    monkeypatch.setattr(ingest, "_quarantine", district_reuploads_meanwhile)
    dag = DagBag().get_dag("tonghop_nightly")
    for t in dag.tasks:
        t.retries = 0
    assert dag.test().state == "success"
    assert [p.name for p in landing.iterdir()] == ["quynh-nhai.xlsx"], "the corrected version was deleted unread"
    monkeypatch.undo()

    use_settings(settings)
    assert dag.test().state == "success"  # the next night takes it
    with warehouse.get_engine(settings).connect() as c:
        status = c.execute(sa.text("select submission_id, status from dq.submission order by 1")).all()
    assert status == [(1, "superseded"), (2, "accepted")]
    assert list(landing.iterdir()) == []


def test_a_retried_ingest_reports_what_its_failed_attempt_published(airflow_db, settings, use_settings, monkeypatch):
    """The ingest fails after its first chunk committed (the warehouse connection drops); the retry must not
    call that chunk's files duplicates of themselves, and the roll-up and the alerts must still cover them."""
    import os
    from datetime import timedelta

    from airflow.dag_processing.dagbag import DagBag

    from etl import ingest, warehouse
    from etl.generate import generate_district_workbook

    province = settings.province_config()
    landing = settings.landing_dir
    landing.mkdir(parents=True)
    # two periods, so that the roll-up of the first file's period depends on the first file's verdict
    generate_district_workbook(province, "118", "2019-2020", "CN", landing / "quynh-nhai.xlsx", seed=1)
    generate_district_workbook(province, "127", "2020-2021", "CN", landing / "sop-cop.xlsx", seed=1)
    for hour, name in enumerate(["quynh-nhai.xlsx", "sop-cop.xlsx"]):
        os.utime(landing / name, (1_591_000_000 + hour * 3600,) * 2)
    use_settings(settings)
    monkeypatch.setattr(ingest, "CHUNK_SIZE", 1)  # a large night: several chunks
    record_chunk, calls = ingest._record_chunk, []

    def connection_lost_in_the_second_chunk(*args):
        calls.append(1)
        if len(calls) == 2:
            raise ConnectionError("server closed the connection unexpectedly")
        return record_chunk(*args)

    monkeypatch.setattr(ingest, "_record_chunk", connection_lost_in_the_second_chunk)
    dag = DagBag().get_dag("tonghop_nightly")
    for t in dag.tasks:
        t.retries, t.retry_delay = 1, timedelta(0)  # the production retry, without its delay
    run = dag.test()

    assert run.state == "success" and run.get_task_instance("ingest").try_number == 2
    verdicts = run.get_task_instance("ingest").xcom_pull(task_ids="ingest")
    assert sorted((v["file_name"], v["status"]) for v in verdicts) == [("quynh-nhai.xlsx", "accepted"),
                                                                        ("sop-cop.xlsx", "accepted")]
    with warehouse.get_engine(settings).connect() as c:
        status = c.execute(sa.text("select file_name, status from dq.submission order by 1")).all()
        marts = c.execute(sa.text(
            "select nam_hoc, ma_don_vi from mart.district_indicator where indicator = 'gv_tong' order by 1")).all()
    assert status == [("quynh-nhai.xlsx", "accepted"), ("sop-cop.xlsx", "accepted")], "no duplicate of itself"
    assert marts == [("2019-2020", "118"), ("2020-2021", "127")]
    assert list(landing.iterdir()) == []


def test_an_ingest_retried_after_its_files_left_the_landing_folder_still_reports_them(airflow_db, settings,
                                                                                      use_settings, monkeypatch):
    """The ingest's first attempt decided every file and moved them out of the landing folder, then died
    (the worker killed, its result never stored). The retry finds the landing folder empty: it must still
    answer the scanned files with their verdicts, so that the roll-up and the alerts cover them."""
    import os
    from datetime import timedelta

    from airflow.dag_processing.dagbag import DagBag

    from etl import ingest, warehouse
    from etl.generate import generate_district_workbook

    province = settings.province_config()
    landing = settings.landing_dir
    landing.mkdir(parents=True)
    generate_district_workbook(province, "118", "2019-2020", "CN", landing / "quynh-nhai.xlsx", seed=1)
    generate_district_workbook(province, "127", "2019-2020", "CN", landing / "sop-cop.xlsx", seed=1)
    for hour, name in enumerate(["quynh-nhai.xlsx", "sop-cop.xlsx"]):
        os.utime(landing / name, (1_591_000_000 + hour * 3600,) * 2)
    use_settings(settings)
    remove_archived, calls = ingest.remove_archived, []

    def killed_once_the_files_are_moved(*args):
        remove_archived(*args)
        calls.append(1)
        if len(calls) == 1:
            raise SystemError("worker lost after the files left the landing folder")

    monkeypatch.setattr(ingest, "remove_archived", killed_once_the_files_are_moved)
    dag = DagBag().get_dag("tonghop_nightly")
    for t in dag.tasks:
        t.retries, t.retry_delay = 1, timedelta(0)
    run = dag.test()

    assert run.state == "success" and run.get_task_instance("ingest").try_number == 2
    verdicts = run.get_task_instance("ingest").xcom_pull(task_ids="ingest")
    assert sorted((v["file_name"], v["status"]) for v in verdicts) == [("quynh-nhai.xlsx", "accepted"),
                                                                        ("sop-cop.xlsx", "accepted")]
    with warehouse.get_engine(settings).connect() as c:
        status = c.execute(sa.text("select file_name, status from dq.submission order by 1")).all()
        marts = c.execute(sa.text(
            "select ma_don_vi from mart.district_indicator where indicator = 'gv_tong' order by 1")).scalars().all()
        summaries = c.execute(sa.text("select submission_ids from dq.alert_log where kind = 'summary'")).all()
    assert status == [("quynh-nhai.xlsx", "accepted"), ("sop-cop.xlsx", "accepted")]
    assert marts == ["118", "127"], "the roll-up covers the files the first attempt decided"
    assert [sorted(s) for (s,) in summaries] == [sorted(v["submission_id"] for v in verdicts)], \
        "the Sở hears of both files"
