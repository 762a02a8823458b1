with

source as (

    select * from {{ source('bookings', 'payments') }}

),

cleaned as (

    select
        payment_id,
        organization_id,
        nullif(trim(customer_id), '') as customer_id,
        nullif(trim(booking_id), '') as booking_id,
        amount_cents,
        upper(trim(currency)) as currency,
        upper(trim(status)) as status,
        created_at,
        _loaded_at
    from source

),

ranked as (

    -- defensive: the latest load of a payment wins (portable: no DISTINCT ON)
    select
        cleaned.*,
        row_number() over (
            partition by payment_id
            order by _loaded_at desc
        ) as version_rank
    from cleaned

),

deduplicated as (

    select
        payment_id,
        organization_id,
        customer_id,
        booking_id,
        amount_cents,
        currency,
        status,
        created_at,
        _loaded_at
    from ranked
    where version_rank = 1

)

select
    payment_id,
    organization_id,
    customer_id,
    booking_id,
    amount_cents,
    currency,
    status,
    created_at,
    _loaded_at
from deduplicated
