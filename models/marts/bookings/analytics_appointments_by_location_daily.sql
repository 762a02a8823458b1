{#-
  analytics_appointments_by_location_daily (seed 002): the name the seed's
  dashboard reads, for BI tools that expect it. A view over
  fct_appointments_by_location_daily, every column as it is there (one row per
  organization, location and UTC day); nothing is computed here, so the view
  cannot disagree with the fact. Same access as the fact (admin every row, a
  client login its own organizations' rows): the view runs with the caller's
  rights (security_invoker, macros/security/), so the fact's row-level security
  applies to it.
-#}
{{ config(materialized='view') }}

with

appointments_daily as (

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
    from {{ ref('fct_appointments_by_location_daily') }}

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
from appointments_daily
