{#- A table, like stg_bookings__bookings: the appointments fact and the customer
    facts both read it (DECISIONLOG "Staging that is not a view"). -#}
{{ config(
    materialized='table',
    indexes=[{'columns': ['attributed_at']}],
) }}

-- Each payment with the customer and the booking (location, day) it belongs to.
-- A payment's customer is its own customer_id, else the customer of its booking.
-- A payment is attributed to its booking's start (location and UTC day) when the
-- booking exists in the same organization, else to its own created_at with no
-- location (docs/DECISIONLOG.md "revenue attribution").
with

payments as (

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
    from {{ ref('stg_bookings__payments') }}

),

bookings as (

    select
        booking_id,
        organization_id,
        customer_id,
        location_id,
        start_at
    from {{ ref('stg_bookings__bookings') }}

),

joined as (

    select
        payments.payment_id,
        payments.organization_id,
        payments.customer_id as payment_customer_id,
        payments.booking_id,
        payments.amount_cents,
        payments.currency,
        payments.status,
        payments.created_at,
        payments._loaded_at,
        bookings.booking_id as linked_booking_id,
        bookings.customer_id as booking_customer_id,
        bookings.location_id as booking_location_id,
        bookings.start_at as booking_start_at
    from payments
    left join bookings
        on payments.booking_id = bookings.booking_id
        and payments.organization_id = bookings.organization_id

),

attributed as (

    select
        payment_id,
        organization_id,
        coalesce(payment_customer_id, booking_customer_id) as customer_id,
        booking_id,
        linked_booking_id is not null as is_booking_linked,
        booking_location_id as location_id,
        amount_cents,
        currency,
        status,
        status = 'COMPLETED' as is_completed,
        created_at,
        coalesce(booking_start_at, created_at) as attributed_at,
        {{ utc_date('coalesce(booking_start_at, created_at)') }} as attributed_date,
        _loaded_at
    from joined

)

select
    payment_id,
    organization_id,
    customer_id,
    booking_id,
    is_booking_linked,
    location_id,
    amount_cents,
    currency,
    status,
    is_completed,
    created_at,
    attributed_at,
    attributed_date,
    _loaded_at
from attributed
