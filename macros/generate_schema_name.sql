{#-
  Schemas are the layer names themselves (staging, intermediate, marts, config,
  snapshots) rather than dbt's default `<target_schema>_<custom>`, so BI tools
  always read `marts.<model>`. A model without a custom schema lands in the
  target schema. KPI_SCHEMA_SUFFIX (set by `kpi build` for a first or full
  build) redirects every model and seed to a shadow schema (`marts__wap`) that
  is tested, then swapped in as a whole (write-audit-publish, kpiwh/runner.py).
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}{{ env_var('KPI_SCHEMA_SUFFIX', '') }}
    {%- endif -%}
{%- endmacro %}
