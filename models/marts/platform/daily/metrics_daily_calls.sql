{#-
  Seed 004's metrics_daily_calls: one row per UTC day and service_code, over the
  calls STARTED that day (int_calls_lifecycle, read for the recomputed days by
  started_at): a call's answer, end or drop counts with its start day, so every
  part <= whole holds each day. Rates per the seed: answer = answered/attempted,
  completion, drop and recording = x/answered. Durations (seconds) of the calls
  that ended or dropped. Incremental (replace_days on metric_date): a run
  recomputes the days kpi_days_to_process() names and replaces their rows.
-#}
{{ config(
    kpi_changed_days={'domains': ['calls'], 'intermediates': [['int_calls_lifecycle', 'started_at']]},
    indexes=[
        {'columns': ['calls_day_key'], 'unique': true},
        {'columns': ['metric_date', 'service_code']},
    ],
) }}

-- depends_on: {{ ref('stg_platform__events') }}  (the change feed: macros/incremental/kpi_days_to_process.sql)

with

calls as (

    -- the days this run recomputes, by started_at (all of them on a first build)
    select
        started_date,
        {{ unknown_member('service_code') }} as service_code,
        is_answered,
        is_completed,
        is_dropped,
        is_recorded,
        duration_seconds
    from {{ ref('int_calls_lifecycle') }}
    where {{ kpi_in_days('started_at', timestamp=true) }}

),

daily as (

    select
        started_date as metric_date,
        service_code,
        count(*) as calls_attempted,
        sum(case when is_answered then 1 else 0 end) as calls_answered,
        sum(case when is_answered and is_completed then 1 else 0 end) as calls_completed,
        sum(case when is_answered and is_dropped then 1 else 0 end) as calls_dropped,
        sum(case when is_answered and is_recorded then 1 else 0 end) as calls_recorded,
        avg(duration_seconds) as avg_duration_seconds,
        {{ percentile('duration_seconds', 0.95) }} as p95_duration_seconds
    from calls
    group by started_date, service_code

)

select
    {{ surrogate_key(['metric_date', 'service_code']) }} as calls_day_key,
    metric_date,
    service_code,
    calls_attempted,
    calls_answered,
    calls_completed,
    calls_dropped,
    calls_recorded,
    round(cast(calls_answered as {{ dbt.type_numeric() }}) / nullif(calls_attempted, 0), 4) as answer_rate,
    round(cast(calls_completed as {{ dbt.type_numeric() }}) / nullif(calls_answered, 0), 4) as completion_rate,
    round(cast(calls_dropped as {{ dbt.type_numeric() }}) / nullif(calls_answered, 0), 4) as drop_rate,
    round(cast(calls_recorded as {{ dbt.type_numeric() }}) / nullif(calls_answered, 0), 4) as recording_rate,
    round(cast(avg_duration_seconds as {{ dbt.type_numeric() }}), 3) as avg_duration_seconds,
    round(cast(p95_duration_seconds as {{ dbt.type_numeric() }}), 3) as p95_duration_seconds
from daily
