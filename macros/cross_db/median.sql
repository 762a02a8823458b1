{#-
  median(expr)
  The median of expr over the group, as an aggregate (nulls ignored; null over
  zero rows): the continuous 0.5 percentile, i.e. the mean of the two middle
  values for an even count. Defined through percentile() so each engine's
  dispatch lives in one place (macros/cross_db/percentile.sql).
-#}
{% macro median(expr) -%}
    {{ percentile(expr, 0.5) }}
{%- endmacro %}
