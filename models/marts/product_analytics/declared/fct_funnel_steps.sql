{#-
  Every declared funnel (var product_analytics.funnels), long format: one row per
  funnel, breakdown value and step - entities that entered the step (reached the
  previous one; step 1: reached it), converted (reached this step), conversion from
  step 1 and from the previous step, median and p90 minutes from step 1. Adding a
  funnel is one entry in dbt_project.yml, no SQL. A table rebuilt from
  int_funnel_entity_steps (incremental per entity) on every run: a late event reaches
  it on the next plain `kpi build` (DECISIONLOG "Declared analyses").
-#}
{%- set defs = pa_definitions() -%}
{#- meta: the checked entries, for `kpi analyses list|show` (read from dbt's manifest) -#}
{{ config(
    materialized='table',
    meta={'product_analytics_funnels': pa_summaries(defs.funnels)},
    indexes=[{'columns': ['analysis_name', 'breakdown_value', 'step_number'], 'unique': true}],
) }}

with

declared_steps as (
    {%- for f in defs.funnels %}
    {%- set outer = loop %}
    {%- for s in f.steps %}
    {{ 'union all' if not (outer.first and loop.first) }}
    select
        '{{ f.name }}' as analysis_name,
        '{{ f.definition_hash }}' as definition_hash,
        {{ loop.index }} as step_number,
        '{{ (loop.index ~ " of " ~ f.steps | length ~ " steps") if f.ordering == "unordered" else s.name }}' as step_name
    {%- endfor %}
    {%- else %}
    select
        cast(null as {{ dbt.type_string() }}) as analysis_name,
        cast(null as {{ dbt.type_string() }}) as definition_hash,
        1 as step_number,
        cast(null as {{ dbt.type_string() }}) as step_name
    where 1 = 0
    {%- endfor %}

),

entity_steps as (

    -- the rows of the funnels as declared now (an excluded entity counts nowhere)
    select
        entity_steps.analysis_name,
        entity_steps.breakdown_value,
        entity_steps.step_number,
        entity_steps.minutes_from_start
    from {{ ref('int_funnel_entity_steps') }} as entity_steps
    inner join declared_steps
        on entity_steps.analysis_name = declared_steps.analysis_name
        and entity_steps.definition_hash = declared_steps.definition_hash
        and entity_steps.step_number = declared_steps.step_number
    where not entity_steps.is_excluded

),

breakdowns as (

    select distinct
        analysis_name,
        breakdown_value
    from entity_steps
    where step_number = 1

),

reached as (

    select
        analysis_name,
        breakdown_value,
        step_number,
        count(*) as converted_count,
        {{ median('minutes_from_start') }} as median_minutes,
        {{ percentile('minutes_from_start', 0.9) }} as p90_minutes
    from entity_steps
    group by analysis_name, breakdown_value, step_number

),

grid as (

    -- every declared step of every breakdown value, reached by nobody or not
    select
        declared_steps.analysis_name,
        breakdowns.breakdown_value,
        declared_steps.step_number,
        declared_steps.step_name,
        coalesce(reached.converted_count, 0) as converted_count,
        reached.median_minutes,
        reached.p90_minutes
    from declared_steps
    inner join breakdowns
        on declared_steps.analysis_name = breakdowns.analysis_name
    left join reached
        on declared_steps.analysis_name = reached.analysis_name
        and breakdowns.breakdown_value = reached.breakdown_value
        and declared_steps.step_number = reached.step_number

),

with_previous as (

    select
        grid.*,
        coalesce(
            lag(converted_count) over (partition by analysis_name, breakdown_value order by step_number),
            converted_count
        ) as entered_count,
        first_value(converted_count) over (
            partition by analysis_name, breakdown_value order by step_number
        ) as started_count
    from grid

)

select
    {{ surrogate_key(['analysis_name', 'breakdown_value', 'step_number']) }} as funnel_step_key,
    analysis_name,
    breakdown_value,
    cast(step_number as {{ dbt.type_int() }}) as step_number,
    step_name,
    cast(entered_count as {{ dbt.type_bigint() }}) as entered_count,
    cast(converted_count as {{ dbt.type_bigint() }}) as converted_count,
    {{ rounded_rate('converted_count', 'started_count') }} as conversion_rate_from_start,
    {{ rounded_rate('converted_count', 'entered_count') }} as conversion_rate_from_previous,
    round(cast(median_minutes as {{ dbt.type_numeric() }}), 2) as median_minutes_to_convert,
    round(cast(p90_minutes as {{ dbt.type_numeric() }}), 2) as p90_minutes_to_convert
from with_previous
