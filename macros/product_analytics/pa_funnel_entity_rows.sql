{#-
  pa_funnel_entity_rows(funnel, i, events, touched=none)

  CTEs (named f<i>_...; the caller writes `with` and the commas around them) that
  compute one declared funnel (normalised by pa_definitions) per entity, ending in
  f<i>_rows: one row per entity and reached step (analysis_name, definition_hash,
  entity_key, breakdown_value, step_number, step_name, reached_at, minutes_from_start,
  is_excluded, staged_at). `events` is a relation or CTE of stg_platform__events
  rows; `touched`, when given, a CTE of entity_key whose funnels are recomputed.

  The macros/funnel.sql algorithm, generalised: the events are read once (each
  flagged with the steps it matches), then one window pass per step over the events
  of each entity (partition by the entity, no order inside it) - step k's time is
  the first step-k event at (same_instant) or after (strict) step k-1's time, and
  within window_days of step 1 (inclusive); each pass keeps only the rows that can still
  matter (the step-1 event, events of later steps inside the window) - then one group by. Out-of-order events
  are ignored, repeats count once, a skipped step ends the funnel. Exclusion: an
  exclusion event at or after step `after_step` and before step `before_step` (or,
  when that step is never reached, within the window) drops the entity (its step-1
  row stays, flagged is_excluded, so a later run replaces it). Unordered: the entry is
  the entity's first step event; each step's first event within the window from it;
  row k = the time the entity had done k distinct steps (a row_number over at most
  N rows per entity). Breakdown: the value on the entry event ('(none)' when null,
  '(all)' without a breakdown). Cost: linear in the events (no self-join).
-#}
{% macro pa_funnel_entity_rows(funnel, i, events, touched=none) -%}
{%- set p = 'f' ~ i ~ '_' -%}
{%- set n = funnel.steps | length -%}
{%- set any_cond = [] -%}
{%- for s in funnel.steps %}{% do any_cond.append(s.condition) %}{% endfor -%}
{%- if funnel.exclude %}{% do any_cond.append(funnel.exclude.condition) %}{% endif -%}
{%- set breakdown_value = "coalesce(breakdown_raw, '(none)')" if funnel.breakdown_sql else "'(all)'" -%}
{{ p }}events as (

    -- {{ funnel.name }}: one read of the events, each flagged with the steps it matches
    select
        cast({{ funnel.entity }} as {{ dbt.type_string() }}) as entity_key,
        occurred_at as ts,
        dbt_loaded_at,
        {{ funnel.breakdown_sql if funnel.breakdown_sql else 'cast(null as ' ~ dbt.type_string() ~ ')' }} as breakdown_raw,
        {%- for s in funnel.steps %}
        case when {{ s.condition }} then 1 else 0 end as is_step_{{ loop.index }},
        {%- endfor %}
        {{ ('case when ' ~ funnel.exclude.condition ~ ' then 1 else 0 end') if funnel.exclude else '0' }} as is_exclusion
    from {{ events }}
    where {{ funnel.entity }} is not null
        and occurred_at is not null
        and ({{ any_cond | join(' or ') }})
        {%- if touched %}
        and cast({{ funnel.entity }} as {{ dbt.type_string() }}) in (select entity_key from {{ touched }})
        {%- endif %}

),
{%- if funnel.ordering != 'unordered' %}
{%- set op = '>' if funnel.ordering == 'strict' else '>=' %}

{{ p }}pass_1 as (

    select
        {{ p }}events.*,
        min(case when is_step_1 = 1 then ts end) over (partition by entity_key) as step_1_at,
        -- the latest load of any of the entity's events (later passes drop rows)
        max(dbt_loaded_at) over (partition by entity_key) as entity_staged_at
    from {{ p }}events

),
{%- for k in range(2, n + 1) %}

{{ p }}pass_{{ k }} as (

    -- step {{ k }}: the first step-{{ k }} event {{ op }} step {{ k - 1 }}'s time
    select
        {{ p }}pass_{{ k - 1 }}.*,
        min(
            case
                when is_step_{{ k }} = 1
                    and ts {{ op }} step_{{ k - 1 }}_at
                    {%- if funnel.window_minutes is not none %}
                    and ts <= {{ dbt.dateadd('minute', funnel.window_minutes, 'step_1_at') }}
                    {%- endif %}
                    then ts
            end
        ) over (partition by entity_key) as step_{{ k }}_at
    from {{ p }}pass_{{ k - 1 }}
    -- only the rows that can still matter: the entity's step-1 event (it keeps the entity)
    -- and events of step {{ k }} or later (or exclusions) from step 1 on, inside the window
    where step_1_at is not null
        and (
            (is_step_1 = 1 and ts = step_1_at)
            or (
                (
                    {%- for j in range(k, n + 1) %}
                    {{ 'or ' if not loop.first }}is_step_{{ j }} = 1
                    {%- endfor %}
                    {%- if funnel.exclude %}
                    or is_exclusion = 1
                    {%- endif %}
                )
                and ts >= step_1_at
                {%- if funnel.window_minutes is not none %}
                and ts <= {{ dbt.dateadd('minute', funnel.window_minutes, 'step_1_at') }}
                {%- endif %}
            )
        )

),
{%- endfor %}

{{ p }}pass_x as (

    -- exclusion: {{ 'an exclusion event between step ' ~ funnel.exclude.after_step ~ ' and step ' ~ funnel.exclude.before_step if funnel.exclude else 'none declared' }}
    select
        {{ p }}pass_{{ n }}.*,
        {%- if funnel.exclude %}
        {%- set a = funnel.exclude.after_step %}
        {%- set b = funnel.exclude.before_step %}
        max(
            case
                when is_exclusion = 1
                    and ts >= step_{{ a }}_at
                    and (
                        (step_{{ b }}_at is not null and ts < step_{{ b }}_at)
                        or (step_{{ b }}_at is null
                            {%- if funnel.window_minutes is not none %}
                            and ts <= {{ dbt.dateadd('minute', funnel.window_minutes, 'step_1_at') }}
                            {%- endif %})
                    )
                    then 1
                else 0
            end
        ) over (partition by entity_key) as is_excluded
        {%- else %}
        0 as is_excluded
        {%- endif %}
    from {{ p }}pass_{{ n }}

),

{{ p }}entities as (

    -- every row of an entity carries the same step times: one row per entity
    select
        entity_key,
        {%- for k in range(1, n + 1) %}
        min(step_{{ k }}_at) as step_{{ k }}_at,
        {%- endfor %}
        max(is_excluded) as is_excluded,
        min(case when is_step_1 = 1 and ts = step_1_at then breakdown_raw end) as breakdown_raw,
        max(entity_staged_at) as staged_at
    from {{ p }}pass_x
    group by entity_key

),

{{ p }}rows as (
    {%- for k in range(1, n + 1) %}
    {{ 'union all' if not loop.first }}
    select
        '{{ funnel.name }}' as analysis_name,
        '{{ funnel.definition_hash }}' as definition_hash,
        entity_key,
        {{ breakdown_value }} as breakdown_value,
        {{ k }} as step_number,
        '{{ funnel.steps[k - 1].name }}' as step_name,
        step_{{ k }}_at as reached_at,
        {{ minutes_between('step_1_at', 'step_' ~ k ~ '_at') }} as minutes_from_start,
        is_excluded = 1 as is_excluded,
        staged_at
    from {{ p }}entities
    where step_{{ k }}_at is not null
        {%- if k > 1 %}
        and is_excluded = 0
        {%- endif %}
    {%- endfor %}

)
{%- else %}

{{ p }}entry as (

    select
        {{ p }}events.*,
        min(ts) over (partition by entity_key) as entry_at
    from {{ p }}events

),

{{ p }}firsts as (

    -- each step's first event within the window from the entry (any order)
    select
        entity_key,
        min(entry_at) as entry_at,
        {%- for k in range(1, n + 1) %}
        min(
            case
                when is_step_{{ k }} = 1
                    {%- if funnel.window_minutes is not none %}
                    and ts <= {{ dbt.dateadd('minute', funnel.window_minutes, 'entry_at') }}
                    {%- endif %}
                    then ts
            end
        ) as first_{{ k }}_at,
        {%- endfor %}
        min(case when ts = entry_at then breakdown_raw end) as breakdown_raw,
        max(dbt_loaded_at) as staged_at
    from {{ p }}entry
    group by entity_key

),

{{ p }}done as (
    {%- for k in range(1, n + 1) %}
    {{ 'union all' if not loop.first }}
    select entity_key, entry_at, breakdown_raw, staged_at, first_{{ k }}_at as done_at
    from {{ p }}firsts
    where first_{{ k }}_at is not null
    {%- endfor %}

),

{{ p }}ranked as (

    -- row k: when the entity had done k distinct steps
    select
        {{ p }}done.*,
        row_number() over (partition by entity_key order by done_at) as steps_done
    from {{ p }}done

),

{{ p }}rows as (

    select
        '{{ funnel.name }}' as analysis_name,
        '{{ funnel.definition_hash }}' as definition_hash,
        entity_key,
        {{ breakdown_value }} as breakdown_value,
        cast(steps_done as {{ dbt.type_int() }}) as step_number,
        case steps_done
            {%- for k in range(1, n + 1) %}
            when {{ k }} then '{{ k }} of {{ n }} steps'
            {%- endfor %}
        end as step_name,
        done_at as reached_at,
        {{ minutes_between('entry_at', 'done_at') }} as minutes_from_start,
        false as is_excluded,
        staged_at
    from {{ p }}ranked

)
{%- endif %}
{%- endmacro %}
