{#-
  Per-customer booking and payment facts that do not depend on "now"; the heavy
  aggregation behind customer_analytics (seed 002), kept incrementally.

  var customer_refresh_mode:
    full    the table is rebuilt from all bookings and payments (full_refresh
            forced by config), so customers whose rows vanished also vanish.
    recent  (once the table exists) only customers with activity in the last
            var customer_recent_days days before kpi_as_of() are recomputed —
            a booking created, updated or starting in the window or a payment
            created in it — plus customers with rows loaded after the previous
            run (raw _loaded_at above the stored watermark: late corrections
            such as a refund of an old payment). Their rows are recomputed from
            ALL their bookings and payments and replace the stored ones
            (delete+insert on organization_id, customer_id), so the result equals
            a full rebuild for every customer whose data changed that way.
  Time-relative columns (days since, segment) live in customer_analytics.
-#}
{%- set refresh_mode = customer_refresh_mode() -%}

{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key=['organization_id', 'customer_id'],
    full_refresh=(true if refresh_mode == 'full' else none),
    on_schema_change='sync_all_columns',
) }}

{%- set recent_only = is_incremental() and refresh_mode == 'recent' %}

with

bookings as (

    select
        booking_id,
        organization_id,
        customer_id,
        location_id,
        start_at,
        status,
        customer_note,
        created_at,
        updated_at,
        _loaded_at
    from {{ ref('stg_bookings__bookings') }}
    where customer_id is not null

),

payments as (

    select
        payment_id,
        organization_id,
        customer_id,
        amount_cents,
        status,
        created_at,
        _loaded_at
    from {{ ref('int_payments_attributed') }}
    where customer_id is not null

),

{% if recent_only -%}
refresh_window as (

    select
        {{ dbt.dateadd('day', -1 * (var('customer_recent_days') | int), kpi_as_of()) }} as window_start,
        (select max(source_loaded_at) from {{ this }}) as loaded_watermark

),

customers_in_scope as (

    select
        bookings.organization_id,
        bookings.customer_id
    from bookings
    cross join refresh_window
    where bookings.created_at >= refresh_window.window_start
        or bookings.updated_at >= refresh_window.window_start
        or bookings.start_at >= refresh_window.window_start
        or bookings._loaded_at > refresh_window.loaded_watermark

    union

    select
        payments.organization_id,
        payments.customer_id
    from payments
    cross join refresh_window
    where payments.created_at >= refresh_window.window_start
        or payments._loaded_at > refresh_window.loaded_watermark

),
{%- else -%}
customers_in_scope as (

    select organization_id, customer_id from bookings
    union
    select organization_id, customer_id from payments

),
{%- endif %}

scoped_bookings as (

    select bookings.*
    from bookings
    inner join customers_in_scope
        on bookings.organization_id = customers_in_scope.organization_id
        and bookings.customer_id = customers_in_scope.customer_id

),

scoped_payments as (

    select payments.*
    from payments
    inner join customers_in_scope
        on payments.organization_id = customers_in_scope.organization_id
        and payments.customer_id = customers_in_scope.customer_id

),

booking_totals as (

    select
        organization_id,
        customer_id,
        count(*) as total_bookings,
        sum(case when status = 'ACCEPTED' then 1 else 0 end) as total_accepted_bookings,
        sum(case when status = 'NO_SHOW' then 1 else 0 end) as total_no_shows,
        sum(
            case when status in ('CANCELLED_BY_CUSTOMER', 'CANCELLED_BY_SELLER') then 1 else 0 end
        ) as total_cancellations,
        min(case when status = 'ACCEPTED' then start_at end) as first_booking_at,
        max(case when status = 'ACCEPTED' then start_at end) as last_booking_at,
        max(_loaded_at) as bookings_loaded_at
    from scoped_bookings
    group by organization_id, customer_id

),

accepted_by_location as (

    select
        organization_id,
        customer_id,
        location_id,
        count(*) as accepted_bookings_at_location
    from scoped_bookings
    where status = 'ACCEPTED'
        and location_id is not null
    group by organization_id, customer_id, location_id

),

preferred_location as (

    -- most accepted bookings; a tie goes to the smallest location_id
    select
        organization_id,
        customer_id,
        location_id as preferred_location_id
    from (
        select
            accepted_by_location.*,
            row_number() over (
                partition by organization_id, customer_id
                order by accepted_bookings_at_location desc, location_id asc
            ) as location_rank
        from accepted_by_location
    ) as ranked_locations
    where location_rank = 1

),

notes as (

    -- non-empty notes of all bookings, in start_at order (booking_id on a tie)
    select
        organization_id,
        customer_id,
        {{ json_array_agg('customer_note', 'start_at, booking_id') }} as booking_notes
    from scoped_bookings
    where customer_note is not null
        and trim(customer_note) <> ''
    group by organization_id, customer_id

),

payment_totals as (

    select
        organization_id,
        customer_id,
        cast(
            sum(case when status = 'COMPLETED' then amount_cents else 0 end)
            as {{ dbt.type_bigint() }}
        ) as total_revenue_cents,
        sum(case when status = 'COMPLETED' then 1 else 0 end) as total_completed_payments,
        max(_loaded_at) as payments_loaded_at
    from scoped_payments
    group by organization_id, customer_id

),

final as (

    select
        customers_in_scope.organization_id,
        customers_in_scope.customer_id,
        booking_totals.first_booking_at,
        booking_totals.last_booking_at,
        coalesce(booking_totals.total_bookings, 0) as total_bookings,
        coalesce(booking_totals.total_accepted_bookings, 0) as total_accepted_bookings,
        coalesce(booking_totals.total_no_shows, 0) as total_no_shows,
        coalesce(booking_totals.total_cancellations, 0) as total_cancellations,
        coalesce(payment_totals.total_revenue_cents, 0) as total_revenue_cents,
        coalesce(payment_totals.total_completed_payments, 0) as total_completed_payments,
        coalesce(notes.booking_notes, {{ json_empty_array() }}) as booking_notes,
        preferred_location.preferred_location_id,
        case
            when payment_totals.payments_loaded_at is null then booking_totals.bookings_loaded_at
            when booking_totals.bookings_loaded_at is null then payment_totals.payments_loaded_at
            when booking_totals.bookings_loaded_at > payment_totals.payments_loaded_at
                then booking_totals.bookings_loaded_at
            else payment_totals.payments_loaded_at
        end as source_loaded_at
    from customers_in_scope
    left join booking_totals
        on customers_in_scope.organization_id = booking_totals.organization_id
        and customers_in_scope.customer_id = booking_totals.customer_id
    left join payment_totals
        on customers_in_scope.organization_id = payment_totals.organization_id
        and customers_in_scope.customer_id = payment_totals.customer_id
    left join notes
        on customers_in_scope.organization_id = notes.organization_id
        and customers_in_scope.customer_id = notes.customer_id
    left join preferred_location
        on customers_in_scope.organization_id = preferred_location.organization_id
        and customers_in_scope.customer_id = preferred_location.customer_id

)

select
    organization_id,
    customer_id,
    first_booking_at,
    last_booking_at,
    total_bookings,
    total_accepted_bookings,
    total_no_shows,
    total_cancellations,
    total_revenue_cents,
    total_completed_payments,
    booking_notes,
    preferred_location_id,
    source_loaded_at
from final
