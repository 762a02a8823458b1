{#-
  kpi_unique_index_condition(relation): for a `unique` or
  `unique_combination_of_columns` test, a condition that holds only while the
  tested relation has NO valid unique index guaranteeing what the test checks;
  '' for any other test (and on engines without such an index: dispatched).
  default__get_where_subquery adds it to the rows the test reads. PostgreSQL
  evaluates the uncorrelated `not exists` once, as a one-time filter: when the
  index is there the test reads no row (0.5 ms instead of a scan of the table:
  0.4 s on a 1 M-row event log), and when it is missing, invalid, partial, on
  an expression or on other columns, the test reads every row as written.
  Guaranteeing means: a plain unique index (no predicate, no expression) whose
  key columns are exactly the tested ones; for unique_combination_of_columns,
  where nulls compare equal, also nulls-not-distinct or every column not null.
  The database enforces such an index on every row ever written, so the
  invariant the test checks holds on the whole table, not only when it ran.
  DECISIONLOG "What a build's tests cost".
-#}
{% macro kpi_unique_index_condition(relation) -%}
    {{ return(adapter.dispatch('kpi_unique_index_condition', 'kpi_warehouse')(relation)) }}
{%- endmacro %}

{% macro default__kpi_unique_index_condition(relation) -%}
    {{ return('') }}
{%- endmacro %}

{% macro postgres__kpi_unique_index_condition(relation) -%}
    {%- if not execute or model is not mapping or not model.get('test_metadata') -%}
        {{ return('') }}
    {%- endif -%}
    {%- set test = model.test_metadata -%}
    {%- if test.name == 'unique' -%}
        {%- set columns = [test.kwargs.get('column_name')] -%}
        {%- set nulls_equal = false -%}
    {%- elif test.name == 'unique_combination_of_columns' -%}
        {%- set columns = test.kwargs.get('combination_of_columns') or [] -%}
        {%- set nulls_equal = true -%}
    {%- else -%}
        {{ return('') }}
    {%- endif -%}
    {%- set names = [] -%}
    {%- for c in columns -%}
        {%- set name = (c or '') | string | trim -%}
        {#- a plain column name only (an expression never matches an index column) -#}
        {%- if not modules.re.fullmatch('"?[A-Za-z_][A-Za-z0-9_$]*"?', name) -%}
            {{ return('') }}
        {%- endif -%}
        {%- do names.append(name.strip('"') if name.startswith('"') else name | lower) -%}
    {%- endfor -%}
    {%- if not names -%}
        {{ return('') }}
    {%- endif -%}
    {%- set wanted = names | unique | sort -%}
    {%- set condition -%}
        not exists (
            select 1
            from pg_catalog.pg_index as i
            where i.indrelid = '{{ relation }}'::regclass
                and i.indisunique and i.indisvalid and i.indpred is null and i.indexprs is null
                and i.indnkeyatts = {{ wanted | length }}
                and (
                    select array_agg(a.attname::text order by a.attname::text collate "C")
                    from pg_catalog.pg_attribute as a
                    where a.attrelid = i.indrelid and a.attnum = any(i.indkey::int2 [])
                        {%- if nulls_equal %}
                        and (i.indnullsnotdistinct or a.attnotnull)
                        {%- endif %}
                ) = array['{{ wanted | join("', '") }}']::text []
        )
    {%- endset -%}
    {{ return(condition) }}
{%- endmacro %}
