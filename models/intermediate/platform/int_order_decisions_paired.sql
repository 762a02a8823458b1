{#-
  One row per approval decision on an order (order_approved or order_rejected
  event), paired with the submission it answers: the latest order_submitted of
  the same order at or before the decision (a rejected deliverable is
  resubmitted, so one order can have several rounds). rejections_so_far counts
  the order's rejections up to and including this decision.
  The submission may be on an earlier day; metrics_daily_fulfillment reads the
  decisions of the days it recomputes (kpi_in_days on decided_at).
  Incremental (delete+insert on order_id, so a touched order's decisions are
  all replaced): the events of the orders touched since the last run, all of
  them (macro platform_entity_events).
-#}
{{ config(
    unique_key='order_id',
    event_time='decided_at',
    indexes=[
        {'columns': ['decision_event_id'], 'unique': true},
        {'columns': ['order_id']},
        {'columns': ['staged_at']},
        {'columns': ['decided_at']},
    ],
) }}

with

order_events as (

    {{ platform_entity_events(
        'orders',
        ['event_id', 'service_code'],
        event_types=['order_submitted', 'order_approved', 'order_rejected'],
    ) }}

),

walked as (

    -- each order's events in time order, a submission before the decisions at its own
    -- instant: the running max of submission times is the latest submission at or before
    -- each decision, the running count of rejections (ordered by occurred_at, event_id) its
    -- rejections so far. One sort, no self-join: the cost does not hang on the planner's
    -- estimate of the events read
    select
        event_id,
        entity_id,
        event_type,
        occurred_at,
        service_code,
        max(case when event_type = 'order_submitted' then occurred_at end) over (
            partition by entity_id
            order by occurred_at, case when event_type = 'order_submitted' then 0 else 1 end, event_id
            rows between unbounded preceding and current row
        ) as submitted_at,
        sum(case when event_type = 'order_rejected' then 1 else 0 end) over (
            partition by entity_id
            order by occurred_at, event_id
            rows between unbounded preceding and current row
        ) as rejections_so_far,
        max(dbt_loaded_at) over (partition by entity_id) as staged_at
    from order_events

),

ranked as (

    select
        event_id as decision_event_id,
        entity_id as order_id,
        service_code,
        occurred_at as decided_at,
        {{ utc_date('occurred_at') }} as decided_date,
        case when event_type = 'order_approved' then 'approved' else 'rejected' end as decision,
        submitted_at,
        rejections_so_far,
        staged_at
    from walked
    where event_type in ('order_approved', 'order_rejected')

)

select
    decision_event_id,
    order_id,
    service_code,
    decided_at,
    decided_date,
    decision,
    submitted_at,
    case
        when submitted_at is not null
            then {{ dbt.datediff('submitted_at', 'decided_at', 'second') }}
    end as approval_seconds,
    rejections_so_far,
    staged_at
from ranked
