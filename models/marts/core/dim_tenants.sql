{#-
  Every tenant of every product (stg_core__tenants), plus the member 'unknown'
  that the marts use for events without a tenant (unknown_member), so that
  every tenant_id / organization_id of a mart finds its row here.
-#}
with

tenants as (

    select
        tenant_id,
        tenant_kind,
        tenant_name,
        country_code,
        signed_up_at,
        tenant_status
    from {{ ref('stg_core__tenants') }}

),

unknown_member as (

    select
        'unknown' as tenant_id,
        'unknown' as tenant_kind,
        'Unknown tenant' as tenant_name,
        cast(null as {{ dbt.type_string() }}) as country_code,
        cast(null as {{ type_timestamp_tz() }}) as signed_up_at,
        'unknown' as tenant_status

),

final as (

    select tenant_id, tenant_kind, tenant_name, country_code, signed_up_at, tenant_status, false as is_unknown_member
    from tenants
    union all
    select tenant_id, tenant_kind, tenant_name, country_code, signed_up_at, tenant_status, true
    from unknown_member
    where not exists (select 1 from tenants where tenants.tenant_id = 'unknown')

)

select
    tenant_id,
    tenant_kind,
    tenant_name,
    country_code,
    signed_up_at,
    tenant_status,
    is_unknown_member
from final
