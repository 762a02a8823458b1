{#-
  One row per (tenant, event domain, user, UTC day) with an event of the user in
  the declared streams (var product_analytics.streams), in four scopes: per tenant
  and domain, and 'all' tenants and/or 'all' domains (a user counts once in an
  'all' scope however many tenants or domains they touched). The user-day grain
  the activity marts read (DAU/WAU/MAU per scope, lifecycle, stickiness), as
  int_user_activity_daily is for the platform-wide engagement mart. A missing
  tenant is 'unknown'. Incremental (replace_days on activity_date, the streams'
  domains): a run recomputes the days kpi_days_to_process() names from their
  staging rows, so it costs those days' events, not the history.
-#}
{%- set settings = product_analytics_activity_settings() %}
{{ config(
    materialized='incremental',
    incremental_strategy='replace_days',
    unique_key='activity_date',
    tags=['daily'],
    kpi_changed_days={'domains': settings['streams']},
    indexes=[
        {'columns': ['user_day_key'], 'unique': true},
        {'columns': ['activity_date']},
        {'columns': ['user_id', 'activity_date']},
    ],
) }}

with

events as (

    select
        {{ unknown_member('tenant_id') }} as tenant_id,
        event_domain,
        user_id,
        event_date
    from {{ ref('stg_platform__events') }}
    where user_id is not null
        and event_domain in {{ product_analytics_stream_list() }}
        and {{ kpi_in_days('occurred_at', timestamp=true) }}

),

scoped as (

    -- the user-days of each (tenant, domain) ...
    select
        tenant_id,
        event_domain,
        user_id,
        event_date,
        count(*) as events
    from events
    group by tenant_id, event_domain, user_id, event_date

),

user_days as (

    select tenant_id, event_domain, user_id, event_date, events
    from scoped
    union all
    -- ... of each tenant over all its domains
    select tenant_id, 'all', user_id, event_date, sum(events)
    from scoped
    group by tenant_id, user_id, event_date
    union all
    -- ... of each domain over all tenants
    select 'all', event_domain, user_id, event_date, sum(events)
    from scoped
    group by event_domain, user_id, event_date
    union all
    -- ... and of everything
    select 'all', 'all', user_id, event_date, sum(events)
    from scoped
    group by user_id, event_date

)

select
    {{ surrogate_key(['tenant_id', 'event_domain', 'user_id', 'event_date']) }} as user_day_key,
    tenant_id,
    event_domain,
    user_id,
    event_date as activity_date,
    cast(events as {{ dbt.type_bigint() }}) as events
from user_days
