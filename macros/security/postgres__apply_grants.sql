{#-
  Project override of dbt's grants step: dbt's own behaviour (grant what the
  `grants` config lists, revoke what it no longer lists on incremental
  models) when var kpi_security is true (default); nothing when it is false,
  for a server where the kpi_* group roles do not exist (docs/security.md).
-#}
{% macro postgres__apply_grants(relation, grant_config, should_revoke=True) -%}
    {%- if kpi_security_enabled() -%}
        {{ default__apply_grants(relation, grant_config, should_revoke) }}
    {%- endif -%}
{%- endmacro %}
