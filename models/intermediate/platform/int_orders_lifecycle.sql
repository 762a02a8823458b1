{#-
  One row per order (entity_id of the orders domain): the first timestamp of
  each lifecycle step (seed 004 fulfillment). A TABLE rebuilt from the whole
  cleaned event log on every run and read WHOLE by metrics_daily_fulfillment
  (no event_time on purpose): a batch for day D needs the order's created_at
  even when the order was created before D (docs/DECISIONLOG.md).
-#}
{{ config(materialized='table', indexes=[{'columns': ['order_id'], 'unique': true}]) }}

with

order_events as (

    select
        entity_id,
        event_type,
        occurred_at,
        service_code
    from {{ ref('stg_platform__events') }}
    where event_domain = 'orders'
        and entity_id is not null

),

lifecycle as (

    select
        entity_id as order_id,
        min(case when event_type = 'order_created' then occurred_at end) as created_at,
        min(case when event_type = 'order_assigned' then occurred_at end) as assigned_at,
        min(case when event_type = 'order_submitted' then occurred_at end) as first_submitted_at,
        min(case when event_type = 'order_approved' then occurred_at end) as approved_at,
        min(case when event_type = 'order_completed' then occurred_at end) as completed_at,
        min(case when event_type = 'order_cancelled' then occurred_at end) as cancelled_at,
        sum(case when event_type = 'order_rejected' then 1 else 0 end) as rejections,
        sum(case when event_type in ('order_approved', 'order_rejected') then 1 else 0 end) as decisions,
        min(service_code) as service_code
    from order_events
    group by entity_id

)

select
    order_id,
    service_code,
    created_at,
    assigned_at,
    first_submitted_at,
    approved_at,
    completed_at,
    cancelled_at,
    rejections,
    decisions
from lifecycle
