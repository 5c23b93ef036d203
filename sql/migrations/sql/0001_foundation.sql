-- Warehouse of tonghop: staging -> core -> mart, plus dq (data quality).
-- Every table states its grain in its COMMENT; analyst-facing columns carry comments too.

create schema if not exists staging;
create schema if not exists core;
create schema if not exists mart;
create schema if not exists dq;

comment on schema staging is 'Typed rows exactly as submitted, one set per received submission (nothing is ever deleted).';
comment on schema core is 'Conformed dimensions and facts of the current accepted submission of each district and period.';
comment on schema mart is 'Roll-ups: indicators per district and per province against the plan targets; reporting status.';
comment on schema dq is 'Data quality: every received file, its verdict and every finding.';

-- ---------------------------------------------------------------- dq
create table dq.submission (
    submission_id   bigserial primary key,
    file_name       text not null,
    sha256          text not null,
    size_bytes      bigint not null,
    archive_path    text not null,
    ma_don_vi       text,
    nam_hoc         text,
    ky_bao_cao      text,
    template_version text,
    email           text,
    received_at     timestamptz not null,
    ingested_at     timestamptz not null default now(),
    status          text not null default 'received'
        check (status in ('received', 'accepted', 'rejected', 'superseded', 'duplicate', 'held')),
    duplicate_of    bigint references dq.submission (submission_id),
    n_errors        int not null default 0,
    n_warnings      int not null default 0,
    n_infos         int not null default 0
);
create index submission_sha256_idx on dq.submission (sha256);
create index submission_period_idx on dq.submission (ma_don_vi, nam_hoc, ky_bao_cao);
comment on table dq.submission is 'One row per received file (grain: file received). Status: accepted, rejected, superseded (an accepted one replaced by a later accepted one), duplicate (same bytes as an earlier file), held (accepted by the rules but its period is locked), received (being processed).';
comment on column dq.submission.submission_id is 'Identifier of the received file; staging rows and findings refer to it.';
comment on column dq.submission.file_name is 'File name as received (identity comes from the ThongTin sheet, never from the name).';
comment on column dq.submission.sha256 is 'SHA-256 of the file bytes; the archived copy is archive_path.';
comment on column dq.submission.size_bytes is 'Size of the file in bytes.';
comment on column dq.submission.archive_path is 'Byte-for-byte copy of the file under $TONGHOP_HOME/archive/.';
comment on column dq.submission.ma_don_vi is 'District code read from ThongTin; NULL when unreadable.';
comment on column dq.submission.nam_hoc is 'School year read from ThongTin (YYYY-YYYY); NULL when unreadable.';
comment on column dq.submission.ky_bao_cao is 'Round read from ThongTin (HKI or CN); NULL when unreadable.';
comment on column dq.submission.template_version is 'Template version read from ThongTin (phien_ban).';
comment on column dq.submission.email is 'Contact e-mail written in ThongTin (alerts go there and to the registry address).';
comment on column dq.submission.received_at is 'When the file arrived in the landing zone (its modification time there).';
comment on column dq.submission.ingested_at is 'When tonghop processed it.';
comment on column dq.submission.status is 'accepted, rejected, superseded, duplicate, held or received.';
comment on column dq.submission.duplicate_of is 'For a duplicate: the earlier submission with the same bytes.';
comment on column dq.submission.n_errors is 'Number of error findings (any error rejects the file).';
comment on column dq.submission.n_warnings is 'Number of warning findings.';
comment on column dq.submission.n_infos is 'Number of info findings (ignored columns, rows, sheets).';

create table dq.issue (
    issue_id        bigserial primary key,
    submission_id   bigint not null references dq.submission (submission_id),
    severity        text not null check (severity in ('error', 'warning', 'info')),
    rule            text not null,
    sheet           text,
    row_number      int,
    column_key      text,
    value           text,
    message         text not null
);
create index issue_submission_idx on dq.issue (submission_id);
comment on table dq.issue is 'One row per finding on a submission (grain: finding). Rule codes are stable (docs/rules.md).';
comment on column dq.issue.submission_id is 'The submission the finding is about.';
comment on column dq.issue.severity is 'error (file rejected), warning (accepted, district told), info (recorded only).';
comment on column dq.issue.rule is 'Stable rule code, e.g. sum_mismatch, missing_school, yoy_change.';
comment on column dq.issue.sheet is 'Sheet name as written in the file; NULL for workbook-level findings.';
comment on column dq.issue.row_number is 'Excel row (1-based); NULL for sheet- or workbook-level findings.';
comment on column dq.issue.column_key is 'Template key of the column (e.g. gv_tong).';
comment on column dq.issue.value is 'The offending value as written.';
comment on column dq.issue.message is 'Vietnamese message for the district.';

