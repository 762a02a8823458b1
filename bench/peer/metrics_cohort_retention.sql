-- Peer of marts.metrics_cohort_retention (hand-written, plain PostgreSQL, reads raw.*).
-- First-activity cohorts (by day and by ISO week) of users (non-null user_id of
-- any event) and their N-day retention, N in 1, 7, 30, 90: "exact" = active on
-- the user's first day + N, "plus" = active on any day >= first day + N. A
-- count / rate is NULL while the cohort is too young: its last day + N is after
-- the observation end = the last active day, capped at the day before as_of.
-- as_of: the setting peer.as_of (an ISO timestamp; unset = now()), pinned by
-- bench_peer.py to the project's var as_of.
-- Rates and averages go through numeric(28, 6) before round(), as the project's
-- dbt.type_numeric() casts do (a double p95 of 9276.74999999999 rounds to 9276.8).
drop table if exists peer.metrics_cohort_retention;

create table peer.metrics_cohort_retention as
with

-- ==== COPY RULE: one row per event_id ======================================
-- The latest received copy of a re-sent event wins (received_at, null = oldest;
-- then the later load). bench_peer.py --copy-rule first swaps this ORDER BY for
-- the first-received rule "received_at nulls last, _loaded_at, occurred_at".
events as (
    select user_id, event_date
    from (
        select
            nullif(trim(user_id), '') as user_id,
            (occurred_at at time zone 'UTC')::date as event_date,
            row_number() over (
                partition by event_id
                order by received_at desc nulls last, _loaded_at desc, occurred_at desc
            ) as copy_rank
        from raw.events_raw
    ) as copies
    where copy_rank = 1
        and user_id is not null
),
-- ===========================================================================

user_days as (
    select user_id, event_date, min(event_date) over (partition by user_id) as first_date
    from (select distinct user_id, event_date from events) as distinct_days
),

users as (
    select
        user_id,
        first_date,
        max(event_date) as last_date,
        bool_or(event_date = first_date + 1) as active_d1,
        bool_or(event_date = first_date + 7) as active_d7,
        bool_or(event_date = first_date + 30) as active_d30,
        bool_or(event_date = first_date + 90) as active_d90
    from user_days
    group by user_id, first_date
),

observation as (
    select least(
        max(last_date),
        (coalesce(nullif(current_setting('peer.as_of', true), '')::timestamptz, now()) at time zone 'UTC')::date - 1
    ) as observation_end
    from users
),

cohorts as (
    select
        grains.cohort_grain,
        grains.cohort_start,
        max(grains.cohort_last_day) as cohort_last_day,
        count(*) as cohort_size,
        count(*) filter (where active_d1) as retained_d1,
        count(*) filter (where last_date >= first_date + 1) as retained_d1_plus,
        count(*) filter (where active_d7) as retained_d7,
        count(*) filter (where last_date >= first_date + 7) as retained_d7_plus,
        count(*) filter (where active_d30) as retained_d30,
        count(*) filter (where last_date >= first_date + 30) as retained_d30_plus,
        count(*) filter (where active_d90) as retained_d90,
        count(*) filter (where last_date >= first_date + 90) as retained_d90_plus
    from users
    cross join lateral (
        values
            ('day', first_date, first_date),
            ('week', date_trunc('week', first_date)::date, date_trunc('week', first_date)::date + 6)
    ) as grains (cohort_grain, cohort_start, cohort_last_day)
    group by grains.cohort_grain, grains.cohort_start
)

select
    md5(cohort_grain || '|' || cohort_start::text) as cohort_key,
    cohort_grain,
    cohort_start,
    observation_end,
    cohort_size,
    case when cohort_last_day + 1 <= observation_end then retained_d1 end as retained_d1,
    case when cohort_last_day + 1 <= observation_end then round(retained_d1::numeric(28, 6) / cohort_size, 4) end
        as retention_rate_d1,
    case when cohort_last_day + 1 <= observation_end then retained_d1_plus end as retained_d1_plus,
    case when cohort_last_day + 1 <= observation_end then round(retained_d1_plus::numeric(28, 6) / cohort_size, 4) end
        as retention_rate_d1_plus,
    case when cohort_last_day + 7 <= observation_end then retained_d7 end as retained_d7,
    case when cohort_last_day + 7 <= observation_end then round(retained_d7::numeric(28, 6) / cohort_size, 4) end
        as retention_rate_d7,
    case when cohort_last_day + 7 <= observation_end then retained_d7_plus end as retained_d7_plus,
    case when cohort_last_day + 7 <= observation_end then round(retained_d7_plus::numeric(28, 6) / cohort_size, 4) end
        as retention_rate_d7_plus,
    case when cohort_last_day + 30 <= observation_end then retained_d30 end as retained_d30,
    case when cohort_last_day + 30 <= observation_end then round(retained_d30::numeric(28, 6) / cohort_size, 4) end
        as retention_rate_d30,
    case when cohort_last_day + 30 <= observation_end then retained_d30_plus end as retained_d30_plus,
    case when cohort_last_day + 30 <= observation_end then round(retained_d30_plus::numeric(28, 6) / cohort_size, 4) end
        as retention_rate_d30_plus,
    case when cohort_last_day + 90 <= observation_end then retained_d90 end as retained_d90,
    case when cohort_last_day + 90 <= observation_end then round(retained_d90::numeric(28, 6) / cohort_size, 4) end
        as retention_rate_d90,
    case when cohort_last_day + 90 <= observation_end then retained_d90_plus end as retained_d90_plus,
    case when cohort_last_day + 90 <= observation_end then round(retained_d90_plus::numeric(28, 6) / cohort_size, 4) end
        as retention_rate_d90_plus
from cohorts
cross join observation;

create unique index on peer.metrics_cohort_retention (cohort_grain, cohort_start);
analyze peer.metrics_cohort_retention;
