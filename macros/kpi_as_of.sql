{#-
  kpi_as_of()
  The SQL expression of the reference instant ("now") for age-based columns
  (days_since_last_booking, customer_segment) and for the recent-refresh window.
  var('as_of'): an ISO-8601 timestamp such as "2025-03-31T00:00:00+00:00"
  (a bare date means its UTC midnight); null or empty means current_timestamp
  at run time. Tests and reproducible rebuilds pass an explicit value.
  See docs/DECISIONLOG.md ("as_of").
-#}
{% macro kpi_as_of() -%}
    {%- set raw = var('as_of', none) -%}
    {%- if raw is none or (raw | string | trim | lower) in ('', 'none', 'null') -%}
        {{ dbt.current_timestamp() }}
    {%- else -%}
        {%- set text = raw | string | trim -%}
        {%- if text | length == 10 -%}
            {%- set text = text ~ 'T00:00:00+00:00' -%}
        {%- endif -%}
        cast('{{ text }}' as {{ type_timestamp_tz() }})
    {%- endif -%}
{%- endmacro %}
