{#-
  customer_analytics (seed 002): one row per (organization_id, customer_id) —
  every customer profile, plus every customer id seen only in bookings or
  payments. A view over int_customer_analytics, which stores every column kept
  incrementally; the whole days counted to as_of (since the first / last
  booking, the last visit, the profile's creation; until the next booking) are
  computed here, against the as_of its newest write was computed for, so that
  each row reads as of one instant without a daily rewrite of every customer.
  Lookups go through the table's indexes (the seed's five). Readers' rights
  and row-level security apply through the view (security_invoker).
  DECISIONLOG "Customer profile (seed 002)".
-#}
{{ config(materialized='view') }}

with

stored as (

    select * from {{ ref('int_customer_analytics') }}

),

current_as_of as (

    -- the as_of of the newest write: every stored row is valid for it (dbt_loaded_at index)
    select as_of
    from {{ ref('int_customer_analytics') }}
    order by dbt_loaded_at desc
    limit 1

)

select
    stored.organization_id,
    stored.customer_id,
    stored.has_profile,
    stored.customer_created_at,
    stored.first_booking_at,
    stored.last_booking_at,
    stored.total_bookings,
    stored.total_accepted_bookings,
    stored.total_no_shows,
    stored.total_cancellations,
    stored.no_show_rate,
    stored.total_revenue_cents,
    stored.total_completed_payments,
    stored.avg_ticket_cents,
    stored.is_referrer,
    stored.preferred_location_id,
    stored.booking_notes,
    {{ dbt.datediff(utc_date('stored.first_booking_at'), utc_date('current_as_of.as_of'), 'day') }}
        as days_since_first_booking,
    {{ dbt.datediff(utc_date('stored.last_booking_at'), utc_date('current_as_of.as_of'), 'day') }}
        as days_since_last_booking,
    stored.customer_segment,
    stored.total_cancelled_by_customer,
    stored.total_cancelled_by_seller,
    stored.total_declined,
    stored.total_pending,
    stored.cancellation_rate,
    stored.customer_cancellation_rate,
    stored.first_booked_at,
    stored.last_booked_at,
    stored.first_booking_location_id,
    stored.last_no_show_at,
    stored.last_cancellation_at,
    stored.total_visits,
    stored.first_visit_at,
    stored.last_visit_at,
    {{ dbt.datediff(utc_date('stored.last_visit_at'), utc_date('current_as_of.as_of'), 'day') }}
        as days_since_last_visit,
    stored.lifetime_span_days,
    stored.avg_days_between_visits,
    stored.visits_last_30_days,
    stored.visits_last_90_days,
    stored.visits_last_365_days,
    stored.no_shows_last_90_days,
    stored.cancellations_last_90_days,
    stored.upcoming_bookings,
    stored.next_booking_at,
    {{ dbt.datediff(utc_date('current_as_of.as_of'), utc_date('stored.next_booking_at'), 'day') }}
        as days_until_next_booking,
    stored.total_payments,
    stored.total_failed_payments,
    stored.total_canceled_payments,
    stored.total_refunded_payments,
    stored.total_refunded_cents,
    stored.largest_ticket_cents,
    stored.first_payment_at,
    stored.last_payment_at,
    stored.revenue_last_30_days_cents,
    stored.revenue_last_90_days_cents,
    stored.revenue_last_365_days_cents,
    stored.completed_payments_last_90_days,
    stored.avg_revenue_per_visit_cents,
    stored.total_notes,
    stored.accepted_locations,
    stored.preferred_weekday,
    stored.preferred_hour_utc,
    stored.referrer_enrolled_at,
    {{ dbt.datediff(utc_date('stored.customer_created_at'), utc_date('current_as_of.as_of'), 'day') }}
        as days_since_profile_created,
    current_as_of.as_of,
    stored.dbt_loaded_at as refreshed_at
from stored
cross join current_as_of
