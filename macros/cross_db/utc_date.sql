{#-
  utc_date(timestamp_expr)
  The calendar date of a timestamptz in UTC, whatever the session time zone.
  Every "day" in this project (booking_date, as-of date) is a UTC day.
-#}
{% macro utc_date(timestamp_expr) -%}
    {{ return(adapter.dispatch('utc_date', 'kpi_warehouse')(timestamp_expr)) }}
{%- endmacro %}

{% macro default__utc_date(timestamp_expr) -%}
    cast({{ timestamp_expr }} as date)
{%- endmacro %}

{% macro postgres__utc_date(timestamp_expr) -%}
    cast(({{ timestamp_expr }}) at time zone 'UTC' as date)
{%- endmacro %}
