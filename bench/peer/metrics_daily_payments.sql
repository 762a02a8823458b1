-- Peer of marts.metrics_daily_payments (hand-written, plain PostgreSQL, reads raw.*).
-- One row per UTC day, country (ISO alpha-2 from config.iso_country_codes, else
-- null) and provider. Each payment_attempted is paired with the first
-- payment_succeeded / payment_failed of the same payment and the same
-- metadata.is_fallback flag at or after it (ties: the smaller event_id); attempts,
-- outcomes and revenue count on the attempt's day, refunds on their own day.
-- Rates and averages go through numeric(28, 6) before round(), as the project's
-- dbt.type_numeric() casts do (a double p95 of 9276.74999999999 rounds to 9276.8).
drop table if exists peer.metrics_daily_payments;

create table peer.metrics_daily_payments as
with

pii as (
    -- metadata keys staging removes (a metric never reads them, but a key listed
    -- there must read as absent, as it does through staging)
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
            lower(trim(event_domain)) as event_domain,
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
    ) as copies
    left join config.iso_country_codes as countries
        on copies.country_code = countries.alpha_2
    where copies.copy_rank = 1
        and copies.event_domain = 'payments'
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
    md5(metric_date::text || '|' || coalesce(country_code, '_null_') || '|' || coalesce(provider, '_null_'))
        as payments_day_key,
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
    round(successes::numeric(28, 6) / nullif(attempts, 0), 4) as success_rate,
    round(fallback_attempts::numeric(28, 6) / nullif(attempts, 0), 4) as fallback_rate,
    round(refunds::numeric(28, 6) / nullif(successes, 0), 4) as refund_rate,
    round(revenue_cents::numeric(28, 6) / nullif(successes, 0), 0) as avg_transaction_cents
from daily;

create unique index on peer.metrics_daily_payments (payments_day_key);
create index on peer.metrics_daily_payments (metric_date, country_code, provider);
analyze peer.metrics_daily_payments;
