{#-
  Access control (seed 004 "Access Control (RLS)", seed 000 "tenant-isolated").
  docs/security.md explains the model; this file holds the shared pieces:

  kpi_security_enabled()  var kpi_security (default true). false = no role
                          setup, no grants, no row-level security, no
                          security_invoker: for a server where the group roles
                          may not exist and may not be created.
  kpi_security_roles()    the four NOLOGIN group roles BI logins are put in.
  kpi_tenant_columns()    the column names that make a relation tenant-scoped,
                          in priority order.
-#}
{% macro kpi_security_enabled() -%}
    {{ return(var('kpi_security', true) not in (false, 'false', 'False', 0, '0', none)) }}
{%- endmacro %}

{% macro kpi_security_roles() -%}
    {{ return(['kpi_admin', 'kpi_monitor', 'kpi_reader', 'kpi_client']) }}
{%- endmacro %}

{% macro kpi_tenant_columns() -%}
    {{ return(['tenant_id', 'organization_id', 'merchant_id']) }}
{%- endmacro %}
