-- One-day run of peer.metrics_daily_engagement: day = setting peer.day (a UTC
-- date whose events have just been loaded). Only that day's row changes (no day
-- after it has events yet): DAU / WAU / MAU need the users of the 30 days ending
-- that day, the counts the day's own events — reads 30 days of events.
-- De-duplication (COPY RULE) runs over the events read here: copies of one
-- event_id are assumed to share the day.
-- Rates and averages go through numeric(28, 6) before round(), as the project's
-- dbt.type_numeric() casts do (a double p95 of 9276.74999999999 rounds to 9276.8).
begin;

delete from peer.metrics_daily_engagement
where metric_date = current_setting('peer.day')::date;

insert into peer.metrics_daily_engagement
with

params as (
    select
        current_setting('peer.day')::date as day,
        (current_setting('peer.day')::date - 29)::timestamp at time zone 'UTC' as window_start,
        (current_setting('peer.day')::date + 1)::timestamp at time zone 'UTC' as day_end
),

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
        where occurred_at >= (select window_start from params)
            and occurred_at < (select day_end from params)
    ) as copies
    where copy_rank = 1
),
-- ===========================================================================

day_counts as (
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
    where event_date = (select day from params)
    group by event_date
),

active as (
    -- distinct users active on the day / in the 7 / 30 days ending it
    select
        count(distinct user_id) filter (where event_date = (select day from params)) as dau,
        count(distinct user_id) filter (where event_date > (select day from params) - 7) as wau,
        count(distinct user_id) as mau
    from events
    where user_id is not null
)

select
    day_counts.metric_date,
    active.dau,
    active.wau,
    active.mau,
    round(active.dau::numeric(28, 6) / nullif(active.mau, 0), 4),
    day_counts.notifications_sent,
    day_counts.notifications_delivered,
    day_counts.notifications_opened,
    day_counts.notifications_opted_out,
    round(day_counts.notifications_opened::numeric(28, 6) / nullif(day_counts.notifications_delivered, 0), 4),
    round(day_counts.notifications_opted_out::numeric(28, 6) / nullif(day_counts.notifications_sent, 0), 4),
    day_counts.horoscope_plays,
    round(day_counts.listen_through_rate, 4)
from day_counts
cross join active;

commit;
