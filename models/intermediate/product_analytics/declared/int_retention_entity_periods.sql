{#-
  The declared retentions (var product_analytics.retentions, docs/product_analytics.md)
  per entity: one row per (retention, entity, declared period) with the entity's start
  day, its last observed day and whether it came back exactly in that period and in it
  or later (unbounded). No SQL per retention: each entry is compiled by
  macros/product_analytics/pa_retention_entity_rows.sql (one read of the events, one
  window pass, one group by: linear in the events).
  Incremental (delete+insert on analysis_name + entity_key): a run recomputes, from all
  their events, the entities of each retention with an event staged since that
  retention's watermark, so a late event moves its cohort on the next plain
  `kpi build`; a new or edited entry is computed whole, and the pre-hook deletes the
  rows of removed or edited entries (DECISIONLOG "Declared analyses").
-#}
{%- set defs = pa_definitions() -%}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key=['analysis_name', 'entity_key'],
    indexes=[
        {'columns': ['retention_entity_period_key'], 'unique': true},
        {'columns': ['analysis_name', 'entity_key']},
        {'columns': ['analysis_name', 'staged_at']},
    ],
    pre_hook="{{ pa_delete_stale_rows('retentions') }}",
) }}
{%- set columns = [] -%}
{%- for r in defs.retentions %}{% do columns.extend(r.columns) %}{% endfor %}

{#- the declared streams' events, read by each analysis with its own filter (inlined, not one
    shared CTE that PostgreSQL would materialise whole) -#}
{%- set events = '(' ~ pa_stream_events(columns or ['occurred_at'], defs.streams) ~ ') as stream_events' -%}

with
{%- for r in defs.retentions %}
{%- if is_incremental() %}

r{{ loop.index }}_touched as (

    {{ pa_touched_entities(r, events, r.start.condition ~ ' or ' ~ r['return'].condition) | indent(4) }}

),
{%- endif %}

{{ pa_retention_entity_rows(r, loop.index, events, ('r' ~ loop.index ~ '_touched') if is_incremental() else none) }},
{%- endfor %}

unioned as (
    {%- for r in defs.retentions %}
    {{ 'union all' if not loop.first }}
    select * from r{{ loop.index }}_rows
    {%- else %}
    -- no retention declared: no rows
    select
        cast(null as {{ dbt.type_string() }}) as analysis_name,
        cast(null as {{ dbt.type_string() }}) as definition_hash,
        cast(null as {{ dbt.type_string() }}) as entity_key,
        cast(null as {{ dbt.type_string() }}) as breakdown_value,
        cast(null as date) as start_date,
        cast(null as date) as last_seen_date,
        1 as period_number,
        false as is_retained_exact,
        false as is_retained_unbounded,
        cast(null as {{ type_timestamp_tz() }}) as staged_at
    from {{ events }}
    where 1 = 0
    {%- endfor %}

)

select
    {{ surrogate_key(['analysis_name', 'entity_key', 'period_number']) }} as retention_entity_period_key,
    analysis_name,
    definition_hash,
    entity_key,
    breakdown_value,
    start_date,
    last_seen_date,
    cast(period_number as {{ dbt.type_int() }}) as period_number,
    is_retained_exact,
    is_retained_unbounded,
    staged_at
from unioned
