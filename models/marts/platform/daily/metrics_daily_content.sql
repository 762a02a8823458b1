{#-
  Seed 004's metrics_daily_content: one row per UTC day with content events.
  Counts are events on their own day; coverage = distinct zodiac signs published
  that day / 12; approval latency = first upload -> first approval of a
  horoscope, counted on the day of that approval (start read from
  int_horoscopes_lifecycle WHOLE: the upload may be on an earlier day).
  Incremental (replace_days on metric_date): a run recomputes the days
  kpi_days_to_process() names.
-#}
{{ config(
    kpi_changed_days={'domains': ['content'], 'intermediates': [['int_horoscopes_lifecycle', 'first_approved_at']]},
    indexes=[{'columns': ['metric_date'], 'unique': true}],
) }}

with

content_events as (

    -- the days this run recomputes, by occurred_at (all of them on a first build)
    select
        event_date,
        event_type,
        entity_id,
        occurred_at,
        lower({{ json_get_text('metadata', 'zodiac_sign') }}) as zodiac_sign
    from {{ ref('stg_platform__events') }}
    where event_domain = 'content'
        and event_type in ('horoscope_uploaded', 'horoscope_approved', 'horoscope_rejected', 'horoscope_published')
        and {{ kpi_in_days('occurred_at', timestamp=true) }}

),

lifecycle as (

    -- read whole on purpose: the upload may precede the recomputed days
    select
        horoscope_id,
        first_approved_at,
        approval_latency_seconds
    from {{ ref('int_horoscopes_lifecycle') }}

),

latencies as (

    select
        content_events.event_date,
        lifecycle.approval_latency_seconds
    from content_events
    inner join lifecycle
        on content_events.entity_id = lifecycle.horoscope_id
        and content_events.occurred_at = lifecycle.first_approved_at
    where content_events.event_type = 'horoscope_approved'
        and lifecycle.approval_latency_seconds >= 0

),

counts as (

    select
        event_date as metric_date,
        sum(case when event_type = 'horoscope_uploaded' then 1 else 0 end) as horoscopes_uploaded,
        sum(case when event_type = 'horoscope_published' then 1 else 0 end) as horoscopes_published,
        count(distinct case when event_type = 'horoscope_published' then zodiac_sign end) as zodiac_signs_published,
        sum(case when event_type = 'horoscope_approved' then 1 else 0 end) as horoscopes_approved,
        sum(case when event_type = 'horoscope_rejected' then 1 else 0 end) as horoscopes_rejected
    from content_events
    group by event_date

),

latency_stats as (

    select
        event_date as metric_date,
        avg(approval_latency_seconds) as avg_approval_latency_seconds,
        {{ percentile('approval_latency_seconds', 0.95) }} as p95_approval_latency_seconds
    from latencies
    group by event_date

)

select
    counts.metric_date,
    counts.horoscopes_uploaded,
    counts.horoscopes_published,
    counts.zodiac_signs_published,
    round(cast(counts.zodiac_signs_published as {{ dbt.type_numeric() }}) / 12, 4) as coverage_rate,
    counts.horoscopes_approved,
    counts.horoscopes_rejected,
    round(cast(counts.horoscopes_approved as {{ dbt.type_numeric() }})
        / nullif(counts.horoscopes_approved + counts.horoscopes_rejected, 0), 4) as approval_rate,
    round(cast(latency_stats.avg_approval_latency_seconds as {{ dbt.type_numeric() }}), 1) as avg_approval_latency_seconds,
    round(cast(latency_stats.p95_approval_latency_seconds as {{ dbt.type_numeric() }}), 1) as p95_approval_latency_seconds
from counts
left join latency_stats
    on counts.metric_date = latency_stats.metric_date
