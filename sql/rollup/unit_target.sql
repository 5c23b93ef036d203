-- Targets per unit and school year (mart.unit_target), from the province configuration alone: run when
-- the configuration is loaded (etl/registry.py), in its transaction, not by every roll-up. A unit's target
-- for a school year is the earliest of its targets due in or after that year (the plan phase covering it).
delete from mart.unit_target;

insert into mart.unit_target
select distinct on (target.unit_type, target.unit_code, school_year.nam_hoc, target.indicator)
    target.unit_type, target.unit_code, school_year.nam_hoc, target.indicator, target.target_value,
    target.target_nam_hoc
from core.target as target
join core.school_year as school_year on target.target_nam_hoc >= school_year.nam_hoc
order by target.unit_type, target.unit_code, school_year.nam_hoc, target.indicator, target.target_nam_hoc;
