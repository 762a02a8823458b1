{#-
  Every declared retention (var product_analytics.retentions), long format: one row per
  retention, breakdown value, cohort grain, cohort start and declared period - cohort
  size, members back exactly in the period and in it or later (unbounded), and their
  rates. Counts and rates are NULL while the cohort is too young for the period (the
  period has not ended for its latest possible member by observation_end), never 0.
  Observation end = the last day with an event of the retention, capped at the day
  before var as_of (run time when null), as metrics_cohort_retention. A table rebuilt
  from int_retention_entity_periods (incremental per entity) on every run: a late event
  reaches its cohort on the next plain `kpi build` (DECISIONLOG "Declared analyses").
-#}
{%- set defs = pa_definitions() -%}
{#- meta: the checked entries, for `kpi analyses list|show` (read from dbt's manifest) -#}
{{ config(
    materialized='table',
    meta={'product_analytics_retentions': pa_summaries(defs.retentions)},
    indexes=[{
        'columns': ['analysis_name', 'breakdown_value', 'cohort_grain', 'cohort_start', 'period_number'],
        'unique': true,
    }],
) }}

with

members as (

    select
        analysis_name,
        definition_hash,
        breakdown_value,
        start_date,
        last_seen_date,
        period_number,
        is_retained_exact,
        is_retained_unbounded
    from {{ ref('int_retention_entity_periods') }}

),

cohort_members as (
    {%- set n_union = [] %}
    {%- for r in defs.retentions %}
    {%- for g in r.cohort_grains %}
    {{ 'union all' if n_union }}
    {%- do n_union.append(1) %}
    {%- set cohort_start = 'cast(' ~ dbt.date_trunc(g, 'start_date') ~ ' as date)' %}
    select
        analysis_name,
        breakdown_value,
        '{{ g }}' as cohort_grain,
        '{{ r.period_unit }}' as period_unit,
        {{ cohort_start }} as cohort_start,
        -- when period n ends for a member who started on the cohort's last day (the day, the
        -- week's Sunday, the month's last day): the cohort is too young for n until then
        {%- set last_unit = 'cast(' ~ dbt.date_trunc(r.period_unit, dbt.dateadd('day', -1, dbt.dateadd(g, 1, cohort_start))) ~ ' as date)' %}
        cast({{ dbt.dateadd('day', -1, dbt.dateadd(r.period_unit, 'period_number + 1', last_unit)) }} as date) as period_end,
        period_number,
        case when is_retained_exact then 1 else 0 end as retained_exact,
        case when is_retained_unbounded then 1 else 0 end as retained_unbounded
    from members
    where analysis_name = '{{ r.name }}'
        and definition_hash = '{{ r.definition_hash }}'
    {%- endfor %}
    {%- endfor %}
    {%- if not n_union %}
    select
        cast(null as {{ dbt.type_string() }}) as analysis_name,
        cast(null as {{ dbt.type_string() }}) as breakdown_value,
        cast(null as {{ dbt.type_string() }}) as cohort_grain,
        cast(null as {{ dbt.type_string() }}) as period_unit,
        cast(null as date) as cohort_start,
        cast(null as date) as period_end,
        1 as period_number,
        0 as retained_exact,
        0 as retained_unbounded
    from members
    where 1 = 0
    {%- endif %}

),

observation as (

    select
        analysis_name,
        least(
            max(last_seen_date),
            cast({{ dbt.dateadd('day', -1, utc_date(kpi_as_of())) }} as date)
        ) as observation_end
    from members
    group by analysis_name

),

cohorts as (

    select
        analysis_name,
        breakdown_value,
        cohort_grain,
        period_unit,
        cohort_start,
        period_number,
        max(period_end) as period_end,
        count(*) as cohort_size,
        sum(retained_exact) as retained_exact,
        sum(retained_unbounded) as retained_unbounded
    from cohort_members
    group by analysis_name, breakdown_value, cohort_grain, period_unit, cohort_start, period_number

)

select
    {{ surrogate_key([
        'cohorts.analysis_name', 'cohorts.breakdown_value', 'cohorts.cohort_grain',
        'cohorts.cohort_start', 'cohorts.period_number',
    ]) }} as retention_key,
    cohorts.analysis_name,
    cohorts.breakdown_value,
    cohorts.cohort_grain,
    cohorts.cohort_start,
    cohorts.period_unit,
    cast(cohorts.period_number as {{ dbt.type_int() }}) as period_number,
    observation.observation_end,
    cast(cohorts.cohort_size as {{ dbt.type_bigint() }}) as cohort_size,
    case
        when cohorts.period_end <= observation.observation_end
            then cast(cohorts.retained_exact as {{ dbt.type_bigint() }})
    end as retained_exact_count,
    case
        when cohorts.period_end <= observation.observation_end
            then round(cast(cohorts.retained_exact as {{ dbt.type_numeric() }}) / cohorts.cohort_size, 4)
    end as retention_rate_exact,
    case
        when cohorts.period_end <= observation.observation_end
            then cast(cohorts.retained_unbounded as {{ dbt.type_bigint() }})
    end as retained_unbounded_count,
    case
        when cohorts.period_end <= observation.observation_end
            then round(cast(cohorts.retained_unbounded as {{ dbt.type_numeric() }}) / cohorts.cohort_size, 4)
    end as retention_rate_unbounded
from cohorts
inner join observation
    on cohorts.analysis_name = observation.analysis_name
