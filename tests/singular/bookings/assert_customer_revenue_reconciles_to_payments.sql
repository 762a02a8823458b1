-- SPEC invariant "revenue equals the sum of completed payments" (seed 002):
-- per organization, customer_analytics.total_revenue_cents adds up to the
-- COMPLETED payments in staging that belong to a customer (the payment's own
-- customer_id, else its booking's). Recomputed here from staging, independently
-- of int_payments_attributed. Returns the organizations that disagree.
with

payments as (

    select * from {{ ref('stg_bookings__payments') }}

),

bookings as (

    select * from {{ ref('stg_bookings__bookings') }}

),

customer_analytics as (

    select * from {{ ref('customer_analytics') }}

),

expected as (

    select
        payments.organization_id,
        sum(payments.amount_cents) as revenue_cents
    from payments
    left join bookings
        on payments.booking_id = bookings.booking_id
        and payments.organization_id = bookings.organization_id
    where payments.status = 'COMPLETED'
        and coalesce(payments.customer_id, bookings.customer_id) is not null
    group by payments.organization_id

),

actual as (

    select
        organization_id,
        sum(total_revenue_cents) as revenue_cents
    from customer_analytics
    group by organization_id

),

compared as (

    select
        coalesce(expected.organization_id, actual.organization_id) as organization_id,
        coalesce(expected.revenue_cents, 0) as expected_revenue_cents,
        coalesce(actual.revenue_cents, 0) as actual_revenue_cents
    from expected
    full outer join actual
        on expected.organization_id = actual.organization_id

)

select *
from compared
where expected_revenue_cents <> actual_revenue_cents
