{#-
  matches_regex(expr, pattern)
  A boolean: does the string `expr` match the regular expression `pattern`
  (POSIX/Java syntax; anchor it with ^...$ for a full match)? Null in, null out.
-#}
{% macro matches_regex(expr, pattern) -%}
    {{ return(adapter.dispatch('matches_regex', 'kpi_warehouse')(expr, pattern)) }}
{%- endmacro %}

{% macro default__matches_regex(expr, pattern) -%}
    regexp_like({{ expr }}, '{{ pattern }}')
{%- endmacro %}

{% macro postgres__matches_regex(expr, pattern) -%}
    ({{ expr }} ~ '{{ pattern }}')
{%- endmacro %}

{% macro spark__matches_regex(expr, pattern) -%}
    ({{ expr }} rlike '{{ pattern }}')
{%- endmacro %}

{% macro duckdb__matches_regex(expr, pattern) -%}
    regexp_matches({{ expr }}, '{{ pattern }}')
{%- endmacro %}
