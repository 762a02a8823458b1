-- SPEC invariant "revenue equals the sum of completed payments" (seed 002):
-- each customer's customer_analytics.total_revenue_cents equals the COMPLETED
-- payments in staging that belong to them (the payment's own customer_id, else
-- its booking's). Recomputed here from staging, independently of
-- int_payments_attributed. Returns the customers that disagree.
-- In a build it checks the rows the build wrote (a customer whose payments or
-- bookings changed is rewritten); `dbt test` alone checks every customer
-- (macros/testing/get_where_subquery.sql: kpi_written_this_build).
{%- set written = kpi_written_this_build('refreshed_at') %}
-- The relations are named where they are read (a CTE read twice is materialized whole).
with

scope as (

    select
        organization_id,
        customer_id,
        total_revenue_cents
    from {{ ref('customer_analytics') }}
    {%- if written %}
    where {{ written }}
    {%- endif %}

),

customer_payments as (

    -- the customer's own payments
    select
        scope.organization_id,
        scope.customer_id,
        payments.amount_cents
    from scope
    inner join {{ ref('stg_bookings__payments') }} as payments
        on scope.organization_id = payments.organization_id
        and scope.customer_id = payments.customer_id
    where payments.status = 'COMPLETED'

    union all

    -- payments without a customer of their own, through the customer's bookings
    select
        scope.organization_id,
        scope.customer_id,
        payments.amount_cents
    from scope
    inner join {{ ref('stg_bookings__bookings') }} as bookings
        on scope.organization_id = bookings.organization_id
        and scope.customer_id = bookings.customer_id
    inner join {{ ref('stg_bookings__payments') }} as payments
        on bookings.booking_id = payments.booking_id
        and bookings.organization_id = payments.organization_id
    where payments.status = 'COMPLETED'
        and payments.customer_id is null

),

expected as (

    select
        organization_id,
        customer_id,
        sum(amount_cents) as revenue_cents
    from customer_payments
    group by organization_id, customer_id

),

compared as (

    select
        scope.organization_id,
        scope.customer_id,
        coalesce(expected.revenue_cents, 0) as expected_revenue_cents,
        scope.total_revenue_cents as actual_revenue_cents
    from scope
    left join expected
        on scope.organization_id = expected.organization_id
        and scope.customer_id = expected.customer_id

)

select *
from compared
where expected_revenue_cents <> actual_revenue_cents
