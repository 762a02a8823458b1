{#-
  Every partner (workshop) of seed 001 with its current onboarding state
  (stg_partners__partners) and its tenant's name and country (stg_core__tenants;
  partner_id = tenant_id).
-#}
with

partners as (

    select partner_id, status, applied_at, decided_at
    from {{ ref('stg_partners__partners') }}

),

tenants as (

    select tenant_id, tenant_name, country_code, signed_up_at
    from {{ ref('stg_core__tenants') }}

),

final as (

    select
        partners.partner_id,
        tenants.tenant_name as partner_name,
        tenants.country_code,
        partners.status as partner_status,
        tenants.signed_up_at,
        partners.applied_at,
        partners.decided_at,
        cast(
            {{ hours_between_ts('partners.applied_at', 'partners.decided_at') }} as {{ dbt.type_numeric() }}
        ) as approval_hours
    from partners
    left join tenants
        on partners.partner_id = tenants.tenant_id

)

select
    partner_id,
    partner_name,
    country_code,
    partner_status,
    signed_up_at,
    applied_at,
    decided_at,
    approval_hours
from final
