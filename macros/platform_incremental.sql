{#-
  Incremental platform intermediates (DECISIONLOG "Incremental platform
  intermediates"): the watermark of the model being built = the latest
  stg_platform__events.dbt_loaded_at it has already processed (its staged_at
  column). Staging rows written after it are new; the entities (users) they
  touch are recomputed from all their staging rows.
-#}
{#- Rendered as a literal (read when the model runs) so that the planner sees
    how few staging rows are newer and uses the dbt_loaded_at index. -#}
{% macro platform_staged_watermark() -%}
    {%- set watermark = none -%}
    {%- if execute -%}
        {%- set result = run_query('select cast(max(staged_at) as ' ~ dbt.type_string() ~ ') from ' ~ this) -%}
        {%- set watermark = result.columns[0].values()[0] -%}
    {%- endif -%}
    '{{ watermark if watermark is not none else "1900-01-01 00:00:00+00" }}'
{%- endmacro %}

{#- Distinct entity_id of `domain`'s staging rows written since the watermark (incremental runs only). -#}
{% macro platform_touched_entities(domain) -%}
    select distinct entity_id
    from {{ ref('stg_platform__events') }}
    where event_domain = '{{ domain }}'
        and entity_id is not null
        and dbt_loaded_at > {{ platform_staged_watermark() }}
{%- endmacro %}
