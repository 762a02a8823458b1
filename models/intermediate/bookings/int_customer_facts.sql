{#-
  Per-customer booking and payment facts that do not depend on "now"; the heavy
  aggregation behind customer_analytics (seed 002), kept incrementally.

  var customer_refresh_mode:
    recent  (default; once the table exists) only the customers whose bookings
            or attributed payments were (re)written since the previous run —
            stg_bookings__bookings / int_payments_attributed rows with a
            dbt_loaded_at after the watermark recorded in ops.model_watermarks,
            including the customer a booking or payment moved away from
            (previous_customer_id) — are recomputed, each from ALL their
            bookings and payments, and replace their stored rows (delete+insert
            on organization_id, customer_id). A customer left with no booking
            and no payment is deleted (post-hook). The result equals a full
            rebuild: the facts hold no time-relative column, so a customer
            whose rows did not change cannot have changed.
    full    every customer is recomputed from all bookings and payments: the
            pre-hook deletes the stored rows in the same transaction (readers
            keep the old rows until the commit; the table, and the view
            int_customer_first_booking over it, stay in place).
  Time-relative columns (visits, windows, segment) live in
  int_customer_analytics, the days counted to as_of in the view customer_analytics.
-#}
{%- set refresh_mode = customer_refresh_mode() -%}

{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key=['organization_id', 'customer_id'],
    pre_hook=["{% if is_incremental() and customer_refresh_mode() == 'full' %}delete from {{ this }}{% endif %}"],
    on_schema_change='append_new_columns',
    indexes=[{'columns': ['organization_id', 'customer_id'], 'unique': true}],
    post_hook=[
        "{{ kpi_record_input_watermark([ref('stg_bookings__bookings'), ref('int_payments_attributed')]) }}",
        "{% if is_incremental() %}delete from {{ this }} where source_loaded_at is null{% endif %}",
    ],
) }}

