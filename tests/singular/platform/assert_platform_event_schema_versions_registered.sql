-- Seed 004 "event schema validation" (table event_schema_versions): every staged
-- event's (event_domain, event_type, schema_version) is a row of the registry seed.
-- Returns one row per unregistered version with its number of events. Severity
-- warn (tests/singular/_singular_tests.yml): a producer release ahead of the
-- registry must not stop the nightly build; `kpi status` counts these events.
-- Within a build (`kpi build`, `dbt build`/`run`) only the events that build
-- staged are read (dbt_loaded_at since the invocation started, as the staging
-- model's own tests, macros/testing/get_where_subquery.sql); `dbt test` reads all.
{%- set scoped = execute and flags.WHICH in ('build', 'run') %}
with

staged as (

    select
        event_domain,
        event_type,
        schema_version
    from {{ ref('stg_platform__events') }}
    {%- if scoped %}
    where dbt_loaded_at >= (
        select started_at from ops.dbt_invocations where invocation_id = '{{ invocation_id }}'
    )
    {%- endif %}

),

registry as (

    select
        event_domain,
        event_type,
        schema_version
    from {{ ref('event_schema_versions') }}

)

select
    staged.event_domain,
    staged.event_type,
    staged.schema_version,
    count(*) as events
from staged
left join registry
    on staged.event_domain = registry.event_domain
    and staged.event_type = registry.event_type
    and staged.schema_version = registry.schema_version
where registry.event_type is null
group by staged.event_domain, staged.event_type, staged.schema_version
