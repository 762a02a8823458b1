with

source as (

    select * from {{ source('core', 'locations') }}

),

renamed as (

    select
        location_id,
        tenant_id,
        name as location_name,
        created_at,
        _loaded_at
    from source

)

select
    location_id,
    tenant_id,
    location_name,
    created_at,
    _loaded_at
from renamed