{%- set recent_only = is_incremental() and refresh_mode == 'recent' %}
{#- a table built before the first-booking columns existed: every customer once -#}
{%- if recent_only and execute
    and 'first_booking_id' not in (adapter.get_columns_in_relation(this) | map(attribute='name') | list) %}
{%- set recent_only = false %}
{%- endif %}
{%- if recent_only %}
{%- set watermark = platform_recorded_watermark() %}
{%- endif %}

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
customers_in_scope as (

    -- customers of the bookings and payments (re)written since the last run, and
    -- the customers those rows no longer count for
    {{ bookings_changed_customers(watermark) }}

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
        sum(case when {{ bookings_is_cancelled('status') }} then 1 else 0 end) as total_cancellations,
        sum(case when status = 'CANCELLED_BY_CUSTOMER' then 1 else 0 end) as total_cancelled_by_customer,
        sum(case when status = 'CANCELLED_BY_SELLER' then 1 else 0 end) as total_cancelled_by_seller,
        sum(case when status = 'DECLINED' then 1 else 0 end) as total_declined,
        sum(case when status = 'PENDING' then 1 else 0 end) as total_pending,
        min(case when status = 'ACCEPTED' then start_at end) as first_booking_at,
        max(case when status = 'ACCEPTED' then start_at end) as last_booking_at,
        min(created_at) as first_booked_at,
        max(created_at) as last_booked_at,
        max(case when status = 'NO_SHOW' then start_at end) as last_no_show_at,
        max(case when {{ bookings_is_cancelled('status') }} then start_at end) as last_cancellation_at,
        sum(case when customer_note is not null and trim(customer_note) <> '' then 1 else 0 end) as total_notes,
        count(distinct case when status = 'ACCEPTED' then location_id end) as accepted_locations,
        max(_loaded_at) as bookings_loaded_at
    from scoped_bookings
    group by organization_id, customer_id

),

first_accepted as (

    -- seed 002's first booking: the first ACCEPTED booking by start_at, a tie going to
    -- the smallest booking_id (read by fct_appointments_by_location_daily through the
    -- view int_customer_first_booking)
    select
        organization_id,
        customer_id,
        booking_id as first_booking_id,
        location_id as first_booking_location_id
    from (
        select
            organization_id,
            customer_id,
            booking_id,
            location_id,
            row_number() over (
                partition by organization_id, customer_id
                order by start_at, booking_id
            ) as booking_rank
        from scoped_bookings
        where status = 'ACCEPTED'
    ) as ranked_accepted
    where booking_rank = 1

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

accepted_by_weekday as (

    select
        organization_id,
        customer_id,
        {{ utc_isodow('start_at') }} as weekday,
        count(*) as accepted_bookings_on_weekday
    from scoped_bookings
    where status = 'ACCEPTED'
    group by organization_id, customer_id, {{ utc_isodow('start_at') }}

),

preferred_weekday as (

    -- most accepted bookings on that UTC weekday; a tie goes to the earliest (Monday first)
    select
        organization_id,
        customer_id,
        weekday as preferred_weekday
    from (
        select
            accepted_by_weekday.*,
            row_number() over (
                partition by organization_id, customer_id
                order by accepted_bookings_on_weekday desc, weekday asc
            ) as weekday_rank
        from accepted_by_weekday
    ) as ranked_weekdays
    where weekday_rank = 1

),

accepted_by_hour as (

    select
        organization_id,
        customer_id,
        {{ utc_hour('start_at') }} as start_hour,
        count(*) as accepted_bookings_at_hour
    from scoped_bookings
    where status = 'ACCEPTED'
    group by organization_id, customer_id, {{ utc_hour('start_at') }}

),

preferred_hour as (

    -- most accepted bookings starting in that UTC hour; a tie goes to the earliest hour
    select
        organization_id,
        customer_id,
        start_hour as preferred_hour_utc
    from (
        select
            accepted_by_hour.*,
            row_number() over (
                partition by organization_id, customer_id
                order by accepted_bookings_at_hour desc, start_hour asc
            ) as hour_rank
        from accepted_by_hour
    ) as ranked_hours
    where hour_rank = 1

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
        count(*) as total_payments,
        sum(case when status = 'FAILED' then 1 else 0 end) as total_failed_payments,
        sum(case when status = 'CANCELED' then 1 else 0 end) as total_canceled_payments,
        sum(case when status = 'REFUNDED' then 1 else 0 end) as total_refunded_payments,
        cast(
            sum(case when status = 'REFUNDED' then amount_cents else 0 end)
            as {{ dbt.type_bigint() }}
        ) as total_refunded_cents,
        cast(max(case when status = 'COMPLETED' then amount_cents end) as {{ dbt.type_bigint() }})
            as largest_ticket_cents,
        min(case when status = 'COMPLETED' then created_at end) as first_payment_at,
        max(case when status = 'COMPLETED' then created_at end) as last_payment_at,
        max(_loaded_at) as payments_loaded_at
    from scoped_payments
    group by organization_id, customer_id

),

final as (

    select
        customers_in_scope.organization_id,
        customers_in_scope.customer_id,
        booking_totals.first_booking_at,
        first_accepted.first_booking_id,
        first_accepted.first_booking_location_id,
        booking_totals.last_booking_at,
        coalesce(booking_totals.total_bookings, 0) as total_bookings,
        coalesce(booking_totals.total_accepted_bookings, 0) as total_accepted_bookings,
        coalesce(booking_totals.total_no_shows, 0) as total_no_shows,
        coalesce(booking_totals.total_cancellations, 0) as total_cancellations,
        coalesce(payment_totals.total_revenue_cents, 0) as total_revenue_cents,
        coalesce(payment_totals.total_completed_payments, 0) as total_completed_payments,
        coalesce(notes.booking_notes, {{ json_empty_array() }}) as booking_notes,
        preferred_location.preferred_location_id,
        coalesce(booking_totals.total_cancelled_by_customer, 0) as total_cancelled_by_customer,
        coalesce(booking_totals.total_cancelled_by_seller, 0) as total_cancelled_by_seller,
        coalesce(booking_totals.total_declined, 0) as total_declined,
        coalesce(booking_totals.total_pending, 0) as total_pending,
        booking_totals.first_booked_at,
        booking_totals.last_booked_at,
        booking_totals.last_no_show_at,
        booking_totals.last_cancellation_at,
        coalesce(booking_totals.total_notes, 0) as total_notes,
        coalesce(booking_totals.accepted_locations, 0) as accepted_locations,
        preferred_weekday.preferred_weekday,
        preferred_hour.preferred_hour_utc,
        coalesce(payment_totals.total_payments, 0) as total_payments,
        coalesce(payment_totals.total_failed_payments, 0) as total_failed_payments,
        coalesce(payment_totals.total_canceled_payments, 0) as total_canceled_payments,
        coalesce(payment_totals.total_refunded_payments, 0) as total_refunded_payments,
        coalesce(payment_totals.total_refunded_cents, 0) as total_refunded_cents,
        payment_totals.largest_ticket_cents,
        payment_totals.first_payment_at,
        payment_totals.last_payment_at,
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
    left join first_accepted
        on customers_in_scope.organization_id = first_accepted.organization_id
        and customers_in_scope.customer_id = first_accepted.customer_id
    left join preferred_location
        on customers_in_scope.organization_id = preferred_location.organization_id
        and customers_in_scope.customer_id = preferred_location.customer_id
    left join preferred_weekday
        on customers_in_scope.organization_id = preferred_weekday.organization_id
        and customers_in_scope.customer_id = preferred_weekday.customer_id
    left join preferred_hour
        on customers_in_scope.organization_id = preferred_hour.organization_id
        and customers_in_scope.customer_id = preferred_hour.customer_id

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
    total_cancelled_by_customer,
    total_cancelled_by_seller,
    total_declined,
    total_pending,
    first_booked_at,
    last_booked_at,
    last_no_show_at,
    last_cancellation_at,
    total_notes,
    accepted_locations,
    preferred_weekday,
    preferred_hour_utc,
    total_payments,
    total_failed_payments,
    total_canceled_payments,
    total_refunded_payments,
    total_refunded_cents,
    largest_ticket_cents,
    first_payment_at,
    last_payment_at,
    source_loaded_at,
    first_booking_id,
    first_booking_location_id
from final
