{#-
  Seed 003's morning/afternoon check, as of var as_of (null = now, macro kpi_as_of):
  one row per deal in INSPECTION past its template's inspection TTL, and per open
  dispute within 12 hours of (or past) its template's dispute TTL. States and open
  disputes are taken as they were at as_of. attention_rank orders by due_at ascending
  (most urgent first, "sort by TTL ascending").
-#}
with

as_of as (

    select {{ kpi_as_of() }} as as_of_at

),

deals as (

    select deal_id, country_code, category, template_code, template_version
    from {{ ref('stg_marketplace__deals') }}

),

templates as (

    select template_code, template_version, inspection_ttl_days
    from {{ ref('deal_templates') }}

),

intervals as (

    select deal_id, to_state, valid_from, valid_to
    from {{ ref('int_deal_state_intervals') }}

),

disputes as (

    select dispute_id, deal_id, opened_at, resolved_at, dispute_due_at, evidence_count
    from {{ ref('int_disputes_evidenced') }}

),

inspections as (

    select
        'inspection_overdue' as attention_type,
        intervals.deal_id,
        cast(null as {{ dbt.type_string() }}) as dispute_id,
        intervals.valid_from as state_entered_at,
        {{ dbt.dateadd('day', 'templates.inspection_ttl_days', 'intervals.valid_from') }} as due_at,
        cast(null as {{ dbt.type_int() }}) as evidence_count,
        as_of.as_of_at
    from intervals
    cross join as_of
    inner join deals
        on intervals.deal_id = deals.deal_id
    inner join templates
        on deals.template_code = templates.template_code
        and deals.template_version = templates.template_version
    where intervals.to_state = 'INSPECTION'
        and intervals.valid_from <= as_of.as_of_at
        and (intervals.valid_to is null or intervals.valid_to > as_of.as_of_at)

),

open_disputes as (

    select
        'dispute_ttl' as attention_type,
        disputes.deal_id,
        disputes.dispute_id,
        disputes.opened_at as state_entered_at,
        disputes.dispute_due_at as due_at,
        cast(disputes.evidence_count as {{ dbt.type_int() }}) as evidence_count,
        as_of.as_of_at
    from disputes
    cross join as_of
    where disputes.opened_at <= as_of.as_of_at
        and (disputes.resolved_at is null or disputes.resolved_at > as_of.as_of_at)

),

candidates as (

    select attention_type, deal_id, dispute_id, state_entered_at, due_at, evidence_count, as_of_at,
        {{ hours_between_ts('as_of_at', 'due_at') }} as hours_left
    from inspections
    union all
    select attention_type, deal_id, dispute_id, state_entered_at, due_at, evidence_count, as_of_at,
        {{ hours_between_ts('as_of_at', 'due_at') }} as hours_left
    from open_disputes

),

flagged as (

    select attention_type, deal_id, dispute_id, state_entered_at, due_at, evidence_count, as_of_at, hours_left
    from candidates
    where (attention_type = 'inspection_overdue' and hours_left < 0)
        or (attention_type = 'dispute_ttl' and hours_left <= 12)

)

select
    {{ surrogate_key(['flagged.attention_type', 'flagged.deal_id', 'flagged.dispute_id']) }} as attention_key,
    row_number() over (order by flagged.due_at, flagged.deal_id, flagged.dispute_id) as attention_rank,
    flagged.attention_type,
    flagged.deal_id,
    flagged.dispute_id,
    deals.country_code,
    deals.category,
    deals.template_code,
    deals.template_version,
    flagged.state_entered_at,
    flagged.due_at,
    round(flagged.hours_left, 2) as hours_left,
    flagged.hours_left < 0 as is_overdue,
    flagged.evidence_count,
    flagged.as_of_at
from flagged
inner join deals
    on flagged.deal_id = deals.deal_id
