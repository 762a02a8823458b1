{{ config(materialized='table') }}

-- The first ACCEPTED booking of each customer (seed 002: first_booking_at =
-- min(start_at) of ACCEPTED bookings). NO_SHOW, cancelled, declined and pending
-- bookings never count; the profile's created_at plays no part. Ties on
-- start_at go to the smallest booking_id. Read whole by the daily fact.
with

bookings as (

    select
        booking_id,
        organization_id,
        customer_id,
        location_id,
        start_at,
        status
    from {{ ref('stg_bookings__bookings') }}

),

accepted as (

    select
        booking_id,
        organization_id,
        customer_id,
        location_id,
        start_at
    from bookings
    where status = 'ACCEPTED'
        and customer_id is not null

),

ranked as (

    select
        accepted.*,
        row_number() over (
            partition by organization_id, customer_id
            order by start_at, booking_id
        ) as booking_rank
    from accepted

),

first_bookings as (

    select
        organization_id,
        customer_id,
        booking_id as first_booking_id,
        location_id as first_booking_location_id,
        start_at as first_booking_at,
        {{ utc_date('start_at') }} as first_booking_date
    from ranked
    where booking_rank = 1

)

select
    organization_id,
    customer_id,
    first_booking_id,
    first_booking_location_id,
    first_booking_at,
    first_booking_date
from first_bookings
