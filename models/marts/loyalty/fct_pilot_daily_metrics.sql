{#-
  Seed 000's pilot_daily_metrics: one row per tenant, location and UTC day with at
  least one loyalty transaction or scan error.
  Incremental (replace_days on metric_date): counts read the events of the days
  this run recomputes. Repeat customers also need the 6 days BEFORE each of them
  (kpi_in_days days_before=6), and a changed day recomputes the 6 days after it
  too (days_after 6), whose 7-day windows it lies in — docs/DECISIONLOG.md.
-#}
{{ config(
    materialized='incremental',
    tags=['daily'],
    incremental_strategy='replace_days',
    event_time='metric_date',
    unique_key='metric_date',
    kpi_changed_days={'domains': ['loyalty'], 'days_after': 6},
    indexes=[{'columns': ['pilot_day_key'], 'unique': true}, {'columns': ['tenant_id', 'metric_date']}],
) }}

-- depends_on: {{ ref('stg_platform__events') }}  (the change feed: macros/incremental/kpi_days_to_process.sql)

with

events as (

    -- the days this run recomputes (all of them on a first build)
    select
        tenant_id,
        {{ unknown_member('location_id') }} as location_id,
        event_date,
        customer_id,
        transaction_type,
        is_transaction,
        is_scan_error,
        scan_error_code
    from {{ ref('int_loyalty_events_classified') }}
    where (is_transaction or is_scan_error)
        and {{ kpi_in_days('occurred_at', timestamp=true) }}

),

trailing_transactions as (

    -- the recomputed days plus the 6 days before each (repeat customers' 7-day window)
    select
        tenant_id,
        customer_id,
        event_date
    from {{ ref('int_loyalty_events_classified') }}
    where is_transaction
        and customer_id is not null
        and {{ kpi_in_days('occurred_at', days_before=6, timestamp=true) }}

),

customer_days as (

    -- transactions per tenant, customer and day over the look-back span
    select
        tenant_id,
        customer_id,
        event_date,
        count(*) as transactions
    from trailing_transactions
    group by tenant_id, customer_id, event_date

),

active_customer_days as (

    -- who was active where, on the recomputed days
    select distinct
        tenant_id,
        location_id,
        event_date,
        customer_id
    from events
    where is_transaction
        and customer_id is not null

),

repeat_flags as (

    -- a repeat customer: active at this location that day, with >= 2 transactions at the
    -- tenant (any location) in the 7 days ending that day
    select
        active_customer_days.tenant_id,
        active_customer_days.location_id,
        active_customer_days.event_date,
        active_customer_days.customer_id,
        sum(customer_days.transactions) >= 2 as is_repeat
    from active_customer_days
    inner join customer_days
        on active_customer_days.tenant_id = customer_days.tenant_id
        and active_customer_days.customer_id = customer_days.customer_id
        and customer_days.event_date <= active_customer_days.event_date
        and customer_days.event_date > {{ dbt.dateadd('day', -7, 'active_customer_days.event_date') }}
    group by
        active_customer_days.tenant_id,
        active_customer_days.location_id,
        active_customer_days.event_date,
        active_customer_days.customer_id

),

customers_daily as (

    select
        tenant_id,
        location_id,
        event_date,
        count(*) as active_customers,
        sum(case when is_repeat then 1 else 0 end) as repeat_customers
    from repeat_flags
    group by tenant_id, location_id, event_date

),

counts_daily as (

    select
        tenant_id,
        location_id,
        event_date,
        sum(case when transaction_type = 'issue' then 1 else 0 end) as issue_transactions,
        sum(case when transaction_type = 'redeem' then 1 else 0 end) as redeem_transactions,
        sum(case when transaction_type = 'adjust' then 1 else 0 end) as adjust_transactions,
        sum(case when transaction_type = 'reverse' then 1 else 0 end) as reverse_transactions,
        sum(case when is_transaction then 1 else 0 end) as transactions_total,
        sum(case when is_scan_error then 1 else 0 end) as scan_errors_total,
        sum(case when scan_error_code = 'expired_qr' then 1 else 0 end) as scan_errors_expired_qr,
        sum(case when scan_error_code = 'insufficient_balance' then 1 else 0 end) as scan_errors_insufficient_balance,
        sum(case when scan_error_code = 'unauthorized_device' then 1 else 0 end) as scan_errors_unauthorized_device
    from events
    group by tenant_id, location_id, event_date

),

final as (

    select
        {{ surrogate_key(['counts_daily.tenant_id', 'counts_daily.location_id', 'counts_daily.event_date']) }} as pilot_day_key,
        counts_daily.tenant_id,
        counts_daily.location_id,
        counts_daily.event_date as metric_date,
        coalesce(customers_daily.active_customers, 0) as active_customers,
        coalesce(customers_daily.repeat_customers, 0) as repeat_customers,
        counts_daily.issue_transactions,
        counts_daily.redeem_transactions,
        counts_daily.adjust_transactions,
        counts_daily.reverse_transactions,
        counts_daily.transactions_total,
        {{ rounded_rate('counts_daily.redeem_transactions', 'counts_daily.issue_transactions', cap=true) }}
            as redemption_rate,
        counts_daily.scan_errors_total,
        counts_daily.scan_errors_expired_qr,
        counts_daily.scan_errors_insufficient_balance,
        counts_daily.scan_errors_unauthorized_device,
        counts_daily.scan_errors_total
            - counts_daily.scan_errors_expired_qr
            - counts_daily.scan_errors_insufficient_balance
            - counts_daily.scan_errors_unauthorized_device as scan_errors_other,
        {{ rounded_rate('counts_daily.scan_errors_total', 'counts_daily.transactions_total') }} as error_rate,
        round(cast(counts_daily.scan_errors_total as {{ dbt.type_numeric() }})
            / (counts_daily.transactions_total + counts_daily.scan_errors_total), 4) as scan_failure_share
    from counts_daily
    left join customers_daily
        on counts_daily.tenant_id = customers_daily.tenant_id
        and counts_daily.event_date = customers_daily.event_date
        and counts_daily.location_id = customers_daily.location_id

)

select
    pilot_day_key,
    tenant_id,
    location_id,
    metric_date,
    active_customers,
    repeat_customers,
    issue_transactions,
    redeem_transactions,
    adjust_transactions,
    reverse_transactions,
    transactions_total,
    redemption_rate,
    scan_errors_total,
    scan_errors_expired_qr,
    scan_errors_insufficient_balance,
    scan_errors_unauthorized_device,
    scan_errors_other,
    error_rate,
    scan_failure_share
from final
