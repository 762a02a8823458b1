{#- A table, not a view: deduplicating 1M+ bookings in a view would re-sort them
    for each reader (first booking, customer facts, payment attribution, the
    appointments fact) (docs/DECISIONLOG.md "Staging that is not a view"). -#}
{{ config(
    materialized='table',
    indexes=[
        {'columns': ['booking_id'], 'unique': true},
        {'columns': ['start_at']},
        {'columns': ['organization_id', 'customer_id']},
    ],
) }}

with

source as (

    select * from {{ source('bookings', 'bookings') }}

),

cleaned as (

    select
        booking_id,
        organization_id,
        nullif(trim(location_id), '') as location_id,
        nullif(trim(customer_id), '') as customer_id,
        start_at,
        upper(trim(status)) as status,
        -- e-mail addresses and phone numbers removed (seed 004 "no PII"; DECISIONLOG)
        {{ scrub_pii_text('customer_note') }} as customer_note,
        created_at,
        updated_at,
        _loaded_at
    from source

),

ranked as (

    -- the latest version of a booking wins (portable: no DISTINCT ON)
    select
        cleaned.*,
        row_number() over (
            partition by booking_id
            order by updated_at desc nulls last, _loaded_at desc
        ) as version_rank
    from cleaned

),

deduplicated as (

    select
        booking_id,
        organization_id,
        location_id,
        customer_id,
        start_at,
        {{ utc_date('start_at') }} as booking_date,
        status,
        customer_note,
        created_at,
        updated_at,
        _loaded_at
    from ranked
    where version_rank = 1

)

select
    booking_id,
    organization_id,
    location_id,
    customer_id,
    start_at,
    booking_date,
    status,
    customer_note,
    created_at,
    updated_at,
    _loaded_at
from deduplicated
