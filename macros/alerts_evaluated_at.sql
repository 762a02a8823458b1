{#-
  alerts_evaluated_at()
  SQL timestamptz literal of the alert evaluation instant T.
  var('alerts_evaluated_at'): an ISO-8601 timestamp (a bare date = its UTC
  midnight); null/empty = env var KPI_ALERTS_EVALUATED_AT (same format) if
  set, else the run's start time (run_started_at, the same instant for every
  model of one dbt invocation, so fct_alerts and fct_alert_events agree).
  `kpi alerts --evaluate` passes the instant in the env var: a changed --vars
  value makes dbt re-parse the whole project, a changed env var only the
  files that use it.
-#}
{% macro alerts_evaluated_at() -%}
    {%- set raw = var('alerts_evaluated_at', none) -%}
    {%- if raw is none or (raw | string | trim | lower) in ('', 'none', 'null') -%}
        {%- set raw = env_var('KPI_ALERTS_EVALUATED_AT', '') -%}
    {%- endif -%}
    {%- if raw is none or (raw | string | trim | lower) in ('', 'none', 'null') -%}
        {%- set text = run_started_at.strftime('%Y-%m-%dT%H:%M:%S+00:00') -%}
    {%- else -%}
        {%- set text = raw | string | trim -%}
        {%- if text | length == 10 -%}
            {%- set text = text ~ 'T00:00:00+00:00' -%}
        {%- endif -%}
    {%- endif -%}
    cast('{{ text }}' as {{ type_timestamp_tz() }})
{%- endmacro %}
