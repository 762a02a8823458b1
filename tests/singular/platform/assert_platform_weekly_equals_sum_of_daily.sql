-- SPEC invariant "weekly = sum of its daily rows" (seed 004): for every weekly
-- platform rollup, each count equals the sum of the daily rows of its ISO week
-- and dimensions, and no week/dimension is missing on either side.
-- Returns the disagreeing (table, week, dimension) rows.
{% set checks = [
    ('metrics_daily_payments', 'metrics_weekly_payments', ['country_code', 'provider'],
     ['attempts', 'successes', 'failures', 'fallback_attempts', 'refunds', 'revenue_cents', 'refunded_cents']),
    ('metrics_daily_calls', 'metrics_weekly_calls', ['service_code'],
     ['calls_attempted', 'calls_answered', 'calls_completed', 'calls_dropped', 'calls_recorded']),
    ('metrics_daily_fulfillment', 'metrics_weekly_fulfillment', ['service_code'],
     ['orders_created', 'orders_assigned', 'orders_completed', 'orders_cancelled', 'approvals', 'rejections']),
    ('metrics_daily_content', 'metrics_weekly_content', [],
     ['horoscopes_uploaded', 'horoscopes_published', 'horoscopes_approved', 'horoscopes_rejected']),
] %}
{% for daily, weekly, dims, measures in checks %}
{% set dim_sql = (dims | join(', ') ~ ', ') if dims else '' %}
select
    '{{ weekly }}' as relation_name,
    coalesce(d.week_start, w.week_start) as week_start
from (
    select
        cast({{ dbt.date_trunc('week', 'metric_date') }} as date) as week_start,
        {{ dim_sql }}
        {% for m in measures %}sum({{ m }}) as {{ m }}{{ ',' if not loop.last }}{% endfor %}
    from {{ ref(daily) }}
    group by 1{% for _ in dims %}, {{ loop.index + 1 }}{% endfor %}
) as d
full outer join (
    select week_start, {{ dim_sql }} {{ measures | join(', ') }}
    from {{ ref(weekly) }}
) as w
    on d.week_start = w.week_start
    {% for c in dims %}
    and coalesce(d.{{ c }}, '') = coalesce(w.{{ c }}, ''){% endfor %}
where d.week_start is null
    or w.week_start is null
    {% for m in measures %}or d.{{ m }} <> w.{{ m }}
    {% endfor %}
{{ 'union all' if not loop.last }}
{% endfor %}
