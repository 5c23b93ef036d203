-- mart.unit_target follows the province configuration, not the submissions: it is rebuilt when the
-- configuration is loaded (etl/registry.py, sql/rollup/unit_target.sql), for every school year of
-- core.school_year, instead of by every roll-up for the years that have data (1.4 ms of a province
-- roll-up of 11-14 ms). The views read it the same way.

comment on table mart.unit_target is 'One row per unit, school year and indicator with a target (grain: unit x nam_hoc x indicator): the target of the plan phase covering that year, i.e. the earliest target of the unit due in or after it. Rebuilt whenever the province configuration is loaded.';
