{#-
  Seed 000's pilot_reward_usage: one row per tenant, reward and UTC day with at
  least one redemption (points_redeemed events; metadata reward_id, points).
  A redemption without a reward_id is kept under reward_id 'unknown' so the
  counts add up to the daily redeem transactions. Incremental (replace_days on
  usage_date): a run recomputes the days kpi_days_to_process() names.
-#}
{{ config(
    materialized='incremental',
    tags=['daily'],
    incremental_strategy='replace_days',
    event_time='usage_date',
    unique_key='usage_date',
    kpi_changed_days={'domains': ['loyalty']},
    indexes=[{'columns': ['reward_day_key'], 'unique': true}, {'columns': ['tenant_id', 'usage_date']}],
) }}

-- depends_on: {{ ref('stg_platform__events') }}  (the change feed: macros/incremental/kpi_days_to_process.sql)

with

redemptions as (

    -- the days this run recomputes (all of them on a first build)
    select
        tenant_id,
        coalesce(reward_id, 'unknown') as reward_id,
        event_date,
        customer_id,
        points
    from {{ ref('int_loyalty_events_classified') }}
    where transaction_type = 'redeem'
        and {{ kpi_in_days('occurred_at', timestamp=true) }}

),

daily as (

    select
        {{ surrogate_key(['tenant_id', 'reward_id', 'event_date']) }} as reward_day_key,
        tenant_id,
        reward_id,
        event_date as usage_date,
        count(*) as redemptions,
        cast(coalesce(sum(points), 0) as {{ dbt.type_bigint() }}) as points_redeemed,
        count(distinct customer_id) as customers
    from redemptions
    group by tenant_id, reward_id, event_date

)

select
    reward_day_key,
    tenant_id,
    reward_id,
    usage_date,
    redemptions,
    points_redeemed,
    customers
from daily
