-- The province sums are read from the district sums instead of being written by every roll-up (issue 5).
-- mart.unit_sums held one row per district and period and one per province and period; the province rows
-- were a second INSERT of every roll-up, summing the district rows just written. On a province night that
-- statement was a fifth of the roll-up (planning an 80-column insert, the aggregate, its key and WAL), for
-- 14 rows that any reader can sum from 168. Now:
-- - mart.district_sums (table) holds the district rows; the roll-up writes only these;
-- - mart.unit_sums becomes a view with the same columns, types and rows as the table had: the district
--   rows, and the province rows summed from them on read (ratios of summed numerators and denominators,
--   as before). They can no longer disagree with the district rows they sum.
-- mart.unit_indicator is repointed at the view; the views over it are unchanged.

create table mart.district_sums (
    ma_don_vi text not null,
    nam_hoc text not null,
    ky_bao_cao text not null,
    qualification_floor text not null,
    so_truong bigint not null,
    so_truong_cong_lap bigint not null,
    so_truong_ngoai_cong_lap bigint not null,
    dat_chuan_qg bigint not null,
    thieu_gv numeric not null,
    so_nhom_tre bigint not null,
    so_lop_mau_giao bigint not null,
    so_lop_5_tuoi bigint not null,
    tre_nha_tre bigint not null,
    tre_mau_giao bigint not null,
    tre_5_tuoi bigint not null,
    cbql_tong bigint not null,
    cbql_bien_che bigint not null,
    cbql_dang_vien bigint not null,
    cbql_td_duoi_trung_cap bigint not null,
    cbql_td_trung_cap bigint not null,
    cbql_td_cao_dang bigint not null,
    cbql_td_dai_hoc bigint not null,
    cbql_td_sau_dai_hoc bigint not null,
    gv_tong bigint not null,
    gv_bien_che bigint not null,
    gv_td_duoi_trung_cap bigint not null,
    gv_td_trung_cap bigint not null,
    gv_td_cao_dang bigint not null,
    gv_td_dai_hoc bigint not null,
    gv_td_sau_dai_hoc bigint not null,
    gv_hang_1 bigint not null,
    gv_hang_2 bigint not null,
    gv_hang_3 bigint not null,
    gv_hang_4 bigint not null,
    gv_chua_xep_hang bigint not null,
    nv_tong bigint not null,
    gv_nghi_huu bigint not null,
    gv_tuyen_moi bigint not null,
    gv_duoc_danh_gia bigint not null,
    gv_tot bigint not null,
    gv_kha bigint not null,
    gv_dat bigint not null,
    gv_chua_dat bigint not null,
    cbql_duoc_danh_gia bigint not null,
    cbql_tot bigint not null,
    cbql_kha bigint not null,
    cbql_dat bigint not null,
    cbql_chua_dat bigint not null,
    gv_cot_can bigint not null,
    cbql_cot_can bigint not null,
    cot_can_bd_ho_tro bigint not null,
    gv_bd_theo_chuan bigint not null,
    cbql_bd_theo_chuan bigint not null,
    gv_hoan_thanh_bdtx bigint not null,
    cbql_hoan_thanh_bdtx bigint not null,
    gv_tin_hoc bigint not null,
    cbql_tin_hoc bigint not null,
    gv_ngoai_ngu bigint not null,
    cbql_ngoai_ngu bigint not null,
    gv_llct bigint not null,
    cbql_llct bigint not null,
    gv_bo_nhiem_hang bigint not null,
    gv_bo_nhiem_hang_co_cc bigint not null,
    cbql_bo_nhiem bigint not null,
    cbql_bo_nhiem_co_cc bigint not null,
    dan_so_0_2 bigint,
    dan_so_3_5 bigint,
    dan_so_5 bigint,
    lop_bd bigint not null,
    lop_bd_chinh_tri bigint not null,
    lop_bd_chuyen_mon bigint not null,
    lop_bd_truc_tuyen bigint not null,
    hoc_vien_bd bigint not null,
    hoc_vien_bd_chinh_tri bigint not null,
    hoc_vien_bd_chuyen_mon bigint not null,
    hoc_vien_bd_truc_tuyen bigint not null,
    kinh_phi_bd numeric not null,
    primary key (ma_don_vi, nam_hoc, ky_bao_cao)
);


