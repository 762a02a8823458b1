{#-
  Seed 004's "Reader: self-performance metrics only (30-day window)": one row
  per UTC day and reader (metadata.reader_id of the order's first
  order_assigned, the assignment that ends TTF response) with that reader's
  fulfillment figures, each on the day of its own ending event as in
  metrics_daily_fulfillment: assignments and TTF response on the assignment's
  day, completions and TTF delivery on the completion's day, approvals /
  rejections and TTF approval on the decision's day. Starts read from
  int_orders_lifecycle WHOLE (they may lie before the recomputed days). A
  reader login reads only its own rows of the last 30 days (row-level
  security, meta access own_last_30_days, ops.reader_access; docs/security.md).
  Incremental (replace_days on metric_date) like the daily marts — tagged
  daily, so `kpi backfill` recomputes it — but outside daily/ and without an
  event_time: it has rows only on days a reader acted, so `kpi status`'s
  coverage (a row on every day with order events) does not apply to it.
-#}
{{ config(
    materialized='incremental',
    incremental_strategy='replace_days',
    unique_key='metric_date',
    tags=['daily'],
    kpi_changed_days={'domains': ['orders'], 'intermediates': [['int_orders_lifecycle', 'assigned_at'], ['int_orders_lifecycle', 'completed_at'], ['int_order_decisions_paired', 'decided_at']]},
    indexes=[
        {'columns': ['reader_day_key'], 'unique': true},
        {'columns': ['reader_id', 'metric_date']},
    ],
) }}

with

lifecycle as (

    -- read whole on purpose: created_at may precede the recomputed days
    select
        order_id,
        created_at,
        assigned_at,
        completed_at
    from {{ ref('int_orders_lifecycle') }}
    where assigned_at is not null

),

decisions as (

    -- the days this run recomputes, by decided_at (all of them on a first build)
    select
        order_id,
        decided_date,
        decision,
        approval_seconds
    from {{ ref('int_order_decisions_paired') }}
    where {{ kpi_in_days('decided_at', timestamp=true) }}

),

touched_orders as (

    select order_id from lifecycle
    where {{ kpi_in_days('assigned_at', timestamp=true) }}
        or {{ kpi_in_days('completed_at', timestamp=true) }}
    union
    select order_id from decisions

),

order_readers as (

    -- each touched order's reader: the reader_id of its first assignment
    select
        events.entity_id as order_id,
        min({{ json_get_text('events.metadata', 'reader_id') }}) as reader_id
    from {{ ref('stg_platform__events') }} as events
    inner join lifecycle
        on events.entity_id = lifecycle.order_id
        and events.occurred_at = lifecycle.assigned_at
    where events.event_domain = 'orders'
        and events.event_type = 'order_assigned'
        and events.entity_id in (select touched_orders.order_id from touched_orders)
    group by events.entity_id

),

steps as (

    -- assignments and completions on their own day, each with its duration from creation
    select
        {{ utc_date('lifecycle.assigned_at') }} as metric_date,
        order_readers.reader_id,
        'assigned' as step,
        case
            when lifecycle.created_at <= lifecycle.assigned_at
                then {{ dbt.datediff('lifecycle.created_at', 'lifecycle.assigned_at', 'second') }}
        end as seconds
    from lifecycle
    inner join order_readers
        on lifecycle.order_id = order_readers.order_id
    where {{ kpi_in_days('lifecycle.assigned_at', timestamp=true) }}

    union all

    select
        {{ utc_date('lifecycle.completed_at') }} as metric_date,
        order_readers.reader_id,
        'completed' as step,
        case
            when lifecycle.created_at <= lifecycle.completed_at
                then {{ dbt.datediff('lifecycle.created_at', 'lifecycle.completed_at', 'second') }}
        end as seconds
    from lifecycle
    inner join order_readers
        on lifecycle.order_id = order_readers.order_id
    where lifecycle.completed_at is not null
        and {{ kpi_in_days('lifecycle.completed_at', timestamp=true) }}

    union all

    select
        decisions.decided_date as metric_date,
        order_readers.reader_id,
        decisions.decision as step,
        decisions.approval_seconds as seconds
    from decisions
    inner join order_readers
        on decisions.order_id = order_readers.order_id

),

reader_days as (

    select
        metric_date,
        reader_id,
        sum(case when step = 'assigned' then 1 else 0 end) as orders_assigned,
        sum(case when step = 'completed' then 1 else 0 end) as orders_completed,
        sum(case when step = 'approved' then 1 else 0 end) as approvals,
        sum(case when step = 'rejected' then 1 else 0 end) as rejections,
        avg(case when step = 'assigned' then seconds end) as avg_ttf_response_seconds,
        avg(case when step = 'completed' then seconds end) as avg_ttf_delivery_seconds,
        avg(case when step in ('approved', 'rejected') then seconds end) as avg_ttf_approval_seconds
    from steps
    where reader_id is not null
    group by metric_date, reader_id

)

select
    {{ surrogate_key(['metric_date', 'reader_id']) }} as reader_day_key,
    metric_date,
    reader_id,
    cast(orders_assigned as {{ dbt.type_bigint() }}) as orders_assigned,
    cast(orders_completed as {{ dbt.type_bigint() }}) as orders_completed,
    cast(approvals as {{ dbt.type_bigint() }}) as approvals,
    cast(rejections as {{ dbt.type_bigint() }}) as rejections,
    round(cast(approvals as {{ dbt.type_numeric() }}) / nullif(approvals + rejections, 0), 4) as approval_rate,
    round(cast(avg_ttf_response_seconds as {{ dbt.type_numeric() }}), 1) as avg_ttf_response_seconds,
    round(cast(avg_ttf_delivery_seconds as {{ dbt.type_numeric() }}), 1) as avg_ttf_delivery_seconds,
    round(cast(avg_ttf_approval_seconds as {{ dbt.type_numeric() }}), 1) as avg_ttf_approval_seconds
from reader_days
