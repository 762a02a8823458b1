-- Seed 002 sanity check "Compare first_booking_at calculations": for every
-- customer, customer_analytics.first_booking_at / last_booking_at equal the
-- min / max start_at of the customer's ACCEPTED bookings recomputed from
-- staging, and int_customer_first_booking agrees. Also catches a customer
-- with an accepted booking who is missing from customer_analytics.
-- In a build it checks the rows the build wrote and the customers of the
-- bookings it staged; `dbt test` alone checks every customer
-- (macros/testing/get_where_subquery.sql: kpi_written_this_build).
{%- set written = kpi_written_this_build('refreshed_at') %}
{%- set staged = kpi_written_this_build('dbt_loaded_at') %}
-- The relations are named where they are read (a CTE read twice is materialized whole).
with

scope as (

    select organization_id, customer_id
    from {{ ref('customer_analytics') }}
    {%- if written %}
    where {{ written }}
    {%- endif %}

    union

    select organization_id, customer_id
    from {{ ref('stg_bookings__bookings') }}
    where status = 'ACCEPTED'
        and customer_id is not null
        {%- if staged %}
        and {{ staged }}
        {%- endif %}

),

calculated as (

    select
        scope.organization_id,
        scope.customer_id,
        min(bookings.start_at) as first_booking_at,
        max(bookings.start_at) as last_booking_at
    from scope
    inner join {{ ref('stg_bookings__bookings') }} as bookings
        on scope.organization_id = bookings.organization_id
        and scope.customer_id = bookings.customer_id
    where bookings.status = 'ACCEPTED'
    group by scope.organization_id, scope.customer_id

),

compared as (

    select
        scope.organization_id,
        scope.customer_id,
        customer_analytics.customer_id is not null as in_customer_analytics,
        calculated.customer_id is not null as has_accepted_booking,
        customer_analytics.first_booking_at,
        calculated.first_booking_at as calculated_first_booking_at,
        first_bookings.first_booking_at as int_first_booking_at,
        customer_analytics.last_booking_at,
        calculated.last_booking_at as calculated_last_booking_at
    from scope
    left join {{ ref('customer_analytics') }} as customer_analytics
        on scope.organization_id = customer_analytics.organization_id
        and scope.customer_id = customer_analytics.customer_id
    left join calculated
        on scope.organization_id = calculated.organization_id
        and scope.customer_id = calculated.customer_id
    left join {{ ref('int_customer_first_booking') }} as first_bookings
        on scope.organization_id = first_bookings.organization_id
        and scope.customer_id = first_bookings.customer_id

)

select *
from compared
where (has_accepted_booking and not in_customer_analytics)
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
