-- The first ACCEPTED booking of each customer (seed 002: first_booking_at =
-- min(start_at) of ACCEPTED bookings; a tie on start_at goes to the smallest
-- booking_id). NO_SHOW, cancelled, declined and pending bookings never count;
-- the profile's created_at plays no part. A view over int_customer_facts, which
-- keeps it incrementally with the rest of each customer's facts; read whole by
-- the daily fact.
with

customer_facts as (

    select
        organization_id,
        customer_id,
        first_booking_id,
        first_booking_location_id,
        first_booking_at
    from {{ ref('int_customer_facts') }}
    where first_booking_id is not null

)

select
    organization_id,
    customer_id,
    first_booking_id,
    first_booking_location_id,
    first_booking_at,
    {{ utc_date('first_booking_at') }} as first_booking_date
from customer_facts
