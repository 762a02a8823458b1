{#-
  Seed 004's metrics_cohort_retention: first-activity cohorts (daily and ISO
  weekly) and their N-day retention for N in 1, 7, 30, 90 — "exact" (active on
  the member's own first day + N) and "unbounded" (active on any day >= first
  day + N). A rate is NULL while the cohort is too young (some member's day N
  is after the observation end), never 0. Observation end = the last day with
  an event, capped at the day before var as_of (null as_of = run time).
  The declared retention `platform_first_activity` (var product_analytics.retentions:
  start and return any event, day periods 1, 7, 30, 90, day and week cohorts; checked
  by pa_retention), wide; marts.metrics_retention holds the same numbers long. Computed
  from int_user_activity_summary (one row per user, maintained incrementally) in one
  pass into day cohorts, the weeks summed from the days, so a run costs one scan of the
  users, not the event log (DECISIONLOG "Incremental platform intermediates").
-#}
{{ config(materialized='table', indexes=[{'columns': ['cohort_grain', 'cohort_start'], 'unique': true}]) }}

{#- the periods and cohort grains of the declared retention this mart is an instance of
    (pa_retention fails naming the entry when it declares others) -#}
{%- set days = [1, 7, 30, 90] -%}
{%- do pa_retention('platform_first_activity', periods=days, cohort_grains=['day', 'week']) %}

with

day_cohorts as (

    -- one pass over the users: every count is a sum, so a week's cohort is the sum of its
    -- days' cohorts (no per-user row is materialised or read twice)
    select
        first_date as cohort_start,
        max(last_date) as last_date,
        count(*) as cohort_size,
        {% for n in days %}
        sum(case when active_d{{ n }} then 1 else 0 end) as retained_d{{ n }},
        sum(
            case when last_date >= {{ dbt.dateadd('day', n, 'first_date') }} then 1 else 0 end
        ) as retained_d{{ n }}_plus{{ ',' if not loop.last }}
        {% endfor %}
    from {{ ref('int_user_activity_summary') }}
    group by first_date

),

observation as (

    select
        least(
            max(last_date),
            cast({{ dbt.dateadd('day', -1, utc_date(kpi_as_of())) }} as date)
        ) as observation_end
    from day_cohorts

),

cohorts as (

    select
        'day' as cohort_grain,
        cohort_start,
        cohort_start as cohort_last_day,
        cohort_size,
        {% for n in days %}retained_d{{ n }}, retained_d{{ n }}_plus{{ ',' if not loop.last }}{% endfor %}  -- noqa: LT05 (one source line, rendered long)
    from day_cohorts
    union all
    select
        'week' as cohort_grain,
        cast({{ dbt.date_trunc('week', 'cohort_start') }} as date) as cohort_start,
        cast({{ dbt.dateadd('day', 6, dbt.date_trunc('week', 'cohort_start')) }} as date) as cohort_last_day,
        cast(sum(cohort_size) as {{ dbt.type_bigint() }}) as cohort_size,
        {% for n in days %}
        cast(sum(retained_d{{ n }}) as {{ dbt.type_bigint() }}) as retained_d{{ n }},
        cast(sum(retained_d{{ n }}_plus) as {{ dbt.type_bigint() }}) as retained_d{{ n }}_plus{{ ',' if not loop.last }}
        {% endfor %}
    from day_cohorts
    group by {{ dbt.date_trunc('week', 'cohort_start') }}

)

select
    {{ surrogate_key(['cohorts.cohort_grain', 'cohorts.cohort_start']) }} as cohort_key,
    cohorts.cohort_grain,
    cohorts.cohort_start,
    observation.observation_end,
    cohorts.cohort_size,
    {% for n in days %}
    {%- set mature = dbt.dateadd('day', n, 'cohorts.cohort_last_day') ~ ' <= observation.observation_end' %}
    case when {{ mature }} then cohorts.retained_d{{ n }} end as retained_d{{ n }},
    case when {{ mature }}
        then round(cast(cohorts.retained_d{{ n }} as {{ dbt.type_numeric() }}) / cohorts.cohort_size, 4)
    end as retention_rate_d{{ n }},
    case when {{ mature }} then cohorts.retained_d{{ n }}_plus end as retained_d{{ n }}_plus,
    case when {{ mature }}
        then round(cast(cohorts.retained_d{{ n }}_plus as {{ dbt.type_numeric() }}) / cohorts.cohort_size, 4)
    end as retention_rate_d{{ n }}_plus{{ ',' if not loop.last }}
    {% endfor %}
from cohorts
cross join observation
