-- SPEC invariant "weekly = sum of its daily rows" (seed 001): every additive count
-- of fct_partner_metrics_weekly equals the sum of its ISO week's daily rows, and
-- the week's end-of-week states equal the last daily row. Returns disagreeing weeks.
{%- set additive = [
    'signups_started', 'signups_completed', 'signups_failed', 'applications_approved',
    'applications_rejected', 'invites_sent', 'invites_accepted', 'invites_expired',
    'mails_sent', 'mails_failed', 'dashboard_logins', 'profile_updates', 'api_successes', 'api_errors',
] %}

with

daily as (

    select
        cast({{ dbt.date_trunc('week', 'metric_date') }} as date) as week_start,
        {% for c in additive -%}
        sum({{ c }}) as {{ c }}{{ ',' if not loop.last }}
        {% endfor %}
    from {{ ref('fct_partner_metrics_daily') }}
    group by 1

),

weekly as (

    select
        week_start,
        {{ additive | join(', ') }}
    from {{ ref('fct_partner_metrics_weekly') }}

)

select
    coalesce(daily.week_start, weekly.week_start) as week_start
from daily
full outer join weekly
    on daily.week_start = weekly.week_start
where daily.week_start is null
    or weekly.week_start is null
    {% for c in additive -%}
    or daily.{{ c }} <> weekly.{{ c }}
    {% endfor %}
