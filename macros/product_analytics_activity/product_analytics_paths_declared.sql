{#-
  product_analytics_paths_declared()
  A query of the declared paths (var product_analytics.paths, checked): one row per
  path with path_name, after_event ('domain.type'), event_domain, event_type and
  top_n; no row (and typed columns) when none is declared.
-#}
{% macro product_analytics_paths_declared() -%}
    {%- set paths = product_analytics_activity_settings()['paths'] -%}
    {%- for path in paths %}
    select
        '{{ path.name }}' as path_name,
        '{{ path.domain }}.{{ path.type }}' as after_event,
        '{{ path.domain }}' as event_domain,
        '{{ path.type }}' as event_type,
        {{ path.top_n }} as top_n
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- else %}
    select
        cast(null as {{ dbt.type_string() }}) as path_name,
        cast(null as {{ dbt.type_string() }}) as after_event,
        cast(null as {{ dbt.type_string() }}) as event_domain,
        cast(null as {{ dbt.type_string() }}) as event_type,
        0 as top_n
    where 1 = 0
    {%- endfor %}
{%- endmacro %}
