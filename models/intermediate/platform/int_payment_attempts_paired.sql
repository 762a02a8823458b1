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

attempts as (

    select * from payment_events where event_type = 'payment_attempted'

),

payment_staged as (

    select entity_id, max(dbt_loaded_at) as staged_at
    from payment_events
    where entity_id is not null
    group by entity_id

),

outcomes as (

    select * from payment_events where event_type in ('payment_succeeded', 'payment_failed')

),

paired as (

    select
        attempts.event_id as attempt_event_id,
        outcomes.event_type as outcome_type,
        outcomes.amount_cents as outcome_amount_cents,
        row_number() over (
            partition by attempts.event_id
            order by outcomes.occurred_at, outcomes.event_id
        ) as outcome_rank
    from attempts
    inner join outcomes
        on attempts.entity_id = outcomes.entity_id
        and attempts.is_fallback = outcomes.is_fallback
        and outcomes.occurred_at >= attempts.occurred_at

)

select
    attempts.event_id as attempt_event_id,
    attempts.entity_id as payment_id,
    attempts.occurred_at as attempted_at,
    {{ utc_date('attempts.occurred_at') }} as attempted_date,
    attempts.country_code,
    attempts.provider,
    attempts.is_fallback,
    case paired.outcome_type
        when 'payment_succeeded' then 'succeeded'
        when 'payment_failed' then 'failed'
    end as outcome,
    case when paired.outcome_type = 'payment_succeeded'
        then coalesce(paired.outcome_amount_cents, attempts.amount_cents)
    end as captured_cents,
    coalesce(payment_staged.staged_at, attempts.dbt_loaded_at) as staged_at
from attempts
left join paired
    on attempts.event_id = paired.attempt_event_id
    and paired.outcome_rank = 1
left join payment_staged
    on attempts.entity_id = payment_staged.entity_id
