{#-
  Seed 004's metrics_daily_fulfillment: one row per UTC day and service_code
  (the order's; 'unknown' when no event of the order carries one).
  Step counts are events on their own day. A duration counts on the day its
  ENDING event occurs (TTF response: the order's first order_assigned; TTF
  delivery: its first order_completed; TTF approval: each decision), with the
  start read from int_orders_lifecycle for the orders of the recomputed days'
  events and decisions (it may lie before those days) and
  int_order_decisions_paired read for the recomputed days by decided_at. Seconds; avg and p95 (percentile macro). DECISIONLOG entry.
  Incremental (replace_days on metric_date): a run recomputes the days
  kpi_days_to_process() names, including the created/cancelled days of every
  order recomputed in int_orders_lifecycle (a late event may name the order's
  service code, under which its earlier events then count).
-#}
{{ config(
    kpi_changed_days={'domains': ['orders'], 'intermediates': [['int_orders_lifecycle', 'created_at'], ['int_orders_lifecycle', 'assigned_at'], ['int_orders_lifecycle', 'completed_at'], ['int_orders_lifecycle', 'cancelled_at'], ['int_order_decisions_paired', 'decided_at']]},
    indexes=[
        {'columns': ['fulfillment_day_key'], 'unique': true},
        {'columns': ['metric_date', 'service_code']},
    ],
) }}

with

order_events_in_days as (

    -- the days this run recomputes, by occurred_at (all of them on a first build)
    select
        event_date,
        event_type,
        entity_id,
        occurred_at,
        service_code
    from {{ ref('stg_platform__events') }}
    where event_domain = 'orders'
        and {{ kpi_in_days('occurred_at', timestamp=true) }}

),

decisions_in_days as (

    -- the days this run recomputes, by decided_at (all of them on a first build)
    select
        order_id,
        decided_date,
        service_code,
        decision,
        approval_seconds,
        rejections_so_far
    from {{ ref('int_order_decisions_paired') }}
    where {{ kpi_in_days('decided_at', timestamp=true) }}

),

lifecycle as (

    -- the orders of those events and decisions, whatever day they were created on (a
    -- duration's start may precede the recomputed days); every order on a first build
    select
        order_id,
        service_code,
        created_at,
        assigned_at,
        completed_at
    from {{ ref('int_orders_lifecycle') }}
    {%- if is_incremental() %}
    where order_id in (
        select entity_id from order_events_in_days
        union
        select order_id from decisions_in_days
    )
    {%- endif %}

),

order_events as (

    -- an event counts under its order's service code (an event that lacks one takes its
    -- order's), 'unknown' when neither is known
    select
        events.event_date,
        events.event_type,
        events.entity_id,
        events.occurred_at,
        {{ unknown_member('coalesce(lifecycle.service_code, events.service_code)') }} as service_code
    from order_events_in_days as events
    left join lifecycle
        on events.entity_id = lifecycle.order_id

),

decisions as (

    select
        decisions.order_id,
        decisions.decided_date,
        {{ unknown_member('coalesce(lifecycle.service_code, decisions.service_code)') }} as service_code,
        decisions.decision,
        decisions.approval_seconds,
        decisions.rejections_so_far
    from decisions_in_days as decisions
    left join lifecycle
        on decisions.order_id = lifecycle.order_id

),

step_durations as (

    select
        order_events.event_date,
        order_events.service_code,
        case
            when order_events.event_type = 'order_assigned' and lifecycle.created_at <= lifecycle.assigned_at
                then {{ dbt.datediff('lifecycle.created_at', 'lifecycle.assigned_at', 'second') }}
        end as response_seconds,
        case
            when order_events.event_type = 'order_completed' and lifecycle.created_at <= lifecycle.completed_at
                then {{ dbt.datediff('lifecycle.created_at', 'lifecycle.completed_at', 'second') }}
        end as delivery_seconds
    from order_events
    inner join lifecycle
        on order_events.entity_id = lifecycle.order_id
        and (
            (order_events.event_type = 'order_assigned' and order_events.occurred_at = lifecycle.assigned_at)
            or (order_events.event_type = 'order_completed' and order_events.occurred_at = lifecycle.completed_at)
        )

),

step_counts as (

    select
        event_date as metric_date,
        service_code,
        sum(case when event_type = 'order_created' then 1 else 0 end) as orders_created,
        sum(case when event_type = 'order_assigned' then 1 else 0 end) as orders_assigned,
        sum(case when event_type = 'order_completed' then 1 else 0 end) as orders_completed,
        sum(case when event_type = 'order_cancelled' then 1 else 0 end) as orders_cancelled
    from order_events
    group by event_date, service_code

),

duration_stats as (

    select
        event_date as metric_date,
        service_code,
        avg(response_seconds) as avg_ttf_response_seconds,
        {{ percentile('response_seconds', 0.95) }} as p95_ttf_response_seconds,
        avg(delivery_seconds) as avg_ttf_delivery_seconds,
        {{ percentile('delivery_seconds', 0.95) }} as p95_ttf_delivery_seconds
    from step_durations
    group by event_date, service_code

),

decision_stats as (

    select
        decided_date as metric_date,
        service_code,
        sum(case when decision = 'approved' then 1 else 0 end) as approvals,
        sum(case when decision = 'rejected' then 1 else 0 end) as rejections,
        count(distinct order_id) as orders_decided,
        count(distinct case when rejections_so_far >= 2 then order_id end) as orders_rejected_repeatedly,
        avg(approval_seconds) as avg_ttf_approval_seconds,
        {{ percentile('approval_seconds', 0.95) }} as p95_ttf_approval_seconds
    from decisions
    group by decided_date, service_code

),

day_keys as (

    select metric_date, service_code from step_counts
    union
    select metric_date, service_code from decision_stats

)

select
    {{ surrogate_key(['day_keys.metric_date', 'day_keys.service_code']) }} as fulfillment_day_key,
    day_keys.metric_date,
    day_keys.service_code,
    coalesce(step_counts.orders_created, 0) as orders_created,
    coalesce(step_counts.orders_assigned, 0) as orders_assigned,
    coalesce(step_counts.orders_completed, 0) as orders_completed,
    coalesce(step_counts.orders_cancelled, 0) as orders_cancelled,
    coalesce(decision_stats.approvals, 0) as approvals,
    coalesce(decision_stats.rejections, 0) as rejections,
    coalesce(decision_stats.orders_decided, 0) as orders_decided,
    coalesce(decision_stats.orders_rejected_repeatedly, 0) as orders_rejected_repeatedly,
    round(cast(decision_stats.approvals as {{ dbt.type_numeric() }})
        / nullif(decision_stats.approvals + decision_stats.rejections, 0), 4) as approval_rate,
    round(cast(decision_stats.orders_rejected_repeatedly as {{ dbt.type_numeric() }})
        / nullif(decision_stats.orders_decided, 0), 4) as rejection_loop_rate,
    round(cast(duration_stats.avg_ttf_response_seconds as {{ dbt.type_numeric() }}), 1) as avg_ttf_response_seconds,
    round(cast(duration_stats.p95_ttf_response_seconds as {{ dbt.type_numeric() }}), 1) as p95_ttf_response_seconds,
    round(cast(duration_stats.avg_ttf_delivery_seconds as {{ dbt.type_numeric() }}), 1) as avg_ttf_delivery_seconds,
    round(cast(duration_stats.p95_ttf_delivery_seconds as {{ dbt.type_numeric() }}), 1) as p95_ttf_delivery_seconds,
    round(cast(decision_stats.avg_ttf_approval_seconds as {{ dbt.type_numeric() }}), 1) as avg_ttf_approval_seconds,
    round(cast(decision_stats.p95_ttf_approval_seconds as {{ dbt.type_numeric() }}), 1) as p95_ttf_approval_seconds
from day_keys
left join step_counts
    on day_keys.metric_date = step_counts.metric_date
    and day_keys.service_code = step_counts.service_code
left join duration_stats
    on day_keys.metric_date = duration_stats.metric_date
    and day_keys.service_code = duration_stats.service_code
left join decision_stats
    on day_keys.metric_date = decision_stats.metric_date
    and day_keys.service_code = decision_stats.service_code
