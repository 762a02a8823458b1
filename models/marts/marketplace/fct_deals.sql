{#-
  One row per deal (seed 003): lifecycle timestamps (first entry into each state),
  time to settle, current state, dispute summary and the parameters of the template
  version the deal is pinned to (joined on code AND version).
-#}
with

deals as (

    select deal_id, country_code, category, template_code, template_version, amount_cents, currency, created_at
    from {{ ref('stg_marketplace__deals') }}

),

intervals as (

    select deal_id, to_state, valid_from, is_current
    from {{ ref('int_deal_state_intervals') }}

),

disputes as (

    select deal_id, resolved_by, evidence_before_resolution_count
    from {{ ref('int_disputes_evidenced') }}

),

templates as (

    select
        template_code,
        template_version,
        inspection_ttl_days,
        dispute_ttl_hours,
        holdback_ratio,
        immediate_ratio,
        holdback_release_days
    from {{ ref('deal_templates') }}

),

state_entries as (

    select
        deal_id,
        min(case when to_state = 'FUNDED' then valid_from end) as funded_at,
        min(case when to_state = 'INSPECTION' then valid_from end) as inspection_started_at,
        min(case when to_state = 'DISPUTED' then valid_from end) as disputed_at,
        min(case when to_state = 'SETTLED' then valid_from end) as settled_at,
        min(case when to_state = 'REFUNDED' then valid_from end) as refunded_at,
        max(case when is_current then to_state end) as current_state
    from intervals
    group by deal_id

),

dispute_summary as (

    select
        deal_id,
        count(*) as dispute_count,
        min(case when evidence_before_resolution_count > 0 then 1 else 0 end) = 1 as evidence_complete,
        max(case when resolved_by = 'admin' then 1 else 0 end) = 1 as admin_intervened
    from disputes
    group by deal_id

)

select
    deals.deal_id,
    deals.country_code,
    deals.category,
    deals.template_code,
    deals.template_version,
    deals.amount_cents,
    deals.currency,
    deals.created_at,
    state_entries.funded_at,
    state_entries.inspection_started_at,
    state_entries.disputed_at,
    state_entries.settled_at,
    state_entries.refunded_at,
    round({{ hours_between_ts('deals.created_at', 'state_entries.settled_at') }}, 2) as time_to_settle_hours,
    coalesce(state_entries.current_state, 'CREATED') as current_state,
    coalesce(state_entries.current_state, 'CREATED') in ('SETTLED', 'REFUNDED') as is_terminal,
    coalesce(dispute_summary.dispute_count, 0) > 0 as is_disputed,
    coalesce(dispute_summary.dispute_count, 0) as dispute_count,
    dispute_summary.evidence_complete,
    coalesce(dispute_summary.admin_intervened, false) as admin_intervened,
    templates.inspection_ttl_days,
    templates.dispute_ttl_hours,
    templates.holdback_ratio,
    templates.immediate_ratio,
    templates.holdback_release_days
from deals
left join state_entries
    on deals.deal_id = state_entries.deal_id
left join dispute_summary
    on deals.deal_id = dispute_summary.deal_id
left join templates
    on deals.template_code = templates.template_code
    and deals.template_version = templates.template_version
