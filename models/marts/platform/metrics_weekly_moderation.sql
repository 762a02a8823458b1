{#-
  ISO-week rollup of metrics_daily_moderation: counts summed, rates recomputed
  from the sums (never averaged); decision latency avg/p95 recomputed from the
  initial decisions of the week (platform_moderation_decisions over the
  moderation events of staging). A table rebuilt whole: moderation is a small
  domain (a few events per flag), read through the (event_domain, entity_id)
  index. After a retention run (kpi retention apply) the events older than its
  horizon are gone: the weeks starting before the horizon keep the latency
  statistics this table already held.
-#}
{{ config(materialized='table', indexes=[{'columns': ['week_start'], 'unique': true}]) }}
{%- set horizon = kpi_retention_horizon() %}
{%- set known = adapter.get_relation(this.database, this.schema, this.identifier) if horizon else none %}

with

moderation_events as (

    select
        event_id,
        event_type,
        entity_id,
        occurred_at,
        status
    from {{ ref('stg_platform__events') }}
    where event_domain = 'moderation'

),

decisions as (

    {{ platform_moderation_decisions('moderation_events') }}

),

latencies as (

    select
        cast({{ dbt.date_trunc('week', utc_date('decided_at')) }} as date) as week_start,
        decision_latency_seconds
    from decisions
    where decision_kind = 'initial'

),

weekly as (

    {{ platform_weekly_sums(
        ref('metrics_daily_moderation'),
        measures=['flags_raised', 'decisions', 'content_approved', 'content_removed', 'appeals_submitted',
            'appeals_decided', 'decisions_overturned'],
        days_column='days_with_moderation',
    ) }}

),

latency_stats as (

    select
        week_start,
        avg(decision_latency_seconds) as avg_decision_latency_seconds,
        {{ percentile('decision_latency_seconds', 0.95) }} as p95_decision_latency_seconds
    from latencies
    {%- if known %}
    where week_start >= cast('{{ horizon }}' as date)
    {%- endif %}
    group by week_start
    {%- if known %}

    union all

    select
        week_start,
        avg_decision_latency_seconds,
        p95_decision_latency_seconds
    from {{ known }}
    where week_start < cast('{{ horizon }}' as date)
    {%- endif %}

)

select
    weekly.week_start,
    cast(weekly.days_with_moderation as {{ dbt.type_bigint() }}) as days_with_moderation,
    cast(weekly.flags_raised as {{ dbt.type_bigint() }}) as flags_raised,
    cast(weekly.decisions as {{ dbt.type_bigint() }}) as decisions,
    cast(weekly.content_approved as {{ dbt.type_bigint() }}) as content_approved,
    cast(weekly.content_removed as {{ dbt.type_bigint() }}) as content_removed,
    round(cast(weekly.content_approved as {{ dbt.type_numeric() }}) / nullif(weekly.decisions, 0), 4) as approval_rate,
    round(cast(weekly.content_removed as {{ dbt.type_numeric() }}) / nullif(weekly.decisions, 0), 4) as removal_rate,
    round(cast(latency_stats.avg_decision_latency_seconds as {{ dbt.type_numeric() }}), 1) as avg_decision_latency_seconds,
    round(cast(latency_stats.p95_decision_latency_seconds as {{ dbt.type_numeric() }}), 1) as p95_decision_latency_seconds,
    cast(weekly.appeals_submitted as {{ dbt.type_bigint() }}) as appeals_submitted,
    round(cast(weekly.appeals_submitted as {{ dbt.type_numeric() }})
        / nullif(weekly.content_removed, 0), 4) as appeal_rate,
    cast(weekly.appeals_decided as {{ dbt.type_bigint() }}) as appeals_decided,
    cast(weekly.decisions_overturned as {{ dbt.type_bigint() }}) as decisions_overturned,
    round(cast(weekly.decisions_overturned as {{ dbt.type_numeric() }})
        / nullif(weekly.appeals_decided, 0), 4) as overturn_rate
from weekly
left join latency_stats
    on weekly.week_start = latency_stats.week_start
