-- Seed 002 sanity check "row count = distinct customers": customer_analytics
-- holds exactly one row per customer known anywhere — every profile, every
-- customer id of a booking, every customer a payment belongs to — and no other.
-- Returns the keys found on one side only.
with

customers as (

    select * from {{ ref('stg_bookings__customers') }}

),

bookings as (

    select * from {{ ref('stg_bookings__bookings') }}

),

payments as (

    select * from {{ ref('stg_bookings__payments') }}

),

customer_analytics as (

    select * from {{ ref('customer_analytics') }}

),

known_customers as (

    select organization_id, customer_id from customers

    union

    select organization_id, customer_id
    from bookings
    where customer_id is not null

    union

    select
        payments.organization_id,
        coalesce(payments.customer_id, bookings.customer_id) as customer_id
    from payments
    left join bookings
        on payments.booking_id = bookings.booking_id
        and payments.organization_id = bookings.organization_id
    where coalesce(payments.customer_id, bookings.customer_id) is not null

),

analytics_customers as (

    select organization_id, customer_id from customer_analytics

),

missing as (

    select organization_id, customer_id from known_customers
    except
    select organization_id, customer_id from analytics_customers

),

unexpected as (

    select organization_id, customer_id from analytics_customers
    except
    select organization_id, customer_id from known_customers

)

select 'missing from customer_analytics' as problem, organization_id, customer_id from missing
union all
select 'unknown customer in customer_analytics' as problem, organization_id, customer_id from unexpected