-- ---------------------------------------------------------------- staging
create table staging.thong_tin (
    submission_id bigint primary key references dq.submission (submission_id),
    phien_ban text, ma_don_vi text, ten_don_vi text, nam_hoc text, ky_bao_cao text, nguoi_lap text,
    dien_thoai text, email text, ngay_lap date, dan_so_0_2 integer, dan_so_3_5 integer, dan_so_5 integer
);
comment on table staging.thong_tin is 'One row per submission: the ThongTin header as read and typed.';

create table staging.truong_lop (
    submission_id bigint not null references dq.submission (submission_id), row_number int not null,
    ma_truong text, ten_truong text, loai_hinh text, dat_chuan_qg smallint, so_nhom_tre integer,
    so_lop_mau_giao integer, so_lop_5_tuoi integer, tre_nha_tre integer, tre_mau_giao integer, tre_5_tuoi integer,
    primary key (submission_id, row_number)
);
comment on table staging.truong_lop is 'One row per submission and TruongLop data row (Excel row_number), as read and typed.';

create table staging.doi_ngu (
    submission_id bigint not null references dq.submission (submission_id), row_number int not null,
    ma_truong text, ten_truong text, cbql_tong integer, cbql_bien_che integer, cbql_dang_vien integer,
    cbql_td_duoi_trung_cap integer, cbql_td_trung_cap integer, cbql_td_cao_dang integer, cbql_td_dai_hoc integer,
    cbql_td_sau_dai_hoc integer, gv_tong integer, gv_bien_che integer, gv_td_duoi_trung_cap integer,
    gv_td_trung_cap integer, gv_td_cao_dang integer, gv_td_dai_hoc integer, gv_td_sau_dai_hoc integer,
    gv_hang_1 integer, gv_hang_2 integer, gv_hang_3 integer, gv_hang_4 integer, gv_chua_xep_hang integer,
    nv_tong integer, gv_nghi_huu integer, gv_tuyen_moi integer,
    primary key (submission_id, row_number)
);
comment on table staging.doi_ngu is 'One row per submission and DoiNgu data row (Excel row_number), as read and typed.';

create table staging.danh_gia_chuan (
    submission_id bigint not null references dq.submission (submission_id), row_number int not null,
    ma_truong text, ten_truong text, gv_duoc_danh_gia integer, gv_tot integer, gv_kha integer, gv_dat integer,
    gv_chua_dat integer, cbql_duoc_danh_gia integer, cbql_tot integer, cbql_kha integer, cbql_dat integer,
    cbql_chua_dat integer,
    primary key (submission_id, row_number)
);
comment on table staging.danh_gia_chuan is 'One row per submission and DanhGiaChuan data row (Excel row_number), as read and typed.';

create table staging.boi_duong (
    submission_id bigint not null references dq.submission (submission_id), row_number int not null,
    ma_truong text, ten_truong text, gv_cot_can integer, cbql_cot_can integer, cot_can_bd_ho_tro integer,
    gv_bd_theo_chuan integer, cbql_bd_theo_chuan integer, gv_hoan_thanh_bdtx integer, cbql_hoan_thanh_bdtx integer,
    gv_tin_hoc integer, cbql_tin_hoc integer, gv_ngoai_ngu integer, cbql_ngoai_ngu integer, gv_llct integer,
    cbql_llct integer, gv_bo_nhiem_hang integer, gv_bo_nhiem_hang_co_cc integer, cbql_bo_nhiem integer,
    cbql_bo_nhiem_co_cc integer,
    primary key (submission_id, row_number)
);
comment on table staging.boi_duong is 'One row per submission and BoiDuong data row (Excel row_number), as read and typed.';

create table staging.lop_boi_duong (
    submission_id bigint not null references dq.submission (submission_id), row_number int not null,
    ten_lop text, hinh_thuc text, so_hoc_vien integer, so_hoan_thanh integer, kinh_phi numeric,
    nguon_kinh_phi text,
    primary key (submission_id, row_number)
);
comment on table staging.lop_boi_duong is 'One row per submission and LopBoiDuong data row (a training course), as read and typed.';

