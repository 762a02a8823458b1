{#-
  Seed 003's "Compare v1 vs v2 performance" (Template Tuning, step 5), the former
  analyses/compare_template_v1_v2.sql as a tested mart: one row per country x category
  x KPI x template version that has an earlier version with deals in the same country
  x category. Each version is compared with the previous one (v2 with v1, v3 with v2):
  cumulative KPI values of both (rpt_pilot_scope_kpis, deals stay pinned to their
  version, so a version's cohort is the deals created on it), the change, the target
  and whether each met it, whether the change is an improvement (by the target's
  comparator: < and <= mean lower is better; null without one), and the template
  parameters that changed. A table rebuilt whole by every run.
-#}
with

kpis as (

    select country_code, category, template_version, kpi, unit, denominator, value, comparator, target, is_met
    from {{ ref('rpt_pilot_scope_kpis') }}
    where period_type = 'cumulative'
        and version_scope != 'all'
        and template_version is not null

),

versions as (

    select
        {{ unknown_member('country_code') }} as country_code,
        {{ unknown_member('category') }} as category,
        template_version,
        count(*) as deals,
        max(inspection_ttl_days) as inspection_ttl_days,
        max(dispute_ttl_hours) as dispute_ttl_hours,
        max(holdback_ratio) as holdback_ratio
    from {{ ref('fct_deals') }}
    where template_version is not null
    group by 1, 2, 3

),

paired as (

    select
        kpis.country_code,
        kpis.category,
        kpis.kpi,
        kpis.unit,
        kpis.template_version,
        lag(kpis.template_version) over (
            partition by kpis.country_code, kpis.category, kpis.kpi order by kpis.template_version
        ) as previous_version,
        kpis.denominator,
        lag(kpis.denominator) over (
            partition by kpis.country_code, kpis.category, kpis.kpi order by kpis.template_version
        ) as previous_denominator,
        kpis.value,
        lag(kpis.value) over (
            partition by kpis.country_code, kpis.category, kpis.kpi order by kpis.template_version
        ) as previous_value,
        kpis.comparator,
        kpis.target,
        kpis.is_met,
        lag(kpis.is_met) over (
            partition by kpis.country_code, kpis.category, kpis.kpi order by kpis.template_version
        ) as previous_is_met
    from kpis

)

select
    {{ surrogate_key(['paired.country_code', 'paired.category', 'paired.kpi', 'paired.template_version']) }}
        as version_comparison_key,
    paired.country_code || ':' || paired.category as scope,
    paired.country_code,
    paired.category,
    paired.kpi,
    paired.unit,
    paired.template_version,
    paired.previous_version,
    paired.value,
    paired.previous_value,
    paired.value - paired.previous_value as change,
    paired.denominator,
    paired.previous_denominator,
    paired.comparator,
    paired.target,
    paired.is_met,
    paired.previous_is_met,
    case
        when paired.value is null or paired.previous_value is null or paired.comparator is null then null
        when paired.comparator in ('<', '<=') then paired.value < paired.previous_value
        else paired.value > paired.previous_value
    end as is_improved,
    current_version.deals,
    previous_version.deals as previous_deals,
    current_version.inspection_ttl_days,
    previous_version.inspection_ttl_days as previous_inspection_ttl_days,
    current_version.dispute_ttl_hours,
    previous_version.dispute_ttl_hours as previous_dispute_ttl_hours,
    current_version.holdback_ratio,
    previous_version.holdback_ratio as previous_holdback_ratio
from paired
inner join versions as current_version
    on paired.country_code = current_version.country_code
    and paired.category = current_version.category
    and paired.template_version = current_version.template_version
inner join versions as previous_version
    on paired.country_code = previous_version.country_code
    and paired.category = previous_version.category
    and paired.previous_version = previous_version.template_version
