{#-
  type_timestamp_tz()
  The type of an absolute instant (timestamp with time zone). dbt.type_timestamp()
  is `timestamp without time zone` on PostgreSQL, which would drop an offset
  such as "+00:00" from a literal; this macro keeps it.
-#}
{% macro type_timestamp_tz() -%}
    {{ return(adapter.dispatch('type_timestamp_tz', 'kpi_warehouse')()) }}
{%- endmacro %}

{% macro default__type_timestamp_tz() -%}
    timestamp
{%- endmacro %}

{% macro postgres__type_timestamp_tz() -%}
    timestamptz
{%- endmacro %}
