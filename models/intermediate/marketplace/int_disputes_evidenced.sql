{#-
  One row per dispute with its evidence counts and whether its outcome is one of
  the pinned template version's allowed outcomes (seed 003). A dispute is
  resolved when its resolution time, outcome or resolver is recorded; a missing
  outcome or resolver of a resolved dispute is 'unknown'.
-#}
with

disputes as (

    -- resolved when any of resolved_at, outcome, resolved_by is recorded (each is nullable in
    -- the raw contract); a resolved dispute's missing outcome or resolver is 'unknown'
    select
        dispute_id,
        deal_id,
        reason_code,
        opened_at,
        resolved_at,
        case when is_resolved then {{ unknown_member('outcome') }} end as outcome,
        case when is_resolved then {{ unknown_member('resolved_by') }} end as resolved_by,
        is_resolved
    from (
        select
            dispute_id,
            deal_id,
            reason_code,
            opened_at,
            resolved_at,
            outcome,
            resolved_by,
            (resolved_at is not null or outcome is not null or resolved_by is not null) as is_resolved
        from {{ ref('stg_marketplace__disputes') }}
    ) as recorded

),

deals as (

    select deal_id, template_code, template_version
    from {{ ref('stg_marketplace__deals') }}

),

templates as (

    select template_code, template_version, dispute_ttl_hours, allowed_dispute_outcomes
    from {{ ref('deal_templates') }}

),

evidence as (

    select dispute_id, uploaded_at
    from {{ ref('stg_marketplace__dispute_evidence') }}

),

evidence_counts as (

    select
        disputes.dispute_id,
        count(evidence.dispute_id) as evidence_count,
        sum(
            case
                when evidence.uploaded_at is not null
                    and (disputes.resolved_at is null or evidence.uploaded_at <= disputes.resolved_at)
                    then 1
                else 0
            end
        ) as evidence_before_resolution_count
    from disputes
    left join evidence
        on disputes.dispute_id = evidence.dispute_id
    group by disputes.dispute_id

)

select
    disputes.dispute_id,
    disputes.deal_id,
    deals.template_code,
    deals.template_version,
    disputes.reason_code,
    disputes.opened_at,
    disputes.resolved_at,
    disputes.is_resolved,
    disputes.outcome,
    disputes.resolved_by,
    templates.dispute_ttl_hours,
    {{ dbt.dateadd('hour', 'templates.dispute_ttl_hours', 'disputes.opened_at') }} as dispute_due_at,
    case
        when disputes.outcome is not null and disputes.outcome != 'unknown'
            then {{ dbt.position("'|' || disputes.outcome || '|'", "'|' || templates.allowed_dispute_outcomes || '|'") }} > 0
    end as is_outcome_allowed,
    evidence_counts.evidence_count,
    evidence_counts.evidence_before_resolution_count
from disputes
inner join evidence_counts
    on disputes.dispute_id = evidence_counts.dispute_id
left join deals
    on disputes.deal_id = deals.deal_id
left join templates
    on deals.template_code = templates.template_code
    and deals.template_version = templates.template_version
