{#-
  One row per call (entity_id of the calls domain) with the first timestamp of
  each step (seed 004 call quality). Calls are counted on the day they STARTED
  (a call started at 23:59 and answered at 00:00 belongs to its start day), so
  answered <= attempted holds on every day. The outcome may come the next day;
  metrics_daily_calls reads the calls started on the days it recomputes
  (kpi_in_days on started_at).
  Incremental (delete+insert on call_id): a run recomputes the calls touched
  since its last run from all their events (macro platform_lifecycle).
-#}
{{ config(
    unique_key='call_id',
    event_time='started_at',
    indexes=[{'columns': ['call_id'], 'unique': true}, {'columns': ['staged_at']}, {'columns': ['started_at']}],
) }}

with

lifecycle as (

    {{ platform_lifecycle(
        domain='calls',
        entity_column='call_id',
        steps={
            'call_started': 'started_at',
            'call_answered': 'answered_at',
            'call_ended': 'ended_at',
            'call_dropped': 'dropped_at',
        },
        aggregates=[
            'min(service_code) as service_code',
            "max(case when event_type in ('call_ended', 'call_dropped') then duration_seconds end) as duration_seconds",
            "max(case when event_type = 'call_ended' and lower(recorded_flag) = 'true' then 1 else 0 end) as recorded",
        ],
        event_columns=['service_code', 'duration_seconds', json_get_text('metadata', 'recorded') ~ ' as recorded_flag'],
    ) }}

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
