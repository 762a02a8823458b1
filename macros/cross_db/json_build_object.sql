{#-
  json_build_object(pairs)
  A JSON object from a list of (key, sql_expression) pairs, keys in the given
  order, e.g. json_build_object([('reward_id', 'reward_id'), ('redemptions', 'n')]).
  PostgreSQL: jsonb_build_object (the type json_array_agg aggregates).
  Default: the SQL:2016 json_object(key value ...).
-#}
{% macro json_build_object(pairs) -%}
    {{ return(adapter.dispatch('json_build_object', 'kpi_warehouse')(pairs)) }}
{%- endmacro %}

{% macro default__json_build_object(pairs) -%}
    json_object(
    {%- for key, expr in pairs %}'{{ key }}' value {{ expr }}{{ ", " if not loop.last }}{% endfor -%}
    )
{%- endmacro %}

{% macro postgres__json_build_object(pairs) -%}
    jsonb_build_object(
    {%- for key, expr in pairs %}'{{ key }}', {{ expr }}{{ ", " if not loop.last }}{% endfor -%}
    )
{%- endmacro %}
