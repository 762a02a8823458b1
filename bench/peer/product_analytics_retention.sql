-- Hand-written peer of the declared monthly retention of bench/bench_product_analytics.py
-- (entity user_id, start bench.step_1, return any event, calendar months 1..12): one group-by
-- for each user's start, one hash join back to the events and one group-by per user.
-- Output: one row per user and period, as int_retention_entity_periods (entity_key,
-- start_date, period_number, is_retained_exact, is_retained_unbounded). {events} is the table.
with

starts as (

    select user_id, min(event_date) as start_date
    from {events}
    where event_domain = 'bench' and event_type = 'step_1' and user_id is not null
    group by user_id

),

returns as (

    select
        starts.user_id,
        starts.start_date,
        (extract(year from e.event_date) - extract(year from starts.start_date)) * 12
        + extract(month from e.event_date) - extract(month from starts.start_date) as period_number
    from starts
    inner join {events} as e
        on e.user_id = starts.user_id

),

per_user as (

    select user_id, start_date, array_agg(distinct period_number) as periods, max(period_number) as last_period
    from returns
    group by user_id, start_date

)

select
    per_user.user_id as entity_key,
    per_user.start_date,
    n.period_number,
    n.period_number = any(per_user.periods) as is_retained_exact,
    per_user.last_period >= n.period_number as is_retained_unbounded
from per_user
cross join generate_series(1, 12) as n (period_number)
