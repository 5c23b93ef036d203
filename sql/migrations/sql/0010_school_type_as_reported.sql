-- Publishing no longer reads the registry (sql/load/publish.sql): an empty loai_hinh is an error, so a
-- published school's type is always the one its district reported.
comment on column core.fact_school_period.loai_hinh is 'cong_lap, tu_thuc or dan_lap, as the district reported it (required: an empty cell is an error).';
