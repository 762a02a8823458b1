{#-
  DAU / WAU / MAU per tenant and per event domain of the declared streams: one row
  per (UTC day, tenant_id, event_domain) with an active user in that scope that
  day, 'all' tenants and/or 'all' domains included. The definitions are
  metrics_daily_engagement's (seed 004; DECISIONLOG "Engagement: DAU / WAU / MAU"):
  DAU = distinct users with an event that day; WAU / MAU = distinct users in the
  7 / 30 days ending that day (rolling); stickiness = DAU / MAU. Counted the same
  linear way: each active (user, day) covers the days up to the user's next active
  day, at most 7 / 30, and +1 / -1 deltas with a running sum per scope give the
  distinct counts in O(user-days).
  Incremental (replace_days on metric_date, days_after 29): a run recomputes the
  days of the streams' events staged since its last run, each with the 29 following
  days, reading the user-days (int_product_user_days) of those days and the 29 days
  before each.
-#}
{%- set settings = product_analytics_activity_settings() %}
{{ config(
    materialized='incremental',
    incremental_strategy='replace_days',
    unique_key='metric_date',
    tags=['daily'],
    kpi_changed_days={'domains': settings['streams'], 'days_after': 29},
    indexes=[
        {'columns': ['metric_date', 'tenant_id', 'event_domain'], 'unique': true},
    ],
) }}

-- the load watermark and the days to recompute are read from staging (kpi_days_to_process)
-- depends_on: {{ ref('stg_platform__events') }}

with

user_days as (

    -- the recomputed days plus the 29 days before each (their 30-day windows)
    select
        tenant_id,
        event_domain,
        user_id,
        activity_date
    from {{ ref('int_product_user_days') }}
    where {{ kpi_in_days('activity_date', days_before=29) }}

),

user_day_spans as (

    select
        tenant_id,
        event_domain,
        activity_date,
        lead(activity_date) over (
            partition by tenant_id, event_domain, user_id order by activity_date
        ) as next_activity_date
    from user_days

),

deltas as (

    select tenant_id, event_domain, activity_date as delta_date, 1 as dau_delta, 1 as wau_delta, 1 as mau_delta
    from user_day_spans
    union all
    select tenant_id, event_domain, cast({{ dbt.dateadd('day', 1, 'activity_date') }} as date), -1, 0, 0
    from user_day_spans
    union all
    select
        tenant_id,
        event_domain,
        least(coalesce(next_activity_date, cast({{ dbt.dateadd('day', 7, 'activity_date') }} as date)),
            cast({{ dbt.dateadd('day', 7, 'activity_date') }} as date)),
        0, -1, 0
    from user_day_spans
    union all
    select
        tenant_id,
        event_domain,
        least(coalesce(next_activity_date, cast({{ dbt.dateadd('day', 30, 'activity_date') }} as date)),
            cast({{ dbt.dateadd('day', 30, 'activity_date') }} as date)),
        0, 0, -1
    from user_day_spans

),

running as (

    select
        delta_date,
        tenant_id,
        event_domain,
        sum(sum(dau_delta)) over (
            partition by tenant_id, event_domain order by delta_date
            rows between unbounded preceding and current row
        ) as dau,
        sum(sum(wau_delta)) over (
            partition by tenant_id, event_domain order by delta_date
            rows between unbounded preceding and current row
        ) as wau,
        sum(sum(mau_delta)) over (
            partition by tenant_id, event_domain order by delta_date
            rows between unbounded preceding and current row
        ) as mau
    from deltas
    group by delta_date, tenant_id, event_domain

)

select
    delta_date as metric_date,
    tenant_id,
    event_domain,
    cast(dau as {{ dbt.type_bigint() }}) as dau,
    cast(wau as {{ dbt.type_bigint() }}) as wau,
    cast(mau as {{ dbt.type_bigint() }}) as mau,
    round(cast(dau as {{ dbt.type_numeric() }}) / nullif(mau, 0), 4) as stickiness
from running
where dau > 0
    and {{ kpi_in_days('delta_date') }}
