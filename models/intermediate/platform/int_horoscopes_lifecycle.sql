{#-
  One row per horoscope (entity_id of the content domain): first upload, first
  approval, first publication and its zodiac sign (seed 004 content). Read
  WHOLE by the content marts (the upload may precede the approval's day).
  Incremental (delete+insert on horoscope_id): a run recomputes the horoscopes
  touched since its last run from all their events (macro platform_lifecycle).
-#}
{{ config(
    unique_key='horoscope_id',
    indexes=[{'columns': ['horoscope_id'], 'unique': true}, {'columns': ['staged_at']}],
) }}

with

lifecycle as (

    {{ platform_lifecycle(
        domain='content',
        entity_column='horoscope_id',
        event_types=['horoscope_uploaded', 'horoscope_approved', 'horoscope_rejected', 'horoscope_published'],
        steps={
            'horoscope_uploaded': 'first_uploaded_at',
            'horoscope_approved': 'first_approved_at',
            'horoscope_published': 'first_published_at',
        },
        aggregates=[
            'min(lower(zodiac_sign)) as zodiac_sign',
            "sum(case when event_type = 'horoscope_rejected' then 1 else 0 end) as rejections",
        ],
        event_columns=[json_get_text('metadata', 'zodiac_sign') ~ ' as zodiac_sign'],
    ) }}

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
