{#-
  analyze_relation(): `analyze <this>` for models that write a table
  (table, incremental and snapshots); nothing for views
  and ephemeral models. Used as a project-wide post-hook: PostgreSQL only
  gathers statistics on new tables when autovacuum gets round to it, and a
  model read right after it is built would otherwise be planned blind (a
  nested loop over a 1-row estimate). Dispatched: engines without ANALYZE
  semantics (e.g. Spark) get nothing by default.
-#}
{% macro analyze_relation() -%}
    {{ return(adapter.dispatch('analyze_relation', 'kpi_warehouse')()) }}
{%- endmacro %}

{% macro default__analyze_relation() -%}
{%- endmacro %}

{% macro postgres__analyze_relation() -%}
    {%- if execute and config.get('materialized') in ('table', 'incremental', 'snapshot') -%}
        analyze {{ this }}
    {%- endif -%}
{%- endmacro %}
