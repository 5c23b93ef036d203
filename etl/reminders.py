"""Deadline reminders to the districts, each sent once.

Deadlines are those of core.reporting_period (loaded from the province configuration: HKI 20 January,
CN 15 June of the second calendar year by default). For a run on `today` (the DAG run's logical date in
Asia/Ho_Chi_Minh, so a re-run of a past day computes the same thing):

- **before** (`reminder_before`): on each of the days `reminder_days_before` (province.yaml, e.g.
  [7, 2]) before a deadline, to every expected district that has no valid file for the period yet
  (no submission accepted, superseded or held; one with only rejected files is told so);
- **overdue** (`reminder_overdue`): after the deadline, to every expected district whose period is
  `missing` or `rejected` in mart.reporting_status, at most once per week per district and period:
  a reminder is due when none was recorded for the same district and period with a `due_on` in the
  previous 6 days. Run daily, that is the day after the deadline, then every 7 days; a day the DAG did
  not run shifts the weekly rhythm instead of skipping a week. Overdue reminders stop
  `reminder_overdue_max_days` (province.yaml, default 90) after the deadline: after that the Sở follows
  up by other means, and old periods do not nag forever.

A district is expected in a school year only if it has a registry school open that year (a closed or
merged school is never expected), so completeness cannot exceed 100 %. Periods the Sở has locked
(dq.period_lock) get no reminders: a late file for them would be held anyway.

Whether a district has sent something is judged on everything received so far (not "as of" the run's
date), so a backfill never reminds a district that has since reported.

Each reminder has a dedup key (district, period, kind, day offset from the deadline), e.g.
`reminder_before:116:2019-2020:CN:-7`; `alerts.deliver` sends it only if the key is not in
dq.alert_log yet, so a second run of the same day sends nothing twice.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa

from etl.alerts import (
    EXPECTED_DISTRICT,
    KY_VI,
    SUBMITTED,
    TZ,
    deliver,
    esc,
    fmt_date,
    html_page,
    recipients,
    so_email,
    so_name,
    so_short_name,
)
from etl.config import Settings
from etl.layout import template_versions
from etl.mail import OutgoingMail

OVERDUE_EVERY_DAYS = 7
DEFAULT_OVERDUE_MAX_DAYS = 90


@dataclass(frozen=True)
class Reminder:
    kind: str  # reminder_before | reminder_overdue
    ma_don_vi: str
    ten_don_vi: str
    nam_hoc: str
    ky_bao_cao: str
    deadline: dt.date
    today: dt.date
    status: str  # before: not_submitted | rejected; overdue: missing | rejected
    to: tuple[str, ...]

    @property
    def offset(self) -> int:
        """Days from the deadline: -7 a week before, +1 the day after."""
        return (self.today - self.deadline).days

    @property
    def dedup_key(self) -> str:
        return f"{self.kind}:{self.ma_don_vi}:{self.nam_hoc}:{self.ky_bao_cao}:{self.offset:+d}"


def local_date(when: str | dt.datetime | dt.date | None) -> dt.date:
    """The calendar day in Asia/Ho_Chi_Minh of a logical date (ISO text, datetime or date; None = now).
    A naive datetime is taken as UTC, as Airflow's are."""
    if when is None:
        return dt.datetime.now(TZ).date()
    if isinstance(when, str):
        when = dt.datetime.fromisoformat(when) if "T" in when or " " in when else dt.date.fromisoformat(when)
    if isinstance(when, dt.datetime):
        aware = when if when.tzinfo else when.replace(tzinfo=dt.UTC)
        return aware.astimezone(TZ).date()
    return when


_CANDIDATES = (
    """
select p.nam_hoc, p.ky_bao_cao, p.deadline, d.ma_don_vi, d.ten_don_vi, d.email as registry_email,
       (select s.email from dq.submission as s
         where s.ma_don_vi = d.ma_don_vi and s.email is not null
         order by s.received_at desc, s.submission_id desc limit 1) as file_email,
       exists (select from dq.submission as s
                where s.ma_don_vi = d.ma_don_vi and s.nam_hoc = p.nam_hoc and s.ky_bao_cao = p.ky_bao_cao
                  and s.status = any(:submitted)) as submitted,
       exists (select from dq.submission as s
                where s.ma_don_vi = d.ma_don_vi and s.nam_hoc = p.nam_hoc and s.ky_bao_cao = p.ky_bao_cao
                  and s.status = 'rejected') as has_rejected,
       rs.status as reporting_status,
       (select max(a.due_on) from dq.alert_log as a
         where a.kind = 'reminder_overdue' and a.ma_don_vi = d.ma_don_vi and a.nam_hoc = p.nam_hoc
           and a.ky_bao_cao = p.ky_bao_cao and a.due_on <= :today) as last_overdue_on
from core.reporting_period as p
cross join core.district as d
left join mart.reporting_status as rs
       on rs.ma_don_vi = d.ma_don_vi and rs.nam_hoc = p.nam_hoc and rs.ky_bao_cao = p.ky_bao_cao
where (p.deadline - cast(:today as date) = any(:before) or
       (p.deadline < :today and :today - p.deadline <= :max_overdue))
  and not exists (select from dq.period_lock as l
                   where l.nam_hoc = p.nam_hoc and l.ky_bao_cao = p.ky_bao_cao and l.unlocked_at is null)
  and """
    + EXPECTED_DISTRICT.format(nam_hoc="p.nam_hoc")
    + """
order by p.deadline, d.ma_don_vi
"""
)


