{#-
  Seed 003's pilot success metrics, unpivoted: one row per period x template version
  x KPI. Periods: every ISO week of deal creation (period_type 'iso_week', deals
  created that week form the cohort) and one cumulative row set per template version
  (period_type 'cumulative', period 'all'). Rates are recomputed from counts (never
  averaged); targets and comparators come from seed pilot_kpi_targets: a category's
  own row when every deal of the group is of that category, else the '*' row (a
  group mixing categories has no time-to-settle target, DECISIONLOG "Pilot scopes and
  category targets"). rpt_pilot_scope_kpis has the same KPIs per country x category.
-#}
with

deals as (

    select deal_id, category, template_version, created_at, current_state, settled_at, time_to_settle_hours, is_disputed
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

deal_periods as (

    select
        'iso_week' as period_type,
        {{ iso_week_label(utc_date('created_at')) }} as period,
        cast({{ dbt.date_trunc('week', utc_date('created_at')) }} as date) as period_start,
        deal_id,
        category,
        template_version,
        settled_at,
        time_to_settle_hours,
        is_disputed
    from deals

    union all

    select
        'cumulative', 'all', cast(null as date), deal_id, category, template_version, settled_at, time_to_settle_hours,
        is_disputed
    from deals

),

deal_counts as (

    select
        period_type,
        period,
        period_start,
        template_version,
        -- the one category of the group's deals (null when they mix categories or lack one)
        case when min(category) = max(category) and count(category) = count(*) then min(category) end
            as single_category,
        count(*) as deals_created,
        sum(case when settled_at is not null then 1 else 0 end) as deals_settled,
        sum(case when is_disputed then 1 else 0 end) as deals_disputed,
        avg(time_to_settle_hours) as avg_time_to_settle_hours,
        {{ median('time_to_settle_hours') }} as median_time_to_settle_hours
    from deal_periods
    group by period_type, period, period_start, template_version

),

dispute_counts as (

    select
        deal_periods.period_type,
        deal_periods.period,
        deal_periods.template_version,
        count(*) as disputes,
        sum(case when disputes.has_evidence then 1 else 0 end) as disputes_with_evidence,
        sum(case when disputes.is_resolved then 1 else 0 end) as disputes_resolved,
        sum(case when disputes.is_admin_resolved then 1 else 0 end) as disputes_admin_resolved
    from deal_periods
    inner join disputes
        on deal_periods.deal_id = disputes.deal_id
    group by deal_periods.period_type, deal_periods.period, deal_periods.template_version

),

periods as (

    select
        deal_counts.period_type,
        deal_counts.period,
        deal_counts.period_start,
        deal_counts.template_version,
        deal_counts.single_category,
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
        and deal_counts.template_version is not distinct from dispute_counts.template_version

),

unpivoted as (

    select period_type, period, period_start, template_version, single_category, 'settlement_completion_rate' as kpi,
        'rate' as unit, deals_settled as numerator, deals_created as denominator,
        cast(deals_settled as {{ dbt.type_numeric() }}) / nullif(deals_created, 0) as raw_value
    from periods
    union all
    select period_type, period, period_start, template_version, single_category, 'time_to_settle_avg_hours',
        'hours', null, deals_settled, cast(avg_time_to_settle_hours as {{ dbt.type_numeric() }})
    from periods
    union all
    select period_type, period, period_start, template_version, single_category, 'time_to_settle_median_hours',
        'hours', null, deals_settled, cast(median_time_to_settle_hours as {{ dbt.type_numeric() }})
    from periods
    union all
    select period_type, period, period_start, template_version, single_category, 'dispute_frequency',
        'rate', deals_disputed, deals_created,
        cast(deals_disputed as {{ dbt.type_numeric() }}) / nullif(deals_created, 0)
    from periods
    union all
    select period_type, period, period_start, template_version, single_category, 'evidence_completeness',
        'rate', disputes_with_evidence, disputes,
        cast(disputes_with_evidence as {{ dbt.type_numeric() }}) / nullif(disputes, 0)
    from periods
    union all
    select period_type, period, period_start, template_version, single_category, 'admin_intervention_rate',
        'rate', disputes_admin_resolved, disputes_resolved,
        cast(disputes_admin_resolved as {{ dbt.type_numeric() }}) / nullif(disputes_resolved, 0)
    from periods

),

resolved_targets as (

    -- the category's own target row when there is one, else the '*' row
    select
        unpivoted.period_type,
        unpivoted.period,
        unpivoted.period_start,
        unpivoted.template_version,
        unpivoted.kpi,
        unpivoted.unit,
        unpivoted.numerator,
        unpivoted.denominator,
        unpivoted.raw_value,
        case when category_targets.kpi is not null then category_targets.comparator else any_targets.comparator end
            as comparator,
        case when category_targets.kpi is not null then category_targets.target else any_targets.target end
            as target
    from unpivoted
    left join targets as category_targets
        on unpivoted.kpi = category_targets.kpi
        and unpivoted.single_category = category_targets.category
    left join targets as any_targets
        on unpivoted.kpi = any_targets.kpi
        and any_targets.category = '*'

),

evaluated as (

    select
        period_type,
        period,
        period_start,
        template_version,
        kpi,
        unit,
        numerator,
        denominator,
        round(raw_value, 4) as value,
        comparator,
        target,
        case
            when target is null or raw_value is null then null
            when comparator = '>' then raw_value > target
            when comparator = '>=' then raw_value >= target
            when comparator = '<' then raw_value < target
            when comparator = '<=' then raw_value <= target
        end as is_met
    from resolved_targets

)

select
    {{ surrogate_key(['period_type', 'period', 'template_version', 'kpi']) }} as pilot_kpi_key,
    period_type,
    period,
    period_start,
    template_version,
    kpi,
    unit,
    numerator,
    denominator,
    value,
    comparator,
    target,
    is_met
from evaluated
