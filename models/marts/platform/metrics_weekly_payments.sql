{#- ISO-week rollup of metrics_daily_payments: counts summed, rates recomputed from the sums. -#}
{{ config(materialized='table', indexes=[{'columns': ['week_start', 'country_code', 'provider']}]) }}

with

weekly as (

    {{ platform_weekly_sums(
        ref('metrics_daily_payments'),
        keys=['country_code', 'provider'],
        measures=['attempts', 'successes', 'failures', 'fallback_attempts', 'refunds', 'revenue_cents', 'refunded_cents'],
    ) }}

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
