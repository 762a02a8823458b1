{#-
  One row per payment attempt (payment_attempted event), paired with its
  outcome: the first payment_succeeded / payment_failed of the same payment
  (entity_id) with the same metadata is_fallback flag at or after the attempt
  (a payment has at most one first attempt and one fallback attempt). Outcomes
  count with their attempt's day, so successes + failures <= attempts holds on
  every day even when an outcome lands after midnight (docs/DECISIONLOG.md).
  The outcome may be on the next day; metrics_daily_payments reads the
  attempts of the days it recomputes (kpi_in_days on attempted_at).
  Incremental (delete+insert on attempt_event_id): the events of the payments
  touched since the last run, all of them, plus the new attempts without a
  payment id, which never pair (macro platform_entity_events).
-#}
{{ config(
    unique_key='attempt_event_id',
    event_time='attempted_at',
    indexes=[{'columns': ['attempt_event_id'], 'unique': true}, {'columns': ['staged_at']}, {'columns': ['attempted_at']}],
) }}

with

payment_events as (

    -- attempts without a payment id are kept: they never pair, each is computed from its own row
    {{ platform_entity_events(
        'payments',
        [
            'event_id',
            'country_code',
            'provider',
            'amount_cents',
            "lower(coalesce(" ~ json_get_text('metadata', 'is_fallback') ~ ", 'false')) = 'true' as is_fallback",
        ],
        event_types=['payment_attempted', 'payment_succeeded', 'payment_failed'],
        keep_unidentified=true,
    ) }}

),

walked as (

    -- each payment's events (per is_fallback flag) walked from the latest: at one instant the
    -- outcomes come before the attempts, so an attempt has seen every outcome at or after it.
    -- outcome_group counts the outcomes seen so far: an attempt shares its group with the first
    -- outcome at or after it (by occurred_at, then event_id), the group's first row. One sort,
    -- no self-join: the cost does not hang on the planner's estimate of the events read
    select
        payment_events.*,
        sum(case when event_type = 'payment_attempted' then 0 else 1 end) over (
            partition by entity_id, is_fallback
            order by occurred_at desc, case when event_type = 'payment_attempted' then 1 else 0 end, event_id desc
            rows between unbounded preceding and current row
        ) as outcome_group,
        max(dbt_loaded_at) over (partition by entity_id) as payment_staged_at
    from payment_events

),

paired as (

    select
        walked.*,
        first_value(case when event_type <> 'payment_attempted' then event_type end) over outcome_walk
            as outcome_type,
        first_value(case when event_type <> 'payment_attempted' then amount_cents end) over outcome_walk
            as outcome_amount_cents
    from walked
    window outcome_walk as (
        partition by entity_id, is_fallback, outcome_group
        order by occurred_at desc, case when event_type = 'payment_attempted' then 1 else 0 end, event_id desc
    )

)

select
    event_id as attempt_event_id,
    entity_id as payment_id,
    occurred_at as attempted_at,
    {{ utc_date('occurred_at') }} as attempted_date,
    country_code,
    provider,
    is_fallback,
    -- an attempt without a payment id never pairs
    case when entity_id is not null then
        case outcome_type
            when 'payment_succeeded' then 'succeeded'
            when 'payment_failed' then 'failed'
        end
    end as outcome,
    case when entity_id is not null and outcome_type = 'payment_succeeded'
        then coalesce(outcome_amount_cents, amount_cents)
    end as captured_cents,
    case when entity_id is not null then payment_staged_at else dbt_loaded_at end as staged_at
from paired
where event_type = 'payment_attempted'
