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

invites as (

    select
        partner_id,
        expires_at,
        accepted_at
    from {{ ref('int_partner_invites') }}

),

evaluation as (

    select
        {{ alerts_evaluated_at() }} as evaluated_at,
        {{ dbt.dateadd('day', -30, alerts_evaluated_at()) }} as window_start_at

),

resolved as (

    select
        invites.partner_id,
        case
            when invites.accepted_at <= evaluation.evaluated_at
                and invites.accepted_at > evaluation.window_start_at then 1
            else 0
        end as is_accepted,
        case
            when (invites.accepted_at is null or invites.accepted_at > evaluation.evaluated_at)
                and invites.expires_at <= evaluation.evaluated_at
                and invites.expires_at > evaluation.window_start_at then 1
            else 0
        end as is_expired
    from invites
    cross join evaluation

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
