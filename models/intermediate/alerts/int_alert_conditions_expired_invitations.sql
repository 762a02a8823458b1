{#-
  Condition "invitations expired" (seed 001: invitations past expiry, not
  accepted), observed at the evaluation instant T: one row per partner with an
  invite sent at or before T, with expired_unaccepted_invites = invites whose
  metadata.expires_at lies in (T - 7 days, T] and that were not accepted by T.
  The 7-day window lets the alert resolve once no invite expired recently
  (DECISIONLOG "Alert rules, sources and conditions").
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

    select {{ alerts_evaluated_at() }} as evaluated_at

),

sent as (

    select
        events.partner_id,
        events.invite_id,
        cast(events.expires_at_text as {{ type_timestamp_tz() }}) as expires_at
    from events
    cross join evaluation
    where events.event_type = 'invite_sent'
        and events.occurred_at <= evaluation.evaluated_at

),

accepted as (

    select distinct
        events.invite_id
    from events
    cross join evaluation
    where events.event_type = 'invite_accepted'
        and events.occurred_at <= evaluation.evaluated_at

),

per_partner as (

    select
        sent.partner_id,
        sum(
            case
                when accepted.invite_id is null
                    and sent.expires_at <= evaluation.evaluated_at
                    and sent.expires_at > {{ dbt.dateadd('day', -7, 'evaluation.evaluated_at') }}
                    then 1
                else 0
            end
        ) as expired_unaccepted_invites
    from sent
    cross join evaluation
    left join accepted
        on sent.invite_id = accepted.invite_id
    group by sent.partner_id

)

select
    partner_id as subject,
    cast('expired_unaccepted_invites' as {{ dbt.type_string() }}) as metric,
    cast(expired_unaccepted_invites as {{ dbt.type_numeric() }}) as metric_value
from per_partner
