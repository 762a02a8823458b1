{#-
  platform_lifecycle(domain, entity_column, steps, aggregates=[], event_columns=[], event_types=none)
  Select of one row per entity of an event domain (entity_id renamed
  `entity_column`): the first occurred_at of each step (`steps`, event_type ->
  column, in that order), the model's own `aggregates`, and staged_at = the
  latest dbt_loaded_at of the entity's events (the model's watermark column).
  Reads platform_entity_events(domain, event_columns, event_types), so an
  incremental run recomputes, from all their events, only the entities touched
  since the last run (DECISIONLOG "Incremental platform intermediates").
-#}
{% macro platform_lifecycle(domain, entity_column, steps, aggregates=[], event_columns=[], event_types=none) -%}
    select
        entity_id as {{ entity_column }},
        {%- for event_type, column in steps.items() %}
        min(case when event_type = '{{ event_type }}' then occurred_at end) as {{ column }},
        {%- endfor %}
        {%- for aggregate in aggregates %}
        {{ aggregate }},
        {%- endfor %}
        max(dbt_loaded_at) as staged_at
    from (
        {{ platform_entity_events(domain, event_columns, event_types) | indent(4) }}
    ) as domain_events
    group by entity_id
{%- endmacro %}
