"""Deadline reminders: before and after the deadline, once each, never to a district that reported."""

import datetime as dt
import email
from email import policy

import pytest
import sqlalchemy as sa

from etl import reminders
from tests.etl.test_alerts import add_submission, no_smtp  # noqa: F401 - fixture

ALL = {"116", "118", "119", "120", "121", "122", "123", "124", "125", "126", "127", "128"}
CN_2020 = dt.date(2020, 6, 15)  # CN deadline of 2019-2020 (province.yaml: 15 June)


@pytest.fixture
def period(engine, settings):
    """2019-2020 CN: Mộc Châu (123) accepted, Quỳnh Nhai (118) only rejected, the others nothing."""
    add_submission(engine, settings, ma_don_vi="123", received=dt.datetime(2020, 6, 3, tzinfo=dt.UTC))
    add_submission(engine, settings, ma_don_vi="118", status="rejected", email_="ketoan.qn@example.net",
                   received=dt.datetime(2020, 6, 5, tzinfo=dt.UTC))
    return engine


def sent(engine) -> list[tuple]:
    with engine.connect() as c:
        return c.execute(sa.text(
            "select kind, ma_don_vi, dedup_key, due_on, transport from dq.alert_log order by alert_id")).all()


def test_seven_days_before_every_district_without_a_valid_file(period, settings, no_smtp):  # noqa: F811
    today = CN_2020 - dt.timedelta(days=7)
    due = reminders.due_reminders(period, settings, today)
    assert {r.ma_don_vi for r in due} == ALL - {"123"}
    assert {(r.kind, r.nam_hoc, r.ky_bao_cao, r.offset) for r in due} == {("reminder_before", "2019-2020", "CN", -7)}
    quynh_nhai = next(r for r in due if r.ma_don_vi == "118")
    assert quynh_nhai.status == "rejected"
    assert quynh_nhai.to == ("pgd-quynhnhai@example.org", "ketoan.qn@example.net")
    assert quynh_nhai.dedup_key == "reminder_before:118:2019-2020:CN:-7"

    first = reminders.send_due_reminders(period, settings, today)
    assert len(first) == 11 and not any(m["skipped"] for m in first)
    files = sorted(settings.outbox_dir.glob("*.eml"))
    assert len(files) == 11
    msgs = [email.message_from_bytes(p.read_bytes(), policy=policy.default) for p in files]
    msg = next(m for m in msgs if "pgd-quynhnhai@example.org" in m["To"])
    assert msg["Subject"] == ("[Sở GD&ĐT Sơn La] Nhắc hạn nộp báo cáo GDMN năm học 2019-2020 (CN): còn 7 ngày, "
                              "hạn 15/06/2020")
    text = msg.get_body(preferencelist=("plain",)).get_content()
    assert "Kính gửi: Phòng GD&ĐT huyện Quỳnh Nhai" in text and "đều bị từ chối" in text
    other = next(m for m in msgs if "pgd-maison@example.org" in m["To"])
    assert "Sở chưa nhận được báo cáo hợp lệ của đơn vị" in other.get_body(preferencelist=("plain",)).get_content()
    assert not any("pgd-mocchau@example.org" in m["To"] for m in msgs)  # 123 reported: nothing

    # the same day again: nothing twice
    again = reminders.send_due_reminders(period, settings, today)
    assert len(again) == 11 and all(m["skipped"] for m in again)
    assert len(list(settings.outbox_dir.glob("*.eml"))) == 11
    assert len(sent(period)) == 11
    assert {r.due_on for r in sent(period)} == {today} and {r.transport for r in sent(period)} == {"outbox"}


def test_only_the_configured_days_before(period, settings):
    for days, expected in ((8, 0), (7, 11), (6, 0), (2, 11), (1, 0), (0, 0)):
        assert len(reminders.due_reminders(period, settings, CN_2020 - dt.timedelta(days=days))) == expected, days