insert into mart.district_sums (
    ma_don_vi, nam_hoc, ky_bao_cao, qualification_floor, so_truong, so_truong_cong_lap,
    so_truong_ngoai_cong_lap, dat_chuan_qg, thieu_gv, so_nhom_tre, so_lop_mau_giao, so_lop_5_tuoi,
    tre_nha_tre, tre_mau_giao, tre_5_tuoi, cbql_tong, cbql_bien_che, cbql_dang_vien, cbql_td_duoi_trung_cap,
    cbql_td_trung_cap, cbql_td_cao_dang, cbql_td_dai_hoc, cbql_td_sau_dai_hoc, gv_tong, gv_bien_che,
    gv_td_duoi_trung_cap, gv_td_trung_cap, gv_td_cao_dang, gv_td_dai_hoc, gv_td_sau_dai_hoc, gv_hang_1,
    gv_hang_2, gv_hang_3, gv_hang_4, gv_chua_xep_hang, nv_tong, gv_nghi_huu, gv_tuyen_moi, gv_duoc_danh_gia,
    gv_tot, gv_kha, gv_dat, gv_chua_dat, cbql_duoc_danh_gia, cbql_tot, cbql_kha, cbql_dat, cbql_chua_dat,
    gv_cot_can, cbql_cot_can, cot_can_bd_ho_tro, gv_bd_theo_chuan, cbql_bd_theo_chuan, gv_hoan_thanh_bdtx,
    cbql_hoan_thanh_bdtx, gv_tin_hoc, cbql_tin_hoc, gv_ngoai_ngu, cbql_ngoai_ngu, gv_llct, cbql_llct,
    gv_bo_nhiem_hang, gv_bo_nhiem_hang_co_cc, cbql_bo_nhiem, cbql_bo_nhiem_co_cc, dan_so_0_2, dan_so_3_5,
    dan_so_5, lop_bd, lop_bd_chinh_tri, lop_bd_chuyen_mon, lop_bd_truc_tuyen, hoc_vien_bd,
    hoc_vien_bd_chinh_tri, hoc_vien_bd_chuyen_mon, hoc_vien_bd_truc_tuyen, kinh_phi_bd

)
select
    unit_code, nam_hoc, ky_bao_cao, qualification_floor, so_truong, so_truong_cong_lap,
    so_truong_ngoai_cong_lap, dat_chuan_qg, thieu_gv, so_nhom_tre, so_lop_mau_giao, so_lop_5_tuoi,
    tre_nha_tre, tre_mau_giao, tre_5_tuoi, cbql_tong, cbql_bien_che, cbql_dang_vien, cbql_td_duoi_trung_cap,
    cbql_td_trung_cap, cbql_td_cao_dang, cbql_td_dai_hoc, cbql_td_sau_dai_hoc, gv_tong, gv_bien_che,
    gv_td_duoi_trung_cap, gv_td_trung_cap, gv_td_cao_dang, gv_td_dai_hoc, gv_td_sau_dai_hoc, gv_hang_1,
    gv_hang_2, gv_hang_3, gv_hang_4, gv_chua_xep_hang, nv_tong, gv_nghi_huu, gv_tuyen_moi, gv_duoc_danh_gia,
    gv_tot, gv_kha, gv_dat, gv_chua_dat, cbql_duoc_danh_gia, cbql_tot, cbql_kha, cbql_dat, cbql_chua_dat,
    gv_cot_can, cbql_cot_can, cot_can_bd_ho_tro, gv_bd_theo_chuan, cbql_bd_theo_chuan, gv_hoan_thanh_bdtx,
    cbql_hoan_thanh_bdtx, gv_tin_hoc, cbql_tin_hoc, gv_ngoai_ngu, cbql_ngoai_ngu, gv_llct, cbql_llct,
    gv_bo_nhiem_hang, gv_bo_nhiem_hang_co_cc, cbql_bo_nhiem, cbql_bo_nhiem_co_cc, dan_so_0_2, dan_so_3_5,
    dan_so_5, lop_bd, lop_bd_chinh_tri, lop_bd_chuyen_mon, lop_bd_truc_tuyen, hoc_vien_bd,
    hoc_vien_bd_chinh_tri, hoc_vien_bd_chuyen_mon, hoc_vien_bd_truc_tuyen, kinh_phi_bd

from mart.unit_sums
where unit_type = 'district';

