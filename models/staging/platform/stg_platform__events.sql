{#-
  The event log, cleaned (seeds 000, 001, 004): one row per event_id.
  Incremental (delete+insert on event_id): a run stages the raw copies loaded
  since the last run (raw._loaded_at > the newest _loaded_at staged so far,
  kept in ops.model_watermarks), however late the event is, read through raw's
  _loaded_at index; a first build or --full-refresh stages the whole raw table
  in one statement, indexes after. `kpi backfill` also re-stages the raw events
  of its window, from all their raw copies.
  Copies of one event_id (re-sends, corrections): the latest received copy wins
  (received_at, a null counting as oldest; then the later load) —
  DECISIONLOG "One row per event". The staged row is the winner among the
  copies staged so far, so a run ranks the new copies against it instead of
  reading the event's older raw copies (a look-up by event_id in every monthly
  partition of raw): a new copy that loses to it changes nothing. When the
  winner lies on another UTC day than the row it replaces,
  previous_event_date keeps the day it moved from: the daily models recompute
  both days (macros/incremental/kpi_days_to_process.sql).
  metadata loses the top-level keys of seed pii_metadata_keys and has e-mail
  addresses and phone numbers in its values replaced (macro scrub_pii_json).
-#}
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='event_id',
    on_schema_change='append_new_columns',
    kpi_load_watermark='_loaded_at',
    indexes=[
        {'columns': ['event_id'], 'unique': true},
        {'columns': ['occurred_at']},
        {'columns': ['dbt_loaded_at']},
        {'columns': ['event_domain', 'entity_id']},
    ],
) }}

{%- set restage_window = var('kpi_backfill_start', none) and var('kpi_backfill_end', none) %}

with

{%- if is_incremental() and restage_window %}

changed as (

    -- event ids with a copy loaded since the last run (index on raw _loaded_at)
    select event_id
    from {{ source('platform', 'events_raw') }}
    where _loaded_at > {{ staging_load_watermark() }}
    union
    -- kpi backfill: the window's raw events are re-staged as well
    select event_id
    from {{ source('platform', 'events_raw') }}
    where occurred_at >= cast('{{ var("kpi_backfill_start") }}' as {{ type_timestamp_tz() }})
        and occurred_at < cast('{{ var("kpi_backfill_end") }}' as {{ type_timestamp_tz() }})

),

{%- endif %}

source as (

    select * from {{ source('platform', 'events_raw') }}
    {%- if is_incremental() and restage_window %}
    -- kpi backfill: every raw copy of the events loaded since the last run or in the window
    where event_id in (select event_id from changed)
    {%- elif is_incremental() %}
    -- the copies loaded since the last run (index on raw _loaded_at); their events' older
    -- copies are represented by the staged row they rank against below
    where _loaded_at > {{ staging_load_watermark() }}
    {%- endif %}

),

countries as (

    select alpha_2 from {{ ref('iso_country_codes') }}

),

pii_keys as (

    select key from {{ ref('pii_metadata_keys') }}

),

copied_events as (

    -- event ids with more than one raw copy (written by other tools: `kpi load` keeps one)
    select event_id
    from source
    group by event_id
    having count(*) > 1

),

deduplicated as (

    -- an event with one raw copy passes through in raw's physical order (partition month,
    -- then load order), so a first build writes staging in about time order and the day
    -- ranges the daily models read stay contiguous on disk (no sort by event_id)
    select
        source.*,
        cast(1 as {{ dbt.type_bigint() }}) as copy_rank
    from source
    where not exists (
        select 1 from copied_events
        where copied_events.event_id = source.event_id
    )

    union all

    -- a re-sent or corrected event keeps its event_id: the latest received copy wins
    select
        source.*,
        row_number() over (
            partition by source.event_id
            order by source.received_at desc nulls last, source._loaded_at desc, source.occurred_at desc
        ) as copy_rank
    from source
    inner join copied_events
        on source.event_id = copied_events.event_id

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
        -- PII keys dropped, e-mail addresses and phone numbers in the values replaced (seed 004)
        {{ scrub_pii_json(json_remove_keys('metadata', '(select ' ~ text_array_agg('key') ~ ' from pii_keys)')) }}
            as metadata,
        schema_version,
        _loaded_at
    from deduplicated
    where copy_rank = 1

)

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
    {%- if is_incremental() %}
    -- the day the replaced row was on, when the winning copy moved the event to another day
    case when held.event_date <> cleaned.event_date then held.event_date end as previous_event_date,
    {%- else %}
    cast(null as date) as previous_event_date,
    {%- endif %}
    -- when this run (re)wrote the row: the change feed the incremental models read
    {{ dbt.current_timestamp() }} as dbt_loaded_at
from cleaned
left join countries
    on cleaned.country_code_raw = countries.alpha_2
{%- if is_incremental() %}
left join {{ this }} as held
    on cleaned.event_id = held.event_id
{%- if not restage_window %}
-- a new copy replaces the staged row unless that row was received later (the rule above:
-- on equal received_at the later load wins, and every new copy was loaded later)
where held.event_id is null
    or held.received_at is null
    or cleaned.received_at >= held.received_at
{%- endif %}
{%- endif %}
