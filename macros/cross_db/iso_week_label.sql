{#-
  iso_week_label(date_expr)
  ISO-8601 week label of a date, 'IYYY-Www' (e.g. '2025-W03'; the ISO year may
  differ from the calendar year around New Year).
-#}
{% macro iso_week_label(date_expr) -%}
    {{ return(adapter.dispatch('iso_week_label', 'kpi_warehouse')(date_expr)) }}
{%- endmacro %}

{% macro default__iso_week_label(date_expr) -%}
    {{ dbt.concat([
        "cast(extract(isoyear from " ~ date_expr ~ ") as " ~ dbt.type_string() ~ ")",
        "'-W'",
        "lpad(cast(extract(week from " ~ date_expr ~ ") as " ~ dbt.type_string() ~ "), 2, '0')"
    ]) }}
{%- endmacro %}

{% macro postgres__iso_week_label(date_expr) -%}
    to_char({{ date_expr }}, 'IYYY"-W"IW')
{%- endmacro %}
