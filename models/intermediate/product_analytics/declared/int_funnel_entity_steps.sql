{#-
  The declared funnels (var product_analytics.funnels, docs/product_analytics.md) per
  entity: one row per (funnel, entity, reached step) with the time the step was
  reached and the minutes from step 1. No SQL per funnel: each entry is compiled by
  macros/product_analytics/pa_funnel_entity_rows.sql (one read of the events, one
  window pass per step, one group by: linear in the events).
  Incremental (delete+insert on analysis_name + entity_key): a run recomputes, from
  all their events, the entities of each funnel with an event staged since that
  funnel's watermark (max staged_at of its rows), so a late event moves its entity's
  rows on the next plain `kpi build`; a new or edited entry (another definition_hash)
  is computed whole, and the pre-hook deletes the rows of removed or edited entries
  (DECISIONLOG "Declared analyses").
-#}
{%- set defs = pa_definitions() -%}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key=['analysis_name', 'entity_key'],
    indexes=[
        {'columns': ['funnel_entity_step_key'], 'unique': true},
        {'columns': ['analysis_name', 'entity_key']},
        {'columns': ['analysis_name', 'staged_at']},
    ],
    pre_hook="{{ pa_delete_stale_rows('funnels') }}",
) }}
{%- set columns = [] -%}
{%- for f in defs.funnels %}{% do columns.extend(f.columns) %}{% endfor %}

{#- the declared streams' events, read by each analysis with its own filter (inlined, not one
    shared CTE that PostgreSQL would materialise whole) -#}
{%- set events = '(' ~ pa_stream_events(columns or ['occurred_at'], defs.streams) ~ ') as stream_events' -%}

with
{%- for f in defs.funnels %}
{%- set conds = [] %}
{%- for s in f.steps %}{% do conds.append(s.condition) %}{% endfor %}
{%- if f.exclude %}{% do conds.append(f.exclude.condition) %}{% endif %}
{%- if is_incremental() %}

f{{ loop.index }}_touched as (

    {{ pa_touched_entities(f, events, conds | join(' or ')) | indent(4) }}

),
{%- endif %}

{{ pa_funnel_entity_rows(f, loop.index, events, ('f' ~ loop.index ~ '_touched') if is_incremental() else none) }},
{%- endfor %}

unioned as (
    {%- for f in defs.funnels %}
    {{ 'union all' if not loop.first }}
    select * from f{{ loop.index }}_rows
    {%- else %}
    -- no funnel declared: no rows
    select
        cast(null as {{ dbt.type_string() }}) as analysis_name,
        cast(null as {{ dbt.type_string() }}) as definition_hash,
        cast(null as {{ dbt.type_string() }}) as entity_key,
        cast(null as {{ dbt.type_string() }}) as breakdown_value,
        1 as step_number,
        cast(null as {{ dbt.type_string() }}) as step_name,
        cast(null as {{ type_timestamp_tz() }}) as reached_at,
        cast(null as {{ dbt.type_numeric() }}) as minutes_from_start,
        false as is_excluded,
        cast(null as {{ type_timestamp_tz() }}) as staged_at
    from {{ events }}
    where 1 = 0
    {%- endfor %}

)

select
    {{ surrogate_key(['analysis_name', 'entity_key', 'step_number']) }} as funnel_entity_step_key,
    analysis_name,
    definition_hash,
    entity_key,
    breakdown_value,
    cast(step_number as {{ dbt.type_int() }}) as step_number,
    step_name,
    reached_at,
    minutes_from_start,
    is_excluded,
    staged_at
from unioned
