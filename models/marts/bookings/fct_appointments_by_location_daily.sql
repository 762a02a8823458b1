{#-
  Appointments per organization, location and UTC day of start_at (seed 002's
  analytics_appointments_by_location_daily, with its "new customers" fix: a new
  customer is counted on the day and at the location of the first ACCEPTED
  booking, whatever the profile's created_at).
  A table rebuilt whole by every run (one statement, published by dbt's rename):
  raw bookings are upserted in place, so a rescheduled or re-located booking
  leaves no trace of the day it moved from, and a late first booking moves a
  "new customer" to another day (DECISIONLOG "Late and corrected data").
  appointment_day_key (md5 of org|location|date) is the row key, since
  location_id may be null.
  The post-hook re-points the view analytics_appointments_by_location_daily at
  the rebuilt table, so a build without the view does not drop it (CASCADE).
-#}
{{ config(
    materialized='table',
    tags=['daily'],
    event_time='booking_date',
    indexes=[{'columns': ['appointment_day_key'], 'unique': true}, {'columns': ['organization_id', 'booking_date']}],
    post_hook=[
        "{{ bookings_keep_appointments_view() }}",
        {'sql': "{{ bookings_keep_appointments_view('cache') }}", 'transaction': false},
    ],
) }}

with

bookings as (

    select
        booking_id,
        organization_id,
        {{ unknown_member('location_id') }} as location_id,
        customer_id,
        booking_date,
        status
    from {{ ref('stg_bookings__bookings') }}

),

first_bookings as (

    select
        organization_id,
        customer_id,
        first_booking_id,
        first_booking_date
    from {{ ref('int_customer_first_booking') }}

),

completed_payments as (

    select
        organization_id,
        {{ unknown_member('location_id') }} as location_id,
        attributed_date as booking_date,
        amount_cents
    from {{ ref('int_payments_attributed') }}
    where is_completed

),

classified_bookings as (

    select
        bookings.organization_id,
        bookings.location_id,
        bookings.booking_date,
        bookings.customer_id,
        bookings.status,
        bookings.status = 'ACCEPTED'
            and bookings.booking_id = first_bookings.first_booking_id as is_first_booking,
        bookings.status = 'ACCEPTED'
            and first_bookings.first_booking_date < bookings.booking_date as is_returning_visit
    from bookings
    left join first_bookings
        on bookings.organization_id = first_bookings.organization_id
        and bookings.customer_id = first_bookings.customer_id

),

bookings_daily as (

    select
        {{ surrogate_key(['organization_id', 'location_id', 'booking_date']) }} as appointment_day_key,
        organization_id,
        location_id,
        booking_date,
        count(*) as total_bookings,
        sum(case when status = 'ACCEPTED' then 1 else 0 end) as accepted_appointments,
        count(distinct case when is_first_booking then customer_id end) as new_customers,
        count(distinct case when is_returning_visit then customer_id end) as returning_customers,
        sum(case when status = 'NO_SHOW' then 1 else 0 end) as no_shows,
        sum(case when {{ bookings_is_cancelled('status') }} then 1 else 0 end) as cancellations
    from classified_bookings
    group by organization_id, location_id, booking_date

),

payments_daily as (

    select
        {{ surrogate_key(['organization_id', 'location_id', 'booking_date']) }} as appointment_day_key,
        organization_id,
        location_id,
        booking_date,
        count(*) as completed_payments,
        cast(sum(amount_cents) as {{ dbt.type_bigint() }}) as completed_revenue_cents
    from completed_payments
    group by organization_id, location_id, booking_date

),

day_keys as (

    select appointment_day_key, organization_id, location_id, booking_date from bookings_daily
    union
    select appointment_day_key, organization_id, location_id, booking_date from payments_daily

),

final as (

    select
        day_keys.appointment_day_key,
        day_keys.organization_id,
        day_keys.location_id,
        day_keys.booking_date,
        coalesce(bookings_daily.total_bookings, 0) as total_bookings,
        coalesce(bookings_daily.accepted_appointments, 0) as accepted_appointments,
        coalesce(bookings_daily.new_customers, 0) as new_customers,
        coalesce(bookings_daily.returning_customers, 0) as returning_customers,
        coalesce(bookings_daily.no_shows, 0) as no_shows,
        coalesce(bookings_daily.cancellations, 0) as cancellations,
        coalesce(payments_daily.completed_payments, 0) as completed_payments,
        coalesce(payments_daily.completed_revenue_cents, 0) as completed_revenue_cents
    from day_keys
    left join bookings_daily
        on day_keys.appointment_day_key = bookings_daily.appointment_day_key
    left join payments_daily
        on day_keys.appointment_day_key = payments_daily.appointment_day_key

)

select
    appointment_day_key,
    organization_id,
    location_id,
    booking_date,
    total_bookings,
    accepted_appointments,
    new_customers,
    returning_customers,
    no_shows,
    cancellations,
    completed_payments,
    completed_revenue_cents
from final
