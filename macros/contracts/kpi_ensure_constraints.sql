{#-
  Post-hook of every model (dbt_project.yml): an incremental model's table gets the
  constraints of its contract that it lacks. dbt writes a contract's constraints only
  when it creates the table (first build, --full-refresh); a table created before a
  constraint was declared, or copied without it, would otherwise skip that invariant
  on every later incremental run. Adding a constraint checks the rows already there:
  a violation fails the model (and its transaction) naming the constraint.
  Nothing to do for tables and views (rebuilt from the contract every run). One
  catalog query on an incremental run; DDL only when something is missing.
-#}
{% macro kpi_ensure_constraints() -%}
    {{ return(adapter.dispatch('kpi_ensure_constraints')()) }}
{%- endmacro %}

{% macro default__kpi_ensure_constraints() -%}
    {%- if not execute or config.get('materialized') != 'incremental' or not is_incremental() -%}
        {{ return('') }}
    {%- endif -%}
    {%- set contract = config.get('contract') -%}
    {%- if not contract or not contract.enforced -%}
        {{ return('') }}
    {%- endif -%}
    {%- set wanted_not_null = [] -%}
    {%- for column in model.columns.values() -%}
        {%- for c in column.constraints if c.type == 'not_null' -%}
            {%- do wanted_not_null.append(column.name) -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- set wanted_checks = model.constraints | selectattr('type', 'equalto', 'check') | list -%}
    {%- if not wanted_not_null and not wanted_checks -%}
        {{ return('') }}
    {%- endif -%}
    {%- set catalog = run_query(
        "select 'nullable' as kind, column_name as name from information_schema.columns"
        ~ " where table_schema = '" ~ this.schema ~ "' and table_name = '" ~ this.identifier ~ "' and is_nullable = 'YES'"
        ~ " union all select 'check', constraint_name from information_schema.table_constraints"
        ~ " where table_schema = '" ~ this.schema ~ "' and table_name = '" ~ this.identifier ~ "' and constraint_type = 'CHECK'") -%}
    {%- set nullable = [] -%}
    {%- set checks = [] -%}
    {%- for row in catalog.rows -%}
        {%- do (nullable if row[0] == 'nullable' else checks).append(row[1]) -%}
    {%- endfor -%}
    {%- set ddl = [] -%}
    {%- for name in wanted_not_null if name in nullable -%}
        {%- do ddl.append('alter table ' ~ this ~ ' alter column ' ~ adapter.quote(name) ~ ' set not null') -%}
    {%- endfor -%}
    {%- for c in wanted_checks if c.name and c.name not in checks -%}
        {%- do ddl.append('alter table ' ~ this ~ ' add constraint ' ~ c.name ~ ' check (' ~ c.expression ~ ')') -%}
    {%- endfor -%}
    {{ ddl | join(';\n') }}
{%- endmacro %}
