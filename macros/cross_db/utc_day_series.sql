{#-
  utc_day_series(start_date_expr, end_date_expr)
  A relation (use in `from`) with one column `day` (date): every day from
  start_date_expr to end_date_expr inclusive. Expressions may be scalar subqueries.
-#}
{% macro utc_day_series(start_date_expr, end_date_expr) -%}
    {{ return(adapter.dispatch('utc_day_series', 'kpi_warehouse')(start_date_expr, end_date_expr)) }}
{%- endmacro %}

{% macro default__utc_day_series(start_date_expr, end_date_expr) -%}
    (select cast(d as date) as day
     from generate_series(cast({{ start_date_expr }} as date), cast({{ end_date_expr }} as date), interval '1 day') as g (d))
{%- endmacro %}
