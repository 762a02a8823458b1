{#-
  bookings_customer_analytics_scope(): what this run of int_customer_analytics
  recomputes (seed 002 customer profile; the model's header says why):
    as_of_text      this run's as_of (var as_of, else the current time), as text;
    previous        the newest stored row, as [organization_id, customer_id,
                    as_of, dbt_loaded_at] texts; none on a first build or an
                    empty table;
    all             every customer: no previous row, var customer_refresh_mode
                    full, or as_of moved back;
    as_of_moved     as_of moved forward since the newest write.
  Read twice per run, both times before the model writes anything: when its
  SQL is compiled and by its pre-hook (bookings_customer_analytics_reset).
-#}
{% macro bookings_customer_analytics_scope() -%}
    {%- set scope = {'as_of_text': '1900-01-01 00:00:00+00', 'previous': none, 'all': true, 'as_of_moved': false} -%}
    {%- if execute -%}
        {%- set text = dbt.type_string() -%}
        {%- do scope.update({'as_of_text': run_query(
            'select cast(' ~ kpi_as_of() ~ ' as ' ~ text ~ ')').columns[0].values()[0]}) -%}
        {%- if is_incremental() -%}
            {%- set as_of = "cast('" ~ scope.as_of_text ~ "' as " ~ type_timestamp_tz() ~ ")" -%}
            {%- set newest = run_query(
                'select organization_id, customer_id, cast(as_of as ' ~ text ~ '), '
                ~ 'cast(dbt_loaded_at as ' ~ text ~ '), '
                ~ 'cast(' ~ as_of ~ ' > as_of as ' ~ text ~ '), '
                ~ 'cast(' ~ as_of ~ ' < as_of as ' ~ text ~ ') '
                ~ 'from ' ~ this ~ ' order by dbt_loaded_at desc limit 1') -%}
            {%- if newest.rows | length > 0 -%}
                {%- set row = newest.rows[0] -%}
                {%- do scope.update({
                    'previous': [row[0], row[1], row[2], row[3]],
                    'all': customer_refresh_mode() == 'full' or row[5] == 'true',
                    'as_of_moved': row[4] == 'true',
                }) -%}
            {%- endif -%}
        {%- endif -%}
    {%- endif -%}
    {{- return(scope) -}}
{%- endmacro %}

{#- Pre-hook of int_customer_analytics: when this run recomputes every customer
    of an existing table, its rows are deleted first, in the model's transaction
    (readers keep the old rows until it commits), so that a customer known
    nowhere any more does not stay behind. -#}
{% macro bookings_customer_analytics_reset() -%}
    {%- if execute and is_incremental() and bookings_customer_analytics_scope()['all'] -%}
        delete from {{ this }}
    {%- endif -%}
{%- endmacro %}
