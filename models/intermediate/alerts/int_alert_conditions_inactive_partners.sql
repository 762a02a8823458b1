{#-
  Condition "partner inactive" (seed 001: no dashboard access in 14 days),
  observed at the evaluation instant T: one row per partner active at T (status
  history from the snapshot), with days_since_last_login = whole days from its
  last dashboard_login at or before T — or, without any login since, from the
  start of its active interval — to T. The rule partner_inactive fires at or
  above its level.
-#}
{{ config(tags=['alerts']) }}

with

status_history as (

    select
        partner_id,
        status,
        valid_from,
        valid_to
    from {{ ref('int_partner_status_history') }}

),

logins as (

    select
        {{ unknown_member('tenant_id') }} as partner_id,
        occurred_at
    from {{ ref('stg_platform__events') }}
    where event_domain = 'partners'
        and event_type = 'dashboard_login'

),

evaluation as (

    select {{ alerts_evaluated_at() }} as evaluated_at

),

active_at_t as (

    select
        status_history.partner_id,
        status_history.valid_from as active_since,
        evaluation.evaluated_at
    from status_history
    cross join evaluation
    where status_history.status = 'active'
        and status_history.valid_from <= evaluation.evaluated_at
        and (status_history.valid_to is null or status_history.valid_to > evaluation.evaluated_at)

),

last_logins as (

    select
        active_at_t.partner_id,
        max(logins.occurred_at) as last_login_at
    from active_at_t
    inner join logins
        on active_at_t.partner_id = logins.partner_id
        and logins.occurred_at <= active_at_t.evaluated_at
    group by active_at_t.partner_id

),

measured as (

    select
        active_at_t.partner_id,
        floor(
            {{ dbt.datediff(
                'case when last_logins.last_login_at > active_at_t.active_since'
                ~ ' then last_logins.last_login_at else active_at_t.active_since end',
                'active_at_t.evaluated_at', 'second') }} / 86400.0
        ) as days_since_last_login
    from active_at_t
    left join last_logins
        on active_at_t.partner_id = last_logins.partner_id

)

select
    partner_id as subject,
    cast('days_since_last_login' as {{ dbt.type_string() }}) as metric,
    cast(days_since_last_login as {{ dbt.type_numeric() }}) as metric_value
from measured
