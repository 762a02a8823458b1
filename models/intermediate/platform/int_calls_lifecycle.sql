{#-
  One row per call (entity_id of the calls domain) with the first timestamp of
  each step (seed 004 call quality). Calls are counted on the day they STARTED
  (a call started at 23:59 and answered at 00:00 belongs to its start day), so
  answered <= attempted holds on every day. The outcome may come the next day;
  metrics_daily_calls reads the calls started on the days it recomputes
  (kpi_in_days on started_at).
  Incremental (delete+insert): a run recomputes, from ALL their staging
  events, only the calls touched by staging rows written since its last run
  (dbt_loaded_at > max(staged_at)); a first build / --full-refresh computes
  everything (DECISIONLOG "Incremental platform intermediates").
-#}
{{ config(
    unique_key='call_id',
    event_time='started_at',
    indexes=[{'columns': ['call_id'], 'unique': true}, {'columns': ['staged_at']}, {'columns': ['started_at']}],
) }}

with

{% if is_incremental() %}
touched as (

    {{ platform_touched_entities('calls') }}

),

{% endif %}

call_events as (

    select
        entity_id,
        event_type,
        occurred_at,
        service_code,
        duration_seconds,
        {{ json_get_text('metadata', 'recorded') }} as recorded_flag,
        dbt_loaded_at
    from {{ ref('stg_platform__events') }}
    where event_domain = 'calls'
        and entity_id is not null
        {% if is_incremental() %}and entity_id in (select entity_id from touched){% endif %}

),

lifecycle as (

    select
        entity_id as call_id,
        min(service_code) as service_code,
        min(case when event_type = 'call_started' then occurred_at end) as started_at,
        min(case when event_type = 'call_answered' then occurred_at end) as answered_at,
        min(case when event_type = 'call_ended' then occurred_at end) as ended_at,
        min(case when event_type = 'call_dropped' then occurred_at end) as dropped_at,
        max(case when event_type in ('call_ended', 'call_dropped') then duration_seconds end) as duration_seconds,
        max(case when event_type = 'call_ended' and lower(recorded_flag) = 'true' then 1 else 0 end) as recorded,
        max(dbt_loaded_at) as staged_at
    from call_events
    group by entity_id

)

select
    call_id,
    service_code,
    started_at,
    {{ utc_date('started_at') }} as started_date,
    answered_at,
    ended_at,
    dropped_at,
    answered_at is not null as is_answered,
    ended_at is not null as is_completed,
    dropped_at is not null and ended_at is null as is_dropped,
    recorded = 1 as is_recorded,
    duration_seconds,
    staged_at
from lifecycle
where started_at is not null
