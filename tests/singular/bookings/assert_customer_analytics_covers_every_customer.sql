-- Seed 002 sanity check "row count = distinct customers": customer_analytics
-- holds exactly one row per customer known anywhere — every profile, every
-- customer id of a booking, every customer a payment belongs to (its own
-- customer_id, else its booking's, who is then known by the booking) — and no
-- other. Returns the keys found on one side only.
-- In a build it checks the customers the build could have changed: the rows it
-- wrote, the customers of the bookings and payments it staged, and the profiles
-- loaded since customer_analytics' previous write; `dbt test` alone checks every
-- customer (macros/testing/get_where_subquery.sql: kpi_written_this_build).
-- The relations are named where they are read, not in import CTEs: PostgreSQL
-- materializes a CTE read twice whole, and the scoped reads go through indexes.
{%- set written = kpi_written_this_build('refreshed_at') %}
{%- set staged = kpi_written_this_build('dbt_loaded_at') %}
with

previous_write as (

    -- the newest customer_analytics row this build did not write (1900 without one)
    select coalesce(max(refreshed_at), cast('1900-01-01' as {{ type_timestamp_tz() }})) as refreshed_at
    from {{ ref('customer_analytics') }}
    where {{ 'not (' ~ written ~ ')' if written else 'false' }}

),

scope as (

    select organization_id, customer_id
    from {{ ref('customer_analytics') }}
    {%- if written %}
    where {{ written }}
    {%- endif %}

    union

    select customers.organization_id, customers.customer_id
    from {{ ref('stg_bookings__customers') }} as customers
    {%- if written %}
    inner join previous_write
        on customers._loaded_at > previous_write.refreshed_at
    {%- endif %}

    union

    select organization_id, customer_id
    from {{ ref('stg_bookings__bookings') }}
    where customer_id is not null
        {%- if staged %}
        and {{ staged }}
        {%- endif %}

    union

    select organization_id, customer_id
    from {{ ref('stg_bookings__payments') }}
    where customer_id is not null
        {%- if staged %}
        and {{ staged }}
        {%- endif %}

),

checked as (

    select
        scope.organization_id,
        scope.customer_id,
        (
            exists (
                select 1 from {{ ref('customer_analytics') }} as customer_analytics
                where customer_analytics.organization_id = scope.organization_id
                    and customer_analytics.customer_id = scope.customer_id
            )
        ) as in_customer_analytics,
        (
            exists (
                select 1 from {{ ref('stg_bookings__customers') }} as customers
                where customers.organization_id = scope.organization_id
                    and customers.customer_id = scope.customer_id
            )
            or exists (
                select 1 from {{ ref('stg_bookings__bookings') }} as bookings
                where bookings.organization_id = scope.organization_id
                    and bookings.customer_id = scope.customer_id
            )
            or exists (
                select 1 from {{ ref('stg_bookings__payments') }} as payments
                where payments.organization_id = scope.organization_id
                    and payments.customer_id = scope.customer_id
            )
        ) as is_known
    from scope

)

select
    case
        when is_known then 'missing from customer_analytics'
        else 'unknown customer in customer_analytics'
    end as problem,
    organization_id,
    customer_id
from checked
where in_customer_analytics <> is_known