-- ---------------------------------------------------------------- core dimensions
create table core.province (
    ma_tinh text primary key,
    slug text not null unique,
    ten_tinh text not null
);
comment on table core.province is 'One row per configured province (grain: province).';
comment on column core.province.ma_tinh is 'Two-digit province code (Sơn La 14).';
comment on column core.province.slug is 'Configuration folder name (TONGHOP_PROVINCE).';
comment on column core.province.ten_tinh is 'Province name.';

create table core.district (
    ma_don_vi text primary key,
    ten_don_vi text not null,
    email text,
    ma_tinh text not null references core.province (ma_tinh)
);
comment on table core.district is 'One row per district education office of the registry (grain: district).';
comment on column core.district.ma_don_vi is 'Three-digit district code.';
comment on column core.district.ten_don_vi is 'Name of the Phòng GD&ĐT.';
comment on column core.district.email is 'Registry address alerts go to.';
comment on column core.district.ma_tinh is 'Province of the district.';

create table core.school_year (
    nam_hoc text primary key check (nam_hoc ~ '^[0-9]{4}-[0-9]{4}$'),
    start_year int not null,
    -- Education Law 2019 (Luật Giáo dục 2019, art. 72): from 2020-2021 the preschool teacher
    -- qualification standard is cao đẳng sư phạm; before it was trung cấp sư phạm.
    qualification_floor text not null generated always as
        (case when start_year >= 2020 then 'cao_dang' else 'trung_cap' end) stored
);
comment on table core.school_year is 'One row per school year (grain: school year), with the qualification standard in force.';
comment on column core.school_year.nam_hoc is 'School year, e.g. 2019-2020 (September to May).';
comment on column core.school_year.start_year is 'First calendar year of the school year.';
comment on column core.school_year.qualification_floor is 'Lowest qualification meeting the standard in force: trung_cap before 2020-2021, cao_dang from then on.';

create table core.round (
    ky_bao_cao text primary key,
    ten_ky text not null,
    sort_order int not null
);
comment on table core.round is 'One row per reporting round (grain: round): HKI mid-year, CN end of year.';
insert into core.round values ('HKI', 'Sơ kết học kỳ I', 1), ('CN', 'Tổng kết cả năm', 2);

create table core.school (
    ma_truong text primary key,
    ten_truong text not null,
    ma_don_vi text not null references core.district (ma_don_vi),
    loai_hinh text not null,
    mo_tu_nam_hoc text not null,
    dong_tu_nam_hoc text
);
comment on table core.school is 'One row per preschool of the registry (grain: school), with the school years it is open.';
comment on column core.school.ma_truong is 'Eight-digit school code: province, district, sequence.';
comment on column core.school.ten_truong is 'School name.';
comment on column core.school.ma_don_vi is 'District the school belongs to.';
comment on column core.school.loai_hinh is 'cong_lap, tu_thuc or dan_lap.';
comment on column core.school.mo_tu_nam_hoc is 'First school year the school is open.';
comment on column core.school.dong_tu_nam_hoc is 'First school year the school is no longer open (closed or merged); NULL while open.';

create table core.indicator (
    indicator text primary key,
    label_vi text not null,
    unit text not null check (unit in ('count', 'percent', 'ratio')),
    higher_is_better boolean,
    numerator text not null,
    denominator text
);
comment on table core.indicator is 'One row per indicator of spec/indicators.md (grain: indicator), loaded from config/indicators.csv.';
comment on column core.indicator.indicator is 'Indicator code.';
comment on column core.indicator.label_vi is 'Vietnamese label used in reports.';
comment on column core.indicator.unit is 'percent (0..100), ratio, or count.';
comment on column core.indicator.higher_is_better is 'true: met when value >= target; false: met when value <= target.';
comment on column core.indicator.numerator is 'What the numerator sums.';
comment on column core.indicator.denominator is 'What the denominator sums; NULL for counts.';

