{#-
  Every location of a tenant (stg_core__locations) with its tenant's name and
  kind, plus the member 'unknown' (tenant 'unknown') that the marts use for
  events without a location (unknown_member).
-#}
with

locations as (

    select location_id, tenant_id, location_name, created_at
    from {{ ref('stg_core__locations') }}

),

tenants as (

    select tenant_id, tenant_name, tenant_kind
    from {{ ref('stg_core__tenants') }}

),

known as (

    select
        locations.location_id,
        locations.tenant_id,
        locations.location_name,
        tenants.tenant_name,
        tenants.tenant_kind,
        locations.created_at,
        false as is_unknown_member
    from locations
    left join tenants
        on locations.tenant_id = tenants.tenant_id

),

final as (

    select location_id, tenant_id, location_name, tenant_name, tenant_kind, created_at, is_unknown_member
    from known
    union all
    select
        'unknown',
        'unknown',
        'Unknown location',
        'Unknown tenant',
        'unknown',
        cast(null as {{ type_timestamp_tz() }}),
        true
    where not exists (select 1 from locations where locations.location_id = 'unknown')

)

select
    location_id,
    tenant_id,
    location_name,
    tenant_name,
    tenant_kind,
    created_at,
    is_unknown_member
from final
