{#-
  batch_window_filter(column, lookback_days=0)
  For a microbatch model that reads a parent WITHOUT dbt's event_time filter
  (`ref('x').render()`), the SQL condition restricting `column` (a timestamptz)
  to the current batch [event_time_start - lookback_days days, event_time_end).
  Outside a batch (unit tests, compile, a plain run) it is `1 = 1`: everything.
-#}
{% macro batch_window_filter(column, lookback_days=0) -%}
    {%- set batch = model.get("batch") if model is mapping else none -%}
    {%- set start = batch.get("event_time_start") if batch else none -%}
    {%- set end = batch.get("event_time_end") if batch else none -%}
    {%- if start and end -%}
        {{ column }} >= {{ dbt.dateadd('day', -1 * lookback_days, "cast('" ~ start ~ "' as " ~ type_timestamp_tz() ~ ")") }}
        and {{ column }} < cast('{{ end }}' as {{ type_timestamp_tz() }})
    {%- else -%}
        1 = 1
    {%- endif -%}
{%- endmacro %}
