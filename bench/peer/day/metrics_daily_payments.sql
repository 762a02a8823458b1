-- One-day run of peer.metrics_daily_payments: day = setting peer.day (a UTC date
-- whose events have just been loaded). Outcomes count on their attempt's day, so
-- an outcome on the day can change an earlier day's row: the rows from the
-- earliest attempt day of the payments touched that day (window_start) on are
-- replaced, recomputed from the payment events since window_start (every
-- outcome lies at or after its attempt). Finding window_start reads every event
-- of the touched payments (any day).
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

touched_payments as (
    select distinct nullif(trim(entity_id), '') as entity_id
    from raw.events_raw
    where occurred_at >= (select day_start from params)
        and occurred_at < (select day_end from params)
        and lower(trim(event_domain)) = 'payments'
        and nullif(trim(entity_id), '') is not null
)

select least(
    (select day from params),
    min((occurred_at at time zone 'UTC')::date)
) as window_start
from raw.events_raw
where lower(trim(event_domain)) = 'payments'
    and lower(trim(event_type)) = 'payment_attempted'
    and nullif(trim(entity_id), '') in (select entity_id from touched_payments);

delete from peer.metrics_daily_payments
where metric_date >= (select window_start from day_window);

insert into peer.metrics_daily_payments
with

pii as (
    select coalesce(array_agg(key), '{}') as keys from config.pii_metadata_keys
),

-- ==== COPY RULE: one row per event_id ======================================
-- The latest received copy of a re-sent event wins (received_at, null = oldest;
-- then the later load). bench_peer.py --copy-rule first swaps this ORDER BY for
-- the first-received rule "received_at nulls last, _loaded_at, occurred_at".
events as (
    select
        copies.event_id,
        copies.occurred_at,
        copies.event_type,
        copies.entity_id,
        coalesce(countries.alpha_2, 'unknown') as country_code,
        coalesce(copies.provider, 'unknown') as provider,
        copies.amount_cents,
        copies.is_fallback
    from (
        select
            event_id,
            occurred_at,
            lower(trim(event_type)) as event_type,
            nullif(trim(entity_id), '') as entity_id,
            nullif(upper(trim(country_code)), '') as country_code,
            nullif(lower(trim(provider)), '') as provider,
            amount_cents,
            lower(coalesce((metadata - pii.keys) ->> 'is_fallback', 'false')) = 'true' as is_fallback,
            row_number() over (
                partition by event_id
                order by received_at desc nulls last, _loaded_at desc, occurred_at desc
            ) as copy_rank
        from raw.events_raw
        cross join pii
        where occurred_at >= (select window_start::timestamp at time zone 'UTC' from day_window)
            and lower(trim(event_domain)) = 'payments'
    ) as copies
    left join config.iso_country_codes as countries
        on copies.country_code = countries.alpha_2
    where copies.copy_rank = 1
),
-- ===========================================================================

payment_stream as (
    -- attempts and outcomes of a payment and fallback flag in time order, an attempt
    -- before an outcome at the same instant; seg = outcomes strictly before the row,
    -- so an attempt's first outcome at or after it is the one outcome of its segment
    select
        event_id,
        occurred_at,
        event_type,
        entity_id,
        country_code,
        provider,
        amount_cents,
        is_fallback,
        count(*) filter (where event_type <> 'payment_attempted') over in_order
            - case when event_type <> 'payment_attempted' then 1 else 0 end as seg
    from events
    where event_type in ('payment_attempted', 'payment_succeeded', 'payment_failed')
    window in_order as (
        partition by entity_id, is_fallback
        order by occurred_at, event_type <> 'payment_attempted', event_id
        rows unbounded preceding
    )
),

attempts as (
    select
        occurred_at,
        country_code,
        provider,
        amount_cents,
        is_fallback,
        case when entity_id is not null then outcome_type end as outcome_type,
        outcome_amount_cents
    from (
        select
            payment_stream.*,
            max(event_type) filter (where event_type <> 'payment_attempted') over segment as outcome_type,
            max(amount_cents) filter (where event_type <> 'payment_attempted') over segment as outcome_amount_cents
        from payment_stream
        window segment as (partition by entity_id, is_fallback, seg)
    ) as paired
    where event_type = 'payment_attempted'
),

facts as (
    -- one row per attempt (on its day) and per refund (on its day)
    select
        (occurred_at at time zone 'UTC')::date as metric_date,
        country_code,
        provider,
        1 as attempt,
        case when outcome_type = 'payment_succeeded' then 1 else 0 end as success,
        case when outcome_type = 'payment_failed' then 1 else 0 end as failure,
        case when is_fallback then 1 else 0 end as fallback,
        case when outcome_type = 'payment_succeeded' then coalesce(outcome_amount_cents, amount_cents) end
            as captured_cents,
        0 as refund,
        null::bigint as refunded_cents
    from attempts
    union all
    select
        (occurred_at at time zone 'UTC')::date,
        country_code,
        provider,
        0, 0, 0, 0, null,
        1,
        amount_cents
    from events
    where event_type = 'refund_issued'
),

daily as (
    select
        metric_date,
        country_code,
        provider,
        sum(attempt) as attempts,
        sum(success) as successes,
        sum(failure) as failures,
        sum(fallback) as fallback_attempts,
        sum(refund) as refunds,
        coalesce(sum(captured_cents), 0)::bigint as revenue_cents,
        coalesce(sum(refunded_cents), 0)::bigint as refunded_cents
    from facts
    group by metric_date, country_code, provider
)

select
    md5(metric_date::text || '|' || coalesce(country_code, '_null_') || '|' || coalesce(provider, '_null_')),
    metric_date,
    country_code,
    provider,
    attempts,
    successes,
    failures,
    fallback_attempts,
    refunds,
    revenue_cents,
    refunded_cents,
    round(successes::numeric(28, 6) / nullif(attempts, 0), 4),
    round(fallback_attempts::numeric(28, 6) / nullif(attempts, 0), 4),
    round(refunds::numeric(28, 6) / nullif(successes, 0), 4),
    round(revenue_cents::numeric(28, 6) / nullif(successes, 0), 0)
from daily;

commit;
