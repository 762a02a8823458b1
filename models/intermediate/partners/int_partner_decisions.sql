{#-
  Application decisions (seed 001): one row per application_approved /
  application_rejected event, with the approval time in hours from the
  partner's applied_at (signup completed) to the decision event.
-#}
with

events as (

    select
        event_id,
        tenant_id,
        event_type,
        occurred_at
    from {{ ref('stg_platform__events') }}
    where event_domain = 'partners'
        and event_type in ('application_approved', 'application_rejected')

),

partners as (

    select
        partner_id,
        applied_at
    from {{ ref('stg_partners__partners') }}

),

decisions as (

    select
        events.event_id as decision_event_id,
        {{ unknown_member('events.tenant_id') }} as partner_id,
        case when events.event_type = 'application_approved' then 'approved' else 'rejected' end as decision,
        partners.applied_at,
        events.occurred_at as decided_at,
        {{ utc_date('events.occurred_at') }} as decided_date,
        case
            when partners.applied_at is not null and partners.applied_at <= events.occurred_at
                then {{ dbt.datediff('partners.applied_at', 'events.occurred_at', 'second') }} / 3600.0
        end as approval_hours
    from events
    left join partners
        on events.tenant_id = partners.partner_id

)

select
    decision_event_id,
    partner_id,
    decision,
    applied_at,
    decided_at,
    decided_date,
    cast(approval_hours as {{ dbt.type_numeric() }}) as approval_hours
from decisions
