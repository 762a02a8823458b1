-- Peer of marts.metrics_daily_content (hand-written, plain PostgreSQL, reads raw.*).
-- One row per UTC day with horoscope events (uploaded / approved / rejected /
-- published): counts on their own day; coverage = distinct zodiac signs
-- published / 12; approval latency = a horoscope's first upload -> first
-- approval, counted on the day of that approval (whole seconds, double precision).
-- Rates and averages go through numeric(28, 6) before round(), as the project's
-- dbt.type_numeric() casts do (a double p95 of 9276.74999999999 rounds to 9276.8).
drop table if exists peer.metrics_daily_content;

create table peer.metrics_daily_content as
with

pii as (
    select coalesce(array_agg(key), '{}') as keys from config.pii_metadata_keys
),

-- ==== COPY RULE: one row per event_id ======================================
-- The latest received copy of a re-sent event wins (received_at, null = oldest;
-- then the later load). bench_peer.py --copy-rule first swaps this ORDER BY for
-- the first-received rule "received_at nulls last, _loaded_at, occurred_at".
events as (
    select event_type, entity_id, occurred_at, zodiac_sign
    from (
        select
            lower(trim(event_domain)) as event_domain,
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
    ) as copies
    where copy_rank = 1
        and event_domain = 'content'
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
    group by metric_date
)

select
    metric_date,
    horoscopes_uploaded,
    horoscopes_published,
    zodiac_signs_published,
    round(zodiac_signs_published::numeric(28, 6) / 12, 4) as coverage_rate,
    horoscopes_approved,
    horoscopes_rejected,
    round(horoscopes_approved::numeric(28, 6) / nullif(horoscopes_approved + horoscopes_rejected, 0), 4) as approval_rate,
    round(avg_latency::numeric(28, 6), 1) as avg_approval_latency_seconds,
    round(p95_latency::numeric(28, 6), 1) as p95_approval_latency_seconds
from daily;

create unique index on peer.metrics_daily_content (metric_date);
analyze peer.metrics_daily_content;
