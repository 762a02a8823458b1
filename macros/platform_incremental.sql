{#-
  Incremental platform intermediates (DECISIONLOG "Incremental platform
  intermediates"): the watermark of the model being built = the latest
  stg_platform__events.dbt_loaded_at it has already processed (its staged_at
  column). Staging rows written after it are new; the entities (users) they
  touch are recomputed from all their staging rows.
-#}
{% macro platform_staged_watermark() -%}
    (select coalesce(max(staged_at), cast('1900-01-01' as {{ dbt.type_timestamp() }})) from {{ this }})
{%- endmacro %}

{#- Distinct entity_id of `domain`'s staging rows written since the watermark (incremental runs only). -#}
{% macro platform_touched_entities(domain) -%}
    select distinct entity_id
    from {{ ref('stg_platform__events') }}
    where event_domain = '{{ domain }}'
        and entity_id is not null
        and dbt_loaded_at > {{ platform_staged_watermark() }}
{%- endmacro %}
