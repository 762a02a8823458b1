{#-
  Condition "low invite acceptance" (seed 001: < 50 % acceptance), observed at
  the evaluation instant T: one row per partner with at least one invite
  resolved in the 30 days up to T, with invite_acceptance_rate = accepted /
  (accepted + expired) over the invites resolved in (T - 30 days, T] (accepted
  when the invite_accepted event is in the window; expired when its
  metadata.expires_at is in the window and it was not accepted by T).
-#}
{{ config(tags=['alerts']) }}

with

events as (

    select
        {{ unknown_member('tenant_id') }} as partner_id,
        event_type,
        entity_id as invite_id,
        occurred_at,
        {{ json_get_text('metadata', 'expires_at') }} as expires_at_text
    from {{ ref('stg_platform__events') }}
    where event_domain = 'partners'
        and event_type in ('invite_sent', 'invite_accepted')

),

evaluation as (

    select
        {{ alerts_evaluated_at() }} as evaluated_at,
        {{ dbt.dateadd('day', -30, alerts_evaluated_at()) }} as window_start_at

),

sent as (

    select
        partner_id,
        invite_id,
        cast(expires_at_text as {{ type_timestamp_tz() }}) as expires_at
    from events
    where event_type = 'invite_sent'

),

accepted as (

    select
        invite_id,
        min(occurred_at) as accepted_at
    from events
    where event_type = 'invite_accepted'
    group by invite_id

),

resolved as (

    select
        sent.partner_id,
        case
            when accepted.accepted_at <= evaluation.evaluated_at
                and accepted.accepted_at > evaluation.window_start_at then 1
            else 0
        end as is_accepted,
        case
            when (accepted.accepted_at is null or accepted.accepted_at > evaluation.evaluated_at)
                and sent.expires_at <= evaluation.evaluated_at
                and sent.expires_at > evaluation.window_start_at then 1
            else 0
        end as is_expired
    from sent
    cross join evaluation
    left join accepted
        on sent.invite_id = accepted.invite_id

),

per_partner as (

    select
        partner_id,
        sum(is_accepted) as invites_accepted,
        sum(is_expired) as invites_expired
    from resolved
    group by partner_id

)

select
    partner_id as subject,
    cast('invite_acceptance_rate' as {{ dbt.type_string() }}) as metric,
    cast(invites_accepted as {{ dbt.type_numeric() }}) / (invites_accepted + invites_expired) as metric_value
from per_partner
where invites_accepted + invites_expired > 0
