-- Hand-written peer of analyses/order_funnel.sql: the order funnel created ->
-- assigned -> completed (each step at or after the previous one, within 7 days
-- of creation), one group-by per step over the cleaned event log, each step
-- joined to the previous one's one row per order. {events} is the cleaned
-- event log's qualified name (bench/bench_funnel.py fills it in).
with

created as (

    select entity_id, min(occurred_at) as created_at
    from {events}
    where event_domain = 'orders' and event_type = 'order_created' and entity_id is not null
    group by entity_id

),

assigned as (

    select created.entity_id, min(e.occurred_at) as assigned_at
    from created
    inner join {events} as e
        on e.entity_id = created.entity_id
        and e.event_domain = 'orders' and e.event_type = 'order_assigned'
        and e.occurred_at >= created.created_at
        and e.occurred_at <= created.created_at + interval '7 days'
    group by created.entity_id

),

completed as (

    select assigned.entity_id, min(e.occurred_at) as completed_at
    from assigned
    inner join created on created.entity_id = assigned.entity_id
    inner join {events} as e
        on e.entity_id = assigned.entity_id
        and e.event_domain = 'orders' and e.event_type = 'order_completed'
        and e.occurred_at >= assigned.assigned_at
        and e.occurred_at <= created.created_at + interval '7 days'
    group by assigned.entity_id

)

select
    created.entity_id as order_id,
    created.created_at,
    assigned.assigned_at,
    completed.completed_at,
    round(cast(extract(epoch from (assigned.assigned_at - created.created_at)) as numeric) / 60, 2)
        as minutes_to_assigned,
    round(cast(extract(epoch from (completed.completed_at - created.created_at)) as numeric) / 60, 2)
        as minutes_to_completed
from created
left join assigned on assigned.entity_id = created.entity_id
left join completed on completed.entity_id = created.entity_id
