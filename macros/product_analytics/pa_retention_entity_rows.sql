{#-
  pa_retention_entity_rows(retention, i, events, touched=none)

  CTEs (named r<i>_...; the caller writes `with` and the commas around them) that
  compute one declared retention (normalised by pa_definitions) per entity, ending in
  r<i>_rows: one row per entity and declared period (analysis_name, definition_hash,
  entity_key, breakdown_value, start_date, last_seen_date, period_number,
  is_retained_exact, is_retained_unbounded, staged_at).

  The entity's start is its first start event (UTC day start_date); a return event's
  period is the number of period_unit boundaries between start_date and its day
  (day: days between; week: ISO weeks; month: calendar months). Exact: a return event
  in period n; unbounded: one in period n or later. Return events in the start period
  do not count. One window pass (the start per entity), one group by entity and period
  (the period's date arithmetic once per event) and one by entity: linear in the events. Breakdown: the value on the start event ('(none)' when null, '(all)'
  without a breakdown).
-#}
{% macro pa_retention_entity_rows(retention, i, events, touched=none) -%}
{%- set p = 'r' ~ i ~ '_' -%}
{%- set unit = retention.period_unit -%}
{%- set breakdown_value = "coalesce(breakdown_raw, '(none)')" if retention.breakdown_sql else "'(all)'" -%}
{%- set start_trunc = 'cast(' ~ dbt.date_trunc(unit, 'start_date') ~ ' as date)' -%}
{%- set event_trunc = 'cast(' ~ dbt.date_trunc(unit, 'event_date') ~ ' as date)' -%}
{{ p }}events as (

    -- {{ retention.name }}: one read of the events, each flagged start / return
    select
        cast({{ retention.entity }} as {{ dbt.type_string() }}) as entity_key,
        occurred_at as ts,
        event_date,
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

    select
        {{ p }}events.*,
        min(case when is_start = 1 then ts end) over (partition by entity_key) as start_at,
        min(case when is_start = 1 then event_date end) over (partition by entity_key) as start_date
    from {{ p }}events

),

{{ p }}entity_periods as (

    -- one row per entity and period with a return event (and the start period's row): the
    -- period is a group key, so its date arithmetic runs once per event
    select
        entity_key,
        case
            when is_return = 1 then {{ dbt.datediff(start_trunc, event_trunc, unit) }}
        end as period_number,
        min(start_date) as start_date,
        max(event_date) as last_seen_date,
        min(case when is_start = 1 and ts = start_at then breakdown_raw end) as breakdown_raw,
        max(dbt_loaded_at) as staged_at
    from {{ p }}started
    where start_at is not null
    group by
        entity_key,
        case
            when is_return = 1 then {{ dbt.datediff(start_trunc, event_trunc, unit) }}
        end

),

{{ p }}entities as (

    select
        entity_key,
        min(start_date) as start_date,
        max(last_seen_date) as last_seen_date,
        max(period_number) as last_period,
        min(breakdown_raw) as breakdown_raw,
        {%- for n in retention.periods %}
        max(case when period_number = {{ n }} then 1 else 0 end) as returned_{{ n }},
        {%- endfor %}
        max(staged_at) as staged_at
    from {{ p }}entity_periods
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
