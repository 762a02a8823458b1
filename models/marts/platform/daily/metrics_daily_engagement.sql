{#-
  Seed 004's metrics_daily_engagement: one row per UTC day with any event.
  DAU = distinct user_id with any event that day; WAU / MAU = distinct users
  in the 7 / 30 days ending that day (rolling). The user-days come from
  int_user_activity_daily, read for the recomputed days plus the 29 days before
  each (kpi_in_days days_before=29), never the event log's history; the day's
  notification / content counts come from that day's staging rows. Only the
  recomputed days are emitted. Incremental (replace_days on metric_date);
  days_after 29: a day's users count in the MAU of the next 29 days.
  Distinct rolling counts by non-overlapping per-user spans and a running sum
  (linear in user-days; DECISIONLOG "Engagement: DAU / WAU / MAU").
-#}
{{ config(
    kpi_changed_days={'days_after': 29},
    indexes=[{'columns': ['metric_date'], 'unique': true}],
) }}

with

events as (

    -- the events of the days this run recomputes: which days exist, and their counts
    select
        event_date,
        event_domain,
        event_type,
        metadata
    from {{ ref('stg_platform__events') }}
    where {{ kpi_in_days('occurred_at', timestamp=true) }}

),

batch_days as (

    -- the days this run writes (on a first build: every day with an event)
    select distinct event_date as metric_date
    from events

),

user_days as (

    -- the recomputed days plus the 29 days before each (their 30-day windows)
    select
        user_id,
        activity_date as event_date
    from {{ ref('int_user_activity_daily') }}
    where {{ kpi_in_days('activity_date', days_before=29) }}

),

user_day_spans as (

    -- an active (user, day) counts in the rolling window of every day from that
    -- day until the user's next active day, at most 7 (WAU) / 30 (MAU) days:
    -- one user's spans never overlap, so "+1 at the start, -1 at the end" and a
    -- running sum count DISTINCT users per day in O(user-days), not O(user-days x 30)
    select
        user_id,
        event_date,
        lead(event_date) over (partition by user_id order by event_date) as next_event_date
    from user_days

),

deltas as (

    select event_date as delta_date, 1 as dau_delta, 1 as wau_delta, 1 as mau_delta
    from user_day_spans
    union all
    select cast({{ dbt.dateadd('day', 1, 'event_date') }} as date), -1, 0, 0
    from user_day_spans
    union all
    select
        least(coalesce(next_event_date, cast({{ dbt.dateadd('day', 7, 'event_date') }} as date)),
            cast({{ dbt.dateadd('day', 7, 'event_date') }} as date)),
        0, -1, 0
    from user_day_spans
    union all
    select
        least(coalesce(next_event_date, cast({{ dbt.dateadd('day', 30, 'event_date') }} as date)),
            cast({{ dbt.dateadd('day', 30, 'event_date') }} as date)),
        0, 0, -1
    from user_day_spans
    union all
    -- every written day has a row, even one whose events carry no user_id
    select metric_date, 0, 0, 0
    from batch_days

),

running as (

    select
        delta_date,
        sum(sum(dau_delta)) over (order by delta_date rows between unbounded preceding and current row) as dau,
        sum(sum(wau_delta)) over (order by delta_date rows between unbounded preceding and current row) as wau,
        sum(sum(mau_delta)) over (order by delta_date rows between unbounded preceding and current row) as mau
    from deltas
    group by delta_date

),

active_users as (

    select
        batch_days.metric_date,
        cast(running.dau as {{ dbt.type_bigint() }}) as dau,
        cast(running.wau as {{ dbt.type_bigint() }}) as wau,
        cast(running.mau as {{ dbt.type_bigint() }}) as mau
    from batch_days
    inner join running
        on batch_days.metric_date = running.delta_date

),

day_events as (

    select
        event_date as metric_date,
        sum(case when event_type = 'notification_sent' then 1 else 0 end) as notifications_sent,
        sum(case when event_type = 'notification_delivered' then 1 else 0 end) as notifications_delivered,
        sum(case when event_type = 'notification_opened' then 1 else 0 end) as notifications_opened,
        sum(case when event_type = 'notification_opted_out' then 1 else 0 end) as notifications_opted_out,
        sum(case when event_type = 'horoscope_played' then 1 else 0 end) as horoscope_plays,
        avg(case
            when event_type = 'horoscope_played'
                then cast({{ json_get_text('metadata', 'listen_pct') }} as {{ dbt.type_numeric() }}) / 100
        end) as listen_through_rate
    from events
    where event_domain in ('notifications', 'content')
    group by event_date

)

select
    batch_days.metric_date,
    coalesce(active_users.dau, 0) as dau,
    coalesce(active_users.wau, 0) as wau,
    coalesce(active_users.mau, 0) as mau,
    round(cast(active_users.dau as {{ dbt.type_numeric() }}) / nullif(active_users.mau, 0), 4) as stickiness,
    coalesce(day_events.notifications_sent, 0) as notifications_sent,
    coalesce(day_events.notifications_delivered, 0) as notifications_delivered,
    coalesce(day_events.notifications_opened, 0) as notifications_opened,
    coalesce(day_events.notifications_opted_out, 0) as notifications_opted_out,
    round(cast(day_events.notifications_opened as {{ dbt.type_numeric() }})
        / nullif(day_events.notifications_delivered, 0), 4) as notification_ctr,
    round(cast(day_events.notifications_opted_out as {{ dbt.type_numeric() }})
        / nullif(day_events.notifications_sent, 0), 4) as opt_out_rate,
    coalesce(day_events.horoscope_plays, 0) as horoscope_plays,
    round(day_events.listen_through_rate, 4) as listen_through_rate
from batch_days
left join active_users
    on batch_days.metric_date = active_users.metric_date
left join day_events
    on batch_days.metric_date = day_events.metric_date
