{#-
  Post-hook of every model (dbt_project.yml): on an incremental run, an
  incremental table gets the indexes of its `indexes` config that it lacks.
  dbt-postgres creates a model's indexes only when it creates the table (first
  build, --full-refresh), so an index added to the config later would otherwise
  reach an existing table only with a full refresh. An index counts as present
  when a valid index of the same access method, uniqueness and key columns (in
  order; no predicate, no expression) exists, whatever its name. Missing ones are
  created with dbt's own statement (get_create_index_sql), in the model's
  transaction: a unique index the rows violate fails the model, naming it. One
  catalog query per incremental model and run, none for other materializations
  or a model without indexes; DDL only when something is missing. Dispatched:
  engines without secondary indexes get nothing by default.
-#}
{% macro kpi_ensure_indexes() -%}
    {{ return(adapter.dispatch('kpi_ensure_indexes')()) }}
{%- endmacro %}

{% macro default__kpi_ensure_indexes() -%}
    {{ return('') }}
{%- endmacro %}

{% macro postgres__kpi_ensure_indexes() -%}
    {%- set wanted = config.get('indexes') or [] -%}
    {%- if not execute or not wanted or config.get('materialized') != 'incremental' or not is_incremental() -%}
        {{ return('') }}
    {%- endif -%}
    {%- set catalog = run_query(
        "select am.amname, i.indisunique, string_agg(a.attname, ',' order by k.ord)"
        ~ " from pg_index as i"
        ~ " join pg_class as ic on ic.oid = i.indexrelid"
        ~ " join pg_am as am on am.oid = ic.relam"
        ~ " cross join lateral unnest(i.indkey) with ordinality as k (attnum, ord)"
        ~ " join pg_attribute as a on a.attrelid = i.indrelid and a.attnum = k.attnum"
        ~ " where i.indrelid = '" ~ this ~ "'::regclass and i.indisvalid"
        ~ " and i.indpred is null and i.indexprs is null and k.ord <= i.indnkeyatts"
        ~ " group by i.indexrelid, am.amname, i.indisunique") -%}
    {%- set present = [] -%}
    {%- for row in catalog.rows -%}
        {%- do present.append(row[0] ~ '|' ~ row[1] ~ '|' ~ row[2]) -%}
    {%- endfor -%}
    {%- set ddl = [] -%}
    {%- for index_dict in wanted -%}
        {%- set index_config = adapter.parse_index(index_dict) -%}
        {%- set signature = (index_config.type or 'btree') ~ '|' ~ (index_config.unique == true) ~ '|'
            ~ (index_config.columns | map('replace', '"', '') | join(',')) -%}
        {%- if signature not in present -%}
            {%- do ddl.append(get_create_index_sql(this, index_dict)) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ ddl | join(';\n') }}
{%- endmacro %}
