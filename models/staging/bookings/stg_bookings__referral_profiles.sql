with

source as (

    select * from {{ source('bookings', 'referral_profiles') }}

),

renamed as (

    select
        organization_id,
        customer_id,
        created_at as enrolled_at,
        _loaded_at
    from source

)

select
    organization_id,
    customer_id,
    enrolled_at,
    _loaded_at
from renamed
