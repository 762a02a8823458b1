-- Seed 002 sanity check: over the days fct_appointments_by_location_daily
-- covers, the sum of new_customers per organization equals the number of
-- customers in customer_analytics whose first_booking_at falls on those days.
with

daily as (

    select * from {{ ref('fct_appointments_by_location_daily') }}

),

customer_analytics as (

    select * from {{ ref('customer_analytics') }}

),

covered_days as (

    select
        min(booking_date) as first_day,
        max(booking_date) as last_day
    from daily

),

daily_new as (

    select
        organization_id,
        sum(new_customers) as new_customers
    from daily
    group by organization_id

),

first_bookings_in_range as (

    select
        customer_analytics.organization_id,
        count(*) as new_customers
    from customer_analytics
    cross join covered_days
    where {{ utc_date('customer_analytics.first_booking_at') }}
        between covered_days.first_day and covered_days.last_day
    group by customer_analytics.organization_id

),

compared as (

    select
        coalesce(daily_new.organization_id, first_bookings_in_range.organization_id) as organization_id,
        coalesce(daily_new.new_customers, 0) as daily_new_customers,
        coalesce(first_bookings_in_range.new_customers, 0) as customers_with_first_booking
    from daily_new
    full outer join first_bookings_in_range
        on daily_new.organization_id = first_bookings_in_range.organization_id

)

select *
from compared
where daily_new_customers <> customers_with_first_booking
