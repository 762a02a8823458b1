-- Hand-written single-pass peer of the declared monthly retention of
-- bench/bench_product_analytics.py (entity user_id, start bench.step_1, return any event,
-- calendar months 1..12): the events read once and sorted once by user; each user's start
-- day is a window minimum over its events, each event's month number from it, then one
-- group-by per user. No join. Output: one row per user and period, as
-- int_retention_entity_periods (entity_key, start_date, period_number, is_retained_exact,
-- is_retained_unbounded). {events} is the events table.
with

started as (

    select
        user_id,
        event_date,
        min(event_date) filter (
            where event_domain = 'bench' and event_type = 'step_1'
        ) over (partition by user_id) as start_date
    from {events}
    where user_id is not null

),

per_user as (

    select
        user_id,
        start_date,
        array_agg(
            distinct (extract(year from event_date) - extract(year from start_date)) * 12
            + extract(month from event_date) - extract(month from start_date)
        ) as periods,
        max(
            (extract(year from event_date) - extract(year from start_date)) * 12
            + extract(month from event_date) - extract(month from start_date)
        ) as last_period
    from started
    where start_date is not null
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
