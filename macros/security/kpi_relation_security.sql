{#-
  kpi_relation_security(): project-wide post-hook (dbt_project.yml), so every
  rebuild — full or incremental — puts it back. Each
  statement is idempotent (drop policy if exists + create).

  - view: `security_invoker = true` (PostgreSQL 15+), so a view reads its
    tables with the querying role's rights and row-level security — a view
    owned by dbt would otherwise run with its owner's rights and bypass them.
  - table (table, incremental, snapshot): reads the model's meta `access`
    ({role: full | tenant | last_30_days | own_last_30_days}, docs/security.md)
    and, when the relation is tenant-scoped (it has one of kpi_tenant_columns())
    or a role is limited to recent days, enables row-level security with SELECT
    policies:
      kpi_full_rows    roles at `full`: every row;
      kpi_tenant_rows  roles at `tenant`: rows whose tenant column is mapped to
                       the role (or a group it belongs to) in ops.tenant_access;
      kpi_recent_rows  roles at `last_30_days`: metric_date within the 30 UTC
                       days ending today.
      kpi_own_recent_rows  roles at `own_last_30_days` (seed 004 "Reader:
                       self-performance metrics only (30-day window)"): rows
                       whose reader_id is mapped to the role (or a group it
                       belongs to) in ops.reader_access, within those 30 days.
    The owner (dbt's user) and superusers bypass row-level security (not
    forced), so builds and tests read every row.
  Misconfigurations fail the model: an unknown role or level, `tenant`
  without a tenant column, kpi_client at anything but `tenant` on a
  tenant-scoped relation, `last_30_days` without metric_date,
  `own_last_30_days` without reader_id and metric_date.
  Nothing when var kpi_security is false.
-#}
{% macro kpi_relation_security() -%}
    {{ return(adapter.dispatch('kpi_relation_security', 'kpi_warehouse')()) }}
{%- endmacro %}

{% macro default__kpi_relation_security() -%}
{%- endmacro %}

{% macro postgres__kpi_relation_security() -%}
    {%- if execute and kpi_security_enabled() -%}
        {%- set materialized = config.get('materialized') -%}
        {%- if materialized == 'view' -%}
            alter view {{ this }} set (security_invoker = true)
        {%- elif materialized in ('table', 'incremental', 'snapshot') -%}
            {{ kpi_row_policies(this, (config.get('meta') or {}).get('access') or {}) }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{% macro kpi_row_policies(relation, access) -%}
    {%- set levels = ['full', 'tenant', 'last_30_days', 'own_last_30_days'] -%}
    {%- set columns = adapter.get_columns_in_relation(relation) | map(attribute='name') | map('lower') | list -%}
    {%- set found = [] -%}
    {%- for c in kpi_tenant_columns() if c in columns -%}{%- do found.append(c) -%}{%- endfor -%}
    {%- set tenant_column = found[0] if found else none -%}
    {%- set by_level = {'full': [], 'tenant': [], 'last_30_days': [], 'own_last_30_days': []} -%}
    {%- for role, level in access.items() -%}
        {%- if role not in kpi_security_roles() or level not in levels -%}
            {{ exceptions.raise_compiler_error(
                relation ~ ": meta access " ~ role ~ ": " ~ level ~ " — roles are "
                ~ kpi_security_roles() | join(', ') ~ ", levels " ~ levels | join(', ')) }}
        {%- endif -%}
        {%- do by_level[level].append(role) -%}
    {%- endfor -%}
    {%- if by_level['tenant'] and not tenant_column -%}
        {{ exceptions.raise_compiler_error(
            relation ~ ": meta access gives " ~ by_level['tenant'] | join(', ')
            ~ " tenant rows, but it has no tenant column (" ~ kpi_tenant_columns() | join(', ') ~ ")") }}
    {%- endif -%}
    {%- if tenant_column and access.get('kpi_client') not in (none, 'tenant') -%}
        {{ exceptions.raise_compiler_error(
            relation ~ " is tenant-scoped (" ~ tenant_column
            ~ "): kpi_client may only read its tenants' rows (access level tenant)") }}
    {%- endif -%}
    {%- if by_level['last_30_days'] and 'metric_date' not in columns -%}
        {{ exceptions.raise_compiler_error(relation ~ ": access last_30_days needs a metric_date column") }}
    {%- endif -%}
    {%- if by_level['own_last_30_days'] and not ('reader_id' in columns and 'metric_date' in columns) -%}
        {{ exceptions.raise_compiler_error(relation ~ ": access own_last_30_days needs reader_id and metric_date columns") }}
    {%- endif -%}
    {%- if tenant_column or by_level['tenant'] or by_level['last_30_days'] or by_level['own_last_30_days'] %}
alter table {{ relation }} enable row level security;
drop policy if exists kpi_full_rows on {{ relation }};
drop policy if exists kpi_tenant_rows on {{ relation }};
drop policy if exists kpi_recent_rows on {{ relation }};
drop policy if exists kpi_own_recent_rows on {{ relation }};
        {%- if by_level['full'] %}
create policy kpi_full_rows on {{ relation }} for select to {{ by_level['full'] | join(', ') }} using (true);
        {%- endif -%}
        {%- if by_level['tenant'] %}
create policy kpi_tenant_rows on {{ relation }} for select to {{ by_level['tenant'] | join(', ') }}
    using ({{ adapter.quote(tenant_column) }} in (select a.tenant_id from ops.tenant_access as a));
        {%- endif -%}
        {%- if by_level['last_30_days'] %}
create policy kpi_recent_rows on {{ relation }} for select to {{ by_level['last_30_days'] | join(', ') }}
    using (metric_date > cast(now() at time zone 'UTC' as date) - 30);
        {%- endif -%}
        {%- if by_level['own_last_30_days'] %}
create policy kpi_own_recent_rows on {{ relation }} for select to {{ by_level['own_last_30_days'] | join(', ') }}
    using (reader_id in (select a.reader_id from ops.reader_access as a)
        and metric_date > cast(now() at time zone 'UTC' as date) - 30);
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}