create table core.target (
    unit_type text not null check (unit_type in ('province', 'district')),
    unit_code text not null,
    indicator text not null references core.indicator (indicator),
    target_value numeric not null,
    target_nam_hoc text not null,
    baseline_nam_hoc text,
    phase text not null,
    seed text,
    primary key (unit_type, unit_code, indicator, target_nam_hoc)
);
comment on table core.target is 'One row per unit, indicator and target school year (grain: target), from the province configuration.';
comment on column core.target.unit_type is 'province or district (a district with its own plan).';
comment on column core.target.unit_code is 'ma_tinh for a province, ma_don_vi for a district.';
comment on column core.target.target_value is 'Target value in the indicator''s unit.';
comment on column core.target.target_nam_hoc is 'School year the target is due (its CN value is compared).';
comment on column core.target.baseline_nam_hoc is 'Baseline school year of the phase.';
comment on column core.target.phase is 'Plan phase, e.g. 2021-2025.';
comment on column core.target.seed is 'Source document in shared/domain/seeds.';

create table core.norm (
    ma_tinh text primary key references core.province (ma_tinh),
    gv_per_nhom_tre numeric not null,
    gv_per_lop_mau_giao numeric not null
);
comment on table core.norm is 'One row per province: teacher norms per nursery group and kindergarten class (thieu_gv).';

create table core.reporting_period (
    nam_hoc text not null references core.school_year (nam_hoc),
    ky_bao_cao text not null references core.round (ky_bao_cao),
    deadline date not null,
    primary key (nam_hoc, ky_bao_cao)
);
comment on table core.reporting_period is 'One row per school year and round with its deadline (grain: period), from the province configuration.';

-- ---------------------------------------------------------------- core facts
create table core.current_submission (
    ma_don_vi text not null references core.district (ma_don_vi),
    nam_hoc text not null references core.school_year (nam_hoc),
    ky_bao_cao text not null references core.round (ky_bao_cao),
    submission_id bigint not null references dq.submission (submission_id),
    primary key (ma_don_vi, nam_hoc, ky_bao_cao)
);
comment on table core.current_submission is 'One row per district and period: the current (latest accepted) submission.';

create table core.fact_school_period (
    ma_truong text not null references core.school (ma_truong),
    nam_hoc text not null references core.school_year (nam_hoc),
    ky_bao_cao text not null references core.round (ky_bao_cao),
    ma_don_vi text not null references core.district (ma_don_vi),
    submission_id bigint not null references dq.submission (submission_id),
    loai_hinh text not null, dat_chuan_qg smallint not null,
    so_nhom_tre integer not null, so_lop_mau_giao integer not null, so_lop_5_tuoi integer not null,
    tre_nha_tre integer not null, tre_mau_giao integer not null, tre_5_tuoi integer not null,
    cbql_tong integer not null, cbql_bien_che integer not null, cbql_dang_vien integer not null,
    cbql_td_duoi_trung_cap integer not null, cbql_td_trung_cap integer not null, cbql_td_cao_dang integer not null,
    cbql_td_dai_hoc integer not null, cbql_td_sau_dai_hoc integer not null,
    gv_tong integer not null, gv_bien_che integer not null, gv_td_duoi_trung_cap integer not null,
    gv_td_trung_cap integer not null, gv_td_cao_dang integer not null, gv_td_dai_hoc integer not null,
    gv_td_sau_dai_hoc integer not null, gv_hang_1 integer not null, gv_hang_2 integer not null,
    gv_hang_3 integer not null, gv_hang_4 integer not null, gv_chua_xep_hang integer not null,
    nv_tong integer not null, gv_nghi_huu integer not null, gv_tuyen_moi integer not null,
    gv_duoc_danh_gia integer not null, gv_tot integer not null, gv_kha integer not null, gv_dat integer not null,
    gv_chua_dat integer not null, cbql_duoc_danh_gia integer not null, cbql_tot integer not null,
    cbql_kha integer not null, cbql_dat integer not null, cbql_chua_dat integer not null,
    gv_cot_can integer not null, cbql_cot_can integer not null, cot_can_bd_ho_tro integer not null,
    gv_bd_theo_chuan integer not null, cbql_bd_theo_chuan integer not null, gv_hoan_thanh_bdtx integer not null,
    cbql_hoan_thanh_bdtx integer not null, gv_tin_hoc integer not null, cbql_tin_hoc integer not null,
    gv_ngoai_ngu integer not null, cbql_ngoai_ngu integer not null, gv_llct integer not null,
    cbql_llct integer not null, gv_bo_nhiem_hang integer not null, gv_bo_nhiem_hang_co_cc integer not null,
    cbql_bo_nhiem integer not null, cbql_bo_nhiem_co_cc integer not null,
    primary key (ma_truong, nam_hoc, ky_bao_cao)
);
create index fact_school_period_district_idx on core.fact_school_period (ma_don_vi, nam_hoc, ky_bao_cao);
comment on table core.fact_school_period is 'One row per school, school year and round (grain: school x nam_hoc x ky_bao_cao) from the current accepted submission of its district: the four per-school sheets joined on ma_truong (empty ratings = 0).';
comment on column core.fact_school_period.ma_don_vi is 'District that reported the school in that period.';
comment on column core.fact_school_period.submission_id is 'Submission the row comes from (dq.submission).';
comment on column core.fact_school_period.dat_chuan_qg is '1 when the school meets the national standard.';

