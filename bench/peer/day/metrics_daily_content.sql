-- One-day run of peer.metrics_daily_content: day = setting peer.day (a UTC date
-- whose events have just been loaded). Only that day's row changes (counts on
-- their own day; a latency on the day of the horoscope's first approval). Reads
-- the day's horoscope events and every event of the horoscopes they touch.
-- De-duplication (COPY RULE) runs over the events read here: copies of one
-- event_id are assumed to share the domain and entity.
-- Rates and averages go through numeric(28, 6) before round(), as the project's
-- dbt.type_numeric() casts do (a double p95 of 9276.74999999999 rounds to 9276.8).
begin;

delete from peer.metrics_daily_content
where metric_date = current_setting('peer.day')::date;

insert into peer.metrics_daily_content
with

params as (
    select
        current_setting('peer.day')::date as day,
        current_setting('peer.day')::date::timestamp at time zone 'UTC' as day_start,
        (current_setting('peer.day')::date + 1)::timestamp at time zone 'UTC' as day_end
),

pii as (
    select coalesce(array_agg(key), '{}') as keys from config.pii_metadata_keys
),

touched_horoscopes as (
    select distinct nullif(trim(entity_id), '') as entity_id
    from raw.events_raw
    where occurred_at >= (select day_start from params)
        and occurred_at < (select day_end from params)
        and lower(trim(event_domain)) = 'content'
        and nullif(trim(entity_id), '') is not null
),

-- ==== COPY RULE: one row per event_id ======================================
-- The latest received copy of a re-sent event wins (received_at, null = oldest;
-- then the later load). bench_peer.py --copy-rule first swaps this ORDER BY for
-- the first-received rule "received_at nulls last, _loaded_at, occurred_at".
events as (
    select event_type, entity_id, occurred_at, zodiac_sign
    from (
        select
            lower(trim(event_type)) as event_type,
            nullif(trim(entity_id), '') as entity_id,
            occurred_at,
            lower((metadata - pii.keys) ->> 'zodiac_sign') as zodiac_sign,
            row_number() over (
                partition by event_id
                order by received_at desc nulls last, _loaded_at desc, occurred_at desc
            ) as copy_rank
        from raw.events_raw
        cross join pii
        where lower(trim(event_domain)) = 'content'
            and (
                (occurred_at >= (select day_start from params) and occurred_at < (select day_end from params))
                or nullif(trim(entity_id), '') in (select entity_id from touched_horoscopes)
            )
    ) as copies
    where copy_rank = 1
        and event_type in ('horoscope_uploaded', 'horoscope_approved', 'horoscope_rejected', 'horoscope_published')
),
-- ===========================================================================

timed as (
    select
        (occurred_at at time zone 'UTC')::date as metric_date,
        event_type,
        zodiac_sign,
        case when entity_id is not null and event_type = 'horoscope_approved'
                  and occurred_at = min(occurred_at) filter (where event_type = 'horoscope_approved') over horoscope
            then extract(epoch from
                     date_trunc('second', occurred_at)
                     - date_trunc('second', min(occurred_at) filter (where event_type = 'horoscope_uploaded') over horoscope)
                 )::float8
        end as latency_seconds
    from events
    window horoscope as (partition by entity_id)
),

daily as (
    select
        metric_date,
        count(*) filter (where event_type = 'horoscope_uploaded') as horoscopes_uploaded,
        count(*) filter (where event_type = 'horoscope_published') as horoscopes_published,
        count(distinct zodiac_sign) filter (where event_type = 'horoscope_published') as zodiac_signs_published,
        count(*) filter (where event_type = 'horoscope_approved') as horoscopes_approved,
        count(*) filter (where event_type = 'horoscope_rejected') as horoscopes_rejected,
        avg(latency_seconds) filter (where latency_seconds >= 0) as avg_latency,
        percentile_cont(0.95) within group (order by latency_seconds) filter (where latency_seconds >= 0) as p95_latency
    from timed
    where metric_date = (select day from params)
    group by metric_date
)

select
    metric_date,
    horoscopes_uploaded,
    horoscopes_published,
    zodiac_signs_published,
    round(zodiac_signs_published::numeric(28, 6) / 12, 4),
    horoscopes_approved,
    horoscopes_rejected,
    round(horoscopes_approved::numeric(28, 6) / nullif(horoscopes_approved + horoscopes_rejected, 0), 4),
    round(avg_latency::numeric(28, 6), 1),
    round(p95_latency::numeric(28, 6), 1)
from daily;

commit;
