{#-
  Partner invites (seed 001): one row per invite_sent event (entity_id = the
  invite id, so one row per invite), with the partner that sent it, the expiry
  its metadata carries (metadata.expires_at) and its first invite_accepted event
  (matched on the invite id alone, whatever partner the acceptance names).
  Whether an invite counts as accepted or expired depends on the instant it is
  looked at, so that is left to the readers (the invite alert conditions).
-#}
with

events as (

    select
        event_id,
        {{ unknown_member('tenant_id') }} as partner_id,
        event_type,
        entity_id as invite_id,
        occurred_at,
        {{ json_get_text('metadata', 'expires_at') }} as expires_at_text
    from {{ ref('stg_platform__events') }}
    where event_domain = 'partners'
        and event_type in ('invite_sent', 'invite_accepted')

),

sent as (

    select
        event_id,
        partner_id,
        invite_id,
        occurred_at,
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

)

select
    sent.event_id as invite_sent_event_id,
    sent.invite_id,
    sent.partner_id,
    sent.occurred_at as sent_at,
    sent.expires_at,
    accepted.accepted_at
from sent
left join accepted
    on sent.invite_id = accepted.invite_id
