{#- ISO-week rollup of metrics_daily_payments: counts summed, rates recomputed from the sums. -#}
{{ config(materialized='table', indexes=[{'columns': ['week_start', 'country_code', 'provider']}]) }}

with

daily as (

    select
        cast({{ dbt.date_trunc('week', 'metric_date') }} as date) as week_start,
        country_code,
        provider,
        attempts,
        successes,
        failures,
        fallback_attempts,
        refunds,
        revenue_cents,
        refunded_cents
    from {{ ref('metrics_daily_payments') }}

),

weekly as (

    select
        week_start,
        country_code,
        provider,
        sum(attempts) as attempts,
        sum(successes) as successes,
        sum(failures) as failures,
        sum(fallback_attempts) as fallback_attempts,
        sum(refunds) as refunds,
        sum(revenue_cents) as revenue_cents,
        sum(refunded_cents) as refunded_cents
    from daily
    group by week_start, country_code, provider

)

select
    {{ surrogate_key(['week_start', 'country_code', 'provider']) }} as payments_week_key,
    week_start,
    country_code,
    provider,
    cast(attempts as {{ dbt.type_bigint() }}) as attempts,
    cast(successes as {{ dbt.type_bigint() }}) as successes,
    cast(failures as {{ dbt.type_bigint() }}) as failures,
    cast(fallback_attempts as {{ dbt.type_bigint() }}) as fallback_attempts,
    cast(refunds as {{ dbt.type_bigint() }}) as refunds,
    cast(revenue_cents as {{ dbt.type_bigint() }}) as revenue_cents,
    cast(refunded_cents as {{ dbt.type_bigint() }}) as refunded_cents,
    round(cast(successes as {{ dbt.type_numeric() }}) / nullif(attempts, 0), 4) as success_rate,
    round(cast(fallback_attempts as {{ dbt.type_numeric() }}) / nullif(attempts, 0), 4) as fallback_rate,
    round(cast(refunds as {{ dbt.type_numeric() }}) / nullif(successes, 0), 4) as refund_rate,
    round(cast(revenue_cents as {{ dbt.type_numeric() }}) / nullif(successes, 0), 0) as avg_transaction_cents
from weekly
