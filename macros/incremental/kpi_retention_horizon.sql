{#-
  kpi_retention_horizon()
  The first UTC day of event-level data still kept after the retention runs
  (`kpi retention apply`, table ops.retention_runs: max(event_cutoff)), as an
  ISO date string; none when retention never ran (or outside execution).
  Days before it are no longer in raw or staging: incremental models must not
  recompute them (they would replace a kept aggregate by one over nothing).
-#}
{% macro kpi_retention_horizon() -%}
    {%- if not execute -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set log = adapter.get_relation(database=target.database, schema='ops', identifier='retention_runs') -%}
    {%- if log is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set found = run_query(
        'select cast(' ~ utc_date('max(event_cutoff)') ~ ' as ' ~ dbt.type_string() ~ ') from ' ~ log
    ).columns[0].values() -%}
    {{ return(found[0][:10] if found and found[0] else none) }}
{%- endmacro %}
