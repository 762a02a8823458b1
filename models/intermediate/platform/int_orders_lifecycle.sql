{#-
  One row per order (entity_id of the orders domain): the first timestamp of
  each lifecycle step (seed 004 fulfillment). Read WHOLE by
  metrics_daily_fulfillment: recomputing day D needs the order's created_at
  even when the order was created before D
  (docs/DECISIONLOG.md).
  Incremental (delete+insert on order_id): a run recomputes the orders touched
  since its last run from all their events (macro platform_lifecycle).
-#}
{{ config(
    unique_key='order_id',
    indexes=[{'columns': ['order_id'], 'unique': true}, {'columns': ['staged_at']}],
) }}

with

lifecycle as (

    {{ platform_lifecycle(
        domain='orders',
        entity_column='order_id',
        steps={
            'order_created': 'created_at',
            'order_assigned': 'assigned_at',
            'order_submitted': 'first_submitted_at',
            'order_approved': 'approved_at',
            'order_completed': 'completed_at',
            'order_cancelled': 'cancelled_at',
        },
        aggregates=[
            "sum(case when event_type = 'order_rejected' then 1 else 0 end) as rejections",
            "sum(case when event_type in ('order_approved', 'order_rejected') then 1 else 0 end) as decisions",
            'min(service_code) as service_code',
        ],
        event_columns=['service_code'],
    ) }}

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
