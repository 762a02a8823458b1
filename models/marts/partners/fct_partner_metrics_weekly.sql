{#-
  Weekly rollup of fct_partner_metrics_daily (seed 001's weekly metrics): one
  row per ISO week (Monday start). Additive counts are sums of the daily rows;
  end-of-day states (pending, active, suspended, mechanics) are the value on the
  last day of the week present; rates are recomputed from the summed counts,
  never averaged; the median approval time is recomputed from the week's
  decisions (int_partner_decisions).
-#}
{%- set additive = [
    'signups_started', 'signups_completed', 'signups_failed',
    'applications_approved', 'applications_rejected', 'applications_decided', 'approval_times_measured',
    'invites_sent', 'invites_accepted', 'invites_expired',
    'mails_sent', 'mails_failed', 'approval_mails_sent', 'approval_mails_failed',
    'rejection_mails_sent', 'rejection_mails_failed', 'invite_mails_sent', 'invite_mails_failed',
    'dashboard_logins', 'profile_updates', 'api_successes', 'api_errors',
] -%}
{%- set end_of_week = [
    'applications_pending', 'partners_active', 'partners_pending', 'partners_suspended',
    'partners_with_mechanics', 'mechanics_active',
] -%}

with

daily as (

    select
        metric_date,
        cast({{ dbt.date_trunc('week', 'metric_date') }} as date) as week_start,
        {{ additive | join(',\n        ') }},
        approval_hours_sum,
        {{ end_of_week | join(',\n        ') }}
    from {{ ref('fct_partner_metrics_daily') }}

),

decisions as (

    select
        cast({{ dbt.date_trunc('week', 'decided_date') }} as date) as week_start,
        approval_hours
    from {{ ref('int_partner_decisions') }}

),

last_days as (

    select
        week_start,
        max(metric_date) as last_metric_date,
        count(*) as days_in_week
    from daily
    group by week_start

),

sums as (

    select
        week_start,
        {% for c in additive -%}
        sum({{ c }}) as {{ c }},
        {% endfor -%}
        sum(approval_hours_sum) as approval_hours_sum
    from daily
    group by week_start

),

week_end_states as (

    select
        daily.week_start,
        {{ end_of_week | join(',\n        ') }}
    from daily
    inner join last_days
        on daily.week_start = last_days.week_start
        and daily.metric_date = last_days.last_metric_date

),

medians as (

    select
        week_start,
        {{ median('approval_hours') }} as median_approval_time_hours
    from decisions
    where approval_hours is not null
    group by week_start

)

select
    sums.week_start,
    cast({{ dbt.dateadd('day', 6, 'sums.week_start') }} as date) as week_end,
    last_days.days_in_week,
    {% for c in additive -%}
    sums.{{ c }},
    {% endfor -%}
    {{ partner_rate('sums.signups_completed', 'sums.signups_started') }} as signup_conversion_rate,
    cast(sums.approval_hours_sum as {{ dbt.type_numeric() }}) as approval_hours_sum,
    cast(sums.approval_hours_sum / nullif(sums.approval_times_measured, 0) as {{ dbt.type_numeric() }})
        as avg_approval_time_hours,
    cast(medians.median_approval_time_hours as {{ dbt.type_numeric() }}) as median_approval_time_hours,
    {{ partner_rate('sums.invites_accepted', 'sums.invites_accepted + sums.invites_expired') }} as invite_acceptance_rate,
    {{ partner_rate('sums.mails_sent', 'sums.mails_sent + sums.mails_failed') }} as mail_success_rate,
    {{ partner_rate('sums.api_successes', 'sums.api_successes + sums.api_errors') }} as api_success_rate,
    {% for c in end_of_week -%}
    week_end_states.{{ c }},
    {% endfor -%}
    {{ partner_rate('week_end_states.mechanics_active', 'week_end_states.partners_active', cap=false) }}
        as avg_mechanics_per_partner
from sums
inner join last_days
    on sums.week_start = last_days.week_start
inner join week_end_states
    on sums.week_start = week_end_states.week_start
left join medians
    on sums.week_start = medians.week_start
