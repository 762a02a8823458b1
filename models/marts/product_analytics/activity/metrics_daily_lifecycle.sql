{#-
  Daily lifecycle per tenant and event domain of the declared streams (PostHog's
  lifecycle, DECISIONLOG "Lifecycle, stickiness, sessions and paths"): one row per
  (UTC day, tenant_id, event_domain) with an active or a dormant user in that
  scope, 'all' tenants and/or 'all' domains included. Of the users active that
  day: new (no earlier active day in the scope), returning (active the day
  before), resurrecting (not the day before, active some day earlier);
  active_users = new + returning + resurrecting. dormant_users: active the day
  before, not that day (a positive count; PostHog plots it below zero).
  From int_product_user_periods (grain day: each user-day with the user's previous
  and next active day). Incremental (replace_days on metric_date, days_after 1: a
  day's users are the next day's dormant ones): a run recomputes the days of the
  streams' events staged since its last run and the days whose user-day state
  changed since then (kpi_changed_days.intermediates: a late first event turns
  the user's next active day from new into resurrecting, however far it is).
-#}
{%- set settings = product_analytics_activity_settings() %}
{{ config(
    materialized='incremental',
    incremental_strategy='replace_days',
    unique_key='metric_date',
    tags=['daily'],
    kpi_changed_days={
        'domains': settings['streams'],
        'days_after': 1,
        'intermediates': [
            ['int_product_user_periods', "case when period_grain = 'day' then period_start end"],
        ],
    },
    indexes=[
        {'columns': ['metric_date', 'tenant_id', 'event_domain'], 'unique': true},
    ],
) }}

-- the load watermark and the days to recompute are read from staging (kpi_days_to_process)
-- depends_on: {{ ref('stg_platform__events') }}

with

user_days as (

    -- the recomputed days and the day before each (its users' dormancy)
    select
        tenant_id,
        event_domain,
        period_start,
        previous_period_start,
        next_period_start
    from {{ ref('int_product_user_periods') }}
    where period_grain = 'day'
        and {{ kpi_in_days('period_start', days_before=1) }}

),

counts as (

    select
        period_start as metric_date,
        tenant_id,
        event_domain,
        1 as active_users,
        case when previous_period_start is null then 1 else 0 end as new_users,
        case
            when previous_period_start = cast({{ dbt.dateadd('day', -1, 'period_start') }} as date) then 1 else 0
        end as returning_users,
        case
            when previous_period_start < cast({{ dbt.dateadd('day', -1, 'period_start') }} as date) then 1 else 0
        end as resurrecting_users,
        0 as dormant_users
    from user_days
    union all
    -- active on a day, not on the next: dormant on the next day
    select
        cast({{ dbt.dateadd('day', 1, 'period_start') }} as date),
        tenant_id,
        event_domain,
        0,
        0,
        0,
        0,
        1
    from user_days
    where next_period_start is null
        or next_period_start > cast({{ dbt.dateadd('day', 1, 'period_start') }} as date)

)

select
    metric_date,
    tenant_id,
    event_domain,
    cast(sum(active_users) as {{ dbt.type_bigint() }}) as active_users,
    cast(sum(new_users) as {{ dbt.type_bigint() }}) as new_users,
    cast(sum(returning_users) as {{ dbt.type_bigint() }}) as returning_users,
    cast(sum(resurrecting_users) as {{ dbt.type_bigint() }}) as resurrecting_users,
    cast(sum(dormant_users) as {{ dbt.type_bigint() }}) as dormant_users
from counts
where {{ kpi_in_days('metric_date') }}
group by metric_date, tenant_id, event_domain
