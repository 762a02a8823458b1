-- Peer of marts.metrics_daily_payments (hand-written, plain PostgreSQL, reads raw.*).
-- One row per UTC day, country (ISO alpha-2 from config.iso_country_codes, else
-- null) and provider. Each payment_attempted is paired with the first
-- payment_succeeded / payment_failed of the same payment and the same
-- metadata.is_fallback flag at or after it; attempts, outcomes and revenue
-- count on the attempt's day, refunds on their own day.
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
        countries.alpha_2 as country_code,
        copies.provider,
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

attempts as (
    select * from events where event_type = 'payment_attempted'
),

first_outcomes as (
    select distinct on (attempts.event_id)
        attempts.event_id as attempt_event_id,
        outcomes.event_type as outcome_type,
        outcomes.amount_cents as outcome_amount_cents
    from attempts
    inner join events as outcomes
        on outcomes.event_type in ('payment_succeeded', 'payment_failed')
        and outcomes.entity_id = attempts.entity_id
        and outcomes.is_fallback = attempts.is_fallback
        and outcomes.occurred_at >= attempts.occurred_at
    order by attempts.event_id, outcomes.occurred_at, outcomes.event_id
),

facts as (
    -- one row per attempt (on its day) and per refund (on its day)
    select
        (attempts.occurred_at at time zone 'UTC')::date as metric_date,
        attempts.country_code,
        attempts.provider,
        1 as attempt,
        case when first_outcomes.outcome_type = 'payment_succeeded' then 1 else 0 end as success,
        case when first_outcomes.outcome_type = 'payment_failed' then 1 else 0 end as failure,
        case when attempts.is_fallback then 1 else 0 end as fallback,
        case when first_outcomes.outcome_type = 'payment_succeeded'
            then coalesce(first_outcomes.outcome_amount_cents, attempts.amount_cents)
        end as captured_cents,
        0 as refund,
        null::bigint as refunded_cents
    from attempts
    left join first_outcomes
        on first_outcomes.attempt_event_id = attempts.event_id
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
