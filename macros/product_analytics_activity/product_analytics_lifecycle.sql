{#-
  product_analytics_lifecycle(grain, period_column, recomputed_days_only=false)
  The select of a lifecycle mart (metrics_daily_lifecycle: grain day, metrics_weekly_lifecycle:
  grain week) over int_product_user_periods: one row per (period, tenant_id, event_domain)
  with an active or a dormant user, named `period_column`. Of the users active in a period:
  new (no earlier active period), returning (active in the period before), resurrecting
  (not in the period before, active in an earlier one); dormant: active in the period
  before, not in this one (PostHog's lifecycle). recomputed_days_only: read and write only
  the days an incremental run recomputes (kpi_in_days; the day before each too, whose users
  are the recomputed day's dormant ones).
-#}
{% macro product_analytics_lifecycle(grain, period_column, recomputed_days_only=false) -%}
{%- set days = {'day': 1, 'week': 7}[grain] -%}
with

user_periods as (

    {%- if recomputed_days_only %}
    -- the recomputed days and the day before each (its users' dormancy)
    {%- endif %}
    select
        tenant_id,
        event_domain,
        period_start,
        previous_period_start,
        next_period_start
    from {{ ref('int_product_user_periods') }}
    where period_grain = '{{ grain }}'
        {%- if recomputed_days_only %}
        and {{ kpi_in_days('period_start', days_before=1) }}
        {%- endif %}

),

counts as (

    select
        period_start as {{ period_column }},
        tenant_id,
        event_domain,
        1 as active_users,
        case when previous_period_start is null then 1 else 0 end as new_users,
        case
            when previous_period_start = cast({{ dbt.dateadd('day', -days, 'period_start') }} as date) then 1 else 0
        end as returning_users,
        case
            when previous_period_start < cast({{ dbt.dateadd('day', -days, 'period_start') }} as date) then 1 else 0
        end as resurrecting_users,
        0 as dormant_users
    from user_periods
    union all
    -- active in a {{ grain }}, not in the next: dormant in the next {{ grain }}
    select
        cast({{ dbt.dateadd('day', days, 'period_start') }} as date),
        tenant_id,
        event_domain,
        0,
        0,
        0,
        0,
        1
    from user_periods
    where next_period_start is null
        or next_period_start > cast({{ dbt.dateadd('day', days, 'period_start') }} as date)

)

select
    {{ period_column }},
    tenant_id,
    event_domain,
    cast(sum(active_users) as {{ dbt.type_bigint() }}) as active_users,
    cast(sum(new_users) as {{ dbt.type_bigint() }}) as new_users,
    cast(sum(returning_users) as {{ dbt.type_bigint() }}) as returning_users,
    cast(sum(resurrecting_users) as {{ dbt.type_bigint() }}) as resurrecting_users,
    cast(sum(dormant_users) as {{ dbt.type_bigint() }}) as dormant_users
from counts
{%- if recomputed_days_only %}
where {{ kpi_in_days(period_column) }}
{%- endif %}
group by {{ period_column }}, tenant_id, event_domain
{%- endmacro %}
