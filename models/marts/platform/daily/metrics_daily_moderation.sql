{#-
  Seed 004's moderation KPIs (content_flagged, moderation_decision,
  appeal_submitted; the seed names the domain, this project the metrics): one
  row per UTC day with a moderation event. Everything counts on the day of its
  own event: flags on the flag's day; the initial decision, its approve/remove
  split and its latency (from the flag) on the decision's day; appeals on the
  appeal's day; appeal reviews and overturns on the review's day. Decisions are
  classified by platform_moderation_decisions from each flag's WHOLE history
  (its flag or appeal may lie before the recomputed days). DECISIONLOG
  "Moderation KPIs".
  Incremental (replace_days on metric_date): a run recomputes the days of the
  moderation events staged since its last run and, entity_days, every other
  day of the flags they touch (a late event can re-classify a decision on
  another day).
-#}
{{ config(
    kpi_changed_days={'domains': ['moderation'], 'entity_days': true},
    indexes=[{'columns': ['metric_date'], 'unique': true}],
) }}

with

day_events as (

    -- the days this run recomputes, by occurred_at (all of them on a first build)
    select
        event_id,
        event_date,
        event_type,
        entity_id
    from {{ ref('stg_platform__events') }}
    where event_domain = 'moderation'
        and event_type in ('content_flagged', 'moderation_decision', 'appeal_submitted')
        and {{ kpi_in_days('occurred_at', timestamp=true) }}

),

flag_history as (

    -- every moderation event of the flags those days touch, whatever its day
    select
        event_id,
        event_type,
        entity_id,
        occurred_at,
        status
    from {{ ref('stg_platform__events') }}
    where event_domain = 'moderation'
        and entity_id in (select day_events.entity_id from day_events)

),

decisions as (

    {{ platform_moderation_decisions('flag_history') }}

),

day_decisions as (

    select
        day_events.event_date,
        decisions.decision_kind,
        decisions.status,
        decisions.decision_latency_seconds,
        decisions.is_overturned
    from day_events
    inner join decisions
        on day_events.event_id = decisions.event_id

),

event_counts as (

    select
        event_date as metric_date,
        sum(case when event_type = 'content_flagged' then 1 else 0 end) as flags_raised,
        sum(case when event_type = 'appeal_submitted' then 1 else 0 end) as appeals_submitted
    from day_events
    group by event_date

),

decision_stats as (

    select
        event_date as metric_date,
        sum(case when decision_kind = 'initial' then 1 else 0 end) as decisions,
        sum(case when decision_kind = 'initial' and status = 'approved' then 1 else 0 end) as content_approved,
        sum(case when decision_kind = 'initial' and status = 'removed' then 1 else 0 end) as content_removed,
        sum(case when decision_kind = 'appeal_review' then 1 else 0 end) as appeals_decided,
        sum(case when decision_kind = 'appeal_review' and is_overturned then 1 else 0 end) as decisions_overturned,
        avg(decision_latency_seconds) as avg_decision_latency_seconds,
        {{ percentile('decision_latency_seconds', 0.95) }} as p95_decision_latency_seconds
    from day_decisions
    group by event_date

)

select
    event_counts.metric_date,
    cast(event_counts.flags_raised as {{ dbt.type_bigint() }}) as flags_raised,
    cast(coalesce(decision_stats.decisions, 0) as {{ dbt.type_bigint() }}) as decisions,
    cast(coalesce(decision_stats.content_approved, 0) as {{ dbt.type_bigint() }}) as content_approved,
    cast(coalesce(decision_stats.content_removed, 0) as {{ dbt.type_bigint() }}) as content_removed,
    round(cast(decision_stats.content_approved as {{ dbt.type_numeric() }})
        / nullif(decision_stats.decisions, 0), 4) as approval_rate,
    round(cast(decision_stats.content_removed as {{ dbt.type_numeric() }})
        / nullif(decision_stats.decisions, 0), 4) as removal_rate,
    round(cast(decision_stats.avg_decision_latency_seconds as {{ dbt.type_numeric() }}), 1) as avg_decision_latency_seconds,
    round(cast(decision_stats.p95_decision_latency_seconds as {{ dbt.type_numeric() }}), 1) as p95_decision_latency_seconds,
    cast(event_counts.appeals_submitted as {{ dbt.type_bigint() }}) as appeals_submitted,
    round(cast(event_counts.appeals_submitted as {{ dbt.type_numeric() }})
        / nullif(decision_stats.content_removed, 0), 4) as appeal_rate,
    cast(coalesce(decision_stats.appeals_decided, 0) as {{ dbt.type_bigint() }}) as appeals_decided,
    cast(coalesce(decision_stats.decisions_overturned, 0) as {{ dbt.type_bigint() }}) as decisions_overturned,
    round(cast(decision_stats.decisions_overturned as {{ dbt.type_numeric() }})
        / nullif(decision_stats.appeals_decided, 0), 4) as overturn_rate
from event_counts
left join decision_stats
    on event_counts.metric_date = decision_stats.metric_date
