{#-
  unknown_member(expr)
  A text dimension that a model groups or keys by, with a missing value (null)
  grouped under the explicit member 'unknown': one row for the unknown, never a
  null group key and never a dropped row (DECISIONLOG "Unknown dimension members").
  unknown_member('provider') -> coalesce(cast(provider as text), 'unknown').
-#}
{% macro unknown_member(expr) -%}
    coalesce(cast({{ expr }} as {{ dbt.type_string() }}), 'unknown')
{%- endmacro %}
