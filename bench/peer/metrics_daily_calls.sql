-- Peer of marts.metrics_daily_calls (hand-written, plain PostgreSQL, reads raw.*).
-- One row per UTC day and service_code over the calls STARTED that day (a call =
-- entity_id of the calls domain with a call_started event): answered, completed,
-- dropped (without an end) and recorded calls count with their start day.
-- Rates and averages go through numeric(28, 6) before round(), as the project's
-- dbt.type_numeric() casts do (a double p95 of 9276.74999999999 rounds to 9276.8).
drop table if exists peer.metrics_daily_calls;

create table peer.metrics_daily_calls as
with

pii as (
    select coalesce(array_agg(key), '{}') as keys from config.pii_metadata_keys
),

-- ==== COPY RULE: one row per event_id ======================================
-- The latest received copy of a re-sent event wins (received_at, null = oldest;
-- then the later load). bench_peer.py --copy-rule first swaps this ORDER BY for
-- the first-received rule "received_at nulls last, _loaded_at, occurred_at".
events as (
    select event_type, entity_id, occurred_at, service_code, duration_seconds, recorded
    from (
        select
            lower(trim(event_domain)) as event_domain,
            lower(trim(event_type)) as event_type,
            nullif(trim(entity_id), '') as entity_id,
            occurred_at,
            nullif(lower(trim(service_code)), '') as service_code,
            duration_seconds,
            (metadata - pii.keys) ->> 'recorded' as recorded,
            row_number() over (
                partition by event_id
                order by received_at desc nulls last, _loaded_at desc, occurred_at desc
            ) as copy_rank
        from raw.events_raw
        cross join pii
    ) as copies
    where copy_rank = 1
        and event_domain = 'calls'
        and entity_id is not null
),
-- ===========================================================================

calls as (
    select
        entity_id as call_id,
        coalesce(min(service_code), 'unknown') as service_code,
        min(occurred_at) filter (where event_type = 'call_started') as started_at,
        count(*) filter (where event_type = 'call_answered') > 0 as is_answered,
        count(*) filter (where event_type = 'call_ended') > 0 as is_completed,
        count(*) filter (where event_type = 'call_dropped') > 0
            and count(*) filter (where event_type = 'call_ended') = 0 as is_dropped,
        count(*) filter (where event_type = 'call_ended' and lower(recorded) = 'true') > 0 as is_recorded,
        max(duration_seconds) filter (where event_type in ('call_ended', 'call_dropped')) as duration_seconds
    from events
    group by entity_id
),

daily as (
    select
        (started_at at time zone 'UTC')::date as metric_date,
        service_code,
        count(*) as calls_attempted,
        count(*) filter (where is_answered) as calls_answered,
        count(*) filter (where is_answered and is_completed) as calls_completed,
        count(*) filter (where is_answered and is_dropped) as calls_dropped,
        count(*) filter (where is_answered and is_recorded) as calls_recorded,
        avg(duration_seconds) as avg_duration,
        percentile_cont(0.95) within group (order by duration_seconds) as p95_duration
    from calls
    where started_at is not null
    group by 1, 2
)

select
    md5(metric_date::text || '|' || coalesce(service_code, '_null_')) as calls_day_key,
    metric_date,
    service_code,
    calls_attempted,
    calls_answered,
    calls_completed,
    calls_dropped,
    calls_recorded,
    round(calls_answered::numeric(28, 6) / nullif(calls_attempted, 0), 4) as answer_rate,
    round(calls_completed::numeric(28, 6) / nullif(calls_answered, 0), 4) as completion_rate,
    round(calls_dropped::numeric(28, 6) / nullif(calls_answered, 0), 4) as drop_rate,
    round(calls_recorded::numeric(28, 6) / nullif(calls_answered, 0), 4) as recording_rate,
    round(avg_duration::numeric(28, 6), 3) as avg_duration_seconds,
    round(p95_duration::numeric(28, 6), 3) as p95_duration_seconds
from daily;

create unique index on peer.metrics_daily_calls (calls_day_key);
create index on peer.metrics_daily_calls (metric_date, service_code);
analyze peer.metrics_daily_calls;
