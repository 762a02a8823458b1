{#-
  The top N next events of every declared path (var product_analytics.paths,
  top_n per path) over all days of fct_path_next_events_daily: one row per
  (path_name, tenant_id, next_event_rank) with rank <= top_n - tenant of the
  anchor, plus 'all' tenants. events = anchors followed by that next event
  ('(none)': nothing later that day); share_rate = events / all the path's anchors
  in the scope, in [0,1]. Rank by events descending, ties by next_event
  alphabetically. A table rebuilt whole by every run from the daily fact (its
  rows, not events).
-#}
{{ config(
    indexes=[{'columns': ['path_name', 'tenant_id', 'next_event_rank'], 'unique': true}],
) }}

with

totals as (

    select
        path_name,
        tenant_id,
        next_event,
        sum(events) as events
    from {{ ref('fct_path_next_events_daily') }}
    group by path_name, tenant_id, next_event

),

ranked as (

    select
        path_name,
        tenant_id,
        next_event,
        events,
        sum(events) over (partition by path_name, tenant_id) as anchor_events,
        row_number() over (partition by path_name, tenant_id order by events desc, next_event asc) as next_event_rank
    from totals

),

declared as (

    {{ product_analytics_paths_declared() }}

)

select
    ranked.path_name,
    declared.after_event,
    ranked.tenant_id,
    cast(ranked.next_event_rank as {{ dbt.type_int() }}) as next_event_rank,
    ranked.next_event,
    cast(ranked.events as {{ dbt.type_bigint() }}) as events,
    cast(ranked.anchor_events as {{ dbt.type_bigint() }}) as anchor_events,
    round(cast(ranked.events as {{ dbt.type_numeric() }}) / ranked.anchor_events, 4) as share_rate
from ranked
inner join declared
    on ranked.path_name = declared.path_name
where ranked.next_event_rank <= declared.top_n
