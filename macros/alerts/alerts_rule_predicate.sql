{#-
  alerts_rule_predicate(column)
  SQL predicate keeping the rules of alerts_selected_rules() (true when every rule
  is judged). Rule ids are quoted as SQL literals (quotes doubled).
-#}
{% macro alerts_rule_predicate(column) -%}
    {%- set ids = alerts_selected_rules() -%}
    {%- if ids is none -%}
        1 = 1
    {%- else -%}
        {{ column }} in ({% for i in ids %}'{{ i | replace("'", "''") }}'{{ ', ' if not loop.last }}{% endfor %})
    {%- endif -%}
{%- endmacro %}
