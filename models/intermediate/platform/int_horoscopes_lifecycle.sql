{#-
  One row per horoscope (entity_id of the content domain): first upload, first
  approval, first publication and its zodiac sign (seed 004 content). Read
  WHOLE by the content marts (the upload may precede the approval's day).
  Incremental (delete+insert): a run recomputes, from ALL their staging
  events, only the horoscopes touched by staging rows written since its last run
  (dbt_loaded_at > max(staged_at)); a first build / --full-refresh computes
  everything (DECISIONLOG "Incremental platform intermediates").
-#}
{{ config(
    unique_key='horoscope_id',
    indexes=[{'columns': ['horoscope_id'], 'unique': true}, {'columns': ['staged_at']}],
) }}

with

{% if is_incremental() %}
touched as (

    {{ platform_touched_entities('content') }}

),

{% endif %}

content_events as (

    select
        entity_id,
        event_type,
        occurred_at,
        {{ json_get_text('metadata', 'zodiac_sign') }} as zodiac_sign,
        dbt_loaded_at
    from {{ ref('stg_platform__events') }}
    where event_domain = 'content'
        and event_type in ('horoscope_uploaded', 'horoscope_approved', 'horoscope_rejected', 'horoscope_published')
        and entity_id is not null
        {% if is_incremental() %}and entity_id in (select entity_id from touched){% endif %}

),

lifecycle as (

    select
        entity_id as horoscope_id,
        min(lower(zodiac_sign)) as zodiac_sign,
        min(case when event_type = 'horoscope_uploaded' then occurred_at end) as first_uploaded_at,
        min(case when event_type = 'horoscope_approved' then occurred_at end) as first_approved_at,
        min(case when event_type = 'horoscope_published' then occurred_at end) as first_published_at,
        sum(case when event_type = 'horoscope_rejected' then 1 else 0 end) as rejections,
        max(dbt_loaded_at) as staged_at
    from content_events
    group by entity_id

)

select
    horoscope_id,
    zodiac_sign,
    first_uploaded_at,
    first_approved_at,
    first_published_at,
    rejections,
    case
        when first_uploaded_at is not null and first_approved_at is not null
            then {{ dbt.datediff('first_uploaded_at', 'first_approved_at', 'second') }}
    end as approval_latency_seconds,
    staged_at
from lifecycle
