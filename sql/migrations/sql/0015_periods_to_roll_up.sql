-- mart.period_to_roll_up: the periods whose facts were published since their last roll-up. The nightly roll-up
-- rebuilds only the periods of its own accepted files, so a publish that was not followed by its roll-up (the
-- night's roll-up task failed after the ingest had committed, or a file published by another path) left the
-- marts of that period behind the facts until some later file of the same period or a full `tonghop rollup`.
-- Publishing now records its periods here in its transaction, and every roll-up takes them with its own
-- (etl/rollup.py). Filled by the first roll-up after this migration (a migration rebuilds the marts whole).

create table mart.period_to_roll_up (
    nam_hoc text not null,
    ky_bao_cao text not null,
    primary key (nam_hoc, ky_bao_cao)
);

comment on table mart.period_to_roll_up is 'Periods whose facts were published since their last roll-up (grain: nam_hoc x ky_bao_cao); written by publishing, emptied by the roll-up that takes them. Empty when the marts are up to date.';
comment on column mart.period_to_roll_up.nam_hoc is 'School year of the period.';
comment on column mart.period_to_roll_up.ky_bao_cao is 'Round of the period: HKI or CN.';

grant select on mart.period_to_roll_up to analyst;
