{#-
  Seed 003's "End of Day: Daily Summary" per pilot scope: one row per UTC day x scope
  (country x category x template version, and country x category over every version,
  version_scope 'all'; never sum across version_scope) with anything to report.
  Deals created, settled, disputes opened, in inspection and stuck come from
  metrics_daily_deals; issues identified = the problems the seed's daily checks look
  for, at the end of the day: stuck deals ("check for stuck deals") + open disputes
  without any evidence yet ("verify all disputes have evidence").
  A table rebuilt whole by every run, as metrics_daily_deals it reads: a late state
  change or evidence upload alters every later day (DECISIONLOG "Pilot daily summary").
-#}
with

days as (

    select day from {{ ref('int_marketplace_days') }}

),

daily as (

    select
        metric_date,
        country_code,
        category,
        {{ unknown_member('template_version') }} as version_scope,
        template_version,
        deals_created,
        deals_settled,
        disputes_opened,
        deals_in_inspection,
        deals_stuck
    from {{ ref('metrics_daily_deals') }}

),

deals as (

    select
        deal_id,
        {{ unknown_member('country_code') }} as country_code,
        {{ unknown_member('category') }} as category,
        template_version
    from {{ ref('stg_marketplace__deals') }}

),

disputes as (

    select dispute_id, deal_id, opened_at, resolved_at, is_resolved
    from {{ ref('fct_disputes') }}

),

evidence as (

    select dispute_id, min(uploaded_at) as first_uploaded_at
    from {{ ref('stg_marketplace__dispute_evidence') }}
    group by dispute_id

),

disputes_without_evidence as (

    -- open at the end of the day (opened on or before it, not resolved by then) and no
    -- evidence uploaded on or before it
    select
        days.day as metric_date,
        deals.country_code,
        deals.category,
        {{ unknown_member('deals.template_version') }} as version_scope,
        deals.template_version,
        count(*) as disputes_open_without_evidence
    from days
    inner join disputes
        on {{ utc_date('disputes.opened_at') }} <= days.day
        -- a dispute resolved without a recorded time is not known to be open on any day
        and (not disputes.is_resolved or {{ utc_date('disputes.resolved_at') }} > days.day)
    inner join deals
        on disputes.deal_id = deals.deal_id
    left join evidence
        on disputes.dispute_id = evidence.dispute_id
    where evidence.first_uploaded_at is null or {{ utc_date('evidence.first_uploaded_at') }} > days.day
    group by days.day, deals.country_code, deals.category, deals.template_version

),

measures as (

    select
        metric_date, country_code, category, version_scope, template_version, deals_created, deals_settled,
        disputes_opened, deals_in_inspection, deals_stuck, 0 as disputes_open_without_evidence
    from daily

    union all

    select
        metric_date, country_code, category, version_scope, template_version, 0, 0, 0, 0, 0,
        disputes_open_without_evidence
    from disputes_without_evidence

),

scoped as (

    select
        metric_date, country_code, category, version_scope, template_version, deals_created, deals_settled,
        disputes_opened, deals_in_inspection, deals_stuck, disputes_open_without_evidence
    from measures

    union all

    select
        metric_date, country_code, category, 'all', cast(null as {{ dbt.type_int() }}), deals_created, deals_settled,
        disputes_opened, deals_in_inspection, deals_stuck, disputes_open_without_evidence
    from measures

),

aggregated as (

    select
        metric_date,
        country_code,
        category,
        version_scope,
        max(template_version) as template_version,
        cast(sum(deals_created) as {{ dbt.type_bigint() }}) as deals_created,
        cast(sum(deals_settled) as {{ dbt.type_bigint() }}) as deals_settled,
        cast(sum(disputes_opened) as {{ dbt.type_bigint() }}) as disputes_opened,
        cast(sum(deals_in_inspection) as {{ dbt.type_bigint() }}) as deals_in_inspection,
        cast(sum(deals_stuck) as {{ dbt.type_bigint() }}) as deals_stuck,
        cast(sum(disputes_open_without_evidence) as {{ dbt.type_bigint() }}) as disputes_open_without_evidence
    from scoped
    group by metric_date, country_code, category, version_scope

)

select
    {{ surrogate_key(['metric_date', 'country_code', 'category', 'version_scope']) }} as daily_summary_key,
    {{ dbt.concat([
        'country_code', "':'", 'category',
        "case when version_scope = 'all' then '' else ':' || version_scope end"
    ]) }} as scope,
    metric_date,
    {{ iso_week_label('metric_date') }} as iso_week,
    country_code,
    category,
    version_scope,
    template_version,
    deals_created,
    deals_settled,
    disputes_opened,
    deals_in_inspection,
    deals_stuck,
    disputes_open_without_evidence,
    deals_stuck + disputes_open_without_evidence as issues_identified
from aggregated
