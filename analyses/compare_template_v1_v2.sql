-- Seed 003 "Compare v1 vs v2 performance": a starting point for the template review.
-- Side by side, per KPI: the cumulative value of each template version, the
-- difference v2 - v1, its target and whether each version met it; then the deal mix
-- and timing parameters behind them. Deals stay pinned to their own version, so a
-- v2 cohort is simply the deals created on v2. Compile with `dbt compile -s
-- compare_template_v1_v2` and run the SQL in target/compiled/.
with

kpis as (

    select template_version, kpi, unit, numerator, denominator, value, target, comparator, is_met
    from {{ ref('rpt_pilot_kpis') }}
    where period_type = 'cumulative'
        and template_version in (1, 2)

),

side_by_side as (

    select
        kpi,
        max(unit) as unit,
        max(comparator) as comparator,
        max(target) as target,
        max(case when template_version = 1 then value end) as v1_value,
        max(case when template_version = 1 then denominator end) as v1_denominator,
        {{ dbt.bool_or("case when template_version = 1 then is_met end") }} as v1_met,
        max(case when template_version = 2 then value end) as v2_value,
        max(case when template_version = 2 then denominator end) as v2_denominator,
        {{ dbt.bool_or("case when template_version = 2 then is_met end") }} as v2_met
    from kpis
    group by kpi

),

deal_mix as (

    select
        template_version,
        count(*) as deals,
        min(created_at) as first_deal_at,
        max(created_at) as last_deal_at,
        avg(case when current_state = 'REFUNDED' then 1.0 else 0.0 end) as refund_share,
        avg(case when dispute_count > 1 then 1.0 else 0.0 end) as disputed_twice_share,
        max(inspection_ttl_days) as inspection_ttl_days,
        max(dispute_ttl_hours) as dispute_ttl_hours,
        max(holdback_ratio) as holdback_ratio
    from {{ ref('fct_deals') }}
    group by template_version

)

select
    side_by_side.kpi,
    side_by_side.unit,
    side_by_side.comparator,
    side_by_side.target,
    side_by_side.v1_value,
    side_by_side.v1_denominator,
    side_by_side.v1_met,
    side_by_side.v2_value,
    side_by_side.v2_denominator,
    side_by_side.v2_met,
    side_by_side.v2_value - side_by_side.v1_value as v2_minus_v1,
    v1.deals as v1_deals,
    v2.deals as v2_deals,
    v1.inspection_ttl_days as v1_inspection_ttl_days,
    v2.inspection_ttl_days as v2_inspection_ttl_days,
    v1.dispute_ttl_hours as v1_dispute_ttl_hours,
    v2.dispute_ttl_hours as v2_dispute_ttl_hours,
    v1.holdback_ratio as v1_holdback_ratio,
    v2.holdback_ratio as v2_holdback_ratio
from side_by_side
left join deal_mix as v1
    on v1.template_version = 1
left join deal_mix as v2
    on v2.template_version = 2
order by side_by_side.kpi