create table core.fact_district_period (
    ma_don_vi text not null references core.district (ma_don_vi),
    nam_hoc text not null references core.school_year (nam_hoc),
    ky_bao_cao text not null references core.round (ky_bao_cao),
    submission_id bigint not null references dq.submission (submission_id),
    nguoi_lap text, dien_thoai text, email text, ngay_lap date,
    dan_so_0_2 integer not null, dan_so_3_5 integer not null, dan_so_5 integer not null,
    primary key (ma_don_vi, nam_hoc, ky_bao_cao)
);
comment on table core.fact_district_period is 'One row per district, school year and round (grain: district x period): ThongTin of the current submission, with the district populations.';
comment on column core.fact_district_period.dan_so_0_2 is 'District population aged 0-2 (denominator of huy_dong_nha_tre).';
comment on column core.fact_district_period.dan_so_3_5 is 'District population aged 3-5 (denominator of huy_dong_mau_giao).';
comment on column core.fact_district_period.dan_so_5 is 'District five-year-olds (denominator of huy_dong_5_tuoi).';

create table core.fact_training_course (
    ma_don_vi text not null references core.district (ma_don_vi),
    nam_hoc text not null references core.school_year (nam_hoc),
    ky_bao_cao text not null references core.round (ky_bao_cao),
    course_number int not null,
    submission_id bigint not null references dq.submission (submission_id),
    ten_lop text not null, hinh_thuc text not null, so_hoc_vien integer not null,
    so_hoan_thanh integer not null, kinh_phi numeric not null, nguon_kinh_phi text,
    primary key (ma_don_vi, nam_hoc, ky_bao_cao, course_number)
);
comment on table core.fact_training_course is 'One row per training course run by a district in a period (grain: course), from LopBoiDuong of the current submission.';
comment on column core.fact_training_course.kinh_phi is 'Cost in million VND.';

-- ---------------------------------------------------------------- mart
create table mart.district_indicator (
    ma_don_vi text not null,
    nam_hoc text not null,
    ky_bao_cao text not null,
    indicator text not null,
    numerator numeric,
    denominator numeric,
    value numeric,
    target numeric,
    target_nam_hoc text,
    met boolean,
    definition text,
    primary key (ma_don_vi, nam_hoc, ky_bao_cao, indicator)
);
comment on table mart.district_indicator is 'One row per district, school year, round and indicator (grain: district x period x indicator): ratio of the sums over the district''s schools, against the district''s own target if it has one. Rebuilt by tonghop rollup.';
comment on column mart.district_indicator.ma_don_vi is 'District code.';
comment on column mart.district_indicator.nam_hoc is 'School year, e.g. 2019-2020.';
comment on column mart.district_indicator.ky_bao_cao is 'Round: HKI or CN.';
comment on column mart.district_indicator.indicator is 'Indicator code (core.indicator, spec/indicators.md).';
comment on column mart.district_indicator.numerator is 'Sum of the numerator over the unit.';
comment on column mart.district_indicator.denominator is 'Sum of the denominator; NULL for counts.';
comment on column mart.district_indicator.value is 'Percentage 0..100 for % indicators, the ratio or count otherwise, unrounded; NULL when the denominator is 0.';
comment on column mart.district_indicator.target is 'Target of the plan phase covering this school year; NULL when the unit has none.';
comment on column mart.district_indicator.target_nam_hoc is 'School year the target is due.';
comment on column mart.district_indicator.met is 'value >= target (<= for thieu_gv); NULL when there is no target or no value.';
comment on column mart.district_indicator.definition is 'For *_chuan_td indicators: which qualification standard the value used (trung_cap_tro_len, cao_dang_tro_len, dai_hoc_tro_len).';

