{#-
  Condition "approval backlog" (seed 001: more than 5 pending applications,
  checked by the hourly alert cron), observed at the evaluation instant T —
  not on the previous day's end-of-day count: one row (subject 'all') with
  applications_pending = partners whose status interval in force at T is
  'pending' (status history from the snapshot, as fct_partner_metrics_daily)
  and that had applied by T. Always one row (0 when nothing is pending), so the
  alert resolves at the first evaluation under the level.
-#}
{{ config(tags=['alerts']) }}

with

status_history as (

    select
        partner_id,
        status,
        applied_at,
        valid_from,
        valid_to
    from {{ ref('int_partner_status_history') }}

),

evaluation as (

    select {{ alerts_evaluated_at() }} as evaluated_at

),

pending_at_t as (

    select count(distinct status_history.partner_id) as applications_pending
    from status_history
    cross join evaluation
    where status_history.status = 'pending'
        and status_history.applied_at <= evaluation.evaluated_at
        and status_history.valid_from <= evaluation.evaluated_at
        and (status_history.valid_to is null or status_history.valid_to > evaluation.evaluated_at)

)

select
    cast('all' as {{ dbt.type_string() }}) as subject,
    cast('applications_pending' as {{ dbt.type_string() }}) as metric,
    cast(applications_pending as {{ dbt.type_numeric() }}) as metric_value
from pending_at_t
