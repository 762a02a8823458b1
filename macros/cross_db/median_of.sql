{#-
  median_of(expr)
  Aggregate: the median of expr over the group (continuous percentile 0.5: the mean
  of the two middle values for an even count). Nulls ignored; null for no rows.
-#}
{% macro median_of(expr) -%}
    {{ return(adapter.dispatch('median_of', 'kpi_warehouse')(expr)) }}
{%- endmacro %}

{% macro default__median_of(expr) -%}
    percentile_cont(0.5) within group (order by {{ expr }})
{%- endmacro %}
