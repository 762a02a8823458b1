{#-
  Not a view, like stg_bookings__bookings: the appointments fact and the customer
  facts both read it (DECISIONLOG "Staging that is not a view").
  Incremental (delete+insert on payment_id): a run recomputes the payments
  re-staged since its watermark and the payments of the bookings re-staged
  since then (a booking's new customer, location or start moves its payments);
  the watermark is the newest staging write it has read (ops.model_watermarks,
  recorded by kpi_record_input_watermark). previous_customer_id keeps the
  customer a recomputed payment no longer counts for.
-#}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='payment_id',
    on_schema_change='append_new_columns',
    indexes=[
        {'columns': ['payment_id'], 'unique': true},
        {'columns': ['attributed_at']},
        {'columns': ['organization_id', 'customer_id']},
        {'columns': ['dbt_loaded_at']},
    ],
    post_hook=["{{ kpi_record_input_watermark([ref('stg_bookings__payments'), ref('stg_bookings__bookings')]) }}"],
) }}

-- Each payment with the customer and the booking (location, day) it belongs to.
-- A payment's customer is its own customer_id, else the customer of its booking.
-- A payment is attributed to its booking's start (location and UTC day) when the
-- booking exists in the same organization, else to its own created_at with no
-- location (docs/DECISIONLOG.md "revenue attribution").
{%- if is_incremental() %}
{%- set watermark = platform_recorded_watermark() %}
{%- endif %}

with

{%- if is_incremental() %}

changed as (

    -- payments re-staged since the last run, and the payments of re-staged bookings
    select payment_id
    from {{ ref('stg_bookings__payments') }}
    where dbt_loaded_at > {{ watermark }}
    union
    select changed_payments.payment_id
    from {{ ref('stg_bookings__bookings') }} as changed_bookings
    inner join {{ ref('stg_bookings__payments') }} as changed_payments
        on changed_bookings.booking_id = changed_payments.booking_id
    where changed_bookings.dbt_loaded_at > {{ watermark }}

),

{%- endif %}

payments as (

    select
        payment_id,
        organization_id,
        customer_id,
        booking_id,
        amount_cents,
        currency,
        status,
        created_at,
        _loaded_at
    from {{ ref('stg_bookings__payments') }}
    {%- if is_incremental() %}
    where payment_id in (select payment_id from changed)
    {%- endif %}

),

bookings as (

    select
        booking_id,
        organization_id,
        customer_id,
        location_id,
        start_at
    from {{ ref('stg_bookings__bookings') }}

),

joined as (

    select
        payments.payment_id,
        payments.organization_id,
        payments.customer_id as payment_customer_id,
        payments.booking_id,
        payments.amount_cents,
        payments.currency,
        payments.status,
        payments.created_at,
        payments._loaded_at,
        bookings.booking_id as linked_booking_id,
        bookings.customer_id as booking_customer_id,
        bookings.location_id as booking_location_id,
        bookings.start_at as booking_start_at
    from payments
    left join bookings
        on payments.booking_id = bookings.booking_id
        and payments.organization_id = bookings.organization_id

),

attributed as (

    select
        payment_id,
        organization_id,
        coalesce(payment_customer_id, booking_customer_id) as customer_id,
        booking_id,
        linked_booking_id is not null as is_booking_linked,
        booking_location_id as location_id,
        amount_cents,
        currency,
        status,
        status = 'COMPLETED' as is_completed,
        created_at,
        coalesce(booking_start_at, created_at) as attributed_at,
        {{ utc_date('coalesce(booking_start_at, created_at)') }} as attributed_date,
        _loaded_at
    from joined

)

select
    attributed.payment_id,
    attributed.organization_id,
    attributed.customer_id,
    attributed.booking_id,
    attributed.is_booking_linked,
    attributed.location_id,
    attributed.amount_cents,
    attributed.currency,
    attributed.status,
    attributed.is_completed,
    attributed.created_at,
    attributed.attributed_at,
    attributed.attributed_date,
    attributed._loaded_at,
    -- the customer the replaced row counted for, when the payment now counts for another one
    {{ bookings_previous_customer_id('attributed') }} as previous_customer_id,
    -- when this run (re)wrote the row: the change feed of the customer facts
    {{ dbt.current_timestamp() }} as dbt_loaded_at
from attributed
{%- if is_incremental() %}
left join {{ this }} as held
    on attributed.payment_id = held.payment_id
{%- endif %}
