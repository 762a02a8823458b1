{#- on-run-start: ops.load_quality (written by `kpi load`, before any build may have
    created the kpi_* roles) is operational metadata, admin only like the job-run log
    (docs/security.md). Granted at every run once the table exists. -#}
{% macro ops_grant_load_quality() -%}
    {%- set relation = adapter.get_relation(database=target.database, schema='ops', identifier='load_quality')
        if execute else none -%}
    {%- if relation is not none and var('kpi_security', true) -%}
        grant select on {{ relation }} to kpi_admin
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}
