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

invites as (

    select
        partner_id,
        sent_at,
        expires_at,
        accepted_at
    from {{ ref('int_partner_invites') }}

),

evaluation as (

    select {{ alerts_evaluated_at() }} as evaluated_at

),

per_partner as (

    -- the invites sent by T; an invite is unaccepted at T without an acceptance by T
    select
        invites.partner_id,
        sum(
            case
                when (invites.accepted_at is null or invites.accepted_at > evaluation.evaluated_at)
                    and invites.expires_at <= evaluation.evaluated_at
                    and invites.expires_at > {{ dbt.dateadd('day', -7, 'evaluation.evaluated_at') }}
                    then 1
                else 0
            end
        ) as expired_unaccepted_invites
    from invites
    cross join evaluation
    where invites.sent_at <= evaluation.evaluated_at
    group by invites.partner_id

)

select
    partner_id as subject,
    cast('expired_unaccepted_invites' as {{ dbt.type_string() }}) as metric,
    cast(expired_unaccepted_invites as {{ dbt.type_numeric() }}) as metric_value
from per_partner
