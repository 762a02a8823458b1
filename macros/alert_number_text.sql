{#-
  alert_number_text(expr)
  A numeric expression as text for alert messages, without trailing zeros
  ('477.0000' → '477', '0.2500' → '0.25', '10' → '10').
-#}
{% macro alert_number_text(expr) -%}
    {%- set t = "cast(" ~ expr ~ " as " ~ dbt.type_string() ~ ")" -%}
    case when {{ dbt.position("'.'", t) }} > 0
        then rtrim(rtrim({{ t }}, '0'), '.')
        else {{ t }} end
{%- endmacro %}
