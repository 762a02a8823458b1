{#-
  funnel(relation, entity_column, timestamp_column, steps, window_minutes=none, strict=false)

  An ordered (sequential) funnel per entity, as a complete SELECT statement.

  relation          the events: a ref()/source() or a CTE name.
  entity_column     the column that identifies who goes through the funnel (tenant_id, user_id).
  timestamp_column  the event time column (a timestamp).
  steps             ordered list of dicts, each with
                      name:        step name, used as column prefix (step_1 is the entry step);
                      and EITHER  domain + event_type: matched on event_domain / event_type columns,
                      OR          condition: any boolean SQL on the relation's columns.
  window_minutes    optional conversion window: a step only counts if it happens at most this
                    many minutes after the entity's first step (inclusive). none = no window.
  strict            false (default): a step may happen at the same instant as the previous
                    one (>=); true: strictly after it (>).

  Rules. Step 1's time is the entity's FIRST step-1 event. Step k's time is the first step-k
  event at/after step k-1's time (and within the window). An entity that never reaches step k
  has null for k and every later step (an ordered funnel: skipping a step ends the funnel);
  repeated events of a step count once (the first qualifying one); a step-k event earlier than
  step k-1 (out of order) is ignored, but a later one still counts. Only entities with a step-1
  event get a row.

  Output columns: <entity_column>, then per step  <name>_at, is_<name>_reached (boolean),
  and minutes_to_<name> (numeric minutes from step 1, null when not reached; 0 for step 1).
-#}
{% macro funnel(relation, entity_column, timestamp_column, steps, window_minutes=none, strict=false) -%}
{%- if steps | length < 1 -%}
    {{ exceptions.raise_compiler_error("funnel() needs at least one step") }}
{%- endif -%}
{%- set op = ">" if strict else ">=" -%}
{%- set first = steps[0].name -%}
with

{% for step in steps -%}
{%- if step.condition is defined %}
    {%- set cond = step.condition -%}
{%- else %}
    {%- set cond = "event_domain = '" ~ step.domain ~ "' and event_type = '" ~ step.event_type ~ "'" -%}
{%- endif %}
funnel_events_{{ loop.index }} as (

    select
        {{ entity_column }} as funnel_entity,
        {{ timestamp_column }} as funnel_ts
    from {{ relation }}
    where ({{ cond }})
        and {{ entity_column }} is not null
        and {{ timestamp_column }} is not null

),

{% endfor -%}
funnel_step_1 as (

    select
        funnel_entity,
        min(funnel_ts) as step_at
    from funnel_events_1
    group by funnel_entity

),

{% for step in steps[1:] -%}
{%- set k = loop.index + 1 %}
funnel_step_{{ k }} as (

    select
        previous_step.funnel_entity,
        min(this_step.funnel_ts) as step_at
    from funnel_step_{{ k - 1 }} as previous_step
    inner join funnel_events_{{ k }} as this_step
        on previous_step.funnel_entity = this_step.funnel_entity
        and this_step.funnel_ts {{ op }} previous_step.step_at
    {%- if window_minutes is not none %}
    inner join funnel_step_1 as entry_step
        on previous_step.funnel_entity = entry_step.funnel_entity
        and this_step.funnel_ts <= {{ dbt.dateadd('minute', window_minutes, 'entry_step.step_at') }}
    {%- endif %}
    group by previous_step.funnel_entity

),

{% endfor -%}
funnel_final as (

    select
        funnel_step_1.funnel_entity as {{ entity_column }}
        {%- for step in steps %}
        , funnel_step_{{ loop.index }}.step_at as {{ step.name }}_at
        , funnel_step_{{ loop.index }}.step_at is not null as is_{{ step.name }}_reached
        , {{ minutes_between('funnel_step_1.step_at', 'funnel_step_' ~ loop.index ~ '.step_at') }} as minutes_to_{{ step.name }}
        {%- endfor %}
    from funnel_step_1
    {%- for step in steps[1:] %}
    left join funnel_step_{{ loop.index + 1 }}
        on funnel_step_1.funnel_entity = funnel_step_{{ loop.index + 1 }}.funnel_entity
    {%- endfor %}

)

select * from funnel_final
{%- endmacro %}
