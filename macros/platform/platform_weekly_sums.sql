{#-
  platform_weekly_sums(daily, keys=[], measures=[], days_column=none)
  Select of a daily platform mart rolled up to ISO weeks: one row per
  week_start (the Monday of metric_date's ISO week) and `keys`, each of
  `measures` summed under its own name, and with days_column the number of
  daily rows summed. On an incremental run of the rollup, only the weeks of
  its touched_weeks CTE (platform_in_touched_weeks).
-#}
{% macro platform_weekly_sums(daily, keys=[], measures=[], days_column=none) -%}
    {%- set week_start = 'cast(' ~ dbt.date_trunc('week', 'metric_date') ~ ' as date)' -%}
    select
        {{ week_start }} as week_start,
        {%- for key in keys %}
        {{ key }},
        {%- endfor %}
        {%- if days_column %}
        count(*) as {{ days_column }},
        {%- endif %}
        {%- for measure in measures %}
        sum({{ measure }}) as {{ measure }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ daily }}
    where {{ platform_in_touched_weeks('metric_date') }}
    group by {{ ([week_start] + keys) | join(', ') }}
{%- endmacro %}
