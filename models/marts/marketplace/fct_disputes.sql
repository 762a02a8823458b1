{#- One row per dispute (seed 003): timing, outcome, who resolved it, evidence counts, allowed-outcome check. -#}
with

disputes as (

    select
        dispute_id,
        deal_id,
        template_code,
        template_version,
        reason_code,
        opened_at,
        resolved_at,
        is_resolved,
        outcome,
        resolved_by,
        dispute_ttl_hours,
        dispute_due_at,
        is_outcome_allowed,
        evidence_count,
        evidence_before_resolution_count
    from {{ ref('int_disputes_evidenced') }}

)

select
    dispute_id,
    deal_id,
    template_code,
    template_version,
    reason_code,
    opened_at,
    resolved_at,
    is_resolved,
    round({{ hours_between_ts('opened_at', 'resolved_at') }}, 2) as hours_open,
    outcome,
    resolved_by,
    resolved_by = 'admin' as is_admin_resolved,
    dispute_ttl_hours,
    dispute_due_at,
    is_outcome_allowed,
    evidence_count,
    evidence_before_resolution_count,
    evidence_before_resolution_count > 0 as has_evidence
from disputes
