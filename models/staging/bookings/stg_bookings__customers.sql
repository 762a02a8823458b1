-- Personal data (given_name, family_name, email, phone) is dropped here and
-- never reaches a downstream model.
with

source as (

    select * from {{ source('bookings', 'customers') }}

),

renamed as (

    select
        organization_id,
        customer_id,
        created_at,
        _loaded_at
    from source

)

select
    organization_id,
    customer_id,
    created_at,
    _loaded_at
from renamed
