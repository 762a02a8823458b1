{#-
  Incremental strategy `replace_days` (config incremental_strategy='replace_days',
  unique_key = the model's day column): an incremental run replaces exactly the
  days kpi_days_to_process() names — deletes every row of those days, then
  inserts the recomputed rows — inside the transaction dbt's incremental
  materialization holds, so a reader sees the old day or the new one, and a
  day that lost all its rows (an event corrected onto another day) is emptied.
  Engine specifics are dispatched: delete+insert on PostgreSQL and DuckDB
  (default__), partition overwrite where the engine has it.
-#}
{% macro get_incremental_replace_days_sql(arg_dict) -%}
    {{ return(adapter.dispatch('get_incremental_replace_days_sql')(arg_dict)) }}
{%- endmacro %}

{% macro default__get_incremental_replace_days_sql(arg_dict) -%}
    {%- set day_column = arg_dict['unique_key'] -%}
    {%- if not day_column or day_column is not string -%}
        {{ exceptions.raise_compiler_error("incremental_strategy 'replace_days' needs unique_key = the model's day column") }}
    {%- endif -%}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    delete from {{ target }}
    where {{ kpi_in_days(day_column) }};
    insert into {{ target }} ({{ columns }})
    select {{ columns }} from {{ arg_dict['temp_relation'] }}
{%- endmacro %}