def test_after_the_deadline_missing_and_rejected_weekly(period, settings, no_smtp):  # noqa: F811
    day1 = CN_2020 + dt.timedelta(days=1)
    first = reminders.send_due_reminders(period, settings, day1)
    assert {m["ma_don_vi"] for m in first} == ALL - {"123"}
    assert {m["kind"] for m in first} == {"reminder_overdue"}
    subjects = {m["ma_don_vi"]: m["subject"] for m in first}
    assert subjects["118"] == ("[Sở GD&ĐT Sơn La] Báo cáo GDMN năm học 2019-2020 (CN) đã quá hạn 1 ngày: "
                               "chưa có tệp hợp lệ")
    assert subjects["116"].endswith("đã quá hạn 1 ngày: đề nghị gửi ngay")
    # within the week: nothing, whichever day
    for later in range(2, 8):
        assert reminders.due_reminders(period, settings, CN_2020 + dt.timedelta(days=later)) == [], later
    # Mường La reports late; a week after the first reminder, the others are reminded again
    add_submission(period, settings, ma_don_vi="120", received=dt.datetime(2020, 6, 20, tzinfo=dt.UTC))
    week2 = reminders.send_due_reminders(period, settings, CN_2020 + dt.timedelta(days=8))
    assert {m["ma_don_vi"] for m in week2} == ALL - {"123", "120"}
    assert all(not m["skipped"] and m["dedup_key"].endswith(":+8") for m in week2)
    # long after the deadline (province default: 90 days) reminders stop
    assert reminders.due_reminders(period, settings, CN_2020 + dt.timedelta(days=91)) == []
    assert len(reminders.due_reminders(period, settings, CN_2020 + dt.timedelta(days=90))) == 10


def test_districts_without_open_schools_and_locked_periods_get_none(period, settings):
    with period.begin() as c:
        # Vân Hồ's schools all closed from 2019-2020 (merged away): it is not expected that year
        c.execute(sa.text("update core.school set dong_tu_nam_hoc = '2019-2020' where ma_don_vi = '128'"))
    due = reminders.due_reminders(period, settings, CN_2020 - dt.timedelta(days=2))
    assert {r.ma_don_vi for r in due} == ALL - {"123", "128"}
    with period.begin() as c:
        c.execute(sa.text("insert into dq.period_lock (nam_hoc, ky_bao_cao, lock_reason) "
                          "values ('2019-2020', 'CN', 'đã báo cáo UBND tỉnh')"))
    assert reminders.due_reminders(period, settings, CN_2020 - dt.timedelta(days=2)) == []


def test_hki_deadline_and_the_logical_date_in_vietnam(period, settings):
    due = reminders.due_reminders(period, settings, dt.date(2021, 1, 13))  # 7 days before HKI 2020-2021
    assert {(r.nam_hoc, r.ky_bao_cao, r.deadline) for r in due} == {("2020-2021", "HKI", dt.date(2021, 1, 20))}
    assert len(due) == 12
    # 07:00 in Hà Nội is 00:00 UTC; 18:00 UTC is already the next day there
    assert reminders.local_date("2020-06-08T00:00:00+00:00") == dt.date(2020, 6, 8)
    assert reminders.local_date("2020-06-07T18:00:00+00:00") == dt.date(2020, 6, 8)
    assert reminders.local_date("2020-06-08") == dt.date(2020, 6, 8)


@pytest.mark.parametrize("machine_tz", ["Etc/GMT+12", "Etc/GMT-14"])  # together, one differs from Hà Nội's date
def test_remind_without_a_day_takes_today_in_vietnam_not_the_machines_date(
        engine, settings, use_settings, no_smtp, monkeypatch, capsys, machine_tz):  # noqa: F811
    """`tonghop remind` run by the Sở's staff in a container (TZ=UTC) before 07:00 must remind for today
    in Vietnam, as the DAG does, not for the machine's (yesterday's) date."""
    import time
    from zoneinfo import ZoneInfo

    from etl import cli

    use_settings(settings)
    monkeypatch.setenv("TZ", machine_tz)
    time.tzset()
    try:
        assert cli.main(["remind"]) == 0
    finally:
        monkeypatch.undo()
        time.tzset()
    assert f"({dt.datetime.now(ZoneInfo('Asia/Ho_Chi_Minh')).date().isoformat()})" in capsys.readouterr().out
