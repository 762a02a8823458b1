{#-
  pa_retention_entity_rows(retention, i, events, touched=none)

  CTEs (named r<i>_...; the caller writes `with` and the commas around them) that
  compute one declared retention (normalised by pa_definitions) per entity, ending in
  r<i>_rows: one row per entity and declared period (analysis_name, definition_hash,
  entity_key, breakdown_value, start_date, last_seen_date, period_number,
  is_retained_exact, is_retained_unbounded, staged_at).

  The entity's start is its first start event (UTC day start_date); a return event's
  period is the number of period_unit boundaries between start_date and its day
  (day: days between; week: ISO weeks; month: calendar months), the difference of the
  two days' period numbers (pa_period_index). Exact: a return event in period n;
  unbounded: one in period n or later. Return events in the start period do not count.
  One window pass (the start per entity) and one group by entity on the same order (the
  period number once per event, an integer comparison per declared period): linear in
  the events. Breakdown: the value on the start event ('(none)' when null, '(all)'
  without a breakdown).
-#}
{% macro pa_retention_entity_rows(retention, i, events, touched=none) -%}
{%- set p = 'r' ~ i ~ '_' -%}
{%- set breakdown_value = "coalesce(breakdown_raw, '(none)')" if retention.breakdown_sql else "'(all)'" -%}
{{ p }}events as (

    -- {{ retention.name }}: one read of the events, each flagged start / return, with the
    -- number of its {{ retention.period_unit }} (computed once per event)
    select
        cast({{ retention.entity }} as {{ dbt.type_string() }}) as entity_key,
        occurred_at as ts,
        event_date,
        {{ pa_period_index(retention.period_unit, 'event_date') }} as event_period_index,
        dbt_loaded_at,
        {{ retention.breakdown_sql if retention.breakdown_sql else 'cast(null as ' ~ dbt.type_string() ~ ')' }} as breakdown_raw,
        case when {{ retention.start.condition }} then 1 else 0 end as is_start,
        case when {{ retention['return'].condition }} then 1 else 0 end as is_return
    from {{ events }}
    where {{ retention.entity }} is not null
        and occurred_at is not null
        and ({{ retention.start.condition }} or {{ retention['return'].condition }})
        {%- if touched %}
        and cast({{ retention.entity }} as {{ dbt.type_string() }}) in (select entity_key from {{ touched }})
        {%- endif %}

),

{{ p }}started as (

    -- the entity's first start event: its time, day and period number
    select
        {{ p }}events.*,
        min(case when is_start = 1 then ts end) over (partition by entity_key) as start_at,
        min(case when is_start = 1 then event_date end) over (partition by entity_key) as start_date,
        min(case when is_start = 1 then event_period_index end) over (partition by entity_key) as start_period_index
    from {{ p }}events

),

{{ p }}entities as (

    -- one group by entity on the window's order: a return event's period is the difference
    -- of two period numbers (an integer subtraction per declared period)
    select
        entity_key,
        min(start_date) as start_date,
        max(event_date) as last_seen_date,
        max(case when is_return = 1 then event_period_index - start_period_index end) as last_period,
        min(case when is_start = 1 and ts = start_at then breakdown_raw end) as breakdown_raw,
        {%- for n in retention.periods %}
        max(
            case when is_return = 1 and event_period_index - start_period_index = {{ n }} then 1 else 0 end
        ) as returned_{{ n }},
        {%- endfor %}
        max(dbt_loaded_at) as staged_at
    from {{ p }}started
    where start_at is not null
    group by entity_key

),

{{ p }}rows as (
    {%- for n in retention.periods %}
    {{ 'union all' if not loop.first }}
    select
        '{{ retention.name }}' as analysis_name,
        '{{ retention.definition_hash }}' as definition_hash,
        entity_key,
        {{ breakdown_value }} as breakdown_value,
        start_date,
        last_seen_date,
        {{ n }} as period_number,
        returned_{{ n }} = 1 as is_retained_exact,
        coalesce(last_period >= {{ n }}, false) as is_retained_unbounded,
        staged_at
    from {{ p }}entities
    {%- endfor %}

)
{%- endmacro %}


{#-
  pa_period_index(unit, date_column)
  A whole number per day, ISO week or calendar month (unit day | week | month) of a date:
  two dates' difference is the number of unit boundaries between them (day: days; week:
  Monday-start weeks, counted from Monday 1900-01-01; month: year * 12 + month). Integer
  arithmetic on the date, no truncation or time-zone conversion per row.
-#}
{% macro pa_period_index(unit, date_column) -%}
    {%- set days = dbt.datediff("cast('1900-01-01' as date)", date_column, 'day') -%}
    {%- if unit == 'day' -%}
        cast({{ days }} as {{ dbt.type_int() }})
    {%- elif unit == 'week' -%}
        cast(floor(({{ days }}) / 7.0) as {{ dbt.type_int() }})
    {%- elif unit == 'month' -%}
        cast(extract(year from {{ date_column }}) * 12 + extract(month from {{ date_column }}) as {{ dbt.type_int() }})
    {%- else -%}
        {{ exceptions.raise_compiler_error('pa_period_index: unit must be day, week or month, not ' ~ unit) }}
    {%- endif -%}
{%- endmacro %}
