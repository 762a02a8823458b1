{#-
  kpi_in_days(column, days_before=0, timestamp=false)
  SQL condition: `column` lies on one of the days an incremental run recomputes
  (kpi_days_to_process()), or up to `days_before` days before one of them (the
  history a rolling window reads). Consecutive days are merged into half-open
  ranges, so the planner can use an index on `column`; `timestamp=true`
  compares a timestamptz column with UTC midnights. `1 = 1` on a first build or
  --full-refresh (everything, one statement); `1 = 0` when nothing changed.
-#}
{% macro kpi_in_days(column, days_before=0, timestamp=false) -%}
    {%- set days = kpi_days_to_process() -%}
    {%- if days is none -%}
        1 = 1
    {%- elif days | length == 0 -%}
        1 = 0
    {%- else -%}
        {%- set dt = modules.datetime -%}
        {%- set ranges = [] -%}
        {%- for value in days -%}
            {%- set day = dt.date.fromisoformat(value) -%}
            {%- set start = day - dt.timedelta(days=days_before) -%}
            {%- set end = day + dt.timedelta(days=1) -%}
            {%- if ranges and start <= ranges[-1][1] -%}
                {%- set merged = ranges.pop() -%}
                {%- do ranges.append([merged[0], end]) -%}
            {%- else -%}
                {%- do ranges.append([start, end]) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- set type = type_timestamp_tz() if timestamp else 'date' -%}
        ({% for start, end in ranges -%}
            {% if not loop.first %} or {% endif -%}
            ({{ column }} >= cast('{{ start }}' as {{ type }}) and {{ column }} < cast('{{ end }}' as {{ type }}))
        {%- endfor %})
    {%- endif -%}
{%- endmacro %}