create view mart.unit_sums_on_read as
select
    'district'::text as unit_type, d.ma_don_vi as unit_code, d.nam_hoc, d.ky_bao_cao, 1 as n_districts,
    d.qualification_floor, d.so_truong, d.so_truong_cong_lap, d.so_truong_ngoai_cong_lap, d.dat_chuan_qg,
    d.thieu_gv, d.so_nhom_tre, d.so_lop_mau_giao, d.so_lop_5_tuoi, d.tre_nha_tre, d.tre_mau_giao,
    d.tre_5_tuoi, d.cbql_tong, d.cbql_bien_che, d.cbql_dang_vien, d.cbql_td_duoi_trung_cap,
    d.cbql_td_trung_cap, d.cbql_td_cao_dang, d.cbql_td_dai_hoc, d.cbql_td_sau_dai_hoc, d.gv_tong,
    d.gv_bien_che, d.gv_td_duoi_trung_cap, d.gv_td_trung_cap, d.gv_td_cao_dang, d.gv_td_dai_hoc,
    d.gv_td_sau_dai_hoc, d.gv_hang_1, d.gv_hang_2, d.gv_hang_3, d.gv_hang_4, d.gv_chua_xep_hang, d.nv_tong,
    d.gv_nghi_huu, d.gv_tuyen_moi, d.gv_duoc_danh_gia, d.gv_tot, d.gv_kha, d.gv_dat, d.gv_chua_dat,
    d.cbql_duoc_danh_gia, d.cbql_tot, d.cbql_kha, d.cbql_dat, d.cbql_chua_dat, d.gv_cot_can, d.cbql_cot_can,
    d.cot_can_bd_ho_tro, d.gv_bd_theo_chuan, d.cbql_bd_theo_chuan, d.gv_hoan_thanh_bdtx,
    d.cbql_hoan_thanh_bdtx, d.gv_tin_hoc, d.cbql_tin_hoc, d.gv_ngoai_ngu, d.cbql_ngoai_ngu, d.gv_llct,
    d.cbql_llct, d.gv_bo_nhiem_hang, d.gv_bo_nhiem_hang_co_cc, d.cbql_bo_nhiem, d.cbql_bo_nhiem_co_cc,
    d.dan_so_0_2, d.dan_so_3_5, d.dan_so_5, d.lop_bd, d.lop_bd_chinh_tri, d.lop_bd_chuyen_mon,
    d.lop_bd_truc_tuyen, d.hoc_vien_bd, d.hoc_vien_bd_chinh_tri, d.hoc_vien_bd_chuyen_mon,
    d.hoc_vien_bd_truc_tuyen, d.kinh_phi_bd

from mart.district_sums as d
union all
select
    'province', province.ma_tinh, d.nam_hoc, d.ky_bao_cao, count(*)::int, min(d.qualification_floor),
    sum(d.so_truong)::bigint, sum(d.so_truong_cong_lap)::bigint, sum(d.so_truong_ngoai_cong_lap)::bigint,
    sum(d.dat_chuan_qg)::bigint, sum(d.thieu_gv), sum(d.so_nhom_tre)::bigint, sum(d.so_lop_mau_giao)::bigint,
    sum(d.so_lop_5_tuoi)::bigint, sum(d.tre_nha_tre)::bigint, sum(d.tre_mau_giao)::bigint,
    sum(d.tre_5_tuoi)::bigint, sum(d.cbql_tong)::bigint, sum(d.cbql_bien_che)::bigint,
    sum(d.cbql_dang_vien)::bigint, sum(d.cbql_td_duoi_trung_cap)::bigint, sum(d.cbql_td_trung_cap)::bigint,
    sum(d.cbql_td_cao_dang)::bigint, sum(d.cbql_td_dai_hoc)::bigint, sum(d.cbql_td_sau_dai_hoc)::bigint,
    sum(d.gv_tong)::bigint, sum(d.gv_bien_che)::bigint, sum(d.gv_td_duoi_trung_cap)::bigint,
    sum(d.gv_td_trung_cap)::bigint, sum(d.gv_td_cao_dang)::bigint, sum(d.gv_td_dai_hoc)::bigint,
    sum(d.gv_td_sau_dai_hoc)::bigint, sum(d.gv_hang_1)::bigint, sum(d.gv_hang_2)::bigint,
    sum(d.gv_hang_3)::bigint, sum(d.gv_hang_4)::bigint, sum(d.gv_chua_xep_hang)::bigint,
    sum(d.nv_tong)::bigint, sum(d.gv_nghi_huu)::bigint, sum(d.gv_tuyen_moi)::bigint,
    sum(d.gv_duoc_danh_gia)::bigint, sum(d.gv_tot)::bigint, sum(d.gv_kha)::bigint, sum(d.gv_dat)::bigint,
    sum(d.gv_chua_dat)::bigint, sum(d.cbql_duoc_danh_gia)::bigint, sum(d.cbql_tot)::bigint,
    sum(d.cbql_kha)::bigint, sum(d.cbql_dat)::bigint, sum(d.cbql_chua_dat)::bigint, sum(d.gv_cot_can)::bigint,
    sum(d.cbql_cot_can)::bigint, sum(d.cot_can_bd_ho_tro)::bigint, sum(d.gv_bd_theo_chuan)::bigint,
    sum(d.cbql_bd_theo_chuan)::bigint, sum(d.gv_hoan_thanh_bdtx)::bigint, sum(d.cbql_hoan_thanh_bdtx)::bigint,
    sum(d.gv_tin_hoc)::bigint, sum(d.cbql_tin_hoc)::bigint, sum(d.gv_ngoai_ngu)::bigint,
    sum(d.cbql_ngoai_ngu)::bigint, sum(d.gv_llct)::bigint, sum(d.cbql_llct)::bigint,
    sum(d.gv_bo_nhiem_hang)::bigint, sum(d.gv_bo_nhiem_hang_co_cc)::bigint, sum(d.cbql_bo_nhiem)::bigint,
    sum(d.cbql_bo_nhiem_co_cc)::bigint, sum(d.dan_so_0_2)::bigint, sum(d.dan_so_3_5)::bigint,
    sum(d.dan_so_5)::bigint, sum(d.lop_bd)::bigint, sum(d.lop_bd_chinh_tri)::bigint,
    sum(d.lop_bd_chuyen_mon)::bigint, sum(d.lop_bd_truc_tuyen)::bigint, sum(d.hoc_vien_bd)::bigint,
    sum(d.hoc_vien_bd_chinh_tri)::bigint, sum(d.hoc_vien_bd_chuyen_mon)::bigint,
    sum(d.hoc_vien_bd_truc_tuyen)::bigint, sum(d.kinh_phi_bd)
