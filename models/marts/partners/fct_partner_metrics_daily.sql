{#-
  Partner (workshop) onboarding metrics per UTC day (seed 001's daily
  workshop_metrics): one row per day from the first day of partner data (an
  application or a partner event) to the latest day of the event log, also days
  without partner events. Event counts come from the partner events
  (stg_platform__events) and decisions (int_partner_decisions); end-of-day
  states from the status history (snapshot) and the mechanics.
  A table, rebuilt whole by every run (one statement, published by dbt's rename):
  a status change or a late event changes the end-of-day states of every later
  day, and the partner product's rows are few (DECISIONLOG "Late and corrected
  data"). Rates are NULL when their denominator is 0. DECISIONLOG "partner metrics".
-#}
{{ config(
    materialized='table',
    tags=['daily'],
    event_time='metric_date',
    indexes=[{'columns': ['metric_date'], 'unique': true}],
) }}

with

bounds as (

    select
        (
            select min(first_day) from (
                select min({{ utc_date('applied_at') }}) as first_day from {{ ref('int_partner_status_history') }}
                union all
                select min(event_date) from {{ ref('stg_platform__events') }} where event_domain = 'partners'
            ) as firsts
        ) as first_day,
        (select {{ utc_date('max(occurred_at)') }} from {{ ref('stg_platform__events') }}) as last_day

),

days as (

    select series.day as date_day
    from {{ utc_day_series('(select first_day from bounds)', '(select last_day from bounds)') }} as series

),

events as (

    select
        event_date,
        event_type,
        status,
        {{ json_get_text('metadata', 'email_type') }} as email_type
    from {{ ref('stg_platform__events') }}
    where event_domain = 'partners'

),

decisions as (

    select
        decided_date,
        decision,
        approval_hours
    from {{ ref('int_partner_decisions') }}

),

status_history as (

    -- read whole: the state at the end of a day may have started long before
    select
        partner_id,
        status,
        applied_at,
        valid_from,
        valid_to
    from {{ ref('int_partner_status_history') }}

),

mechanics as (

    -- read whole: every mechanic who joined up to the day
    select
        partner_id,
        mechanic_id,
        joined_at
    from {{ ref('int_partner_mechanics') }}

),

calendar as (

    select
        cast(date_day as date) as metric_date,
        cast({{ dbt.dateadd('day', 1, 'date_day') }} as {{ type_timestamp_tz() }}) as day_end_at
    from days

),

event_counts as (

    select
        event_date as metric_date,
        sum(case when event_type = 'signup_started' then 1 else 0 end) as signups_started,
        sum(case when event_type = 'signup_completed' then 1 else 0 end) as signups_completed,
        sum(case when event_type = 'signup_failed' then 1 else 0 end) as signups_failed,
        sum(case when event_type = 'invite_sent' then 1 else 0 end) as invites_sent,
        sum(case when event_type = 'invite_accepted' then 1 else 0 end) as invites_accepted,
        sum(case when event_type = 'invite_expired' then 1 else 0 end) as invites_expired,
        sum(case when event_type = 'email_sent' then 1 else 0 end) as mails_sent,
        sum(case when event_type = 'email_failed' then 1 else 0 end) as mails_failed,
        sum(case when event_type = 'email_sent' and email_type = 'approval' then 1 else 0 end) as approval_mails_sent,
        sum(case when event_type = 'email_failed' and email_type = 'approval' then 1 else 0 end) as approval_mails_failed,
        sum(case when event_type = 'email_sent' and email_type = 'rejection' then 1 else 0 end) as rejection_mails_sent,
        sum(case when event_type = 'email_failed' and email_type = 'rejection' then 1 else 0 end) as rejection_mails_failed,
        sum(case when event_type = 'email_sent' and email_type = 'invite' then 1 else 0 end) as invite_mails_sent,
        sum(case when event_type = 'email_failed' and email_type = 'invite' then 1 else 0 end) as invite_mails_failed,
        sum(case when event_type = 'dashboard_login' then 1 else 0 end) as dashboard_logins,
        sum(case when event_type = 'profile_updated' then 1 else 0 end) as profile_updates,
        sum(case when event_type = 'api_request' and status = 'success' then 1 else 0 end) as api_successes,
        sum(case when event_type = 'api_request' and status = 'error' then 1 else 0 end) as api_errors
    from events
    group by event_date

),

decision_stats as (

    select
        decided_date as metric_date,
        sum(case when decision = 'approved' then 1 else 0 end) as applications_approved,
        sum(case when decision = 'rejected' then 1 else 0 end) as applications_rejected,
        count(approval_hours) as approval_times_measured,
        sum(approval_hours) as approval_hours_sum,
        avg(approval_hours) as avg_approval_time_hours,
        {{ median('approval_hours') }} as median_approval_time_hours
    from decisions
    group by decided_date

),

day_states as (

    -- the status interval of each partner in force at the end of each day
    select
        calendar.metric_date,
        calendar.day_end_at,
        status_history.partner_id,
        status_history.status,
        status_history.applied_at
    from calendar
    inner join status_history
        on status_history.valid_from < calendar.day_end_at
        and (status_history.valid_to is null or status_history.valid_to >= calendar.day_end_at)

),

states as (

    select
        metric_date,
        sum(case when status = 'pending' and applied_at < day_end_at then 1 else 0 end) as applications_pending,
        sum(case when status = 'active' then 1 else 0 end) as partners_active,
        sum(case when status = 'pending' then 1 else 0 end) as partners_pending,
        sum(case when status = 'suspended' then 1 else 0 end) as partners_suspended
    from day_states
    group by metric_date

),

mechanic_stats as (

    select
        day_states.metric_date,
        count(distinct day_states.partner_id) as partners_with_mechanics,
        count(*) as mechanics_active
    from day_states
    inner join mechanics
        on day_states.partner_id = mechanics.partner_id
        and mechanics.joined_at < day_states.day_end_at
    where day_states.status = 'active'
    group by day_states.metric_date

),

joined as (

    select
        calendar.metric_date,
        coalesce(event_counts.signups_started, 0) as signups_started,
        coalesce(event_counts.signups_completed, 0) as signups_completed,
        coalesce(event_counts.signups_failed, 0) as signups_failed,
        coalesce(states.applications_pending, 0) as applications_pending,
        coalesce(decision_stats.applications_approved, 0) as applications_approved,
        coalesce(decision_stats.applications_rejected, 0) as applications_rejected,
        coalesce(decision_stats.approval_times_measured, 0) as approval_times_measured,
        decision_stats.approval_hours_sum,
        decision_stats.avg_approval_time_hours,
        decision_stats.median_approval_time_hours,
        coalesce(event_counts.invites_sent, 0) as invites_sent,
        coalesce(event_counts.invites_accepted, 0) as invites_accepted,
        coalesce(event_counts.invites_expired, 0) as invites_expired,
        coalesce(event_counts.mails_sent, 0) as mails_sent,
        coalesce(event_counts.mails_failed, 0) as mails_failed,
        coalesce(event_counts.approval_mails_sent, 0) as approval_mails_sent,
        coalesce(event_counts.approval_mails_failed, 0) as approval_mails_failed,
        coalesce(event_counts.rejection_mails_sent, 0) as rejection_mails_sent,
        coalesce(event_counts.rejection_mails_failed, 0) as rejection_mails_failed,
        coalesce(event_counts.invite_mails_sent, 0) as invite_mails_sent,
        coalesce(event_counts.invite_mails_failed, 0) as invite_mails_failed,
        coalesce(states.partners_active, 0) as partners_active,
        coalesce(states.partners_pending, 0) as partners_pending,
        coalesce(states.partners_suspended, 0) as partners_suspended,
        coalesce(mechanic_stats.partners_with_mechanics, 0) as partners_with_mechanics,
        coalesce(mechanic_stats.mechanics_active, 0) as mechanics_active,
        coalesce(event_counts.dashboard_logins, 0) as dashboard_logins,
        coalesce(event_counts.profile_updates, 0) as profile_updates,
        coalesce(event_counts.api_successes, 0) as api_successes,
        coalesce(event_counts.api_errors, 0) as api_errors
    from calendar
    left join event_counts on calendar.metric_date = event_counts.metric_date
    left join decision_stats on calendar.metric_date = decision_stats.metric_date
    left join states on calendar.metric_date = states.metric_date
    left join mechanic_stats on calendar.metric_date = mechanic_stats.metric_date

)

select
    metric_date,
    signups_started,
    signups_completed,
    signups_failed,
    {{ partner_rate('signups_completed', 'signups_started') }} as signup_conversion_rate,
    applications_pending,
    applications_approved,
    applications_rejected,
    applications_approved + applications_rejected as applications_decided,
    approval_times_measured,
    cast(approval_hours_sum as {{ dbt.type_numeric() }}) as approval_hours_sum,
    cast(avg_approval_time_hours as {{ dbt.type_numeric() }}) as avg_approval_time_hours,
    cast(median_approval_time_hours as {{ dbt.type_numeric() }}) as median_approval_time_hours,
    invites_sent,
    invites_accepted,
    invites_expired,
    {{ partner_rate('invites_accepted', 'invites_accepted + invites_expired') }} as invite_acceptance_rate,
    mails_sent,
    mails_failed,
    {{ partner_rate('mails_sent', 'mails_sent + mails_failed') }} as mail_success_rate,
    approval_mails_sent,
    approval_mails_failed,
    rejection_mails_sent,
    rejection_mails_failed,
    invite_mails_sent,
    invite_mails_failed,
    partners_active,
    partners_pending,
    partners_suspended,
    partners_with_mechanics,
    mechanics_active,
    {{ partner_rate('mechanics_active', 'partners_active', cap=false) }} as avg_mechanics_per_partner,
    dashboard_logins,
    profile_updates,
    api_successes,
    api_errors,
    {{ partner_rate('api_successes', 'api_successes + api_errors') }} as api_success_rate
from joined
