{#-
  On the shared targets (var kpi_shared_targets: the embedded database and the
  team's server), schemas are the layer names themselves (staging, intermediate,
  marts, config, snapshots) rather than dbt's default `<target_schema>_<custom>`,
  so BI tools always read `marts.<model>`. Any other target — a developer's own,
  e.g. the `dev` output of profiles.yml.example with schema `dev_<user>` — gets
  dbt's default `<target_schema>_<custom>` (`dev_alice_marts`), so a developer's
  build never writes over the shared marts. A model without a custom schema lands
  in the target schema. KPI_SCHEMA_SUFFIX (set by `kpi build` for a first or full
  build) redirects every model and seed to a shadow schema (`marts__wap`) that is
  tested, then swapped in as a whole (write-audit-publish, kpiwh/publish.py).
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- set suffix = env_var('KPI_SCHEMA_SUFFIX', '') -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- elif target.name in var('kpi_shared_targets', ['embedded', 'postgres']) -%}
        {{ custom_schema_name | trim }}{{ suffix }}
    {%- else -%}
        {{ target.schema }}_{{ custom_schema_name | trim }}{{ suffix }}
    {%- endif -%}
{%- endmacro %}
