{#-
  analyze_relation(): fresh planner statistics for a table a model wrote
  (table, incremental and snapshots); nothing for views and ephemeral models.
  Used as a project-wide post-hook: PostgreSQL only gathers statistics on new
  tables when autovacuum gets round to it, and a model read right after it is
  built would otherwise be planned blind (a nested loop over a 1-row estimate).
  A new or rebuilt table is always analyzed. An incremental run is analyzed
  only when its transaction changed more rows than autovacuum's own rule would
  wait for (autovacuum_analyze_threshold 50 + autovacuum_analyze_scale_factor
  0.1 of the table's rows: PostgreSQL's defaults), counted by
  pg_stat_get_xact_tuples_* in the model's own transaction, or when the table
  was never analyzed: a scheduled day adds ~1/120 of a table and its
  statistics stay valid, while `analyze` re-samples the whole table (0.4 s on
  a 1 M-row event log, every run). Dispatched: engines without ANALYZE
  semantics (e.g. Spark) get nothing by default.
-#}
{% macro analyze_relation() -%}
    {{ return(adapter.dispatch('analyze_relation', 'kpi_warehouse')()) }}
{%- endmacro %}

{% macro default__analyze_relation() -%}
{%- endmacro %}

{% macro postgres__analyze_relation() -%}
    {%- set materialized = config.get('materialized') -%}
    {%- if execute and materialized == 'incremental' and is_incremental() -%}
        do $kpi_analyze$
        declare
            changed bigint;
            live real;
        begin
            select pg_stat_get_xact_tuples_inserted(c.oid) + pg_stat_get_xact_tuples_updated(c.oid)
                    + pg_stat_get_xact_tuples_deleted(c.oid),
                c.reltuples
            into changed, live
            from pg_class as c
            where c.oid = '{{ this }}'::regclass;
            if live < 0 or changed > 50 + 0.1 * live then
                execute 'analyze {{ this }}';
            end if;
        end
        $kpi_analyze$
    {%- elif execute and materialized in ('table', 'incremental', 'snapshot') -%}
        analyze {{ this }}
    {%- endif -%}
{%- endmacro %}
