{#-
  Seed 001's partner KPIs against their targets, unpivoted (the shape of seed
  003's rpt_pilot_kpis): one row per period x KPI. Periods: every UTC day of
  fct_partner_metrics_daily (period_type 'day', period = the date) and every ISO
  week of fct_partner_metrics_weekly (period_type 'iso_week', period = '2025-W27').
  The values are the marts' own (rates recomputed from counts there, never
  averaged); targets and comparators come from seed partner_kpi_targets (the
  rows whose kpi is one of the four below). A table rebuilt whole from the two
  marts by every run (they are tables rebuilt whole too).
-#}
with

daily as (

    select
        metric_date,
        signups_started,
        signups_completed,
        signup_conversion_rate,
        approval_times_measured,
        avg_approval_time_hours,
        invites_accepted,
        invites_expired,
        invite_acceptance_rate,
        mails_sent,
        mails_failed,
        mail_success_rate
    from {{ ref('fct_partner_metrics_daily') }}

),

weekly as (

    select
        week_start,
        signups_started,
        signups_completed,
        signup_conversion_rate,
        approval_times_measured,
        avg_approval_time_hours,
        invites_accepted,
        invites_expired,
        invite_acceptance_rate,
        mails_sent,
        mails_failed,
        mail_success_rate
    from {{ ref('fct_partner_metrics_weekly') }}

),

targets as (

    select kpi, comparator, target, unit
    from {{ ref('partner_kpi_targets') }}

),

periods as (

    select
        'day' as period_type,
        cast(metric_date as {{ dbt.type_string() }}) as period,
        metric_date as period_start,
        signups_started,
        signups_completed,
        signup_conversion_rate,
        approval_times_measured,
        avg_approval_time_hours,
        invites_accepted,
        invites_expired,
        invite_acceptance_rate,
        mails_sent,
        mails_failed,
        mail_success_rate
    from daily

    union all

    select
        'iso_week',
        {{ iso_week_label('week_start') }},
        week_start,
        signups_started,
        signups_completed,
        signup_conversion_rate,
        approval_times_measured,
        avg_approval_time_hours,
        invites_accepted,
        invites_expired,
        invite_acceptance_rate,
        mails_sent,
        mails_failed,
        mail_success_rate
    from weekly

),

unpivoted as (

    select period_type, period, period_start, 'signup_conversion_rate' as kpi,
        signups_completed as numerator, signups_started as denominator, signup_conversion_rate as raw_value
    from periods
    union all
    select period_type, period, period_start, 'avg_approval_time_hours',
        null, approval_times_measured, avg_approval_time_hours
    from periods
    union all
    select period_type, period, period_start, 'invite_acceptance_rate',
        invites_accepted, invites_accepted + invites_expired, invite_acceptance_rate
    from periods
    union all
    select period_type, period, period_start, 'mail_success_rate',
        mails_sent, mails_sent + mails_failed, mail_success_rate
    from periods

),

evaluated as (

    select
        unpivoted.period_type,
        unpivoted.period,
        unpivoted.period_start,
        unpivoted.kpi,
        targets.unit,
        cast(unpivoted.numerator as {{ dbt.type_bigint() }}) as numerator,
        cast(unpivoted.denominator as {{ dbt.type_bigint() }}) as denominator,
        round(cast(unpivoted.raw_value as {{ dbt.type_numeric() }}), 4) as value,
        targets.comparator,
        targets.target,
        case
            when targets.target is null or unpivoted.raw_value is null then null
            when targets.comparator = '>' then unpivoted.raw_value > targets.target
            when targets.comparator = '>=' then unpivoted.raw_value >= targets.target
            when targets.comparator = '<' then unpivoted.raw_value < targets.target
            when targets.comparator = '<=' then unpivoted.raw_value <= targets.target
        end as is_met
    from unpivoted
    left join targets
        on unpivoted.kpi = targets.kpi

)

select
    {{ surrogate_key(['period_type', 'period', 'kpi']) }} as partner_kpi_key,
    period_type,
    period,
    period_start,
    kpi,
    unit,
    numerator,
    denominator,
    value,
    comparator,
    target,
    is_met
from evaluated
