-- Peer of marts.metrics_daily_engagement (hand-written, plain PostgreSQL, reads raw.*).
-- One row per UTC day with any event. DAU / WAU / MAU = distinct user_id active
-- that day / in the 7 / 30 days ending that day: each active (user, day) counts
-- from that day until the user's next active day, at most 7 / 30 days, so a
-- running sum of +1/-1 deltas counts distinct users in one pass over user-days.
-- Notification and horoscope-play counts are the day's own events.
-- Rates and averages go through numeric(28, 6) before round(), as the project's
-- dbt.type_numeric() casts do (a double p95 of 9276.74999999999 rounds to 9276.8).
drop table if exists peer.metrics_daily_engagement;

create table peer.metrics_daily_engagement as
with

pii as (
    select coalesce(array_agg(key), '{}') as keys from config.pii_metadata_keys
),

-- ==== COPY RULE: one row per event_id ======================================
-- The latest received copy of a re-sent event wins (received_at, null = oldest;
-- then the later load). bench_peer.py --copy-rule first swaps this ORDER BY for
-- the first-received rule "received_at nulls last, _loaded_at, occurred_at".
events as (
    select event_date, event_domain, event_type, user_id, listen_pct
    from (
        select
            (occurred_at at time zone 'UTC')::date as event_date,
            lower(trim(event_domain)) as event_domain,
            lower(trim(event_type)) as event_type,
            nullif(trim(user_id), '') as user_id,
            case when lower(trim(event_type)) = 'horoscope_played'
                then (metadata - pii.keys) ->> 'listen_pct'
            end as listen_pct,
            row_number() over (
                partition by event_id
                order by received_at desc nulls last, _loaded_at desc, occurred_at desc
            ) as copy_rank
        from raw.events_raw
        cross join pii
    ) as copies
    where copy_rank = 1
),
-- ===========================================================================

days as (
    select
        event_date as metric_date,
        count(*) filter (where event_domain in ('notifications', 'content') and event_type = 'notification_sent')
            as notifications_sent,
        count(*) filter (where event_domain in ('notifications', 'content') and event_type = 'notification_delivered')
            as notifications_delivered,
        count(*) filter (where event_domain in ('notifications', 'content') and event_type = 'notification_opened')
            as notifications_opened,
        count(*) filter (where event_domain in ('notifications', 'content') and event_type = 'notification_opted_out')
            as notifications_opted_out,
        count(*) filter (where event_domain in ('notifications', 'content') and event_type = 'horoscope_played')
            as horoscope_plays,
        avg(listen_pct::numeric(28, 6) / 100)
            filter (where event_domain in ('notifications', 'content') and event_type = 'horoscope_played')
            as listen_through_rate
    from events
    group by event_date
),

user_days as (
    select distinct user_id, event_date
    from events
    where user_id is not null
),

spans as (
    select
        event_date,
        lead(event_date) over (partition by user_id order by event_date) as next_event_date
    from user_days
),

deltas as (
    select event_date as delta_date, 1 as dau, 1 as wau, 1 as mau from spans
    union all
    select event_date + 1, -1, 0, 0 from spans
    union all
    select least(coalesce(next_event_date, event_date + 7), event_date + 7), 0, -1, 0 from spans
    union all
    select least(coalesce(next_event_date, event_date + 30), event_date + 30), 0, 0, -1 from spans
    union all
    select metric_date, 0, 0, 0 from days
),

running as (
    select
        delta_date,
        sum(sum(dau)) over (order by delta_date) as dau,
        sum(sum(wau)) over (order by delta_date) as wau,
        sum(sum(mau)) over (order by delta_date) as mau
    from deltas
    group by delta_date
)

select
    days.metric_date,
    running.dau::bigint as dau,
    running.wau::bigint as wau,
    running.mau::bigint as mau,
    round(running.dau::numeric(28, 6) / nullif(running.mau, 0), 4) as stickiness,
    days.notifications_sent,
    days.notifications_delivered,
    days.notifications_opened,
    days.notifications_opted_out,
    round(days.notifications_opened::numeric(28, 6) / nullif(days.notifications_delivered, 0), 4) as notification_ctr,
    round(days.notifications_opted_out::numeric(28, 6) / nullif(days.notifications_sent, 0), 4) as opt_out_rate,
    days.horoscope_plays,
    round(days.listen_through_rate, 4) as listen_through_rate
from days
inner join running
    on running.delta_date = days.metric_date;

create unique index on peer.metrics_daily_engagement (metric_date);
analyze peer.metrics_daily_engagement;
