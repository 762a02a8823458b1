{#-
  Weekly lifecycle per tenant and event domain of the declared streams (PostHog's
  lifecycle by ISO week, Monday start; DECISIONLOG "Lifecycle, stickiness, sessions
  and paths"): one row per (week_start, tenant_id, event_domain) with an active or
  a dormant user in that scope, 'all' tenants and/or 'all' domains included. Of
  the users active in the week: new (no earlier active week in the scope),
  returning (active the week before), resurrecting (not the week before, active
  some week earlier); dormant: active the week before, not this week.
  A table rebuilt whole by every run from int_product_user_periods (grain week,
  incremental by touched user): it reads user-weeks, not events, so a late event
  reaches its week and the weeks after on the next plain build.
-#}
{{ config(
    indexes=[{'columns': ['week_start', 'tenant_id', 'event_domain'], 'unique': true}],
) }}

with

user_weeks as (

    select
        tenant_id,
        event_domain,
        period_start,
        previous_period_start,
        next_period_start
    from {{ ref('int_product_user_periods') }}
    where period_grain = 'week'

),

counts as (

    select
        period_start as week_start,
        tenant_id,
        event_domain,
        1 as active_users,
        case when previous_period_start is null then 1 else 0 end as new_users,
        case
            when previous_period_start = cast({{ dbt.dateadd('day', -7, 'period_start') }} as date) then 1 else 0
        end as returning_users,
        case
            when previous_period_start < cast({{ dbt.dateadd('day', -7, 'period_start') }} as date) then 1 else 0
        end as resurrecting_users,
        0 as dormant_users
    from user_weeks
    union all
    -- active in a week, not in the next: dormant in the next week
    select
        cast({{ dbt.dateadd('day', 7, 'period_start') }} as date),
        tenant_id,
        event_domain,
        0,
        0,
        0,
        0,
        1
    from user_weeks
    where next_period_start is null
        or next_period_start > cast({{ dbt.dateadd('day', 7, 'period_start') }} as date)

)

select
    week_start,
    tenant_id,
    event_domain,
    cast(sum(active_users) as {{ dbt.type_bigint() }}) as active_users,
    cast(sum(new_users) as {{ dbt.type_bigint() }}) as new_users,
    cast(sum(returning_users) as {{ dbt.type_bigint() }}) as returning_users,
    cast(sum(resurrecting_users) as {{ dbt.type_bigint() }}) as resurrecting_users,
    cast(sum(dormant_users) as {{ dbt.type_bigint() }}) as dormant_users
from counts
group by week_start, tenant_id, event_domain
