{#-
  median(expr)
  The median of expr over the group, as an aggregate (nulls ignored; null over
  zero rows). percentile_cont(0.5) within group, which PostgreSQL, DuckDB and
  Spark accept as an aggregate; dispatched so an engine without it can differ.
-#}
{% macro median(expr) -%}
    {{ return(adapter.dispatch('median', 'kpi_warehouse')(expr)) }}
{%- endmacro %}

{% macro default__median(expr) -%}
    percentile_cont(0.5) within group (order by {{ expr }})
{%- endmacro %}
