{#-
  median(expr)
  The median of a numeric expression as an aggregate (continuous percentile 0.5,
  i.e. the mean of the two middle values for an even count). Nulls ignored.
-#}
{% macro median(expr) -%}
    {{ return(adapter.dispatch('median', 'kpi_warehouse')(expr)) }}
{%- endmacro %}

{% macro default__median(expr) -%}
    percentile_cont(0.5) within group (order by {{ expr }})
{%- endmacro %}

{% macro postgres__median(expr) -%}
    percentile_cont(0.5) within group (order by {{ expr }})
{%- endmacro %}
