{#-
  json_get_text(json_expr, key)
  The top-level member `key` of a JSON object as text (null when absent).
  PostgreSQL: ->>. Default: json_value with a '$.key' path.
-#}
{% macro json_get_text(json_expr, key) -%}
    {{ return(adapter.dispatch('json_get_text', 'kpi_warehouse')(json_expr, key)) }}
{%- endmacro %}

{% macro default__json_get_text(json_expr, key) -%}
    json_value({{ json_expr }}, '$.{{ key }}')
{%- endmacro %}

{% macro postgres__json_get_text(json_expr, key) -%}
    ({{ json_expr }} ->> '{{ key }}')
{%- endmacro %}
