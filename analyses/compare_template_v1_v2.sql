-- Seed 003 "Compare v1 vs v2 performance": a starting point for the template review.
-- The comparison itself is the tested mart rpt_pilot_version_comparison (each
-- template version against the previous one, per country x category x KPI); this
-- analysis narrows it to v2 against v1 of the seed's pilot scope and orders it for
-- reading. Compile with `dbt compile -s compare_template_v1_v2` and run the SQL in
-- target/compiled/, or run `kpi report pilot --scope MN:USED_CAR_PRIVATE`.
select
    scope,
    kpi,
    unit,
    comparator,
    target,
    previous_value as v1_value,
    previous_denominator as v1_denominator,
    previous_is_met as v1_met,
    value as v2_value,
    denominator as v2_denominator,
    is_met as v2_met,
    change as v2_minus_v1,
    is_improved,
    previous_deals as v1_deals,
    deals as v2_deals,
    previous_inspection_ttl_days as v1_inspection_ttl_days,
    inspection_ttl_days as v2_inspection_ttl_days,
    previous_dispute_ttl_hours as v1_dispute_ttl_hours,
    dispute_ttl_hours as v2_dispute_ttl_hours,
    previous_holdback_ratio as v1_holdback_ratio,
    holdback_ratio as v2_holdback_ratio
from {{ ref('rpt_pilot_version_comparison') }}
where template_version = 2
    and previous_version = 1
    and scope = 'MN:USED_CAR_PRIVATE'
order by kpi
