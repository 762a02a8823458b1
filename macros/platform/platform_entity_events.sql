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
    {%- set identified = [] if keep_unidentified else ['entity_id is not null'] -%}
    {%- if is_incremental() -%}
        {%- set touched = platform_touched_entities(domain) | indent(8) -%}
        {%- do identified.append('entity_id in (\n            ' ~ touched ~ '\n        )') -%}
    {%- endif -%}
    {#- one select per branch: the events with an entity id (as restricted above), then,
        when kept, those without one (union all, each branch served by its own index) -#}
    {%- set branches = [identified] -%}
    {%- if keep_unidentified and is_incremental() -%}
        {%- do branches.append(['entity_id is null', 'dbt_loaded_at > ' ~ platform_staged_watermark()]) -%}
    {%- endif -%}
    {%- for conditions in branches %}
    select
        {{ selected | join(',\n        ') }}
    from {{ ref('stg_platform__events') }}
    where event_domain = '{{ domain }}'
        {%- if event_types %}
        and event_type in ('{{ event_types | join("', '") }}')
        {%- endif %}
        {%- for condition in conditions %}
        and {{ condition }}
        {%- endfor %}
    {%- if not loop.last %}
    union all
    -- events without an entity id: the ones staged since the last run
    {%- endif %}
    {%- endfor %}
{%- endmacro %}
