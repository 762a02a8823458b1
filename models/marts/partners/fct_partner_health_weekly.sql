{#-
  Weekly rollup of fct_partner_health_daily (seed 001's workshop health
  scorecard): one row per partner per ISO week (Monday start) in which the
  partner has daily rows. Logins, profile updates and API calls are sums of the
  daily rows; status, mechanics, days since last login and the health score are
  the values on the week's last day present (end-of-week states, like
  fct_partner_metrics_weekly); avg_health_score is the mean of the week's daily
  scores. A table rebuilt from the daily rows by every run.
-#}
{{ config(indexes=[{'columns': ['partner_id', 'week_start'], 'unique': true}]) }}

with

daily as (

    select
        partner_id,
        metric_date,
        cast({{ dbt.date_trunc('week', 'metric_date') }} as date) as week_start,
        partner_status,
        mechanics_active,
        dashboard_logins,
        profile_updates,
        api_successes,
        api_errors,
        last_login_date,
        days_since_last_login,
        health_score
    from {{ ref('fct_partner_health_daily') }}

),

weeks as (

    select
        partner_id,
        week_start,
        max(metric_date) as last_metric_date,
        count(*) as days_in_week,
        sum(dashboard_logins) as dashboard_logins,
        sum(profile_updates) as profile_updates,
        sum(api_successes) as api_successes,
        sum(api_errors) as api_errors,
        avg(health_score) as avg_health_score
    from daily
    group by partner_id, week_start

)

select
    weeks.partner_id,
    weeks.week_start,
    cast({{ dbt.dateadd('day', 6, 'weeks.week_start') }} as date) as week_end,
    cast(weeks.days_in_week as {{ dbt.type_bigint() }}) as days_in_week,
    daily.partner_status,
    daily.mechanics_active,
    cast(weeks.dashboard_logins as {{ dbt.type_bigint() }}) as dashboard_logins,
    cast(weeks.profile_updates as {{ dbt.type_bigint() }}) as profile_updates,
    cast(weeks.api_successes as {{ dbt.type_bigint() }}) as api_successes,
    cast(weeks.api_errors as {{ dbt.type_bigint() }}) as api_errors,
    daily.last_login_date,
    daily.days_since_last_login,
    daily.health_score,
    round(cast(weeks.avg_health_score as {{ dbt.type_numeric() }}), 2) as avg_health_score
from weeks
inner join daily
    on weeks.partner_id = daily.partner_id
    and weeks.last_metric_date = daily.metric_date
