{#-
  Seed 000's pilot_reward_usage: one row per tenant, reward and UTC day with at
  least one redemption (points_redeemed events; metadata reward_id, points).
  A redemption without a reward_id is kept under reward_id 'unknown' so the
  counts add up to the daily redeem transactions. Microbatch by day.
-#}
{{ config(
    materialized='incremental',
    incremental_strategy='microbatch',
    event_time='usage_date',
    batch_size=var('microbatch_batch_size'),
    lookback=var('events_lookback_days'),
    begin=var('kpi_begin'),
    unique_key='reward_day_key',
    indexes=[{'columns': ['reward_day_key'], 'unique': true}, {'columns': ['tenant_id', 'usage_date']}],
) }}

with

redemptions as (

    -- filtered to the batch's days by dbt (event_time occurred_at)
    select
        tenant_id,
        coalesce(reward_id, 'unknown') as reward_id,
        event_date,
        customer_id,
        points
    from {{ ref('int_loyalty_events_classified') }}
    where transaction_type = 'redeem'
        and tenant_id is not null

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
