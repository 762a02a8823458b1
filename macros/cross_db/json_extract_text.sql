{#-
  json_extract_text(json_expr, key)
  The text value of a top-level key of a JSON object column (null when absent).
  postgres: jsonb ->> key; default: json_extract_path_text-like fallback.
-#}
{% macro json_extract_text(json_expr, key) -%}
    {{ return(adapter.dispatch('json_extract_text', 'kpi_warehouse')(json_expr, key)) }}
{%- endmacro %}

{% macro default__json_extract_text(json_expr, key) -%}
    json_extract_path_text({{ json_expr }}, '{{ key }}')
{%- endmacro %}

{% macro postgres__json_extract_text(json_expr, key) -%}
    (({{ json_expr }})::jsonb ->> '{{ key }}')
{%- endmacro %}
