{#-
  The bookings customers of seed 002 as a dimension: the pseudonymous ids, the
  segment and the first accepted booking from customer_analytics, without
  revenue, notes or any personal data.
-#}
with

customers as (

    select
        organization_id,
        customer_id,
        customer_segment,
        first_booking_at,
        has_profile,
        is_referrer,
        as_of
    from {{ ref('customer_analytics') }}

),

final as (

    select
        organization_id,
        customer_id,
        customer_segment,
        first_booking_at,
        {{ utc_date('first_booking_at') }} as first_booking_date,
        has_profile,
        is_referrer,
        as_of
    from customers

)

select
    organization_id,
    customer_id,
    customer_segment,
    first_booking_at,
    first_booking_date,
    has_profile,
    is_referrer,
    as_of
from final
