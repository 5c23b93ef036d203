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
