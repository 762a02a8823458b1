{#-
  The fulfillment order funnel (seed 004's order lifecycle), one row per order:
  created -> assigned -> completed, each step at or after the previous one and
  within 7 days of creation (macros/funnel.sql). The events come in as a CTE,
  as the macro's documentation allows: the shape whose plan used to depend on
  row estimates. bench/bench_funnel.py times it against a hand-written peer
  (bench/peer/order_funnel.sql) and checks both give the same rows.
-#}
{%- set steps = [
    {'name': 'created', 'domain': 'orders', 'event_type': 'order_created'},
    {'name': 'assigned', 'domain': 'orders', 'event_type': 'order_assigned'},
    {'name': 'completed', 'domain': 'orders', 'event_type': 'order_completed'},
] -%}

with

order_events as (

    select
        entity_id,
        occurred_at,
        event_domain,
        event_type
    from {{ ref('stg_platform__events') }}
    where event_domain = 'orders'
        and event_type in ('order_created', 'order_assigned', 'order_completed')

),

funnel as (

    {{ funnel('order_events', 'entity_id', 'occurred_at', steps, window_minutes=7 * 1440) | indent(4) }}

)

select
    entity_id as order_id,
    created_at,
    assigned_at,
    completed_at,
    minutes_to_assigned,
    minutes_to_completed
from funnel
