{#-
  kpi_security_setup(): idempotent SQL run as the project's on-run-start
  hook (and by `kpi init --roles` through kpi_security_init):

  1. the group roles (NOLOGIN) are created when missing — if the connected
     user may create roles (superuser or CREATEROLE); otherwise the run
     stops with one clear message (run `kpi init --roles` as a role
     administrator, or build with --vars '{kpi_security: false}');
  2. schema ops and ops.tenant_access(role_name, tenant_id): which role (a
     login or a group) sees which tenant's rows. Row-level security on it:
     a role reads only its own mappings (kpi_admin reads all), so the tenant
     policies of the marts can simply say "tenant_id in (select tenant_id
     from ops.tenant_access)";
  2b. ops.reader_access(role_name, reader_id): which role reads which reader's
     rows of the per-reader marts (access own_last_30_days; seed 004 "Reader:
     self-performance metrics only"), under the same own-mappings policy;
  3. raw source tables (not owned by dbt): usage + select to kpi_admin only,
     also for tables the same user creates later (new monthly partitions).
  Nothing at all when var kpi_security is false.
-#}
{% macro kpi_security_setup() -%}
{%- if kpi_security_enabled() -%}
{%- set roles = kpi_security_roles() -%}
do $kpi$
declare
    r text;
    may_create boolean;
begin
    select rolsuper or rolcreaterole into may_create from pg_roles where rolname = current_user;
    foreach r in array array['{{ roles | join("', '") }}'] loop
        if not exists (select 1 from pg_roles where rolname = r) then
            if may_create then
                begin
                    execute format('create role %I nologin', r);
                exception when duplicate_object then
                    null;  -- created meanwhile by a concurrent run
                end;
            else
                raise exception 'role % does not exist and % may not create roles: run `kpi init --roles` as a role administrator, or build with --vars ''{kpi_security: false}''', r, current_user;
            end if;
        end if;
    end loop;
end
$kpi$;
create schema if not exists ops;
create table if not exists ops.tenant_access (
    role_name   text not null,
    tenant_id   text not null,
    granted_at  timestamptz not null default now(),
    primary key (role_name, tenant_id)
);
comment on table ops.tenant_access is 'Which role (a BI login or a group role) sees which tenant''s rows in the tenant-scoped marts (row-level security). kpi_admin sees every row without a mapping. docs/security.md';
alter table ops.tenant_access enable row level security;
create table if not exists ops.reader_access (
    role_name   text not null,
    reader_id   text not null,
    granted_at  timestamptz not null default now(),
    primary key (role_name, reader_id)
);
comment on table ops.reader_access is 'Which role (a reader''s BI login or a group role) sees which reader''s rows in the per-reader marts (row-level security, last 30 days). docs/security.md';
alter table ops.reader_access enable row level security;
do $kpi$
begin
    if not exists (select 1 from pg_policies where schemaname = 'ops' and tablename = 'tenant_access'
                   and policyname = 'kpi_own_mappings') then
        create policy kpi_own_mappings on ops.tenant_access for select using (
            pg_has_role('kpi_admin', 'usage')
            or exists (select 1 from pg_roles as r
                       where r.rolname = role_name and pg_has_role(r.oid, 'usage'))
        );
    end if;
    if not exists (select 1 from pg_policies where schemaname = 'ops' and tablename = 'reader_access'
                   and policyname = 'kpi_own_mappings') then
        create policy kpi_own_mappings on ops.reader_access for select using (
            pg_has_role('kpi_admin', 'usage')
            or exists (select 1 from pg_roles as r
                       where r.rolname = role_name and pg_has_role(r.oid, 'usage'))
        );
    end if;
    if to_regnamespace('raw') is not null then
        grant usage on schema raw to kpi_admin;
        grant select on all tables in schema raw to kpi_admin;
        alter default privileges in schema raw grant select on tables to kpi_admin;
    end if;
end
$kpi$;
grant usage on schema ops to {{ roles | join(', ') }};
grant select on ops.tenant_access to {{ roles | join(', ') }};
grant select on ops.reader_access to {{ roles | join(', ') }};
{%- endif -%}
{%- endmacro %}

{#- `dbt run-operation kpi_security_init` (what `kpi init --roles` runs): the
    setup above, committed. -#}
{% macro kpi_security_init() -%}
    {%- if not kpi_security_enabled() -%}
        {{ exceptions.raise_compiler_error("kpi_security_init: var kpi_security is false: nothing to set up") }}
    {%- endif -%}
    {%- do run_query(kpi_security_setup()) -%}
    {%- do run_query('commit') -%}
    {{ log('kpi security: roles ' ~ kpi_security_roles() | join(', ') ~ ', ops.tenant_access and raw grants in place', info=true) }}
{%- endmacro %}
