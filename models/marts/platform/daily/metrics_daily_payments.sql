{#-
  Seed 004's metrics_daily_payments: one row per UTC day, country and provider
  (either 'unknown' when the event does not carry a valid one).
  Attempts, their outcomes and revenue count on the ATTEMPT's day
  (int_payment_attempts_paired, read for the recomputed days by attempted_at),
  so successes + failures <= attempts every day; refunds count on the day they
  are issued (event log read by occurred_at), so a refund_rate above 1 is
  possible on a small slice. Incremental (replace_days on metric_date): a run
  recomputes the days kpi_days_to_process() names and replaces their rows (macros/incremental).
-#}
{{ config(
    kpi_changed_days={'domains': ['payments'], 'intermediates': [['int_payment_attempts_paired', 'attempted_at']]},
    indexes=[
        {'columns': ['payments_day_key'], 'unique': true},
        {'columns': ['metric_date', 'country_code', 'provider']},
    ],
) }}

with

attempts as (

    -- the days this run recomputes, by attempted_at (all of them on a first build)
    select
        attempted_date,
        {{ unknown_member('country_code') }} as country_code,
        {{ unknown_member('provider') }} as provider,
        is_fallback,
        outcome,
        captured_cents
    from {{ ref('int_payment_attempts_paired') }}
    where {{ kpi_in_days('attempted_at', timestamp=true) }}

),

refund_events as (

    -- the days this run recomputes, by occurred_at (all of them on a first build)
    select
        event_date,
        {{ unknown_member('country_code') }} as country_code,
        {{ unknown_member('provider') }} as provider,
        amount_cents
    from {{ ref('stg_platform__events') }}
    where event_domain = 'payments'
        and event_type = 'refund_issued'
        and {{ kpi_in_days('occurred_at', timestamp=true) }}

),

attempt_stats as (

    select
        attempted_date as metric_date,
        country_code,
        provider,
        count(*) as attempts,
        sum(case when outcome = 'succeeded' then 1 else 0 end) as successes,
        sum(case when outcome = 'failed' then 1 else 0 end) as failures,
        sum(case when is_fallback then 1 else 0 end) as fallback_attempts,
        coalesce(sum(captured_cents), 0) as revenue_cents
    from attempts
    group by attempted_date, country_code, provider

),

refund_stats as (

    select
        event_date as metric_date,
        country_code,
        provider,
        count(*) as refunds,
        coalesce(sum(amount_cents), 0) as refunded_cents
    from refund_events
    group by event_date, country_code, provider

),

day_keys as (

    select metric_date, country_code, provider from attempt_stats
    union
    select metric_date, country_code, provider from refund_stats

),

daily as (

    select
        day_keys.metric_date,
        day_keys.country_code,
        day_keys.provider,
        coalesce(attempt_stats.attempts, 0) as attempts,
        coalesce(attempt_stats.successes, 0) as successes,
        coalesce(attempt_stats.failures, 0) as failures,
        coalesce(attempt_stats.fallback_attempts, 0) as fallback_attempts,
        coalesce(refund_stats.refunds, 0) as refunds,
        cast(coalesce(attempt_stats.revenue_cents, 0) as {{ dbt.type_bigint() }}) as revenue_cents,
        cast(coalesce(refund_stats.refunded_cents, 0) as {{ dbt.type_bigint() }}) as refunded_cents
    from day_keys
    left join attempt_stats
        on day_keys.metric_date = attempt_stats.metric_date
        and day_keys.country_code = attempt_stats.country_code
        and day_keys.provider = attempt_stats.provider
    left join refund_stats
        on day_keys.metric_date = refund_stats.metric_date
        and day_keys.country_code = refund_stats.country_code
        and day_keys.provider = refund_stats.provider

)

select
    {{ surrogate_key(['metric_date', 'country_code', 'provider']) }} as payments_day_key,
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
    round(cast(successes as {{ dbt.type_numeric() }}) / nullif(attempts, 0), 4) as success_rate,
    round(cast(fallback_attempts as {{ dbt.type_numeric() }}) / nullif(attempts, 0), 4) as fallback_rate,
    round(cast(refunds as {{ dbt.type_numeric() }}) / nullif(successes, 0), 4) as refund_rate,
    round(cast(revenue_cents as {{ dbt.type_numeric() }}) / nullif(successes, 0), 0) as avg_transaction_cents
from daily
