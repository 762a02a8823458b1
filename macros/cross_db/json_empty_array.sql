{#-
  json_empty_array()
  A literal empty JSON array of the same type json_array_agg() returns
  (jsonb on PostgreSQL), for coalescing "no rows" into [].
-#}
{% macro json_empty_array() -%}
    {{ return(adapter.dispatch('json_empty_array', 'kpi_warehouse')()) }}
{%- endmacro %}

{% macro default__json_empty_array() -%}
    json_array()
{%- endmacro %}

{% macro postgres__json_empty_array() -%}
    cast('[]' as jsonb)
{%- endmacro %}
