-- Seed 002 sanity check "Compare first_booking_at calculations": for every
-- customer, customer_analytics.first_booking_at / last_booking_at equal the
-- min / max start_at of the customer's ACCEPTED bookings recomputed from
-- staging, and int_customer_first_booking agrees. Also catches a customer
-- with an accepted booking who is missing from customer_analytics.
with

bookings as (

    select * from {{ ref('stg_bookings__bookings') }}

),

customer_analytics as (

    select * from {{ ref('customer_analytics') }}

),

first_bookings as (

    select * from {{ ref('int_customer_first_booking') }}

),

calculated as (

    select
        organization_id,
        customer_id,
        min(start_at) as first_booking_at,
        max(start_at) as last_booking_at
    from bookings
    where status = 'ACCEPTED'
        and customer_id is not null
    group by organization_id, customer_id

),

compared as (

    select
        coalesce(customer_analytics.organization_id, calculated.organization_id) as organization_id,
        coalesce(customer_analytics.customer_id, calculated.customer_id) as customer_id,
        customer_analytics.customer_id is not null as in_customer_analytics,
        customer_analytics.first_booking_at,
        calculated.first_booking_at as calculated_first_booking_at,
        first_bookings.first_booking_at as int_first_booking_at,
        customer_analytics.last_booking_at,
        calculated.last_booking_at as calculated_last_booking_at
    from customer_analytics
    full outer join calculated
        on customer_analytics.organization_id = calculated.organization_id
        and customer_analytics.customer_id = calculated.customer_id
    left join first_bookings
        on calculated.organization_id = first_bookings.organization_id
        and calculated.customer_id = first_bookings.customer_id

)

select *
from compared
where not in_customer_analytics
    or not (
        (first_booking_at is null and calculated_first_booking_at is null)
        or first_booking_at = calculated_first_booking_at
    )
    or not (
        (int_first_booking_at is null and calculated_first_booking_at is null)
        or int_first_booking_at = calculated_first_booking_at
    )
    or not (
        (last_booking_at is null and calculated_last_booking_at is null)
        or last_booking_at = calculated_last_booking_at
    )
