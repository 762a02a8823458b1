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
    indexes=[{'columns': ['order_id']}, {'columns': ['staged_at']}, {'columns': ['decided_at']}],
) }}

with

order_events as (

    {{ platform_entity_events(
        'orders',
        ['event_id', 'service_code'],
        event_types=['order_submitted', 'order_approved', 'order_rejected'],
    ) }}

),

decisions as (

    select
        event_id,
        entity_id,
        event_type,
        occurred_at,
        service_code
    from order_events
    where event_type in ('order_approved', 'order_rejected')

),

order_staged as (

    select entity_id, max(dbt_loaded_at) as staged_at
    from order_events
    group by entity_id

),

submissions as (

    select entity_id, occurred_at
    from order_events
    where event_type = 'order_submitted'

),

paired as (

    select
        decisions.event_id,
        max(submissions.occurred_at) as submitted_at
    from decisions
    left join submissions
        on decisions.entity_id = submissions.entity_id
        and submissions.occurred_at <= decisions.occurred_at
    group by decisions.event_id

),

ranked as (

    select
        decisions.event_id as decision_event_id,
        decisions.entity_id as order_id,
        decisions.service_code,
        decisions.occurred_at as decided_at,
        {{ utc_date('decisions.occurred_at') }} as decided_date,
        case when decisions.event_type = 'order_approved' then 'approved' else 'rejected' end as decision,
        paired.submitted_at,
        sum(case when decisions.event_type = 'order_rejected' then 1 else 0 end) over (
            partition by decisions.entity_id
            order by decisions.occurred_at, decisions.event_id
            rows between unbounded preceding and current row
        ) as rejections_so_far,
        order_staged.staged_at
    from decisions
    inner join paired
        on decisions.event_id = paired.event_id
    inner join order_staged
        on decisions.entity_id = order_staged.entity_id

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
