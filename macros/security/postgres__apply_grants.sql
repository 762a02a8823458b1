{#-
  Project override of dbt's grants step (dbt's materializations call
  apply_grants(relation, config.get('grants'), should_revoke) after building a
  model, seed or snapshot; dispatched to this macro on PostgreSQL).

  The grants come from the node's meta `access` (docs/security.md): every
  role it names gets SELECT (kpi_access_grants), so meta `access` is the one
  place access is declared — row-level security reads it too
  (kpi_relation_security). A node that declares dbt's `grants` config gets
  exactly that instead (the project declares none; tests/python/test_security.py).
  dbt's own behaviour otherwise: on a relation that existed before (incremental
  runs, seeds, snapshots) the current grants are read and what the config no
  longer lists is revoked; a table or view built anew starts with no grants.
  Nothing when var kpi_security is false, for a server where the kpi_* group
  roles do not exist.
-#}
{% macro postgres__apply_grants(relation, grant_config, should_revoke=True) -%}
    {%- if kpi_security_enabled() -%}
        {%- set grants = grant_config or kpi_access_grants(relation, (config.get('meta') or {}).get('access') or {}) -%}
        {{ default__apply_grants(relation, grants, should_revoke) }}
    {%- endif -%}
{%- endmacro %}

{#- kpi_access_grants(relation, access): dbt's grant config for a node's meta
    `access` ({role: level}): {'select': [every role named, sorted]} — an empty
    list when access names none, so a rebuild revokes what was granted before.
    Fails on a role that is not one of kpi_security_roles(). -#}
{% macro kpi_access_grants(relation, access) -%}
    {%- for role in access if role not in kpi_security_roles() -%}
        {{ exceptions.raise_compiler_error(
            relation ~ ": meta access names " ~ role ~ " — roles are " ~ kpi_security_roles() | join(', ')) }}
    {%- endfor -%}
    {{ return({'select': access.keys() | sort}) }}
{%- endmacro %}
