{#-
  Post-hook of every model (dbt_project.yml): a table or incremental model with an
  enforced contract gets, in the same transaction, the not-null and named check
  constraints of its contract that its table lacks — all of them right after the
  project's create_table_as wrote a new table with `create table ... as`
  (macros/contracts/postgres__create_table_as.sql), and on an incremental run any
  declared since the table was created (or lost by a copy). Adding a constraint
  checks the rows already there: a violation fails the model (its transaction
  rolls back) naming the constraint. Views get none. One catalog query per model
  and run; DDL only when something is missing. Only not-null and check
  constraints are used in this project (DECISIONLOG "Contracts"); any other type
  fails the compile.
-#}
{% macro kpi_ensure_constraints() -%}
    {{ return(adapter.dispatch('kpi_ensure_constraints')()) }}
{%- endmacro %}

{% macro default__kpi_ensure_constraints() -%}
    {%- if not execute or config.get('materialized') not in ('table', 'incremental') -%}
        {{ return('') }}
    {%- endif -%}
    {%- set contract = config.get('contract') -%}
    {%- if not contract or not contract.enforced -%}
        {{ return('') }}
    {%- endif -%}
    {%- set wanted_not_null = [] -%}
    {%- for column in model.columns.values() -%}
        {%- for c in column.constraints -%}
            {%- if c.type == 'not_null' -%}
                {%- do wanted_not_null.append(column.name) -%}
            {%- else -%}
                {{ exceptions.raise_compiler_error(
                    "constraint type '" ~ c.type ~ "' on " ~ model.name ~ "." ~ column.name
                    ~ " is not supported here (macros/contracts/): use not_null, or a model-level check"
                ) }}
            {%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- for c in model.constraints if c.type != 'check' or not c.name -%}
        {{ exceptions.raise_compiler_error(
            "constraint on " ~ model.name
            ~ " is not supported here (macros/contracts/): a model-level constraint is a named check"
        ) }}
    {%- endfor -%}
    {%- set wanted_checks = model.constraints | list -%}
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
        {%- do ddl.append('alter column ' ~ adapter.quote(name) ~ ' set not null') -%}
    {%- endfor -%}
    {%- for c in wanted_checks if c.name not in checks -%}
        {%- do ddl.append('add constraint ' ~ c.name ~ ' check (' ~ c.expression ~ ')') -%}
    {%- endfor -%}
    {%- if ddl -%}
    alter table {{ this }}
        {{ ddl | join(',\n        ') }}
    {%- endif -%}
{%- endmacro %}
