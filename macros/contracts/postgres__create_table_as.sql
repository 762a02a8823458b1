{#-
  dbt-postgres' create_table_as, with one change for a model with an enforced
  contract: the table is written by `create table ... as` (which PostgreSQL runs
  with parallel workers), where dbt-postgres creates an empty table with the
  contract's constraints and fills it with `insert ... select` — a statement
  PostgreSQL never runs in parallel, ~2x slower for the whole-history
  statements of a first or full build on two cores. The contract is still
  checked first (column names and types, dbt's get_assert_columns_equivalent);
  the columns come out in the SQL's order, which the contract makes the yml's
  order. The constraints are added by the post-hook kpi_ensure_constraints, one
  `alter table` in the same transaction (one scan of the new table); the
  statement's row count stays the create's (ops.etl_job_run_nodes).
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
{%- endmacro %}

{#- `alter table <relation> ...` adding the current model's contract constraints
    (not null, check); '' when it declares none. -#}
