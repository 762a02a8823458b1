{#-
  ISO-week rollup of metrics_daily_calls: counts summed, rates recomputed from
  the sums; avg and p95 duration recomputed from the week's calls
  (int_calls_lifecycle), never averaged from daily values.
  Incremental: a run recomputes only the weeks touched since its watermark
  (recorded in ops.model_watermarks by a post-hook, so the rows themselves stay
  byte-identical across re-runs; macro platform_touched_weeks) and replaces them whole (delete+insert on
  week_start, which is the replaced partition, not the row key); a first build
  / --full-refresh computes every week (DECISIONLOG "Incremental weekly rollups").
-#}
-- depends_on: {{ ref('stg_platform__events') }}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='week_start',
    indexes=[{'columns': ['week_start', 'service_code']}],
    post_hook=["{{ platform_record_watermark() }}"],
) }}

with

{% if is_incremental() %}
{#- read through platform_in_touched_weeks(); the lint stand-in of that macro does not show it (noqa) -#}
touched_weeks as (  -- noqa: ST03

    {{ platform_touched_weeks('calls', [(ref('int_calls_lifecycle'), 'started_date')]) }}

),
{% endif %}

daily as (

    select
        cast({{ dbt.date_trunc('week', 'metric_date') }} as date) as week_start,
        service_code,
        calls_attempted,
        calls_answered,
        calls_completed,
        calls_dropped,
        calls_recorded
    from {{ ref('metrics_daily_calls') }}
    where {{ platform_in_touched_weeks('metric_date') }}

),

calls as (

    select
        cast({{ dbt.date_trunc('week', 'started_date') }} as date) as week_start,
        service_code,
        duration_seconds
    from {{ ref('int_calls_lifecycle') }}
    where {{ platform_in_touched_weeks('started_date') }}

),

weekly as (

    select
        week_start,
        service_code,
        sum(calls_attempted) as calls_attempted,
        sum(calls_answered) as calls_answered,
        sum(calls_completed) as calls_completed,
        sum(calls_dropped) as calls_dropped,
        sum(calls_recorded) as calls_recorded
    from daily
    group by week_start, service_code

),

durations as (

    select
        week_start,
        service_code,
        avg(duration_seconds) as avg_duration_seconds,
        {{ percentile('duration_seconds', 0.95) }} as p95_duration_seconds
    from calls
    where week_start in (select week_start from weekly)
    group by week_start, service_code

)

select
    {{ surrogate_key(['weekly.week_start', 'weekly.service_code']) }} as calls_week_key,
    weekly.week_start,
    weekly.service_code,
    cast(weekly.calls_attempted as {{ dbt.type_bigint() }}) as calls_attempted,
    cast(weekly.calls_answered as {{ dbt.type_bigint() }}) as calls_answered,
    cast(weekly.calls_completed as {{ dbt.type_bigint() }}) as calls_completed,
    cast(weekly.calls_dropped as {{ dbt.type_bigint() }}) as calls_dropped,
    cast(weekly.calls_recorded as {{ dbt.type_bigint() }}) as calls_recorded,
    round(cast(weekly.calls_answered as {{ dbt.type_numeric() }}) / nullif(weekly.calls_attempted, 0), 4) as answer_rate,
    round(cast(weekly.calls_completed as {{ dbt.type_numeric() }}) / nullif(weekly.calls_answered, 0), 4) as completion_rate,
    round(cast(weekly.calls_dropped as {{ dbt.type_numeric() }}) / nullif(weekly.calls_answered, 0), 4) as drop_rate,
    round(cast(weekly.calls_recorded as {{ dbt.type_numeric() }}) / nullif(weekly.calls_answered, 0), 4) as recording_rate,
    round(cast(durations.avg_duration_seconds as {{ dbt.type_numeric() }}), 3) as avg_duration_seconds,
    round(cast(durations.p95_duration_seconds as {{ dbt.type_numeric() }}), 3) as p95_duration_seconds
from weekly
left join durations
    on weekly.week_start = durations.week_start
    and coalesce(weekly.service_code, '') = coalesce(durations.service_code, '')
