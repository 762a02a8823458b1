with

source as (

    select * from {{ source('core', 'tenants') }}

),

renamed as (

    select
        tenant_id,
        kind as tenant_kind,
        name as tenant_name,
        upper(trim(country_code)) as country_code_raw,
        signed_up_at,
        lower(trim(status)) as tenant_status,
        updated_at,
        _loaded_at
    from source

),

sanitised as (

    select
        tenant_id,
        tenant_kind,
        tenant_name,
        -- only a well-formed alpha-2 code survives; anything else becomes null
        case
            when {{ matches_regex('country_code_raw', '^[A-Z]{2}$') }} then country_code_raw
        end as country_code,
        signed_up_at,
        tenant_status,
        updated_at,
        _loaded_at
    from renamed

)

select
    tenant_id,
    tenant_kind,
    tenant_name,
    country_code,
    signed_up_at,
    tenant_status,
    updated_at,
    _loaded_at
from sanitised
