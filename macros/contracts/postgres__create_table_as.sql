{#-
  dbt-postgres' create_table_as, with one change for a model with an enforced
  contract: the table is written by `create table ... as` (which PostgreSQL runs
  with parallel workers) and its contract's constraints are added right after by
  one `alter table` (one scan of the new table, in the same transaction), where
  dbt-postgres creates an empty table with them and fills it with
  `insert ... select` — a statement PostgreSQL never runs in parallel, ~2x slower
  for the whole-history statements of a first or full build on two cores.
  The contract is still checked first (column names and types, dbt's
  get_assert_columns_equivalent); the columns come out in the SQL's order, which
  the contract makes the yml's order. Temporary tables (an incremental run's new
  rows) get no constraints, as in dbt: the target table's constraints check the
  rows when they are inserted. Only not-null and check constraints are used in
  this project (DECISIONLOG "Contracts"); any other type fails the compile.
-#}
{% macro postgres__create_table_as(temporary, relation, sql) -%}
  {%- set unlogged = config.get('unlogged', default=false) -%}
  {%- set sql_header = config.get('sql_header', none) -%}
  {%- set contract_config = config.get('contract') -%}

  {{ sql_header if sql_header is not none }}
  {%- if contract_config.enforced %}
  {{ get_assert_columns_equivalent(sql) }}
  {%- endif %}

  create {% if temporary -%}
    temporary
  {%- elif unlogged -%}
    unlogged
  {%- endif %} table {{ relation }}
  as (
    {{ sql }}
  );
  {%- if contract_config.enforced and not temporary %}
  {{ kpi_add_contract_constraints(relation) }}
  {%- endif %}
{%- endmacro %}

{#- `alter table <relation> ...` adding the current model's contract constraints
    (not null, check); '' when it declares none. -#}
{% macro kpi_add_contract_constraints(relation) -%}
  {%- set actions = [] -%}
  {%- for column in model['columns'].values() -%}
    {%- for c in column.get('constraints', []) -%}
      {%- if c['type'] == 'not_null' -%}
        {%- do actions.append('alter column ' ~ adapter.quote(column['name']) ~ ' set not null') -%}
      {%- elif c['type'] == 'check' and c.get('expression') -%}
        {%- do actions.append(('add constraint ' ~ c['name'] ~ ' ' if c.get('name') else 'add ') ~ 'check (' ~ c['expression'] ~ ')') -%}
      {%- else -%}
        {{ exceptions.raise_compiler_error("constraint type '" ~ c['type'] ~ "' on " ~ model['name'] ~ "." ~ column['name'] ~ " is not supported by the project's create_table_as (macros/contracts/)") }}
      {%- endif -%}
    {%- endfor -%}
  {%- endfor -%}
  {%- for c in model.get('constraints', []) -%}
    {%- if c['type'] == 'check' and c.get('expression') -%}
      {%- do actions.append(('add constraint ' ~ c['name'] ~ ' ' if c.get('name') else 'add ') ~ 'check (' ~ c['expression'] ~ ')') -%}
    {%- else -%}
      {{ exceptions.raise_compiler_error("constraint type '" ~ c['type'] ~ "' on " ~ model['name'] ~ " is not supported by the project's create_table_as (macros/contracts/)") }}
    {%- endif -%}
  {%- endfor -%}
  {%- if actions -%}
  alter table {{ relation }}
    {{ actions | join(',\n    ') }};
  {%- endif -%}
{%- endmacro %}
