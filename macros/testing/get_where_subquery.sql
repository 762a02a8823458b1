{#-
  dbt's get_where_subquery (the relation a generic test reads), overridden for
  the project: besides a test's own `where` config, a test of a model that
  declares meta `kpi_test_rows_written_at: <column>` reads only the rows the
  current dbt invocation (re)wrote — <column> (the run's transaction time, e.g.
  dbt_loaded_at) at or after the invocation's start less var
  kpi_test_scope_margin_minutes (clock skew between dbt and the database).
  Such a model is incremental (delete+insert on a key it keeps unique by index):
  the rows it did not rewrite were tested by the run that wrote them, so a
  scheduled run tests what it wrote instead of re-scanning the whole table; a
  first build, a full refresh or a write-audit-publish shadow writes (and so
  tests) every row. DECISIONLOG "What a build's tests cost".
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
    {%- set since = run_started_at - modules.datetime.timedelta(minutes=var('kpi_test_scope_margin_minutes', 60) | int) -%}
    {%- do return(column ~ " >= cast('" ~ since.strftime('%Y-%m-%d %H:%M:%S') ~ "+00' as " ~ type_timestamp_tz() ~ ")") -%}
{%- endmacro %}
