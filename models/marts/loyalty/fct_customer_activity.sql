{#-
  Seed 000's pilot_customer_activity: one row per tenant, customer and UTC day on
  which the customer made at least one loyalty transaction (issue, redeem,
  adjust, reverse). Incremental (replace_days on activity_date): a run
  recomputes the days kpi_days_to_process() names; the weekly report counts
  distinct and repeat customers from it.
-#}
{{ config(
    materialized='incremental',
    tags=['daily'],
    incremental_strategy='replace_days',
    event_time='activity_date',
    unique_key='activity_date',
    kpi_changed_days={'domains': ['loyalty']},
    indexes=[{'columns': ['customer_day_key'], 'unique': true}, {'columns': ['tenant_id', 'activity_date']}],
) }}

-- depends_on: {{ ref('stg_platform__events') }}  (the change feed: macros/incremental/kpi_days_to_process.sql)

with

transactions as (

    -- the days this run recomputes (all of them on a first build)
    select
        tenant_id,
        customer_id,
        location_id,
        event_date,
        occurred_at,
        transaction_type
    from {{ ref('int_loyalty_events_classified') }}
    where is_transaction
        and customer_id is not null
        and {{ kpi_in_days('occurred_at', timestamp=true) }}

),

daily as (

    select
        {{ surrogate_key(['tenant_id', 'customer_id', 'event_date']) }} as customer_day_key,
        tenant_id,
        customer_id,
        event_date as activity_date,
        count(*) as transactions,
        sum(case when transaction_type = 'issue' then 1 else 0 end) as issue_transactions,
        sum(case when transaction_type = 'redeem' then 1 else 0 end) as redeem_transactions,
        sum(case when transaction_type in ('adjust', 'reverse') then 1 else 0 end) as correction_transactions,
        count(distinct location_id) as locations_visited,
        min(occurred_at) as first_transaction_at,
        max(occurred_at) as last_transaction_at
    from transactions
    group by tenant_id, customer_id, event_date

)

select
    customer_day_key,
    tenant_id,
    customer_id,
    activity_date,
    transactions,
    issue_transactions,
    redeem_transactions,
    correction_transactions,
    locations_visited,
    first_transaction_at,
    last_transaction_at
from daily
