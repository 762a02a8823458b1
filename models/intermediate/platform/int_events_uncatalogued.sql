{#-
  Events whose (event_domain, event_type) is not in the event catalogue seed:
  kept for analysts to inspect instead of vanishing from the marts (seed 004's
  schema validation). Small, but it is read from the whole event log:
  incremental by day (replace_days): a run re-checks, against the current
  catalogue, the days of the events staged since its last run (and a backfill's
  days). DECISIONLOG "Late and corrected data".
-#}
{{ config(
    tags=['daily'],
    incremental_strategy='replace_days',
    unique_key='event_date',
    indexes=[{'columns': ['event_id'], 'unique': true}],
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
    where {{ kpi_in_days('occurred_at', timestamp=true) }}

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
