{#-
  Seed 001's partner funnel (signup -> approval -> active), one row per partner
  (raw.partners): signed_up_at = the application (applied_at, signup
  completed); approved_at = the first application_approved event at or after it;
  activated_at = the first dashboard_login at or after the approval (the workshop
  starts using the product). Each step counts only when the previous one was
  reached and not after it (ordered funnel). Plain aggregates per partner, no
  funnel() macro: linear in the events. A table rebuilt whole by every run (one
  row per partner, few rows). DECISIONLOG "Partner funnel and beta tracker".
-#}
with

partners as (

    select partner_id, status, applied_at
    from {{ ref('stg_partners__partners') }}

),

decisions as (

    select partner_id, decision, decided_at
    from {{ ref('int_partner_decisions') }}

),

logins as (

    select tenant_id as partner_id, occurred_at
    from {{ ref('stg_platform__events') }}
    where event_domain = 'partners'
        and event_type = 'dashboard_login'

),

approvals as (

    select
        partners.partner_id,
        min(decisions.decided_at) as approved_at
    from partners
    inner join decisions
        on partners.partner_id = decisions.partner_id
        and decisions.decision = 'approved'
        and decisions.decided_at >= partners.applied_at
    group by partners.partner_id

),

rejections as (

    select
        partners.partner_id,
        min(decisions.decided_at) as rejected_at
    from partners
    inner join decisions
        on partners.partner_id = decisions.partner_id
        and decisions.decision = 'rejected'
        and decisions.decided_at >= partners.applied_at
    group by partners.partner_id

),

activations as (

    select
        approvals.partner_id,
        min(logins.occurred_at) as activated_at
    from approvals
    inner join logins
        on approvals.partner_id = logins.partner_id
        and logins.occurred_at >= approvals.approved_at
    group by approvals.partner_id

),

final as (

    select
        partners.partner_id,
        partners.status as partner_status,
        partners.applied_at as signed_up_at,
        approvals.approved_at,
        rejections.rejected_at,
        activations.activated_at,
        partners.applied_at is not null as is_signed_up,
        approvals.approved_at is not null as is_approved,
        activations.activated_at is not null as is_active,
        {{ hours_between_ts('partners.applied_at', 'approvals.approved_at') }} as hours_to_approval,
        {{ hours_between_ts('partners.applied_at', 'activations.activated_at') }} as hours_to_active
    from partners
    left join approvals
        on partners.partner_id = approvals.partner_id
    left join rejections
        on partners.partner_id = rejections.partner_id
    left join activations
        on partners.partner_id = activations.partner_id

)

select
    partner_id,
    partner_status,
    signed_up_at,
    approved_at,
    rejected_at,
    activated_at,
    is_signed_up,
    is_approved,
    is_active,
    round(cast(hours_to_approval as {{ dbt.type_numeric() }}), 2) as hours_to_approval,
    round(cast(hours_to_active as {{ dbt.type_numeric() }}), 2) as hours_to_active
from final
