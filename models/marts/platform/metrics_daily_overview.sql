{#-
  Seed 004's overview (`GET /api/metrics/overview?date=`): one row per UTC day
  on which any of the six daily platform marts has a row, with each domain's
  headline figures summed over that mart's dimensions (service, country,
  provider) and its rates recomputed from those sums (never averaged), plus how
  many of the six marts reported the day (the runbook's "check for missing
  metrics"). A table rebuilt whole from the daily marts (a few rows per day),
  as the weekly rollups are: each daily mart already carries late and
  corrected events into its days, and a rebuild reads them all.
-#}
{{ config(materialized='table', indexes=[{'columns': ['metric_date'], 'unique': true}]) }}

with

fulfillment as (

    select
        metric_date,
        sum(orders_created) as orders_created,
        sum(orders_completed) as orders_completed,
        sum(approvals) as approvals,
        sum(rejections) as rejections
    from {{ ref('metrics_daily_fulfillment') }}
    group by metric_date

),

payments as (

    select
        metric_date,
        sum(attempts) as payment_attempts,
        sum(successes) as payment_successes,
        sum(revenue_cents) as revenue_cents,
        sum(refunds) as refunds
    from {{ ref('metrics_daily_payments') }}
    group by metric_date

),

calls as (

    select
        metric_date,
        sum(calls_attempted) as calls_attempted,
        sum(calls_answered) as calls_answered,
        sum(calls_dropped) as calls_dropped
    from {{ ref('metrics_daily_calls') }}
    group by metric_date

),

engagement as (

    select
        metric_date,
        dau,
        wau,
        mau,
        notification_ctr
    from {{ ref('metrics_daily_engagement') }}

),

content as (

    select
        metric_date,
        horoscopes_published,
        coverage_rate
    from {{ ref('metrics_daily_content') }}

),

moderation as (

    select
        metric_date,
        flags_raised,
        decisions,
        content_removed
    from {{ ref('metrics_daily_moderation') }}

),

days as (

    select metric_date from fulfillment
    union
    select metric_date from payments
    union
    select metric_date from calls
    union
    select metric_date from engagement
    union
    select metric_date from content
    union
    select metric_date from moderation

)

select
    days.metric_date,
    cast(
        (case when fulfillment.metric_date is null then 0 else 1 end)
        + (case when payments.metric_date is null then 0 else 1 end)
        + (case when calls.metric_date is null then 0 else 1 end)
        + (case when engagement.metric_date is null then 0 else 1 end)
        + (case when content.metric_date is null then 0 else 1 end)
        + (case when moderation.metric_date is null then 0 else 1 end)
        as {{ dbt.type_int() }}
    ) as domains_reported,
    cast(coalesce(fulfillment.orders_created, 0) as {{ dbt.type_bigint() }}) as orders_created,
    cast(coalesce(fulfillment.orders_completed, 0) as {{ dbt.type_bigint() }}) as orders_completed,
    round(cast(fulfillment.approvals as {{ dbt.type_numeric() }})
        / nullif(fulfillment.approvals + fulfillment.rejections, 0), 4) as order_approval_rate,
    cast(coalesce(payments.payment_attempts, 0) as {{ dbt.type_bigint() }}) as payment_attempts,
    cast(coalesce(payments.payment_successes, 0) as {{ dbt.type_bigint() }}) as payment_successes,
    round(cast(payments.payment_successes as {{ dbt.type_numeric() }})
        / nullif(payments.payment_attempts, 0), 4) as payment_success_rate,
    cast(coalesce(payments.revenue_cents, 0) as {{ dbt.type_bigint() }}) as revenue_cents,
    cast(coalesce(payments.refunds, 0) as {{ dbt.type_bigint() }}) as refunds,
    cast(coalesce(calls.calls_attempted, 0) as {{ dbt.type_bigint() }}) as calls_attempted,
    cast(coalesce(calls.calls_answered, 0) as {{ dbt.type_bigint() }}) as calls_answered,
    round(cast(calls.calls_answered as {{ dbt.type_numeric() }})
        / nullif(calls.calls_attempted, 0), 4) as call_answer_rate,
    round(cast(calls.calls_dropped as {{ dbt.type_numeric() }})
        / nullif(calls.calls_answered, 0), 4) as call_drop_rate,
    engagement.dau,
    engagement.wau,
    engagement.mau,
    engagement.notification_ctr,
    cast(coalesce(content.horoscopes_published, 0) as {{ dbt.type_bigint() }}) as horoscopes_published,
    content.coverage_rate as content_coverage_rate,
    cast(coalesce(moderation.flags_raised, 0) as {{ dbt.type_bigint() }}) as flags_raised,
    round(cast(moderation.content_removed as {{ dbt.type_numeric() }})
        / nullif(moderation.decisions, 0), 4) as moderation_removal_rate
from days
left join fulfillment
    on days.metric_date = fulfillment.metric_date
left join payments
    on days.metric_date = payments.metric_date
left join calls
    on days.metric_date = calls.metric_date
left join engagement
    on days.metric_date = engagement.metric_date
left join content
    on days.metric_date = content.metric_date
left join moderation
    on days.metric_date = moderation.metric_date
