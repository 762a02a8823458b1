{#-
  alert_severity_rank(severity)
  An alert severity as its rank, for sorting alerts (`kpi alerts`): 3 critical,
  2 warning, 1 anything else (info).
-#}
{% macro alert_severity_rank(severity) -%}
    case {{ severity }} when 'critical' then 3 when 'warning' then 2 else 1 end
{%- endmacro %}
