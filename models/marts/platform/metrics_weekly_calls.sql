{#-
  ISO-week rollup of metrics_daily_calls: counts summed, rates recomputed from
  the sums; avg and p95 duration recomputed from the week's calls
  (int_calls_lifecycle), never averaged from daily values.
  Incremental by week: a run replaces the weeks of the calls events staged, and
  of the calls recomputed, since its watermark (platform_touched_weeks;
  DECISIONLOG "User-days, incremental weekly rollups, re-sent events across days").
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

calls as (

    select
        cast({{ dbt.date_trunc('week', 'started_date') }} as date) as week_start,
        service_code,
        duration_seconds
    from {{ ref('int_calls_lifecycle') }}
    where {{ platform_in_touched_weeks('started_date') }}

),

weekly as (

    {{ platform_weekly_sums(
        ref('metrics_daily_calls'),
        keys=['service_code'],
        measures=['calls_attempted', 'calls_answered', 'calls_completed', 'calls_dropped', 'calls_recorded'],
    ) }}

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
