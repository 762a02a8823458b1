{#-
  One row per order (entity_id of the orders domain): the first timestamp of
  each lifecycle step (seed 004 fulfillment). Read WHOLE by
  metrics_daily_fulfillment: recomputing day D needs the order's created_at
  even when the order was created before D
  (docs/DECISIONLOG.md).
  Incremental (delete+insert): a run recomputes, from ALL their staging
  events, only the orders touched by staging rows written since its last run
  (dbt_loaded_at > max(staged_at)); a first build / --full-refresh computes
  everything (DECISIONLOG "Incremental platform intermediates").
-#}
{{ config(
    unique_key='order_id',
    indexes=[{'columns': ['order_id'], 'unique': true}, {'columns': ['staged_at']}],
) }}

with

{% if is_incremental() %}
touched as (

    {{ platform_touched_entities('orders') }}

),

{% endif %}

order_events as (

    select
        entity_id,
        event_type,
        occurred_at,
        service_code,
        dbt_loaded_at
    from {{ ref('stg_platform__events') }}
    where event_domain = 'orders'
        and entity_id is not null
        {% if is_incremental() %}and entity_id in (select entity_id from touched){% endif %}

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
        min(service_code) as service_code,
        max(dbt_loaded_at) as staged_at
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
    decisions,
    staged_at
from lifecycle
