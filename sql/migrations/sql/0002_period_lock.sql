-- Period locks: once the Sở has reported a period it locks it; later files for it are kept ('held')
-- and reported but change nothing until the Sở unlocks the period with a recorded reason.

create table dq.period_lock (
    lock_id        bigserial primary key,
    nam_hoc        text not null,
    ky_bao_cao     text not null,
    locked_at      timestamptz not null default now(),
    locked_by      text not null default current_user,
    lock_reason    text,
    unlocked_at    timestamptz,
    unlocked_by    text,
    unlock_reason  text,
    check ((unlocked_at is null) = (unlock_reason is null))
);
create unique index period_lock_open_idx on dq.period_lock (nam_hoc, ky_bao_cao) where unlocked_at is null;
comment on table dq.period_lock is 'One row per lock of a period (grain: lock event); the lock is in force while unlocked_at is NULL. Unlocking requires a reason.';
comment on column dq.period_lock.nam_hoc is 'School year locked.';
comment on column dq.period_lock.ky_bao_cao is 'Round locked (HKI or CN).';
comment on column dq.period_lock.locked_at is 'When the Sở locked the period.';
comment on column dq.period_lock.locked_by is 'Who locked it (database user or the name given).';
comment on column dq.period_lock.lock_reason is 'Why (e.g. reported to UBND on a date).';
comment on column dq.period_lock.unlocked_at is 'When it was unlocked; NULL while locked.';
comment on column dq.period_lock.unlocked_by is 'Who unlocked it.';
comment on column dq.period_lock.unlock_reason is 'Why it was unlocked (required).';
grant select on dq.period_lock to analyst;
