{#-
  Sessions per UTC day, tenant and event domain of the declared streams: one row
  per (metric_date, tenant_id, event_domain) with a session, 'all' tenants and/or
  'all' domains included (a scope's sessions are formed by its own events). A
  session is the events of one session_id where the event has one; else a user's
  events (without a session_id) with at most var
  product_analytics.sessions.inactivity_minutes (default 30) between consecutive
  ones. Events with neither a session_id nor a user_id belong to no session. A
  session ends at UTC midnight (Universal Analytics' rule; DECISIONLOG "Lifecycle,
  stickiness, sessions and paths"): a day's sessions depend on that day's events
  only. Linear: lag over each user's ordered events of the day and a running sum
  of session starts, no self-join.
  Incremental (replace_days on metric_date, no look-back): a run recomputes the
  days of the streams' events staged since its last run from their staging rows.
-#}
{%- set settings = product_analytics_activity_settings() %}
{{ config(
    materialized='incremental',
    incremental_strategy='replace_days',
    unique_key='metric_date',
    tags=['daily'],
    kpi_changed_days={'domains': settings['streams']},
    indexes=[
        {'columns': ['metric_date', 'tenant_id', 'event_domain'], 'unique': true},
    ],
) }}

with

events as (

    select
        event_id,
        occurred_at,
        event_date,
        {{ unknown_member('tenant_id') }} as tenant_id,
        event_domain,
        user_id,
        session_id
    from {{ ref('stg_platform__events') }}
    where event_domain in {{ product_analytics_stream_list() }}
        and (session_id is not null or user_id is not null)
        and {{ kpi_in_days('occurred_at', timestamp=true) }}

),

scoped as (

    -- each event in its four scopes: (tenant, domain), (tenant, all), (all, domain), (all, all)
    select event_id, occurred_at, event_date, tenant_id, event_domain, user_id, session_id
    from events
    union all
    select event_id, occurred_at, event_date, tenant_id, 'all', user_id, session_id
    from events
    union all
    select event_id, occurred_at, event_date, 'all', event_domain, user_id, session_id
    from events
    union all
    select event_id, occurred_at, event_date, 'all', 'all', user_id, session_id
    from events

),

gaps as (

    -- events without a session_id: a new session when the user's previous event of the
    -- day (in the scope) is more than inactivity_minutes earlier, or there is none
    select
        tenant_id,
        event_domain,
        event_date,
        user_id,
        occurred_at,
        case
            when lag(occurred_at) over (
                partition by tenant_id, event_domain, event_date, user_id order by occurred_at, event_id
            ) >= {{ dbt.dateadd('minute', '-' ~ product_analytics_inactivity_minutes(), 'occurred_at') }} then 0
            else 1
        end as starts_session,
        event_id
    from scoped
    where session_id is null

),

gap_numbers as (

    select
        tenant_id,
        event_domain,
        event_date,
        user_id,
        occurred_at,
        sum(starts_session) over (
            partition by tenant_id, event_domain, event_date, user_id order by occurred_at, event_id
            rows between unbounded preceding and current row
        ) as session_number
    from gaps

),

numbered as (

    select
        tenant_id,
        event_domain,
        event_date,
        {{ dbt.concat(["'user:'", 'user_id', "':'", 'cast(session_number as ' ~ dbt.type_string() ~ ')']) }}
            as session_key,
        false as has_session_id,
        occurred_at
    from gap_numbers
    union all
    select
        tenant_id,
        event_domain,
        event_date,
        {{ dbt.concat(["'session:'", 'session_id']) }},
        true,
        occurred_at
    from scoped
    where session_id is not null

),

sessions as (

    select
        event_date,
        tenant_id,
        event_domain,
        session_key,
        {{ dbt.bool_or('has_session_id') }} as has_session_id,
        count(*) as events,
        {{ dbt.datediff('min(occurred_at)', 'max(occurred_at)', 'second') }} as duration_seconds
    from numbered
    group by event_date, tenant_id, event_domain, session_key

)

select
    event_date as metric_date,
    tenant_id,
    event_domain,
    cast(count(*) as {{ dbt.type_bigint() }}) as sessions,
    cast(sum(case when has_session_id then 1 else 0 end) as {{ dbt.type_bigint() }}) as sessions_with_session_id,
    cast(sum(events) as {{ dbt.type_bigint() }}) as session_events,
    cast(sum(case when events = 1 then 1 else 0 end) as {{ dbt.type_bigint() }}) as bounced_sessions,
    round(cast(sum(case when events = 1 then 1 else 0 end) as {{ dbt.type_numeric() }}) / count(*), 4)
        as bounce_rate,
    round(cast(avg(duration_seconds) as {{ dbt.type_numeric() }}), 2) as avg_session_duration_seconds,
    round(cast({{ median('duration_seconds') }} as {{ dbt.type_numeric() }}), 2) as median_session_duration_seconds,
    round(cast(sum(events) as {{ dbt.type_numeric() }}) / count(*), 2) as avg_events_per_session
from sessions
group by event_date, tenant_id, event_domain
