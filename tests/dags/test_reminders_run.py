"""Run tonghop_reminders in-process (dag.test) against the test warehouse and a real SMTP server."""

import datetime as dt

import pendulum
import sqlalchemy as sa

from tests.etl.test_alerts import add_submission, smtp_sink  # noqa: F401 - fixture


def test_reminders_dag_mails_the_districts_once_a_day(airflow_db, engine, settings, use_settings,
                                                      smtp_sink):  # noqa: F811
    from airflow.dag_processing.dagbag import DagBag

    # 2019-2020 CN (deadline 15/06/2020): Mộc Châu has reported, the eleven others have not
    add_submission(engine, settings, ma_don_vi="123", received=dt.datetime(2020, 6, 3, tzinfo=dt.UTC))
    use_settings(settings)
    dag = DagBag().get_dag("tonghop_reminders")

    # the run of 8 June 2020, 07:00 in Hà Nội: seven days before the deadline
    run = dag.test(logical_date=pendulum.datetime(2020, 6, 8, 7, tz="Asia/Ho_Chi_Minh"))
    assert run.state == "success"
    sent = run.get_task_instance("send_reminders").xcom_pull(task_ids="send_reminders")
    assert len(sent) == 11 and {m["kind"] for m in sent} == {"reminder_before"}
    received = smtp_sink.messages()
    assert len(received) == 11
    recipients = {r for rcpt, _ in received for r in rcpt}
    assert "pgd-mocchau@example.org" not in recipients
    assert {"pgd-tpsonla@example.org", "pgd-quynhnhai@example.org", "pgd-vanho@example.org"} <= recipients
    subjects = {m["Subject"] for _, m in received}
    assert subjects == {"[Sở GD&ĐT Sơn La] Nhắc hạn nộp báo cáo GDMN năm học 2019-2020 (CN): còn 7 ngày, "
                        "hạn 15/06/2020"}
    _, msg = next((rcpt, m) for rcpt, m in received if rcpt == ["pgd-songma@example.org"])
    assert "Kính gửi: Phòng GD&ĐT huyện Sông Mã" in msg.get_body(preferencelist=("plain",)).get_content()

    # a second run the same day (a manual trigger later that morning) sends nothing
    again = dag.test(logical_date=pendulum.datetime(2020, 6, 8, 9, 30, tz="Asia/Ho_Chi_Minh"))
    assert again.state == "success"
    assert len(smtp_sink.envelopes) == 11
    with engine.connect() as c:
        log = c.execute(sa.text("select kind, due_on, transport, count(*) from dq.alert_log group by 1, 2, 3")).all()
    assert log == [("reminder_before", dt.date(2020, 6, 8), "smtp", 11)]
