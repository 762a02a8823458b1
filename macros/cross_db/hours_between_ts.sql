{#-
  hours_between_ts(start_ts, end_ts)
  Exact elapsed time between two timestamptz in hours, as a numeric with fractions
  (end - start; negative when end is earlier). Null when either is null.
-#}
{% macro hours_between_ts(start_ts, end_ts) -%}
    {{ return(adapter.dispatch('hours_between_ts', 'kpi_warehouse')(start_ts, end_ts)) }}
{%- endmacro %}

{% macro default__hours_between_ts(start_ts, end_ts) -%}
    (cast({{ dbt.datediff(start_ts, end_ts, 'second') }} as {{ dbt.type_numeric() }}) / 3600)
{%- endmacro %}

{% macro postgres__hours_between_ts(start_ts, end_ts) -%}
    (cast(extract(epoch from ({{ end_ts }}) - ({{ start_ts }})) as numeric) / 3600)
{%- endmacro %}
