{{ config(group='product_analytics') }}
-- Stickiness invariant (issue 14): the users of a week's or a month's stickiness rows
-- sum to the distinct users active in that ISO week / calendar month, counted from
-- the user-days (int_product_user_days), per tenant and domain; and a week's sum
-- equals metrics_weekly_lifecycle.active_users. Returns the disagreeing periods.
with

sticky as (

    select period_grain, period_start, tenant_id, event_domain, sum(users) as users
    from {{ ref('metrics_stickiness') }}
    group by period_grain, period_start, tenant_id, event_domain

),

user_days as (

    select
        tenant_id,
        event_domain,
        user_id,
        cast({{ dbt.date_trunc('week', 'activity_date') }} as date) as week_start,
        cast({{ dbt.date_trunc('month', 'activity_date') }} as date) as month_start
    from {{ ref('int_product_user_days') }}

),

counted as (

    select 'week' as period_grain, week_start as period_start, tenant_id, event_domain, count(distinct user_id) as users
    from user_days
    group by week_start, tenant_id, event_domain
    union all
    select 'month', month_start, tenant_id, event_domain, count(distinct user_id)
    from user_days
    group by month_start, tenant_id, event_domain

),

weekly as (

    select 'week' as period_grain, week_start as period_start, tenant_id, event_domain, active_users as users
    from {{ ref('metrics_weekly_lifecycle') }}
    where active_users > 0

),

compared as (

    select
        coalesce(sticky.period_grain, counted.period_grain) as period_grain,
        coalesce(sticky.period_start, counted.period_start) as period_start,
        coalesce(sticky.tenant_id, counted.tenant_id) as tenant_id,
        coalesce(sticky.event_domain, counted.event_domain) as event_domain,
        sticky.users as stickiness_users,
        counted.users as active_users
    from sticky
    full outer join counted
        on sticky.period_grain = counted.period_grain
        and sticky.period_start = counted.period_start
        and sticky.tenant_id = counted.tenant_id
        and sticky.event_domain = counted.event_domain

)

select
    compared.period_grain,
    compared.period_start,
    compared.tenant_id,
    compared.event_domain,
    compared.stickiness_users,
    compared.active_users,
    weekly.users as weekly_lifecycle_active_users
from compared
left join weekly
    on compared.period_grain = weekly.period_grain
    and compared.period_start = weekly.period_start
    and compared.tenant_id = weekly.tenant_id
    and compared.event_domain = weekly.event_domain
where compared.stickiness_users is null
    or compared.active_users is null
    or compared.stickiness_users <> compared.active_users
    or (compared.period_grain = 'week' and coalesce(weekly.users, -1) <> compared.stickiness_users)
