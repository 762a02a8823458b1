{#-
  json_array_agg(expr, order_by)
  Aggregate `expr` into a JSON array, elements ordered by the SQL fragment
  `order_by` (e.g. "start_at, booking_id"). Returns null over zero rows, like
  every SQL aggregate: filter the rows first (a where clause), then coalesce
  with json_empty_array() where an empty array is wanted.
  PostgreSQL: jsonb_agg. Default: the SQL:2016 standard json_arrayagg.
-#}
{% macro json_array_agg(expr, order_by) -%}
    {{ return(adapter.dispatch('json_array_agg', 'kpi_warehouse')(expr, order_by)) }}
{%- endmacro %}

{% macro default__json_array_agg(expr, order_by) -%}
    json_arrayagg({{ expr }} order by {{ order_by }})
{%- endmacro %}

{% macro postgres__json_array_agg(expr, order_by) -%}
    jsonb_agg({{ expr }} order by {{ order_by }})
{%- endmacro %}
