{#-
  kpi_grant_schema_usage(): on-run-end hook. Table grants (from meta `access`,
  postgres__apply_grants) need USAGE on the schema too: each schema of the project's models,
  seeds and snapshots is usable by exactly the roles its objects' meta
  `access` names (marts: all four; staging, intermediate, config, snapshots:
  kpi_admin). Schemas not created yet are skipped. Nothing when var
  kpi_security is false.
-#}
{% macro kpi_grant_schema_usage() -%}
    {%- if execute and kpi_security_enabled() -%}
        {%- set by_schema = {} -%}
        {%- for node in graph.nodes.values() if node.resource_type in ('model', 'seed', 'snapshot') and node.config.materialized != 'ephemeral' -%}
            {%- set roles = by_schema.setdefault(node.schema, []) -%}
            {%- for role in ((node.config.meta or {}).get('access') or {}).keys() if role not in roles -%}
                {%- do roles.append(role) -%}
            {%- endfor -%}
        {%- endfor %}
do $kpi$
begin
        {%- for schema, roles in by_schema.items() | sort if roles %}
    if to_regnamespace('{{ schema }}') is not null then
        grant usage on schema {{ adapter.quote(schema) }} to {{ roles | sort | join(', ') }};
    end if;
        {%- endfor %}
end
$kpi$
    {%- endif -%}
{%- endmacro %}
