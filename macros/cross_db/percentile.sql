{#-
  percentile(expr, fraction)
  The continuous percentile (linear interpolation) of `expr` over the group, as an
  aggregate: percentile(duration_seconds, 0.95) is the p95. Nulls are ignored;
  null over zero non-null rows. Standard SQL percentile_cont ... within group on
  PostgreSQL and DuckDB; Spark's percentile() (also interpolating).
-#}
{% macro percentile(expr, fraction) -%}
    {{ return(adapter.dispatch('percentile', 'kpi_warehouse')(expr, fraction)) }}
{%- endmacro %}

{% macro default__percentile(expr, fraction) -%}
    percentile_cont({{ fraction }}) within group (order by {{ expr }})
{%- endmacro %}

{% macro postgres__percentile(expr, fraction) -%}
    percentile_cont({{ fraction }}) within group (order by {{ expr }})
{%- endmacro %}

{% macro spark__percentile(expr, fraction) -%}
    percentile({{ expr }}, {{ fraction }})
{%- endmacro %}
