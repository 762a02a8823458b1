{#-
  The event log, cleaned (seeds 000, 001, 004). Incremental by day (microbatch
  on occurred_at, lookback for late events): a batch re-reads its days of
  raw.events_raw and replaces them, so a re-run is idempotent and an event that
  arrives late is picked up by the next run within the lookback (or a backfill).
  A re-sent event keeps its event_id; the first received copy wins, also when
  the copies fall on different days (batches): a batch drops its copy when the
  table already holds a better one outside the batch's window, and otherwise
  replaces it (delete+insert on event_id). As a batch reads the table
  (copies on other days), batches run one after another (concurrent_batches).
  Indexes: event_id (the microbatch key) and occurred_at (batch windows) are
  kept up to date by every batch; the look-up indexes of the incremental
  intermediates (watermark, entity) are created once after the last batch of a
  first build / --full-refresh (post-hook create_indexes_after_batches), which
  costs one sort instead of millions of random index inserts.
-#}
{{ config(
    materialized='incremental',
    incremental_strategy='microbatch',
    event_time='occurred_at',
    batch_size=var('microbatch_batch_size'),
    lookback=var('events_lookback_days'),
    begin=var('kpi_begin'),
    unique_key='event_id',
    concurrent_batches=false,
    indexes=[
        {'columns': ['event_id'], 'unique': true},
        {'columns': ['occurred_at']},
    ],
    post_hook=["{{ create_indexes_after_batches([['dbt_loaded_at'], ['event_domain', 'entity_id']]) }}"],
) }}

with

source as (

    select * from {{ source('platform', 'events_raw') }}

),

countries as (

    select alpha_2 from {{ ref('iso_country_codes') }}

),

pii_keys as (

    select key from {{ ref('pii_metadata_keys') }}

),

deduplicated as (

    -- a re-sent event keeps its event_id: the first received copy wins
    select
        source.*,
        row_number() over (
            partition by event_id
            order by received_at nulls last, _loaded_at, occurred_at
        ) as copy_rank
    from source

),

cleaned as (

    select
        event_id,
        occurred_at,
        {{ utc_date('occurred_at') }} as event_date,
        received_at,
        nullif(trim(tenant_id), '') as tenant_id,
        nullif(trim(location_id), '') as location_id,
        lower(trim(event_domain)) as event_domain,
        lower(trim(event_type)) as event_type,
        nullif(trim(user_id), '') as user_id,
        nullif(trim(session_id), '') as session_id,
        nullif(trim(entity_type), '') as entity_type,
        nullif(trim(entity_id), '') as entity_id,
        nullif(lower(trim(status)), '') as status,
        nullif(lower(trim(provider)), '') as provider,
        nullif(lower(trim(service_code)), '') as service_code,
        nullif(upper(trim(country_code)), '') as country_code_raw,
        amount_cents,
        nullif(upper(trim(currency)), '') as currency,
        duration_seconds,
        {{ json_remove_keys('metadata', '(select ' ~ text_array_agg('key') ~ ' from pii_keys)') }} as metadata,
        schema_version,
        _loaded_at
    from deduplicated
    where copy_rank = 1

)

{%- set never = "cast('9999-12-31' as " ~ type_timestamp_tz() ~ ")" %}
{#- not is_incremental(): dbt compiles every batch of a --full-refresh as non-incremental,
    but from the second batch on the table holds the earlier batches' days -#}
{%- set batch = model.get('batch') if model is mapping else none %}
{%- set table_exists = execute and batch and adapter.get_relation(this.database, this.schema, this.identifier) is not none %}

select
    cleaned.event_id,
    cleaned.occurred_at,
    cleaned.event_date,
    cleaned.received_at,
    cleaned.tenant_id,
    cleaned.location_id,
    cleaned.event_domain,
    cleaned.event_type,
    cleaned.user_id,
    cleaned.session_id,
    cleaned.entity_type,
    cleaned.entity_id,
    cleaned.status,
    cleaned.provider,
    cleaned.service_code,
    countries.alpha_2 as country_code,
    cleaned.country_code_raw is not null and countries.alpha_2 is null as is_country_code_invalid,
    cleaned.amount_cents,
    cleaned.currency,
    cleaned.duration_seconds,
    cleaned.metadata,
    cleaned.schema_version,
    {{ dbt.datediff('cleaned.occurred_at', 'cleaned.received_at', 'second') }} as ingestion_delay_seconds,
    cleaned._loaded_at,
    -- when this batch (re)wrote the row: what the incremental intermediate models watch
    {{ dbt.current_timestamp() }} as dbt_loaded_at
from cleaned
left join countries
    on cleaned.country_code_raw = countries.alpha_2
{% if table_exists %}
-- a copy of the event on another day (outside this batch) that was received first wins
where not exists (
    select 1
    from {{ this }} as kept
    where kept.event_id = cleaned.event_id
        and not ({{ batch_window_filter('kept.occurred_at') }})
        -- the copy order of the de-duplication above: received_at (nulls last), _loaded_at, occurred_at
        and (coalesce(kept.received_at, {{ never }}), kept._loaded_at, kept.occurred_at)
        < (coalesce(cleaned.received_at, {{ never }}), cleaned._loaded_at, cleaned.occurred_at)
)
{% endif %}
