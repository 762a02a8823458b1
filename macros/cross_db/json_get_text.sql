{#-
  json_get_text(json_expr, key)
  The top-level member `key` of a JSON object as text (null when absent):
  json_get_text('metadata', 'is_fallback') -> 'true'. PostgreSQL: ->>.
  Default: the SQL:2016 json_value.
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

{% macro spark__json_get_text(json_expr, key) -%}
    get_json_object({{ json_expr }}, '$.{{ key }}')
{%- endmacro %}
