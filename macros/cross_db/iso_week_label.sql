{#-
  iso_week_label(date_expr)
  The ISO-8601 week of a date as text 'YYYY-Www' (ISO year, zero-padded week),
  e.g. 2025-01-13 -> '2025-W03', 2024-12-30 -> '2025-W01'.
  PostgreSQL: to_char IYYY/IW. Default: extract(isoyear / week).
-#}
{% macro iso_week_label(date_expr) -%}
    {{ return(adapter.dispatch('iso_week_label', 'kpi_warehouse')(date_expr)) }}
{%- endmacro %}

{% macro default__iso_week_label(date_expr) -%}
    concat(cast(extract(isoyear from {{ date_expr }}) as varchar), '-W',
           lpad(cast(extract(week from {{ date_expr }}) as varchar), 2, '0'))
{%- endmacro %}

{% macro postgres__iso_week_label(date_expr) -%}
    to_char({{ date_expr }}, 'IYYY-"W"IW')
{%- endmacro %}
