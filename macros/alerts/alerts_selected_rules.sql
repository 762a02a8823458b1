{#-
  alerts_selected_rules()
  The alert rules one evaluation judges, as a list of rule ids, or none = every
  rule of seeds/alert_rules.csv. var('alerts_rules') (a list or a comma-separated
  string); empty = env var KPI_ALERTS_RULES (comma-separated), set by
  `kpi alerts --evaluate --rule R`. int_alert_firing keeps only these rules and
  fct_alerts resolves only their episodes (an alert of another rule is neither
  refreshed nor resolved by a one-rule evaluation).
-#}
{% macro alerts_selected_rules() -%}
    {%- set raw = var('alerts_rules', none) -%}
    {%- if raw is none or (raw | string | trim) == '' -%}
        {%- set raw = env_var('KPI_ALERTS_RULES', '') -%}
    {%- endif -%}
    {%- if raw is string -%}
        {%- set ids = [] -%}
        {%- for part in raw.split(',') -%}
            {%- if part | trim -%}{%- do ids.append(part | trim) -%}{%- endif -%}
        {%- endfor -%}
    {%- else -%}
        {%- set ids = raw | list -%}
    {%- endif -%}
    {{ return(ids if ids else none) }}
{%- endmacro %}
