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

  Cost: linear in the events. The relation is read once (each event flagged with
  the steps it matches); then one window pass per step over the events of each
  entity (partition by the entity, no order inside it): step k's time is the
  minimum over the entity's step-k events at/after step k-1's time, which the
  previous pass put on every row. Every pass shares one sort by the entity, and
  no join is left whose plan depends on row estimates (an inequality join of
  per-step CTEs made PostgreSQL pick nested loops and go quadratic when the
  events came from a CTE). Portable: plain aggregate window functions over
  `case`, no FILTER clause or engine-specific function. DECISIONLOG "Funnels in
  linear time".
-#}
{% macro funnel(relation, entity_column, timestamp_column, steps, window_minutes=none, strict=false) -%}
{%- if steps | length < 1 -%}
    {{ exceptions.raise_compiler_error("funnel() needs at least one step") }}
{%- endif -%}
{%- set op = ">" if strict else ">=" -%}
{%- set conditions = [] -%}
{%- for step in steps -%}
    {%- if step.condition is defined -%}
        {%- do conditions.append(step.condition) -%}
    {%- else -%}
        {%- do conditions.append("event_domain = '" ~ step.domain ~ "' and event_type = '" ~ step.event_type ~ "'") -%}
    {%- endif -%}
{%- endfor -%}
with

funnel_events as (

    -- one read of the relation: each event with the steps it matches
    select
        {{ entity_column }} as funnel_entity,
        {{ timestamp_column }} as funnel_ts
        {%- for cond in conditions %},
        case when ({{ cond }}) then 1 else 0 end as is_step_{{ loop.index }}
        {%- endfor %}
    from {{ relation }}
    where {{ entity_column }} is not null
        and {{ timestamp_column }} is not null
        and (
            {%- for cond in conditions %}
            {{ "or " if not loop.first }}({{ cond }})
            {%- endfor %}
        )

),

funnel_pass_1 as (

    -- step 1: the entity's first step-1 event
    select
        funnel_events.*,
        min(case when is_step_1 = 1 then funnel_ts end) over (partition by funnel_entity) as step_1_at
    from funnel_events

),

{% for step in steps[1:] -%}
{%- set k = loop.index + 1 %}
funnel_pass_{{ k }} as (

    -- step {{ k }}: the first step-{{ k }} event {{ "after" if strict else "at or after" }} step {{ k - 1 }}'s time
    {%- if window_minutes is not none %}, within the window from step 1{% endif %}
    select
        funnel_pass_{{ k - 1 }}.*,
        min(
            case
                when is_step_{{ k }} = 1
                    and funnel_ts {{ op }} step_{{ k - 1 }}_at
                    {%- if window_minutes is not none %}
                    and funnel_ts <= {{ dbt.dateadd('minute', window_minutes, 'step_1_at') }}
                    {%- endif %}
                    then funnel_ts
            end
        ) over (partition by funnel_entity) as step_{{ k }}_at
    from funnel_pass_{{ k - 1 }}
    {%- if k == 2 %}
    where step_1_at is not null
    {%- endif %}

),

{% endfor -%}
funnel_steps as (

    -- every row of an entity carries the same step times: one row per entity
    select
        funnel_entity
        {%- for step in steps %},
        min(step_{{ loop.index }}_at) as step_{{ loop.index }}_at
        {%- endfor %}
    from funnel_pass_{{ steps | length }}
    where step_1_at is not null
    group by funnel_entity

),

funnel_final as (

    select
        funnel_entity as {{ entity_column }}
        {%- for step in steps %}
        , step_{{ loop.index }}_at as {{ step.name }}_at
        , step_{{ loop.index }}_at is not null as is_{{ step.name }}_reached
        , {{ minutes_between('step_1_at', 'step_' ~ loop.index ~ '_at') }} as minutes_to_{{ step.name }}
        {%- endfor %}
    from funnel_steps

)

select * from funnel_final
{%- endmacro %}
