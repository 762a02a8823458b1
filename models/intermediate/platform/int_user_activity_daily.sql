{#-
  One row per (user, UTC day) with any event of that user (seed 004 DAU/WAU/MAU
  and cohort retention): the user-day grain that metrics_daily_engagement's
  rolling 7/30-day windows and int_user_activity_summary's look-ups read, so
  neither has to go back to the event log's history. Incremental (replace_days
  on activity_date): a run recomputes the days kpi_days_to_process() names from
  their staging rows, so it costs those days' events, not the history.
  Keyed by a unique index on (activity_date, user_id): a day's rows go to the
  index's right edge, where an index on the md5 user_day_key put each of them
  on a random page of the whole table's index (7.7 s for one day's 18.7 k rows
  into 6 M, bench/README "~15 M events").
-#}
{{ config(
    tags=['daily'],
    incremental_strategy='replace_days',
    event_time='activity_date',
    unique_key='activity_date',
    indexes=[
        {'columns': ['activity_date', 'user_id'], 'unique': true},
        {'columns': ['user_id', 'activity_date']},
    ],
) }}

with

events as (

    select
        user_id,
        event_date
    from {{ ref('stg_platform__events') }}
    where user_id is not null
        and {{ kpi_in_days('occurred_at', timestamp=true) }}

),

user_days as (

    select
        user_id,
        event_date as activity_date,
        count(*) as events
    from events
    group by user_id, event_date

)

select
    {{ surrogate_key(['user_id', 'activity_date']) }} as user_day_key,
    user_id,
    activity_date,
    cast(events as {{ dbt.type_bigint() }}) as events
from user_days