create table mart.province_indicator (
    nam_hoc text not null,
    ky_bao_cao text not null,
    indicator text not null,
    numerator numeric,
    denominator numeric,
    value numeric,
    target numeric,
    target_nam_hoc text,
    met boolean,
    definition text,
    n_districts int not null,
    primary key (nam_hoc, ky_bao_cao, indicator)
);
comment on table mart.province_indicator is 'One row per school year, round and indicator for the province (grain: period x indicator): the ratio of the districts'' summed numerators and denominators, never an average of district percentages. Rebuilt by tonghop rollup.';
comment on column mart.province_indicator.nam_hoc is 'School year, e.g. 2019-2020.';
comment on column mart.province_indicator.ky_bao_cao is 'Round: HKI or CN.';
comment on column mart.province_indicator.indicator is 'Indicator code (core.indicator, spec/indicators.md).';
comment on column mart.province_indicator.numerator is 'Sum of the numerator over the province''s reporting districts.';
comment on column mart.province_indicator.denominator is 'Sum of the denominator; NULL for counts.';
comment on column mart.province_indicator.value is 'Percentage 0..100 for % indicators, the ratio or count otherwise, unrounded; NULL when the denominator is 0.';
comment on column mart.province_indicator.target is 'Province target of the plan phase covering this school year; NULL when none.';
comment on column mart.province_indicator.target_nam_hoc is 'School year the target is due.';
comment on column mart.province_indicator.met is 'value >= target (<= for thieu_gv); NULL when there is no target or no value.';
comment on column mart.province_indicator.definition is 'For *_chuan_td indicators: which qualification standard the value used.';
comment on column mart.province_indicator.n_districts is 'Number of districts with a current accepted submission in the period.';


create view mart.reporting_status as
with due_period as (
    -- A period is due for a district once its deadline has passed, or as soon as it sent something for it.
    select d.ma_don_vi, p.nam_hoc, p.ky_bao_cao, p.deadline
    from core.district as d
    cross join core.reporting_period as p
    where p.deadline <= (now() at time zone 'Asia/Ho_Chi_Minh')::date
       or exists (
           select from dq.submission as s
           where s.ma_don_vi = d.ma_don_vi and s.nam_hoc = p.nam_hoc and s.ky_bao_cao = p.ky_bao_cao
       )
),
first_accepted as (
    -- The deadline is met by the first file accepted for the period, even if later replaced.
    select ma_don_vi, nam_hoc, ky_bao_cao,
           min((received_at at time zone 'Asia/Ho_Chi_Minh')::date) as first_accepted_on
    from dq.submission
    where status in ('accepted', 'superseded')
    group by ma_don_vi, nam_hoc, ky_bao_cao
),
last_rejected as (
    select distinct on (ma_don_vi, nam_hoc, ky_bao_cao) ma_don_vi, nam_hoc, ky_bao_cao, submission_id
    from dq.submission
    where status = 'rejected'
    order by ma_don_vi, nam_hoc, ky_bao_cao, received_at desc, submission_id desc
)
select
    due_period.ma_don_vi,
    due_period.nam_hoc,
    due_period.ky_bao_cao,
    due_period.deadline,
    case
        when current_submission.submission_id is not null and first_accepted.first_accepted_on <= due_period.deadline
            then 'on_time'
        when current_submission.submission_id is not null then 'late'
        when last_rejected.submission_id is not null then 'rejected'
        else 'missing'
    end as status,
    coalesce(current_submission.submission_id, last_rejected.submission_id) as submission_id
from due_period
left join core.current_submission
    on current_submission.ma_don_vi = due_period.ma_don_vi
   and current_submission.nam_hoc = due_period.nam_hoc
   and current_submission.ky_bao_cao = due_period.ky_bao_cao
left join first_accepted
    on first_accepted.ma_don_vi = due_period.ma_don_vi
   and first_accepted.nam_hoc = due_period.nam_hoc
   and first_accepted.ky_bao_cao = due_period.ky_bao_cao
left join last_rejected
    on last_rejected.ma_don_vi = due_period.ma_don_vi
   and last_rejected.nam_hoc = due_period.nam_hoc
   and last_rejected.ky_bao_cao = due_period.ky_bao_cao;
