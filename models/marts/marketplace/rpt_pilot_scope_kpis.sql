{#-
  Seed 003's pilot success metrics per pilot scope: one row per scope x period x KPI.
  A scope is a country x category x template version ('MN:USED_CAR_PRIVATE:1') or a
  country x category over every version ('MN:USED_CAR_PRIVATE', version_scope 'all'):
  each deal counts in its version's scope and in its country x category's 'all' scope
  (never sum rows across version_scope). Periods as rpt_pilot_kpis: the ISO week of
  deal creation (that week's cohort) and 'cumulative'. Targets from pilot_kpi_targets,
  the scope's category row before the '*' row (no row = no target, is_met null).
  Weekly trend: pilot_week 1 is the scope's first ISO week with a deal (the seed's
  "Week 1: Baseline"); baseline_value is the KPI in that week and change_vs_baseline
  the difference (on every weekly and the cumulative row). A table rebuilt whole by
  every run (a small product: every deal's KPIs can change with any late state change).
-#}
with

deals as (

    select
        deal_id,
        {{ unknown_member('country_code') }} as country_code,
        {{ unknown_member('category') }} as category,
        template_version,
        created_at,
        settled_at,
        time_to_settle_hours,
        is_disputed
    from {{ ref('fct_deals') }}

),

disputes as (

    select deal_id, is_resolved, is_admin_resolved, has_evidence
    from {{ ref('fct_disputes') }}

),

targets as (

    select kpi, category, comparator, target
    from {{ ref('pilot_kpi_targets') }}

),

scoped_deals as (

    -- every deal in its version's scope and in its country x category's 'all' scope
    select
        deal_id,
        country_code,
        category,
        {{ unknown_member('template_version') }} as version_scope,
        template_version,
        created_at,
        settled_at,
        time_to_settle_hours,
        is_disputed
    from deals

    union all

    select
        deal_id,
        country_code,
        category,
        'all',
        cast(null as {{ dbt.type_int() }}),
        created_at,
        settled_at,
        time_to_settle_hours,
        is_disputed
    from deals

),

deal_periods as (

    select
        'iso_week' as period_type,
        {{ iso_week_label(utc_date('created_at')) }} as period,
        cast({{ dbt.date_trunc('week', utc_date('created_at')) }} as date) as period_start,
        deal_id,
        country_code,
        category,
        version_scope,
        template_version,
        settled_at,
        time_to_settle_hours,
        is_disputed
    from scoped_deals

    union all

    select
        'cumulative', 'all', cast(null as date), deal_id, country_code, category, version_scope, template_version,
        settled_at, time_to_settle_hours, is_disputed
    from scoped_deals

),

deal_counts as (

    select
        period_type,
        period,
        period_start,
        country_code,
        category,
        version_scope,
        max(template_version) as template_version,
        count(*) as deals_created,
        sum(case when settled_at is not null then 1 else 0 end) as deals_settled,
        sum(case when is_disputed then 1 else 0 end) as deals_disputed,
        avg(time_to_settle_hours) as avg_time_to_settle_hours,
        {{ median('time_to_settle_hours') }} as median_time_to_settle_hours
    from deal_periods
    group by period_type, period, period_start, country_code, category, version_scope

),

dispute_counts as (

    select
        deal_periods.period_type,
        deal_periods.period,
        deal_periods.country_code,
        deal_periods.category,
        deal_periods.version_scope,
        count(*) as disputes,
        sum(case when disputes.has_evidence then 1 else 0 end) as disputes_with_evidence,
        sum(case when disputes.is_resolved then 1 else 0 end) as disputes_resolved,
        sum(case when disputes.is_admin_resolved then 1 else 0 end) as disputes_admin_resolved
    from deal_periods
    inner join disputes
        on deal_periods.deal_id = disputes.deal_id
    group by
        deal_periods.period_type, deal_periods.period, deal_periods.country_code, deal_periods.category,
        deal_periods.version_scope

),

periods as (

    select
        deal_counts.period_type,
        deal_counts.period,
        deal_counts.period_start,
        deal_counts.country_code,
        deal_counts.category,
        deal_counts.version_scope,
        deal_counts.template_version,
        deal_counts.deals_created,
        deal_counts.deals_settled,
        deal_counts.deals_disputed,
        deal_counts.avg_time_to_settle_hours,
        deal_counts.median_time_to_settle_hours,
        coalesce(dispute_counts.disputes, 0) as disputes,
        coalesce(dispute_counts.disputes_with_evidence, 0) as disputes_with_evidence,
        coalesce(dispute_counts.disputes_resolved, 0) as disputes_resolved,
        coalesce(dispute_counts.disputes_admin_resolved, 0) as disputes_admin_resolved
    from deal_counts
    left join dispute_counts
        on deal_counts.period_type = dispute_counts.period_type
        and deal_counts.period = dispute_counts.period
        and deal_counts.country_code = dispute_counts.country_code
        and deal_counts.category = dispute_counts.category
        and deal_counts.version_scope = dispute_counts.version_scope

),

unpivoted as (

    select period_type, period, period_start, country_code, category, version_scope, template_version,
        'settlement_completion_rate' as kpi, 'rate' as unit, deals_settled as numerator, deals_created as denominator,
        cast(deals_settled as {{ dbt.type_numeric() }}) / nullif(deals_created, 0) as raw_value
    from periods
    union all
    select period_type, period, period_start, country_code, category, version_scope, template_version,
        'time_to_settle_avg_hours', 'hours', null, deals_settled, cast(avg_time_to_settle_hours as {{ dbt.type_numeric() }})
    from periods
    union all
    select period_type, period, period_start, country_code, category, version_scope, template_version,
        'time_to_settle_median_hours', 'hours', null, deals_settled,
        cast(median_time_to_settle_hours as {{ dbt.type_numeric() }})
    from periods
    union all
    select period_type, period, period_start, country_code, category, version_scope, template_version,
        'dispute_frequency', 'rate', deals_disputed, deals_created,
        cast(deals_disputed as {{ dbt.type_numeric() }}) / nullif(deals_created, 0)
    from periods
    union all
    select period_type, period, period_start, country_code, category, version_scope, template_version,
        'evidence_completeness', 'rate', disputes_with_evidence, disputes,
        cast(disputes_with_evidence as {{ dbt.type_numeric() }}) / nullif(disputes, 0)
    from periods
    union all
    select period_type, period, period_start, country_code, category, version_scope, template_version,
        'admin_intervention_rate', 'rate', disputes_admin_resolved, disputes_resolved,
        cast(disputes_admin_resolved as {{ dbt.type_numeric() }}) / nullif(disputes_resolved, 0)
    from periods

),

evaluated as (

    select
        unpivoted.period_type,
        unpivoted.period,
        unpivoted.period_start,
        unpivoted.country_code,
        unpivoted.category,
        unpivoted.version_scope,
        unpivoted.template_version,
        unpivoted.kpi,
        unpivoted.unit,
        unpivoted.numerator,
        unpivoted.denominator,
        round(unpivoted.raw_value, 4) as value,
        -- the category's own target row when there is one, else the '*' row
        case when category_targets.kpi is not null then category_targets.comparator else any_targets.comparator end
            as comparator,
        case when category_targets.kpi is not null then category_targets.target else any_targets.target end
            as target,
        unpivoted.raw_value
    from unpivoted
    left join targets as category_targets
        on unpivoted.kpi = category_targets.kpi
        and unpivoted.category = category_targets.category
    left join targets as any_targets
        on unpivoted.kpi = any_targets.kpi
        and any_targets.category = '*'

),

scope_starts as (

    select country_code, category, version_scope, min(period_start) as first_week_start
    from deal_counts
    where period_type = 'iso_week'
    group by country_code, category, version_scope

),

baselines as (

    select
        evaluated.country_code,
        evaluated.category,
        evaluated.version_scope,
        evaluated.kpi,
        evaluated.period as baseline_period,
        evaluated.value as baseline_value,
        scope_starts.first_week_start
    from evaluated
    inner join scope_starts
        on evaluated.country_code = scope_starts.country_code
        and evaluated.category = scope_starts.category
        and evaluated.version_scope = scope_starts.version_scope
        and evaluated.period_start = scope_starts.first_week_start
    where evaluated.period_type = 'iso_week'

),

final as (

    select
        {{ dbt.concat([
            'evaluated.country_code', "':'", 'evaluated.category',
            "case when evaluated.version_scope = 'all' then '' else ':' || evaluated.version_scope end"
        ]) }} as scope,
        evaluated.country_code,
        evaluated.category,
        evaluated.version_scope,
        evaluated.template_version,
        evaluated.period_type,
        evaluated.period,
        evaluated.period_start,
        case
            when evaluated.period_type = 'iso_week'
                then cast({{ dbt.datediff('baselines.first_week_start', 'evaluated.period_start', 'day') }} / 7 + 1
                    as {{ dbt.type_int() }})
        end as pilot_week,
        evaluated.kpi,
        evaluated.unit,
        evaluated.numerator,
        evaluated.denominator,
        evaluated.value,
        evaluated.comparator,
        evaluated.target,
        case
            when evaluated.target is null or evaluated.raw_value is null then null
            when evaluated.comparator = '>' then evaluated.raw_value > evaluated.target
            when evaluated.comparator = '>=' then evaluated.raw_value >= evaluated.target
            when evaluated.comparator = '<' then evaluated.raw_value < evaluated.target
            when evaluated.comparator = '<=' then evaluated.raw_value <= evaluated.target
        end as is_met,
        baselines.baseline_period,
        baselines.baseline_value,
        evaluated.value - baselines.baseline_value as change_vs_baseline
    from evaluated
    inner join baselines
        on evaluated.country_code = baselines.country_code
        and evaluated.category = baselines.category
        and evaluated.version_scope = baselines.version_scope
        and evaluated.kpi = baselines.kpi

)

select
    {{ surrogate_key(['scope', 'period_type', 'period', 'kpi']) }} as scope_kpi_key,
    scope,
    country_code,
    category,
    version_scope,
    template_version,
    period_type,
    period,
    period_start,
    pilot_week,
    kpi,
    unit,
    numerator,
    denominator,
    value,
    comparator,
    target,
    is_met,
    baseline_period,
    baseline_value,
    change_vs_baseline
from final
