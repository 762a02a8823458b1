-- Peer of marts.metrics_daily_fulfillment (hand-written, plain PostgreSQL, reads raw.*).
-- One row per UTC day and service_code: order steps counted on their own day;
-- time to first response / delivery counted on the day of the order's FIRST
-- order_assigned / order_completed (from its first order_created); each
-- approval decision on its own day, timed from the latest submission at or
-- before it. Durations are whole seconds in double precision, like dbt.datediff.
-- Rates and averages go through numeric(28, 6) before round(), as the project's
-- dbt.type_numeric() casts do (a double p95 of 9276.74999999999 rounds to 9276.8).
drop table if exists peer.metrics_daily_fulfillment;

create table peer.metrics_daily_fulfillment as
with

-- ==== COPY RULE: one row per event_id ======================================
-- The latest received copy of a re-sent event wins (received_at, null = oldest;
-- then the later load). bench_peer.py --copy-rule first swaps this ORDER BY for
-- the first-received rule "received_at nulls last, _loaded_at, occurred_at".
events as (
    select event_id, occurred_at, event_type, entity_id, service_code
    from (
        select
            event_id,
            occurred_at,
            lower(trim(event_domain)) as event_domain,
            lower(trim(event_type)) as event_type,
            nullif(trim(entity_id), '') as entity_id,
            nullif(lower(trim(service_code)), '') as service_code,
            row_number() over (
                partition by event_id
                order by received_at desc nulls last, _loaded_at desc, occurred_at desc
            ) as copy_rank
        from raw.events_raw
    ) as copies
    where copy_rank = 1
        and event_domain = 'orders'
),
-- ===========================================================================

order_events as (
    select
        events.*,
        -- an event counts under its order's service code (the smallest of the order's events,
        -- as int_orders_lifecycle), its own without an order, 'unknown' when neither is known
        coalesce(
            case when entity_id is not null then min(service_code) over whole_order end,
            service_code,
            'unknown'
        ) as order_service_code,
        (occurred_at at time zone 'UTC')::date as metric_date,
        -- per order: first creation / assignment / completion
        min(occurred_at) filter (where event_type = 'order_created') over whole_order as created_at,
        min(occurred_at) filter (where event_type = 'order_assigned') over whole_order as assigned_at,
        min(occurred_at) filter (where event_type = 'order_completed') over whole_order as completed_at,
        -- latest submission at or before this event; rejections up to and including it
        max(occurred_at) filter (where event_type = 'order_submitted') over until_now as submitted_at,
        count(*) filter (where event_type = 'order_rejected') over in_order as rejections_so_far
    from events
    window
        whole_order as (partition by entity_id),
        until_now as (partition by entity_id order by occurred_at),
        in_order as (partition by entity_id order by occurred_at, event_id rows unbounded preceding)
),

timed as (
    select
        metric_date,
        order_service_code as service_code,
        event_type,
        entity_id,
        entity_id is not null and event_type in ('order_approved', 'order_rejected') as is_decision,
        rejections_so_far,
        case when entity_id is not null and event_type = 'order_assigned'
                  and occurred_at = assigned_at and created_at <= assigned_at
            then extract(epoch from date_trunc('second', assigned_at) - date_trunc('second', created_at))::float8
        end as response_seconds,
        case when entity_id is not null and event_type = 'order_completed'
                  and occurred_at = completed_at and created_at <= completed_at
            then extract(epoch from date_trunc('second', completed_at) - date_trunc('second', created_at))::float8
        end as delivery_seconds,
        case when entity_id is not null and event_type in ('order_approved', 'order_rejected')
            then extract(epoch from date_trunc('second', occurred_at) - date_trunc('second', submitted_at))::float8
        end as approval_seconds
    from order_events
),

daily as (
    select
        metric_date,
        service_code,
        count(*) filter (where event_type = 'order_created') as orders_created,
        count(*) filter (where event_type = 'order_assigned') as orders_assigned,
        count(*) filter (where event_type = 'order_completed') as orders_completed,
        count(*) filter (where event_type = 'order_cancelled') as orders_cancelled,
        count(*) filter (where is_decision and event_type = 'order_approved') as approvals,
        count(*) filter (where is_decision and event_type = 'order_rejected') as rejections,
        count(distinct entity_id) filter (where is_decision) as orders_decided,
        count(distinct entity_id) filter (where is_decision and rejections_so_far >= 2) as orders_rejected_repeatedly,
        avg(response_seconds) as avg_response,
        percentile_cont(0.95) within group (order by response_seconds) as p95_response,
        avg(delivery_seconds) as avg_delivery,
        percentile_cont(0.95) within group (order by delivery_seconds) as p95_delivery,
        avg(approval_seconds) as avg_approval,
        percentile_cont(0.95) within group (order by approval_seconds) as p95_approval
    from timed
    group by metric_date, service_code
)

select
    md5(metric_date::text || '|' || coalesce(service_code, '_null_')) as fulfillment_day_key,
    metric_date,
    service_code,
    orders_created,
    orders_assigned,
    orders_completed,
    orders_cancelled,
    approvals,
    rejections,
    orders_decided,
    orders_rejected_repeatedly,
    round(approvals::numeric(28, 6) / nullif(approvals + rejections, 0), 4) as approval_rate,
    round(orders_rejected_repeatedly::numeric(28, 6) / nullif(orders_decided, 0), 4) as rejection_loop_rate,
    round(avg_response::numeric(28, 6), 1) as avg_ttf_response_seconds,
    round(p95_response::numeric(28, 6), 1) as p95_ttf_response_seconds,
    round(avg_delivery::numeric(28, 6), 1) as avg_ttf_delivery_seconds,
    round(p95_delivery::numeric(28, 6), 1) as p95_ttf_delivery_seconds,
    round(avg_approval::numeric(28, 6), 1) as avg_ttf_approval_seconds,
    round(p95_approval::numeric(28, 6), 1) as p95_ttf_approval_seconds
from daily;

create unique index on peer.metrics_daily_fulfillment (fulfillment_day_key);
create index on peer.metrics_daily_fulfillment (metric_date, service_code);
analyze peer.metrics_daily_fulfillment;
