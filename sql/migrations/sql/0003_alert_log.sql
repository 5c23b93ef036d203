-- Alert log: every e-mail tonghop sent (SMTP) or wrote (outbox .eml): alerts to districts about their
-- findings, the nightly summary to the Sở, and deadline reminders. The dedup_key makes a re-run (a
-- retried task, a second run of the same day) send nothing twice.

create table dq.alert_log (
    alert_id        bigserial primary key,
    kind            text not null
        check (kind in ('finding', 'summary', 'reminder_before', 'reminder_overdue')),
    ma_don_vi       text,
    nam_hoc         text,
    ky_bao_cao      text,
    submission_ids  bigint[] not null default '{}',
    due_on          date,
    dedup_key       text unique,
    recipients      text[] not null,
    subject         text not null,
    transport       text not null check (transport in ('smtp', 'outbox')),
    outbox_path     text,
    sent_at         timestamptz not null default now(),
    check (dedup_key is not null or kind not in ('reminder_before', 'reminder_overdue')),
    check ((transport = 'outbox') = (outbox_path is not null))
);
create index alert_log_district_idx on dq.alert_log (ma_don_vi, nam_hoc, ky_bao_cao, kind);
comment on table dq.alert_log is 'One row per e-mail sent through SMTP or written to the outbox (grain: message). kind: finding (a district told about the findings on its files), summary (the nightly summary to the Sở), reminder_before / reminder_overdue (deadline reminders). A message is recorded in the same transaction that sends it, so a row means it left.';
comment on column dq.alert_log.alert_id is 'Identifier of the message.';
comment on column dq.alert_log.kind is 'finding, summary, reminder_before (N days before the deadline) or reminder_overdue (after it, at most weekly).';
comment on column dq.alert_log.ma_don_vi is 'District the message is addressed to; NULL for the summary to the Sở (and for a file whose district is unknown).';
comment on column dq.alert_log.nam_hoc is 'School year the message is about (reminders; findings on a single period); NULL otherwise.';
comment on column dq.alert_log.ky_bao_cao is 'Round the message is about (HKI or CN); NULL when it covers several.';
comment on column dq.alert_log.submission_ids is 'The submissions (dq.submission) the message reports on; empty for reminders.';
comment on column dq.alert_log.due_on is 'For reminders: the day the reminder was due (the run''s logical date in Asia/Ho_Chi_Minh).';
comment on column dq.alert_log.dedup_key is 'Unique key of what the message is for, e.g. reminder_before:116:2019-2020:CN:-7 or reminder_overdue:116:2019-2020:CN:+8 (district, period, kind, day offset from the deadline); a second run finding the key sends nothing. Required for reminders.';
comment on column dq.alert_log.recipients is 'Addresses the message went to (registry address and the address written in the file).';
comment on column dq.alert_log.subject is 'Subject line (Vietnamese).';
comment on column dq.alert_log.transport is 'smtp (sent through the Airflow connection smtp_default) or outbox (no SMTP connection configured: written as a .eml file).';
comment on column dq.alert_log.outbox_path is 'The .eml file written under $TONGHOP_HOME/outbox/ when transport = outbox; NULL for smtp.';
comment on column dq.alert_log.sent_at is 'When the message was sent or written.';
grant select on dq.alert_log to analyst;
