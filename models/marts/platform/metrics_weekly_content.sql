{#-
  ISO-week rollup of metrics_daily_content: counts summed, approval rate
  recomputed from the sums; coverage = average daily coverage is NOT used:
  coverage_rate = published sign-days / (12 x days with content rows);
  approval latency avg/p95 recomputed from the horoscopes first approved in the
  week (int_horoscopes_lifecycle). After a retention run (kpi retention apply)
  the lifecycles older than its horizon are gone: the weeks starting before the
  horizon keep the latency statistics this table already held.
-#}
{{ config(materialized='table', indexes=[{'columns': ['week_start'], 'unique': true}]) }}
{%- set horizon = kpi_retention_horizon() %}
{%- set known = adapter.get_relation(this.database, this.schema, this.identifier) if horizon else none %}

with

latencies as (

    select
        cast({{ dbt.date_trunc('week', utc_date('first_approved_at')) }} as date) as week_start,
        approval_latency_seconds
    from {{ ref('int_horoscopes_lifecycle') }}
    where approval_latency_seconds >= 0

),

weekly as (

    -- zodiac_signs_published summed over the week: published sign-days
    {{ platform_weekly_sums(
        ref('metrics_daily_content'),
        measures=['horoscopes_uploaded', 'horoscopes_published', 'zodiac_signs_published', 'horoscopes_approved', 'horoscopes_rejected'],
        days_column='days_with_content',
    ) }}

),

latency_stats as (

    select
        week_start,
        avg(approval_latency_seconds) as avg_approval_latency_seconds,
        {{ percentile('approval_latency_seconds', 0.95) }} as p95_approval_latency_seconds
    from latencies
    {%- if known %}
    where week_start >= cast('{{ horizon }}' as date)
    {%- endif %}
    group by week_start
    {%- if known %}

    union all

    select
        week_start,
        avg_approval_latency_seconds,
        p95_approval_latency_seconds
    from {{ known }}
    where week_start < cast('{{ horizon }}' as date)
    {%- endif %}

)

select
    weekly.week_start,
    cast(weekly.days_with_content as {{ dbt.type_bigint() }}) as days_with_content,
    cast(weekly.horoscopes_uploaded as {{ dbt.type_bigint() }}) as horoscopes_uploaded,
    cast(weekly.horoscopes_published as {{ dbt.type_bigint() }}) as horoscopes_published,
    cast(weekly.zodiac_signs_published as {{ dbt.type_bigint() }}) as zodiac_sign_days_published,
    round(cast(weekly.zodiac_signs_published as {{ dbt.type_numeric() }})
        / nullif(12 * weekly.days_with_content, 0), 4) as coverage_rate,
    cast(weekly.horoscopes_approved as {{ dbt.type_bigint() }}) as horoscopes_approved,
    cast(weekly.horoscopes_rejected as {{ dbt.type_bigint() }}) as horoscopes_rejected,
    round(cast(weekly.horoscopes_approved as {{ dbt.type_numeric() }})
        / nullif(weekly.horoscopes_approved + weekly.horoscopes_rejected, 0), 4) as approval_rate,
    round(cast(latency_stats.avg_approval_latency_seconds as {{ dbt.type_numeric() }}), 1) as avg_approval_latency_seconds,
    round(cast(latency_stats.p95_approval_latency_seconds as {{ dbt.type_numeric() }}), 1) as p95_approval_latency_seconds
from weekly
left join latency_stats
    on weekly.week_start = latency_stats.week_start
