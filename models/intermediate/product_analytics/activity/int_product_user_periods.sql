{#-
  One row per (period grain, tenant, event domain, user, period start) in which the
  user was active (day | week = ISO week from Monday | month), for every scope of
  int_product_user_days ('all' tenants / domains included), with the number of
  active days in it and the user's previous and next active period of the same
  grain and scope: the state the lifecycle marts (new / returning / resurrecting /
  dormant, PostHog's definitions) and the stickiness mart read. Linear: lag / lead
  over each user's ordered periods, no self-join.
  Incremental (delete+insert on user_id): a run recomputes the users with staging
  rows (of the streams) written since its recorded watermark, from all their
  user-days (index on int_product_user_days (user_id, activity_date)). A row keeps
  its staged_at when the run computes it unchanged, so staged_at > a mart's
  watermark names exactly the periods whose state changed (the daily lifecycle's
  kpi_changed_days.intermediates): a late event changes its own day, and the
  previous / next active day of its user. A first build / --full-refresh computes
  every user in one statement.
-#}
{%- set settings = product_analytics_activity_settings() %}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='user_id',
    post_hook=["{{ platform_record_watermark() }}"],
    indexes=[
        {'columns': ['user_period_key'], 'unique': true},
        {'columns': ['user_id']},
        {'columns': ['period_grain', 'period_start']},
        {'columns': ['staged_at']},
    ],
) }}

with

{% if is_incremental() %}
touched_users as (

    select distinct user_id
    from {{ ref('stg_platform__events') }}
    where user_id is not null
        and event_domain in {{ product_analytics_stream_list() }}
        and dbt_loaded_at > {{ platform_recorded_watermark() }}

),
{% endif %}

user_days as (

    select
        tenant_id,
        event_domain,
        user_id,
        activity_date
    from {{ ref('int_product_user_days') }}
    {%- if is_incremental() %}
    where user_id in (select user_id from touched_users)
    {%- endif %}

),

periods as (

    select
        'day' as period_grain,
        tenant_id,
        event_domain,
        user_id,
        activity_date as period_start,
        1 as active_days
    from user_days
    union all
    select
        'week',
        tenant_id,
        event_domain,
        user_id,
        cast({{ dbt.date_trunc('week', 'activity_date') }} as date),
        count(*)
    from user_days
    group by tenant_id, event_domain, user_id, cast({{ dbt.date_trunc('week', 'activity_date') }} as date)
    union all
    select
        'month',
        tenant_id,
        event_domain,
        user_id,
        cast({{ dbt.date_trunc('month', 'activity_date') }} as date),
        count(*)
    from user_days
    group by tenant_id, event_domain, user_id, cast({{ dbt.date_trunc('month', 'activity_date') }} as date)

),

linked as (

    select
        {{ surrogate_key(['period_grain', 'tenant_id', 'event_domain', 'user_id', 'period_start']) }}
            as user_period_key,
        period_grain,
        tenant_id,
        event_domain,
        user_id,
        period_start,
        cast(active_days as {{ dbt.type_int() }}) as active_days,
        lag(period_start) over (
            partition by period_grain, tenant_id, event_domain, user_id order by period_start
        ) as previous_period_start,
        lead(period_start) over (
            partition by period_grain, tenant_id, event_domain, user_id order by period_start
        ) as next_period_start
    from periods

),

final as (

    select
        linked.user_period_key,
        linked.period_grain,
        linked.tenant_id,
        linked.event_domain,
        linked.user_id,
        linked.period_start,
        linked.active_days,
        linked.previous_period_start,
        linked.next_period_start,
        {%- if is_incremental() %}
        -- an unchanged row keeps the time it was last changed
        case
            when held.user_period_key is not null
                and held.active_days = linked.active_days
                and coalesce(held.previous_period_start = linked.previous_period_start,
                    held.previous_period_start is null and linked.previous_period_start is null)
                and coalesce(held.next_period_start = linked.next_period_start,
                    held.next_period_start is null and linked.next_period_start is null)
                then held.staged_at
            else (select max(dbt_loaded_at) from {{ ref('stg_platform__events') }})
        end as staged_at
        {%- else %}
        (select max(dbt_loaded_at) from {{ ref('stg_platform__events') }}) as staged_at
        {%- endif %}
    from linked
    {%- if is_incremental() %}
    left join {{ this }} as held
        on linked.user_period_key = held.user_period_key
    {%- endif %}

)

select
    user_period_key,
    period_grain,
    tenant_id,
    event_domain,
    user_id,
    period_start,
    active_days,
    previous_period_start,
    next_period_start,
    staged_at
from final
