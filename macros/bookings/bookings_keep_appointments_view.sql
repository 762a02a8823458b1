{#-
  bookings_keep_appointments_view(): post-hook of fct_appointments_by_location_daily.
  dbt rebuilds a table by renaming the old one away and dropping it with CASCADE,
  which drops the view analytics_appointments_by_location_daily over it unless that
  view is rebuilt in the same run (a build or backfill selecting only the fact and
  its parents). Inside the fact's transaction, before the old table is dropped,
  the view (when it exists) is re-pointed at the new table with the same columns,
  keeping its grants and security_invoker (PostgreSQL resets a replaced view's
  options unless they are given).
  step='cache' (a hook run after the transaction, once the old table is dropped):
  dbt's relation cache dropped the view with the old table's dependents; it is
  added back when it exists, so a view build later in the same run replaces it
  instead of failing with "already exists".
-#}
{% macro bookings_keep_appointments_view(step='repoint') -%}
    {{ return(adapter.dispatch('bookings_keep_appointments_view', 'kpi_warehouse')(step)) }}
{%- endmacro %}

{% macro default__bookings_keep_appointments_view(step='repoint') -%}
{%- endmacro %}

{% macro postgres__bookings_keep_appointments_view(step='repoint') -%}
    {%- if execute and step == 'cache' -%}
        {%- set name = this.schema ~ '.analytics_appointments_by_location_daily' -%}
        {%- set found = run_query("select to_regclass('" ~ name ~ "') is not null") -%}
        {%- if found.rows[0][0] -%}
            {%- do adapter.cache_added(api.Relation.create(
                database=this.database, schema=this.schema,
                identifier='analytics_appointments_by_location_daily', type='view')) -%}
        {%- endif -%}
    {%- elif execute -%}
        {%- set view = adapter.get_relation(this.database, this.schema, 'analytics_appointments_by_location_daily') -%}
        {%- if view is not none and view.is_view -%}
            {%- set columns = adapter.get_columns_in_relation(view) | map(attribute='name') | list -%}
            create or replace view {{ view }}
            {%- if kpi_security_enabled() %} with (security_invoker = true){% endif %} as
            select {{ columns | join(', ') }} from {{ this }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}
