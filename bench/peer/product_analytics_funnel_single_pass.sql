-- Hand-written single-pass peer of the declared 5-step funnel of
-- bench/bench_product_analytics.py (entity user_id, steps bench.step_1 .. bench.step_5, each at
-- or after the previous one, within 30 days of step 1): the funnel's events read once and
-- sorted once by user; step k's time is a window minimum over the user's events (the first
-- step-k event at or after step k-1's time, inside the window), then one group-by per user,
-- unpivoted. No join. Output: one row per user and reached step, as int_funnel_entity_steps
-- (entity_key, step_number, reached_at). {events} is the events table.
with

e as (

    select user_id, occurred_at as ts, event_type
    from {events}
    where event_domain = 'bench'
        and event_type in ('step_1', 'step_2', 'step_3', 'step_4', 'step_5')
        and user_id is not null

),

w1 as (

    select e.*, min(ts) filter (where event_type = 'step_1') over (partition by user_id) as s1
    from e

),

w2 as (

    select
        w1.*,
        min(ts) filter (
            where event_type = 'step_2' and ts >= s1 and ts <= s1 + interval '30 days'
        ) over (partition by user_id) as s2
    from w1

),

w3 as (

    select
        w2.*,
        min(ts) filter (
            where event_type = 'step_3' and ts >= s2 and ts <= s1 + interval '30 days'
        ) over (partition by user_id) as s3
    from w2

),

w4 as (

    select
        w3.*,
        min(ts) filter (
            where event_type = 'step_4' and ts >= s3 and ts <= s1 + interval '30 days'
        ) over (partition by user_id) as s4
    from w3

),

w5 as (

    select
        w4.*,
        min(ts) filter (
            where event_type = 'step_5' and ts >= s4 and ts <= s1 + interval '30 days'
        ) over (partition by user_id) as s5
    from w4

),

per_user as (

    select user_id, min(s1) as s1, min(s2) as s2, min(s3) as s3, min(s4) as s4, min(s5) as s5
    from w5
    where s1 is not null
    group by user_id

)

select user_id as entity_key, 1 as step_number, s1 as reached_at from per_user
union all
select user_id, 2, s2 from per_user where s2 is not null
union all
select user_id, 3, s3 from per_user where s3 is not null
union all
select user_id, 4, s4 from per_user where s4 is not null
union all
select user_id, 5, s5 from per_user where s5 is not null
