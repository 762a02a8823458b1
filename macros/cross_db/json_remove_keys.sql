{#-
  json_remove_keys(json_expr, keys_array_sql): the JSON object without the
  top-level keys listed by keys_array_sql (an SQL expression yielding an array
  of text, e.g. a scalar subquery over a seed). Nested objects are untouched.
  PostgreSQL: jsonb `-` text[]. No portable form: other adapters must add theirs.
-#}
{% macro json_remove_keys(json_expr, keys_array_sql) -%}
    {{ return(adapter.dispatch('json_remove_keys', 'kpi_warehouse')(json_expr, keys_array_sql)) }}
{%- endmacro %}

{% macro default__json_remove_keys(json_expr, keys_array_sql) -%}
    {{ exceptions.raise_compiler_error("json_remove_keys is not implemented for adapter " ~ adapter.type()) }}
{%- endmacro %}

{% macro postgres__json_remove_keys(json_expr, keys_array_sql) -%}
    ({{ json_expr }} - coalesce({{ keys_array_sql }}, array[]::text[]))
{%- endmacro %}

{#- array_agg of a text column, as an SQL array expression (used with json_remove_keys) -#}
{% macro text_array_agg(column) -%}
    {{ return(adapter.dispatch('text_array_agg', 'kpi_warehouse')(column)) }}
{%- endmacro %}

{% macro default__text_array_agg(column) -%}
    array_agg({{ column }})
{%- endmacro %}
