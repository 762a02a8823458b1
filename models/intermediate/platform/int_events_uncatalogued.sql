{#-
  Events whose (event_domain, event_type) is not in the event catalogue seed:
  kept for analysts to inspect instead of vanishing from the marts (seed 004's
  schema validation). Small, but it is read from the whole event log: daily
  microbatch on occurred_at like stg_platform__events (a run reads only its
  batch days; a backfill of a day re-checks that day, against the current
  catalogue). DECISIONLOG "Incremental platform intermediates".
-#}
{{ config(
    materialized='incremental',
    incremental_strategy='microbatch',
    event_time='occurred_at',
    batch_size='day',
    lookback=var('events_lookback_days'),
    begin=var('kpi_begin'),
    unique_key='event_id',
) }}

with

events as (

    select
        event_id,
        occurred_at,
        event_date,
        tenant_id,
        event_domain,
        event_type,
        schema_version,
        _loaded_at
    from {{ ref('stg_platform__events') }}

),

catalogue as (

    select event_domain, event_type from {{ ref('event_catalogue') }}

)

select
    events.event_id,
    events.occurred_at,
    events.event_date,
    events.tenant_id,
    events.event_domain,
    events.event_type,
    events.schema_version,
    events._loaded_at
from events
left join catalogue
    on events.event_domain = catalogue.event_domain
    and events.event_type = catalogue.event_type
where catalogue.event_type is null
