{#-
  dbt's get_where_subquery (the relation a generic test reads), overridden for
  the project: besides a test's own `where` config, a test of a model that
  declares meta `kpi_test_rows_written_at: <column>` reads only the rows the
  current dbt build (re)wrote — <column> (the run's transaction time, e.g.
  dbt_loaded_at) at or after the invocation's start on the database's clock
  (ops.dbt_invocations, written by the on-run-start hook
  kpi_record_invocation_start). A `dbt test` alone tests every row.
  Such a model is incremental (delete+insert on a key it keeps unique by index):
  the rows it did not rewrite were tested by the run that wrote them, so a
  scheduled run tests what it wrote instead of re-scanning the whole table; a
  first build, a full refresh or a write-audit-publish shadow writes (and so
  tests) every row. A `unique` or `unique_combination_of_columns` test also
  gets kpi_unique_index_condition: it reads no row while a valid unique index
  on exactly its columns guarantees what it checks. DECISIONLOG "What a
  build's tests cost".
-#}
{% macro default__get_where_subquery(relation) -%}
    {%- set conditions = [] -%}
    {%- set where = config.get('where', '') -%}
    {%- if where -%}
        {%- do conditions.append('(' ~ where ~ ')') -%}
    {%- endif -%}
    {%- set scope = kpi_test_scope_condition() -%}
    {%- if scope -%}
        {%- do conditions.append(scope) -%}
    {%- endif -%}
    {#- a uniqueness test reads no row while a unique index guarantees it (macros/testing/kpi_unique_index_condition.sql) -#}
    {%- set unindexed = kpi_unique_index_condition(relation) -%}
    {%- if unindexed -%}
        {%- do conditions.append(unindexed) -%}
    {%- endif -%}
    {%- if conditions -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ conditions | join(' and ') }}) dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}

{#- The scope condition of the test being run (see above), or '' when its model
    declares no meta kpi_test_rows_written_at or while dbt only parses. -#}
{% macro kpi_test_scope_condition() -%}
    {%- if not execute or model is not mapping -%}
        {%- do return('') -%}
    {%- endif -%}
    {%- set attached = model.get('attached_node') -%}
    {%- set parent = graph.nodes.get(attached) if attached else none -%}
    {%- set column = (parent.config.meta or {}).get('kpi_test_rows_written_at') if parent else none -%}
    {%- if not column -%}
        {%- do return('') -%}
    {%- endif -%}
    {%- do return(kpi_written_this_build(column)) -%}
{%- endmacro %}

{#- SQL condition: `column` (a row's write time, the database's transaction
    time) is at or after this dbt invocation's start — the rows this build
    (re)wrote. '' under `dbt test` alone (it tests every row) and while dbt only
    parses. Used by the scope above and by singular tests that read what a
    build wrote (tests/singular/bookings/). -#}
{% macro kpi_written_this_build(column) -%}
    {#- only a build writes the rows its tests read; `dbt test` alone tests every row -#}
    {%- if not execute or flags.WHICH not in ('build', 'run') -%}
        {%- do return('') -%}
    {%- endif -%}
    {%- do return(column ~ " >= (select started_at from ops.dbt_invocations where invocation_id = '"
        ~ invocation_id ~ "')") -%}
{%- endmacro %}

{#- on-run-start: the database's clock at the start of this dbt invocation, in
    ops.dbt_invocations (admin only, like the job-run log; rows older than 30 days
    are removed here). The test scope compares the rows' own write times (the
    database's transaction time) with it: no clock skew between dbt and the
    database to allow for. -#}
{% macro kpi_record_invocation_start() -%}
    {%- set ts = type_timestamp_tz() -%}
    create schema if not exists ops;
    create table if not exists ops.dbt_invocations (
        invocation_id {{ dbt.type_string() }} not null primary key,
        started_at {{ ts }} not null
    );
    delete from ops.dbt_invocations where started_at < {{ dbt.current_timestamp() }} - interval '30 days';
    insert into ops.dbt_invocations (invocation_id, started_at)
    values ('{{ invocation_id }}', {{ dbt.current_timestamp() }})
    on conflict (invocation_id) do nothing
    {%- if var('kpi_security', true) %};
    grant select on ops.dbt_invocations to kpi_admin
    {%- endif %}
{%- endmacro %}
