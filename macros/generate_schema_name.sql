{#-
  Schemas are the layer names themselves (staging, intermediate, marts, config,
  snapshots) rather than dbt's default `<target_schema>_<custom>`, so BI tools
  always read `marts.<model>`. A model without a custom schema lands in the
  target schema.
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