comment on view mart.reporting_status is 'One row per district and period that is due (deadline passed, or something was sent): on_time (first accepted file by the deadline), late, missing, rejected (only rejected files so far).';
comment on column mart.reporting_status.ma_don_vi is 'District code.';
comment on column mart.reporting_status.nam_hoc is 'School year.';
comment on column mart.reporting_status.ky_bao_cao is 'Round: HKI or CN.';
comment on column mart.reporting_status.deadline is 'Deadline of the period (province configuration).';
comment on column mart.reporting_status.status is 'on_time, late, missing or rejected.';
comment on column mart.reporting_status.submission_id is 'The current accepted submission, else the latest rejected one; NULL when missing.';

create view mart.indicator_trend as
with unit_value as (
    select 'province' as unit_type, province.ma_tinh as unit_code, pi.nam_hoc, pi.indicator, pi.value,
           pi.target, pi.target_nam_hoc, pi.met, pi.definition
    from mart.province_indicator as pi
    cross join core.province as province
    where pi.ky_bao_cao = 'CN'
    union all
    select 'district', di.ma_don_vi, di.nam_hoc, di.indicator, di.value,
           di.target, di.target_nam_hoc, di.met, di.definition
    from mart.district_indicator as di
    where di.ky_bao_cao = 'CN'
)
select
    unit_value.unit_type,
    unit_value.unit_code,
    unit_value.indicator,
    indicator.label_vi,
    indicator.unit,
    unit_value.nam_hoc,
    unit_value.value,
    unit_value.value - lag(unit_value.value) over unit_series as change_from_previous_year,
    unit_value.target,
    unit_value.target_nam_hoc,
    unit_value.met,
    unit_value.definition,
    coalesce(unit_value.definition is distinct from lag(unit_value.definition) over unit_series
             and lag(unit_value.nam_hoc) over unit_series is not null, false) as definition_changed
from unit_value
join core.indicator using (indicator)
window unit_series as (partition by unit_value.unit_type, unit_value.unit_code, unit_value.indicator
                       order by unit_value.nam_hoc);
comment on view mart.indicator_trend is 'One row per unit (province or district), indicator and school year, end-of-year (CN) values only (grain: unit x indicator x nam_hoc): the long format for phase reports and trends. definition_changed marks the year the qualification standard switched.';
comment on column mart.indicator_trend.unit_type is 'province or district.';
comment on column mart.indicator_trend.unit_code is 'ma_tinh or ma_don_vi.';
comment on column mart.indicator_trend.indicator is 'Indicator code.';
comment on column mart.indicator_trend.label_vi is 'Vietnamese label.';
comment on column mart.indicator_trend.unit is 'percent, ratio or count.';
comment on column mart.indicator_trend.nam_hoc is 'School year.';
comment on column mart.indicator_trend.value is 'CN value of that school year.';
comment on column mart.indicator_trend.change_from_previous_year is 'value minus the previous school year''s value (percentage points for %).';
comment on column mart.indicator_trend.target is 'Target of the phase covering the year.';
comment on column mart.indicator_trend.target_nam_hoc is 'School year the target is due.';
comment on column mart.indicator_trend.met is 'Whether the value meets the target.';
comment on column mart.indicator_trend.definition is 'Qualification standard used (for *_chuan_td).';
comment on column mart.indicator_trend.definition_changed is 'true in the first year of a new definition: the series is not comparable across it.';

-- ---------------------------------------------------------------- analyst role
-- Read-only login for analysts: reads core, mart and dq, changes nothing anywhere. The password is set
-- at run time from TONGHOP_ANALYST_PASSWORD (never in the repository).
do $$
begin
    if not exists (select from pg_roles where rolname = 'analyst') then
        create role analyst login;
    end if;
end
$$;
alter role analyst set default_transaction_read_only = on;
revoke create on schema public from public;
do $$
begin
    -- no temporary tables either: the analyst role creates nothing anywhere
    execute format('revoke temporary on database %I from public', current_database());
    execute format('grant connect on database %I to analyst', current_database());
end
$$;
grant usage on schema core, mart, dq to analyst;
grant select on all tables in schema core, mart, dq to analyst;
alter default privileges in schema core, mart, dq grant select on tables to analyst;
