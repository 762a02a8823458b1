{#-
  minutes_between(start_ts, end_ts)
  Elapsed minutes from start_ts to end_ts as a numeric with 2 decimals (exact
  elapsed time, not a count of minute boundaries crossed like dbt.datediff).
  Null if either side is null. PostgreSQL: epoch extraction; default: datediff
  in seconds / 60.
-#}
{% macro minutes_between(start_ts, end_ts) -%}
    {{ return(adapter.dispatch('minutes_between', 'kpi_warehouse')(start_ts, end_ts)) }}
{%- endmacro %}

{% macro default__minutes_between(start_ts, end_ts) -%}
    round(cast({{ dbt.datediff(start_ts, end_ts, 'second') }} as {{ dbt.type_numeric() }}) / 60, 2)
{%- endmacro %}

{% macro postgres__minutes_between(start_ts, end_ts) -%}
    round(cast(extract(epoch from (({{ end_ts }}) - ({{ start_ts }}))) as numeric) / 60, 2)
{%- endmacro %}
