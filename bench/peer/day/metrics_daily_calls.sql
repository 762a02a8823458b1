-- One-day run of peer.metrics_daily_calls: day = setting peer.day (a UTC date
-- whose events have just been loaded). A call counts on its START day, so the
-- day's answers / ends / drops can change an earlier day's row: the rows from
-- the earliest start day of the calls touched that day (window_start) on are
-- replaced, recomputed from every event (any day) of the calls started since
-- window_start. Finding window_start reads every event of the touched calls.
-- De-duplication (COPY RULE) runs over the events read here: copies of one
-- event_id are assumed to share the domain, entity and day.
-- Rates and averages go through numeric(28, 6) before round(), as the project's
-- dbt.type_numeric() casts do (a double p95 of 9276.74999999999 rounds to 9276.8).
begin;

create temporary table day_window on commit drop as
with

params as (
    select
        current_setting('peer.day')::date as day,
        current_setting('peer.day')::date::timestamp at time zone 'UTC' as day_start,
        (current_setting('peer.day')::date + 1)::timestamp at time zone 'UTC' as day_end
),

touched_calls as (
    select distinct nullif(trim(entity_id), '') as entity_id
    from raw.events_raw
    where occurred_at >= (select day_start from params)
        and occurred_at < (select day_end from params)
        and lower(trim(event_domain)) = 'calls'
        and nullif(trim(entity_id), '') is not null
)

select least(
    (select day from params),
    min((occurred_at at time zone 'UTC')::date)
) as window_start
from raw.events_raw
where lower(trim(event_domain)) = 'calls'
    and lower(trim(event_type)) = 'call_started'
    and nullif(trim(entity_id), '') in (select entity_id from touched_calls);

delete from peer.metrics_daily_calls
where metric_date >= (select window_start from day_window);

insert into peer.metrics_daily_calls
with

pii as (
    select coalesce(array_agg(key), '{}') as keys from config.pii_metadata_keys
),

calls_in_window as (
    select distinct nullif(trim(entity_id), '') as entity_id
    from raw.events_raw
    where occurred_at >= (select window_start::timestamp at time zone 'UTC' from day_window)
        and lower(trim(event_domain)) = 'calls'
        and lower(trim(event_type)) = 'call_started'
        and nullif(trim(entity_id), '') is not null
),

-- ==== COPY RULE: one row per event_id ======================================
-- The latest received copy of a re-sent event wins (received_at, null = oldest;
-- then the later load). bench_peer.py --copy-rule first swaps this ORDER BY for
-- the first-received rule "received_at nulls last, _loaded_at, occurred_at".
events as (
    select event_type, entity_id, occurred_at, service_code, duration_seconds, recorded
    from (
        select
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
        where lower(trim(event_domain)) = 'calls'
            and nullif(trim(entity_id), '') in (select entity_id from calls_in_window)
    ) as copies
    where copy_rank = 1
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
    -- a call with an earlier (duplicate) start belongs to a day before the window
    where (started_at at time zone 'UTC')::date >= (select window_start from day_window)
    group by 1, 2
)

select
    md5(metric_date::text || '|' || coalesce(service_code, '_null_')),
    metric_date,
    service_code,
    calls_attempted,
    calls_answered,
    calls_completed,
    calls_dropped,
    calls_recorded,
    round(calls_answered::numeric(28, 6) / nullif(calls_attempted, 0), 4),
    round(calls_completed::numeric(28, 6) / nullif(calls_answered, 0), 4),
    round(calls_dropped::numeric(28, 6) / nullif(calls_answered, 0), 4),
    round(calls_recorded::numeric(28, 6) / nullif(calls_answered, 0), 4),
    round(avg_duration::numeric(28, 6), 3),
    round(p95_duration::numeric(28, 6), 3)
from daily;

commit;
