{#-
  Seed 003's rollback trigger "settlement completion rate < 50%" over the pilot's
  weeks, per scope: one row per scope (as rpt_pilot_scope_kpis) x ISO week, from the
  scope's first week with a deal to the last week of marketplace data. The rate is the
  running one an operator sees at the end of that week (Sunday 24:00 UTC): deals
  settled by then / deals created by then. Threshold and comparator from seed
  pilot_kpi_targets (rollback_settlement_completion_rate, category '*').
  is_first_trigger marks the first week it fires. The other triggers of the seed
  (security, data integrity, user safety) are not in the data, except the ledger
  invariants that rpt_rollback_triggers checks now (DECISIONLOG "Rollback-trigger
  history"). A table rebuilt whole by every run.
-#}
with

days as (

    select day from {{ ref('int_marketplace_days') }}

),

deals as (

    select
        deal_id,
        {{ unknown_member('country_code') }} as country_code,
        {{ unknown_member('category') }} as category,
        {{ unknown_member('template_version') }} as version_scope,
        template_version,
        created_at,
        settled_at
    from {{ ref('fct_deals') }}

),

threshold as (

    select comparator, target
    from {{ ref('pilot_kpi_targets') }}
    where kpi = 'rollback_settlement_completion_rate'
        and category = '*'

),

weeks as (

    select distinct cast({{ dbt.date_trunc('week', 'day') }} as date) as week_start
    from days

),

scoped_deals as (

    select deal_id, country_code, category, version_scope, template_version, created_at, settled_at
    from deals

    union all

    select deal_id, country_code, category, 'all', cast(null as {{ dbt.type_int() }}), created_at, settled_at
    from deals

),

scopes as (

    select
        country_code,
        category,
        version_scope,
        max(template_version) as template_version,
        min(cast({{ dbt.date_trunc('week', utc_date('created_at')) }} as date)) as first_week_start
    from scoped_deals
    group by country_code, category, version_scope

),

scope_weeks as (

    select
        scopes.country_code,
        scopes.category,
        scopes.version_scope,
        scopes.template_version,
        scopes.first_week_start,
        weeks.week_start,
        cast({{ dbt.dateadd('day', 6, 'weeks.week_start') }} as date) as week_end
    from scopes
    inner join weeks
        on weeks.week_start >= scopes.first_week_start

),

running as (

    select
        scope_weeks.country_code,
        scope_weeks.category,
        scope_weeks.version_scope,
        scope_weeks.template_version,
        scope_weeks.first_week_start,
        scope_weeks.week_start,
        count(scoped_deals.deal_id) as deals_created_to_date,
        sum(case when {{ utc_date('scoped_deals.settled_at') }} <= scope_weeks.week_end then 1 else 0 end)
            as deals_settled_to_date
    from scope_weeks
    left join scoped_deals
        on scope_weeks.country_code = scoped_deals.country_code
        and scope_weeks.category = scoped_deals.category
        and scope_weeks.version_scope = scoped_deals.version_scope
        and {{ utc_date('scoped_deals.created_at') }} <= scope_weeks.week_end
    group by
        scope_weeks.country_code, scope_weeks.category, scope_weeks.version_scope, scope_weeks.template_version,
        scope_weeks.first_week_start, scope_weeks.week_start

),

evaluated as (

    select
        running.country_code,
        running.category,
        running.version_scope,
        running.template_version,
        running.week_start,
        cast({{ dbt.datediff('running.first_week_start', 'running.week_start', 'day') }} / 7 + 1
            as {{ dbt.type_int() }}) as pilot_week,
        running.deals_created_to_date,
        cast(running.deals_settled_to_date as {{ dbt.type_bigint() }}) as deals_settled_to_date,
        cast(running.deals_settled_to_date as {{ dbt.type_numeric() }}) / nullif(running.deals_created_to_date, 0)
            as raw_rate,
        threshold.comparator,
        threshold.target as threshold
    from running
    cross join threshold

),

triggered as (

    select
        country_code,
        category,
        version_scope,
        template_version,
        week_start,
        pilot_week,
        deals_created_to_date,
        deals_settled_to_date,
        round(raw_rate, 4) as settlement_completion_rate_to_date,
        comparator,
        threshold,
        coalesce(
            case
                when comparator = '<' then raw_rate < threshold
                when comparator = '<=' then raw_rate <= threshold
                when comparator = '>' then raw_rate > threshold
                when comparator = '>=' then raw_rate >= threshold
            end,
            false
        ) as is_triggered
    from evaluated

)

select
    {{ surrogate_key(['country_code', 'category', 'version_scope', 'week_start']) }} as rollback_history_key,
    {{ dbt.concat([
        'country_code', "':'", 'category',
        "case when version_scope = 'all' then '' else ':' || version_scope end"
    ]) }} as scope,
    country_code,
    category,
    version_scope,
    template_version,
    {{ iso_week_label('week_start') }} as iso_week,
    week_start,
    pilot_week,
    'settlement_completion_rate' as trigger_name,
    deals_created_to_date,
    deals_settled_to_date,
    settlement_completion_rate_to_date,
    comparator,
    threshold,
    is_triggered,
    is_triggered
    and not coalesce(
        {{ dbt.bool_or('is_triggered') }} over (
            partition by country_code, category, version_scope
            order by week_start rows between unbounded preceding and 1 preceding
        ),
        false
    ) as is_first_trigger
from triggered
