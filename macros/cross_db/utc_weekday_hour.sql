{#-
  utc_isodow(timestamp_expr) / utc_hour(timestamp_expr)
  The ISO day of the week (1 = Monday .. 7 = Sunday) and the hour (0-23) of a
  timestamptz in UTC, as integers, whatever the session time zone (seed 002's
  preferred weekday and hour of a customer's appointments).
-#}
{% macro utc_isodow(timestamp_expr) -%}
    {{ return(adapter.dispatch('utc_isodow', 'kpi_warehouse')(timestamp_expr)) }}
{%- endmacro %}

{% macro default__utc_isodow(timestamp_expr) -%}
    cast(extract(isodow from {{ timestamp_expr }}) as integer)
{%- endmacro %}

{% macro postgres__utc_isodow(timestamp_expr) -%}
    cast(extract(isodow from ({{ timestamp_expr }}) at time zone 'UTC') as integer)
{%- endmacro %}

{% macro spark__utc_isodow(timestamp_expr) -%}
    ((dayofweek({{ timestamp_expr }}) + 5) % 7 + 1)
{%- endmacro %}

{% macro utc_hour(timestamp_expr) -%}
    {{ return(adapter.dispatch('utc_hour', 'kpi_warehouse')(timestamp_expr)) }}
{%- endmacro %}

{% macro default__utc_hour(timestamp_expr) -%}
    cast(extract(hour from {{ timestamp_expr }}) as integer)
{%- endmacro %}

{% macro postgres__utc_hour(timestamp_expr) -%}
    cast(extract(hour from ({{ timestamp_expr }}) at time zone 'UTC') as integer)
{%- endmacro %}
