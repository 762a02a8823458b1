-- Hand-written peer of the declared 5-step funnel of bench/bench_product_analytics.py
-- (entity user_id, steps bench.step_1 .. bench.step_5, each at or after the previous one,
-- within 30 days of step 1): one group-by per step, each joined on user_id (a hash join) to
-- the previous step's one row per user. Output: one row per user and reached step, as
-- int_funnel_entity_steps (entity_key, step_number, reached_at). {events} is the events table.
with

s1 as (

    select user_id, min(occurred_at) as step_1_at
    from {events}
    where event_domain = 'bench' and event_type = 'step_1' and user_id is not null
    group by user_id

),

s2 as (

    select s1.user_id, s1.step_1_at, min(e.occurred_at) as step_2_at
    from s1
    inner join {events} as e
        on e.user_id = s1.user_id
        and e.event_domain = 'bench' and e.event_type = 'step_2'
        and e.occurred_at >= s1.step_1_at
        and e.occurred_at <= s1.step_1_at + interval '30 days'
    group by s1.user_id, s1.step_1_at

),

s3 as (

    select s2.user_id, s2.step_1_at, min(e.occurred_at) as step_3_at
    from s2
    inner join {events} as e
        on e.user_id = s2.user_id
        and e.event_domain = 'bench' and e.event_type = 'step_3'
        and e.occurred_at >= s2.step_2_at
        and e.occurred_at <= s2.step_1_at + interval '30 days'
    group by s2.user_id, s2.step_1_at

),

s4 as (

    select s3.user_id, s3.step_1_at, min(e.occurred_at) as step_4_at
    from s3
    inner join {events} as e
        on e.user_id = s3.user_id
        and e.event_domain = 'bench' and e.event_type = 'step_4'
        and e.occurred_at >= s3.step_3_at
        and e.occurred_at <= s3.step_1_at + interval '30 days'
    group by s3.user_id, s3.step_1_at

),

s5 as (

    select s4.user_id, s4.step_1_at, min(e.occurred_at) as step_5_at
    from s4
    inner join {events} as e
        on e.user_id = s4.user_id
        and e.event_domain = 'bench' and e.event_type = 'step_5'
        and e.occurred_at >= s4.step_4_at
        and e.occurred_at <= s4.step_1_at + interval '30 days'
    group by s4.user_id, s4.step_1_at

)

select user_id as entity_key, 1 as step_number, step_1_at as reached_at from s1
union all
select user_id, 2, step_2_at from s2
union all
select user_id, 3, step_3_at from s3
union all
select user_id, 4, step_4_at from s4
union all
select user_id, 5, step_5_at from s5
