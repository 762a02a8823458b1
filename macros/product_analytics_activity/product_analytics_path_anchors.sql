{#-
  product_analytics_path_anchors(relation)
  A query over `relation` (events with event_id, occurred_at, event_date, tenant_id,
  event_domain, event_type, event_name = 'domain.type' and the entity columns): for
  each declared path, every event with a non-null entity (the path's `entity`
  column) and the entity's next event name that UTC day (lead over the entity's
  events ordered by occurred_at, event_id; null when none). Columns path_name,
  event_date, tenant_id, event_domain, event_type, next_event; the caller keeps the
  path's anchor events. No row when no path is declared.
-#}
{% macro product_analytics_path_anchors(relation) -%}
    {%- set paths = product_analytics_activity_settings()['paths'] -%}
    {%- for path in paths %}
    select
        '{{ path.name }}' as path_name,
        event_date,
        tenant_id,
        event_domain,
        event_type,
        lead(event_name) over (
            partition by event_date, {{ path.entity }} order by occurred_at, event_id
        ) as next_event
    from {{ relation }}
    where {{ path.entity }} is not null
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- else %}
    select
        cast(null as {{ dbt.type_string() }}) as path_name,
        cast(null as date) as event_date,
        cast(null as {{ dbt.type_string() }}) as tenant_id,
        cast(null as {{ dbt.type_string() }}) as event_domain,
        cast(null as {{ dbt.type_string() }}) as event_type,
        cast(null as {{ dbt.type_string() }}) as next_event
    from {{ relation }}
    where 1 = 0
    {%- endfor %}
{%- endmacro %}
