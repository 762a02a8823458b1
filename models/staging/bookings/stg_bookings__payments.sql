{#-
  Incremental (delete+insert on payment_id), like stg_bookings__bookings: a
  run re-stages the raw payments loaded since its load watermark; a first build
  or --full-refresh stages the whole table. A table, not a view: its tests and
  the payment attribution would otherwise re-sort every payment.
-#}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='payment_id',
    on_schema_change='append_new_columns',
    kpi_load_watermark='_loaded_at',
    indexes=[
        {'columns': ['payment_id'], 'unique': true},
        {'columns': ['booking_id']},
        {'columns': ['organization_id', 'customer_id']},
        {'columns': ['dbt_loaded_at']},
    ],
) }}

with

source as (

    select * from {{ source('bookings', 'payments') }}
    {%- if is_incremental() %}
    -- payments loaded since the last run (index on raw _loaded_at)
    where _loaded_at > {{ staging_load_watermark() }}
    {%- endif %}

),

cleaned as (

    select
        payment_id,
        organization_id,
        nullif(trim(customer_id), '') as customer_id,
        nullif(trim(booking_id), '') as booking_id,
        amount_cents,
        upper(trim(currency)) as currency,
        upper(trim(status)) as status,
        created_at,
        _loaded_at
    from source

),

ranked as (

    -- defensive: the latest load of a payment wins (portable: no DISTINCT ON)
    select
        cleaned.*,
        row_number() over (
            partition by payment_id
            order by _loaded_at desc
        ) as version_rank
    from cleaned

)

select
    payment_id,
    organization_id,
    customer_id,
    booking_id,
    amount_cents,
    currency,
    status,
    created_at,
    _loaded_at,
    -- when this run (re)wrote the row: the change feed of the payment attribution
    {{ dbt.current_timestamp() }} as dbt_loaded_at
from ranked
where version_rank = 1
