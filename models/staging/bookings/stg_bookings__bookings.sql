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
    -- bookings loaded since the last run (index on raw _loaded_at)
    where _loaded_at > {{ staging_load_watermark() }}
    {%- endif %}

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
    {%- if is_incremental() %}
    -- the customer the replaced row belonged to, when the new version names another one
    case
        when deduplicated.customer_id is null or held.customer_id <> deduplicated.customer_id then held.customer_id
    end as previous_customer_id,
    {%- else %}
    cast(null as {{ dbt.type_string() }}) as previous_customer_id,
    {%- endif %}
    -- when this run (re)wrote the row: the change feed of the payment attribution and customer facts
    {{ dbt.current_timestamp() }} as dbt_loaded_at
from deduplicated
{%- if is_incremental() %}
left join {{ this }} as held
    on deduplicated.booking_id = held.booking_id
{%- endif %}
