{#-
  Seed 003's end-of-day summary: one row per UTC day, country, category and template
  version that has any activity or open deal to report, over every day of
  int_marketplace_days. A table rebuilt whole by every run (one statement, published
  by dbt's rename): a deal's state at the end of a day depends on changes made on
  earlier days, so a late or corrected state change alters every later day
  (DECISIONLOG "Late and corrected data").
  stuck = still in a non-terminal state at the end of the day, past that state's
  template TTL: INSPECTION and CREATED/FUNDED inspection_ttl_days after entering it,
  DISPUTED dispute_ttl_hours after entering it (docs/DECISIONLOG.md).
-#}
{{ config(
    materialized='table',
    tags=['daily'],
    event_time='metric_date',
    indexes=[{'columns': ['metric_day_key'], 'unique': true}, {'columns': ['metric_date']}],
) }}

with

days as (

    select day from {{ ref('int_marketplace_days') }}

),

deals as (

    select
        deal_id,
        {{ unknown_member('country_code') }} as country_code,
        {{ unknown_member('category') }} as category,
        template_code,
        template_version,
        created_date
    from {{ ref('stg_marketplace__deals') }}

),

templates as (

    select template_code, template_version, inspection_ttl_days, dispute_ttl_hours
    from {{ ref('deal_templates') }}

),

intervals as (

    select deal_id, to_state, valid_from, valid_to, is_terminal
    from {{ ref('int_deal_state_intervals') }}

),

disputes as (

    select deal_id, opened_at
    from {{ ref('stg_marketplace__disputes') }}

),

open_intervals as (

    select
        intervals.deal_id,
        intervals.to_state,
        {{ utc_date('intervals.valid_from') }} as from_date,
        {{ utc_date('intervals.valid_to') }} as to_date,
        {{ utc_date(
            "case when intervals.to_state = 'DISPUTED' then "
            ~ dbt.dateadd('hour', 'templates.dispute_ttl_hours', 'intervals.valid_from')
            ~ " else " ~ dbt.dateadd('day', 'templates.inspection_ttl_days', 'intervals.valid_from') ~ " end"
        ) }} as due_date
    from intervals
    inner join deals
        on intervals.deal_id = deals.deal_id
    left join templates
        on deals.template_code = templates.template_code
        and deals.template_version = templates.template_version
    where not intervals.is_terminal

),

events as (

    select deals.deal_id, deals.created_date as metric_date, 'created' as metric
    from deals

    union all

    select intervals.deal_id, {{ utc_date('intervals.valid_from') }}, 'settled'
    from intervals
    where intervals.to_state = 'SETTLED'

    union all

    select disputes.deal_id, {{ utc_date('disputes.opened_at') }}, 'dispute_opened'
    from disputes

),

event_rows as (

    select
        days.day as metric_date,
        events.deal_id,
        events.metric
    from days
    inner join events
        on days.day = events.metric_date

),

end_of_day_rows as (

    -- the deal's open state at the end of the day: entered on or before it, left after it
    select
        days.day as metric_date,
        open_intervals.deal_id,
        case when open_intervals.to_state = 'INSPECTION' then 1 else 0 end as is_in_inspection,
        case when open_intervals.due_date <= days.day then 1 else 0 end as is_stuck
    from days
    inner join open_intervals
        on open_intervals.from_date <= days.day
        and (open_intervals.to_date is null or open_intervals.to_date > days.day)

),

measures as (

    select
        metric_date,
        deal_id,
        case when metric = 'created' then 1 else 0 end as created,
        case when metric = 'settled' then 1 else 0 end as settled,
        case when metric = 'dispute_opened' then 1 else 0 end as dispute_opened,
        0 as in_inspection,
        0 as stuck
    from event_rows

    union all

    select metric_date, deal_id, 0, 0, 0, is_in_inspection, is_stuck
    from end_of_day_rows

),

aggregated as (

    select
        measures.metric_date,
        deals.country_code,
        deals.category,
        deals.template_version,
        sum(measures.created) as deals_created,
        sum(measures.settled) as deals_settled,
        sum(measures.dispute_opened) as disputes_opened,
        sum(measures.in_inspection) as deals_in_inspection,
        sum(measures.stuck) as deals_stuck
    from measures
    inner join deals
        on measures.deal_id = deals.deal_id
    group by measures.metric_date, deals.country_code, deals.category, deals.template_version

)

select
    {{ surrogate_key(['metric_date', 'country_code', 'category', 'template_version']) }} as metric_day_key,
    metric_date,
    country_code,
    category,
    template_version,
    deals_created,
    deals_settled,
    disputes_opened,
    deals_in_inspection,
    deals_stuck
from aggregated
where deals_created + deals_settled + disputes_opened + deals_in_inspection + deals_stuck > 0