def due_reminders(engine: sa.Engine, settings: Settings, today: dt.date) -> list[Reminder]:
    """The reminders due on `today` (module docstring), not yet filtered by what was already sent today."""
    meta = settings.province_config().meta
    before = sorted({int(n) for n in meta.get("reminder_days_before", [7, 2]) if int(n) > 0})
    max_overdue = int(meta.get("reminder_overdue_max_days", DEFAULT_OVERDUE_MAX_DAYS))
    with engine.connect() as conn:
        rows = (
            conn.execute(
                sa.text(_CANDIDATES),
                {
                    "today": today,
                    "before": before,
                    "max_overdue": max_overdue,
                    "submitted": list(SUBMITTED),
                },
            )
            .mappings()
            .all()
        )
    due: list[Reminder] = []
    for r in rows:
        if r["deadline"] >= today:
            if r["submitted"]:
                continue
            kind, status = "reminder_before", "rejected" if r["has_rejected"] else "not_submitted"
        else:
            if r["reporting_status"] not in ("missing", "rejected"):
                continue
            last = r["last_overdue_on"]
            if last is not None and (today - last).days < OVERDUE_EVERY_DAYS:
                continue
            kind, status = "reminder_overdue", r["reporting_status"]
        to = recipients(r["registry_email"], r["file_email"])
        if to:
            due.append(
                Reminder(
                    kind,
                    r["ma_don_vi"],
                    r["ten_don_vi"],
                    r["nam_hoc"],
                    r["ky_bao_cao"],
                    r["deadline"],
                    today,
                    status,
                    tuple(to),
                )
            )
    return due


def reminder_mail(settings: Settings, r: Reminder) -> OutgoingMail:
    """The Vietnamese e-mail of one reminder."""
    so, so_full = so_short_name(settings), so_name(settings)
    ky = KY_VI.get(r.ky_bao_cao, r.ky_bao_cao)
    what = f"báo cáo GDMN năm học {r.nam_hoc}, kỳ {ky} ({r.ky_bao_cao}), mẫu {template_versions().current}"
    rejected = (
        "Các tệp đơn vị đã gửi cho kỳ này đều bị từ chối (xem thư thông báo lỗi của Sở): "
        "đề nghị đơn vị sửa và gửi lại tệp đã sửa."
    )
    if r.kind == "reminder_before":
        days = -r.offset
        subject = (
            f"[{so}] Nhắc hạn nộp báo cáo GDMN năm học {r.nam_hoc} ({r.ky_bao_cao}): còn {days} ngày, "
            f"hạn {fmt_date(r.deadline)}"
        )
        lines = [
            f"Hạn nộp {what} là hết ngày {fmt_date(r.deadline)} (còn {days} ngày).",
            f"Đến ngày {fmt_date(r.today)}, Sở chưa nhận được báo cáo hợp lệ của đơn vị.",
            rejected if r.status == "rejected" else "Đề nghị đơn vị hoàn thành và gửi báo cáo trước hạn.",
            "Nếu đơn vị đã gửi báo cáo trong hôm nay, xin bỏ qua thư này.",
        ]
    else:
        days = r.offset
        subject = (
            f"[{so}] Báo cáo GDMN năm học {r.nam_hoc} ({r.ky_bao_cao}) đã quá hạn {days} ngày: "
            f"{'chưa có tệp hợp lệ' if r.status == 'rejected' else 'đề nghị gửi ngay'}"
        )
        lines = [
            f"Hạn nộp {what} là hết ngày {fmt_date(r.deadline)}; đến ngày {fmt_date(r.today)} đã quá hạn {days} ngày.",
            rejected if r.status == "rejected" else "Sở chưa nhận được báo cáo của đơn vị.",
            "Đề nghị đơn vị gửi báo cáo ngay; số liệu của đơn vị chưa có trong báo cáo tổng hợp của tỉnh.",
            "Nếu đơn vị đã gửi báo cáo, xin bỏ qua thư này.",
        ]
    footer = (f"(Thư gửi tự động từ hệ thống tổng hợp báo cáo của Sở; mọi trao đổi xin gửi về "
              f"{so_email(settings)}.)")
    text = "\n".join([f"Kính gửi: {r.ten_don_vi},", "", *lines, "", "Trân trọng,", so_full, footer]) + "\n"
    body = (
        f"<p>Kính gửi: <b>{esc(r.ten_don_vi)}</b>,</p>"
        + "".join(f"<p>{esc(line)}</p>" for line in lines)
        + f"<p>Trân trọng,<br>{esc(so_full)}<br><i>{esc(footer)}</i></p>"
    )
    return OutgoingMail(
        kind=r.kind,
        to=list(r.to),
        subject=subject,
        text=text,
        html=html_page(body),
        ma_don_vi=r.ma_don_vi,
        nam_hoc=r.nam_hoc,
        ky_bao_cao=r.ky_bao_cao,
        dedup_key=r.dedup_key,
        due_on=r.today,
        reply_to=so_email(settings) or None,
    )


def send_due_reminders(engine: sa.Engine, settings: Settings, today: dt.date) -> list[dict]:
    """Send what is due on `today`, each once (dq.alert_log); returns one entry per reminder, sent or skipped."""
    return deliver(engine, settings, [reminder_mail(settings, r) for r in due_reminders(engine, settings, today)])
