{#-
  weekly_equals_sum_of_daily(model, daily_model, measures, dimensions=[])
  SPEC invariant "weekly = sum of its daily rows": every measure of the weekly
  rollup `model` (one row per week_start and dimensions) equals the sum of the
  daily rows (`daily_model`, one row per metric_date and dimensions) of its ISO
  week (date_trunc week); a week/dimension present on one side only fails too.
  Null dimensions match each other. Returns the disagreeing rows.
-#}
{% test weekly_equals_sum_of_daily(model, daily_model, measures, dimensions=[]) %}
{%- set dim_sql = (dimensions | join(', ') ~ ', ') if dimensions else '' -%}
with

daily as (

    select
        cast({{ dbt.date_trunc('week', 'metric_date') }} as date) as week_start,
        {{ dim_sql }}
        {% for m in measures %}sum({{ m }}) as {{ m }}{{ ',' if not loop.last }}
        {% endfor %}
    from {{ daily_model }}
    group by {{ dbt.date_trunc('week', 'metric_date') }}{% for c in dimensions %}, {{ c }}{% endfor %}

),

weekly as (

    select week_start, {{ dim_sql }}{{ measures | join(', ') }}
    from {{ model }}

)

select
    coalesce(daily.week_start, weekly.week_start) as week_start
from daily
full outer join weekly
    on daily.week_start = weekly.week_start
    {% for c in dimensions %}
    and coalesce(cast(daily.{{ c }} as {{ dbt.type_string() }}), '_null_')
        = coalesce(cast(weekly.{{ c }} as {{ dbt.type_string() }}), '_null_')
    {% endfor %}
where daily.week_start is null
    or weekly.week_start is null
    {% for m in measures %}
    or daily.{{ m }} <> weekly.{{ m }}
    {% endfor %}
{% endtest %}
