{#-
  Not a view: deduplicating 1M+ bookings in a view would re-sort them for each
  reader (first booking, customer facts, payment attribution, the appointments
  fact) (docs/DECISIONLOG.md "Staging that is not a view").
  Incremental (delete+insert on booking_id), like stg_platform__events: a run
  re-stages the raw bookings loaded since its load watermark (the newest raw
  _loaded_at staged, ops.model_watermarks); a first build or --full-refresh
  stages the whole table in one statement. dbt_loaded_at is the change feed of
  the payment attribution and the customer facts; previous_customer_id keeps
  the customer a re-staged booking moved away from, whose facts change too.
  customer_note is scrubbed of e-mail addresses, phone numbers and the
  customer's own names (raw.customers, joined here; macro scrub_pii_text), so a
  booking is re-staged too when its customer's raw row is loaded again (a name
  that arrives or changes after the booking).
-#}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='booking_id',
    on_schema_change='append_new_columns',
    kpi_load_watermark='_loaded_at',
    indexes=[
        {'columns': ['booking_id'], 'unique': true},
        {'columns': ['start_at']},
        {'columns': ['organization_id', 'customer_id']},
        {'columns': ['dbt_loaded_at']},
    ],
) }}

with

source as (

    select * from {{ source('bookings', 'bookings') }}
    {%- if is_incremental() %}
    -- bookings loaded since the last run (index on raw _loaded_at), and the bookings of
    -- customers loaded since then (their names scrub the notes)
    where booking_id in (
        select booking_id
        from {{ source('bookings', 'bookings') }}
        where _loaded_at > {{ staging_load_watermark() }}
        union
        select changed_bookings.booking_id
        from {{ source('bookings', 'bookings') }} as changed_bookings
        inner join {{ source('bookings', 'customers') }} as changed_customers
            on
                changed_bookings.organization_id = changed_customers.organization_id
                and changed_bookings.customer_id = changed_customers.customer_id
        where changed_customers._loaded_at > {{ staging_load_watermark() }}
    )
    {%- endif %}

),

customers as (

    -- the names a note is scrubbed of; they go no further than this model
    select
        organization_id,
        customer_id,
        given_name,
        family_name
    from {{ source('bookings', 'customers') }}

),

cleaned as (

    select
        source.booking_id,
        source.organization_id,
        nullif(trim(source.location_id), '') as location_id,
        nullif(trim(source.customer_id), '') as customer_id,
        source.start_at,
        upper(trim(source.status)) as status,
        -- e-mail addresses, phone numbers and the customer's names removed (seed 004 "no PII")
        {{ scrub_pii_text('source.customer_note', ['customers.given_name', 'customers.family_name']) }}
            as customer_note,
        source.created_at,
        source.updated_at,
        source._loaded_at
    from source
    left join customers
        on
            source.organization_id = customers.organization_id
            and trim(source.customer_id) = customers.customer_id

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
    deduplicated.booking_id,
    deduplicated.organization_id,
    deduplicated.location_id,
    deduplicated.customer_id,
    deduplicated.start_at,
    deduplicated.booking_date,
    deduplicated.status,
    deduplicated.customer_note,
    deduplicated.created_at,
    deduplicated.updated_at,
    deduplicated._loaded_at,
    -- the customer the replaced row belonged to, when the new version names another one
    {{ bookings_previous_customer_id('deduplicated') }} as previous_customer_id,
    -- when this run (re)wrote the row: the change feed of the payment attribution and customer facts
    {{ dbt.current_timestamp() }} as dbt_loaded_at
from deduplicated
{%- if is_incremental() %}
left join {{ this }} as held
    on deduplicated.booking_id = held.booking_id
{%- endif %}