from mart.district_sums as d
cross join core.province as province
group by province.ma_tinh, d.nam_hoc, d.ky_bao_cao;

-- mart.unit_indicator, as 0005 defined it, reading the view: its text is taken from the server and must name
-- the old table exactly once.
do $$
declare
    definition text := pg_get_viewdef('mart.unit_indicator'::regclass);
    repointed text := regexp_replace(definition, '\mmart\.unit_sums\M', 'mart.unit_sums_on_read');
begin
    if (select count(*) from regexp_matches(definition, '\mmart\.unit_sums\M', 'g')) <> 1 then
        raise exception 'mart.unit_indicator does not read mart.unit_sums exactly once: %', definition;
    end if;
    execute 'create or replace view mart.unit_indicator as ' || repointed;
end $$;

-- the old table's column comments go to the view, and to the table where the column is there (worded for a
-- district)
do $$
declare
    c record;
begin
    for c in
        select attribute.attname as name, description.description as text
        from pg_attribute as attribute
        join pg_description as description
            on description.objoid = attribute.attrelid and description.objsubid = attribute.attnum
        where attribute.attrelid = 'mart.unit_sums'::regclass
    loop
        execute format('comment on column mart.unit_sums_on_read.%I is %L', c.name, c.text);
        if exists (select from information_schema.columns
                   where table_schema = 'mart' and table_name = 'district_sums' and column_name = c.name) then
            execute format('comment on column mart.district_sums.%I is %L', c.name,
                           replace(replace(c.text, 'the unit''s', 'the district''s'),
                                   'Sum of the districts'' ', 'The district''s '));
        end if;
    end loop;
end $$;

drop table mart.unit_sums;
alter view mart.unit_sums_on_read rename to unit_sums;

comment on table mart.district_sums is 'One row per district and period (grain: ma_don_vi x nam_hoc x ky_bao_cao): the sums of every template count over the district''s schools of the current accepted submission, its populations and its training courses. Rebuilt by tonghop rollup (only the periods that changed, at night); mart.unit_sums adds the province rows.';
comment on column mart.district_sums.ma_don_vi is 'District code (core.district).';
comment on view mart.unit_sums is 'One row per unit (district, or the province) and period (grain: unit x nam_hoc x ky_bao_cao): the district rows of mart.district_sums, and the province rows summed from them when read. The indicator views are ratios of these sums.';
comment on column mart.unit_sums.n_districts is 'Districts with a current accepted submission in the unit and period (1 for a district).';

grant select on mart.district_sums, mart.unit_sums to analyst;
