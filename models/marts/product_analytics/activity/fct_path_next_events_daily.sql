{#-
  Paths (PostHog / Amplitude "what do they do next"): for every path declared in
  var product_analytics.paths, one row per (UTC day of the anchor event,
  path_name, tenant_id, next_event) - tenant of the anchor, plus 'all' tenants -
  counting the anchor events (`after`, domain.type) whose entity (the path's
  `entity` column, user_id by default) has that next event (domain.type) later on
  the same UTC day in the streams, or '(none)' when it has none. Anchors whose
  entity is null are left out. Ties at the same instant are ordered by event_id.
  Linear: lead over each entity's ordered events of the day, no self-join.
  Incremental (replace_days on metric_date, no look-back: the next event is looked
  for on the anchor's day, as sessions end at midnight): a run recomputes the days
  of the streams' events staged since its last run. rpt_path_top_next_events
  ranks the counts over all days.
-#}
{%- set settings = product_analytics_activity_settings() %}
{{ config(
    materialized='incremental',
    incremental_strategy='replace_days',
    unique_key='metric_date',
    tags=['daily'],
    kpi_changed_days={'domains': settings['streams']},
    indexes=[
        {'columns': ['metric_date', 'path_name', 'tenant_id', 'next_event'], 'unique': true},
    ],
) }}

with

events as (

    select
        event_id,
        occurred_at,
        event_date,
        {{ unknown_member('tenant_id') }} as tenant_id,
        event_domain,
        event_type,
        {{ dbt.concat(['event_domain', "'.'", 'event_type']) }} as event_name,
        user_id,
        session_id,
        entity_id,
        location_id
    from {{ ref('stg_platform__events') }}
    where event_domain in {{ product_analytics_stream_list() }}
        and {{ kpi_in_days('occurred_at', timestamp=true) }}

),

anchors as (

    -- per declared path: each event of a non-null entity and the entity's next event that day
    {{ product_analytics_path_anchors('events') }}

),

declared as (

    {{ product_analytics_paths_declared() }}

),

followed as (

    select
        anchors.path_name,
        anchors.event_date,
        anchors.tenant_id,
        coalesce(anchors.next_event, '(none)') as next_event
    from anchors
    inner join declared
        on anchors.path_name = declared.path_name
        and anchors.event_domain = declared.event_domain
        and anchors.event_type = declared.event_type

),

counted as (

    select event_date, path_name, tenant_id, next_event, count(*) as events
    from followed
    group by event_date, path_name, tenant_id, next_event
    union all
    select event_date, path_name, 'all', next_event, count(*)
    from followed
    group by event_date, path_name, next_event

)

select
    event_date as metric_date,
    path_name,
    tenant_id,
    next_event,
    cast(events as {{ dbt.type_bigint() }}) as events
from counted
