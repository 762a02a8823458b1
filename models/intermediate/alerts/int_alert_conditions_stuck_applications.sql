{#-
  Condition "application stuck" (seed 001: pending > 48 hours), observed at the
  evaluation instant T (alerts_evaluated_at()): one row per partner whose
  application was pending at T (applied_at <= T and not decided by T), with
  pending_hours = hours from applied_at to T. The rule application_stuck
  (seeds/alert_rules.csv) fires above its level. Time-aware, so an evaluation
  in the past sees the past.
-#}
{{ config(tags=['alerts']) }}

with

partners as (

    select
        partner_id,
        applied_at,
        decided_at
    from {{ ref('stg_partners__partners') }}

),

evaluation as (

    select {{ alerts_evaluated_at() }} as evaluated_at

),

pending as (

    select
        partners.partner_id,
        {{ dbt.datediff('partners.applied_at', 'evaluation.evaluated_at', 'second') }} / 3600.0 as pending_hours
    from partners
    cross join evaluation
    where partners.applied_at is not null
        and partners.applied_at <= evaluation.evaluated_at
        and (partners.decided_at is null or partners.decided_at > evaluation.evaluated_at)

)

select
    partner_id as subject,
    cast('pending_hours' as {{ dbt.type_string() }}) as metric,
    cast(round(cast(pending_hours as {{ dbt.type_numeric() }}), 2) as {{ dbt.type_numeric() }}) as metric_value
from pending
