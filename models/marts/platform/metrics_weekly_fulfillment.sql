{#-
  ISO-week rollup of metrics_daily_fulfillment: step counts summed, approval
  rate recomputed from the sums; durations (avg/p95) and the rejection loop
  rate recomputed from the week's orders and decisions (int models), with the
  same "day of the ending event" rule — never averaged from daily values.
  Incremental by week: a run replaces the weeks of the orders events staged, and
  of the assignments, completions and decisions recomputed, since its watermark
  (platform_touched_weeks; DECISIONLOG "User-days, incremental weekly rollups,
  re-sent events across days").
-#}
-- depends_on: {{ ref('stg_platform__events') }}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='week_start',
    indexes=[{'columns': ['week_start', 'service_code']}],
    post_hook=["{{ platform_record_watermark() }}"],
) }}

with

{% if is_incremental() %}
{#- read through platform_in_touched_weeks(); the lint stand-in of that macro does not show it (noqa) -#}
touched_weeks as (  -- noqa: ST03

    {{ platform_touched_weeks('orders', [
        (ref('int_orders_lifecycle'), utc_date('assigned_at')),
        (ref('int_orders_lifecycle'), utc_date('completed_at')),
        (ref('int_order_decisions_paired'), 'decided_date'),
    ]) }}

),
{% endif %}

lifecycle as (

    select
        service_code,
        created_at,
        assigned_at,
        completed_at
    from {{ ref('int_orders_lifecycle') }}

),

decisions as (

    select
        cast({{ dbt.date_trunc('week', 'decided_date') }} as date) as week_start,
        service_code,
        order_id,
        approval_seconds,
        rejections_so_far
    from {{ ref('int_order_decisions_paired') }}
    where {{ platform_in_touched_weeks('decided_date') }}

),

step_durations as (

    select
        cast({{ dbt.date_trunc('week', utc_date('assigned_at')) }} as date) as week_start,
        service_code,
        {{ dbt.datediff('created_at', 'assigned_at', 'second') }} as response_seconds,
        cast(null as {{ dbt.type_bigint() }}) as delivery_seconds
    from lifecycle
    where created_at <= assigned_at
        and {{ platform_in_touched_weeks(utc_date('assigned_at')) }}
    union all
    select
        cast({{ dbt.date_trunc('week', utc_date('completed_at')) }} as date) as week_start,
        service_code,
        cast(null as {{ dbt.type_bigint() }}) as response_seconds,
        {{ dbt.datediff('created_at', 'completed_at', 'second') }} as delivery_seconds
    from lifecycle
    where created_at <= completed_at
        and {{ platform_in_touched_weeks(utc_date('completed_at')) }}

),

weekly as (

    {{ platform_weekly_sums(
        ref('metrics_daily_fulfillment'),
        keys=['service_code'],
        measures=['orders_created', 'orders_assigned', 'orders_completed', 'orders_cancelled', 'approvals', 'rejections'],
    ) }}

),

duration_stats as (

    select
        week_start,
        service_code,
        avg(response_seconds) as avg_ttf_response_seconds,
        {{ percentile('response_seconds', 0.95) }} as p95_ttf_response_seconds,
        avg(delivery_seconds) as avg_ttf_delivery_seconds,
        {{ percentile('delivery_seconds', 0.95) }} as p95_ttf_delivery_seconds
    from step_durations
    group by week_start, service_code

),

decision_stats as (

    select
        week_start,
        service_code,
        count(distinct order_id) as orders_decided,
        count(distinct case when rejections_so_far >= 2 then order_id end) as orders_rejected_repeatedly,
        avg(approval_seconds) as avg_ttf_approval_seconds,
        {{ percentile('approval_seconds', 0.95) }} as p95_ttf_approval_seconds
    from decisions
    group by week_start, service_code

)

select
    {{ surrogate_key(['weekly.week_start', 'weekly.service_code']) }} as fulfillment_week_key,
    weekly.week_start,
    weekly.service_code,
    cast(weekly.orders_created as {{ dbt.type_bigint() }}) as orders_created,
    cast(weekly.orders_assigned as {{ dbt.type_bigint() }}) as orders_assigned,
    cast(weekly.orders_completed as {{ dbt.type_bigint() }}) as orders_completed,
    cast(weekly.orders_cancelled as {{ dbt.type_bigint() }}) as orders_cancelled,
    cast(weekly.approvals as {{ dbt.type_bigint() }}) as approvals,
    cast(weekly.rejections as {{ dbt.type_bigint() }}) as rejections,
    coalesce(decision_stats.orders_decided, 0) as orders_decided,
    coalesce(decision_stats.orders_rejected_repeatedly, 0) as orders_rejected_repeatedly,
    round(cast(weekly.approvals as {{ dbt.type_numeric() }}) / nullif(weekly.approvals + weekly.rejections, 0), 4) as approval_rate,
    round(cast(decision_stats.orders_rejected_repeatedly as {{ dbt.type_numeric() }})
        / nullif(decision_stats.orders_decided, 0), 4) as rejection_loop_rate,
    round(cast(duration_stats.avg_ttf_response_seconds as {{ dbt.type_numeric() }}), 1) as avg_ttf_response_seconds,
    round(cast(duration_stats.p95_ttf_response_seconds as {{ dbt.type_numeric() }}), 1) as p95_ttf_response_seconds,
    round(cast(duration_stats.avg_ttf_delivery_seconds as {{ dbt.type_numeric() }}), 1) as avg_ttf_delivery_seconds,
    round(cast(duration_stats.p95_ttf_delivery_seconds as {{ dbt.type_numeric() }}), 1) as p95_ttf_delivery_seconds,
    round(cast(decision_stats.avg_ttf_approval_seconds as {{ dbt.type_numeric() }}), 1) as avg_ttf_approval_seconds,
    round(cast(decision_stats.p95_ttf_approval_seconds as {{ dbt.type_numeric() }}), 1) as p95_ttf_approval_seconds
from weekly
left join duration_stats
    on weekly.week_start = duration_stats.week_start
    and coalesce(weekly.service_code, '') = coalesce(duration_stats.service_code, '')
left join decision_stats
    on weekly.week_start = decision_stats.week_start
    and coalesce(weekly.service_code, '') = coalesce(decision_stats.service_code, '')
