{#-
  platform_entity_events(domain, columns=[], event_types=none, keep_unidentified=false)
  Select of one event domain's staging events that carry an entity id: entity_id,
  event_type, occurred_at, `columns`, dbt_loaded_at. On an incremental run, only
  the events of the entities touched since the model's last run
  (platform_touched_entities), all of their events: the body of the events CTE of
  a platform lifecycle or pairing model (DECISIONLOG "Incremental platform
  intermediates"). keep_unidentified: events without an entity id are kept too
  (on an incremental run, those staged since the last run).
-#}
{% macro platform_entity_events(domain, columns=[], event_types=none, keep_unidentified=false) -%}
    {%- set selected = ['entity_id', 'event_type', 'occurred_at'] + columns + ['dbt_loaded_at'] -%}
    select
        {{ selected | join(',\n        ') }}
    from {{ ref('stg_platform__events') }}
    where event_domain = '{{ domain }}'
        {%- if event_types %}
        and event_type in ('{{ event_types | join("', '") }}')
        {%- endif %}
        {%- if not keep_unidentified %}
        and entity_id is not null
        {%- endif %}
        {%- if is_incremental() %}
        and entity_id in (
            {{ platform_touched_entities(domain) | indent(8) }}
        )
        {%- endif %}
    {%- if keep_unidentified and is_incremental() %}
    union all
    -- events without an entity id: the ones staged since the last run
    select
        {{ selected | join(',\n        ') }}
    from {{ ref('stg_platform__events') }}
    where event_domain = '{{ domain }}'
        {%- if event_types %}
        and event_type in ('{{ event_types | join("', '") }}')
        {%- endif %}
        and entity_id is null
        and dbt_loaded_at > {{ platform_staged_watermark() }}
    {%- endif %}
{%- endmacro %}
