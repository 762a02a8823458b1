{#-
  Seed 000's pilot playbook success criteria, evaluated per merchant week: one row per
  tenant x ISO week of rpt_weekly_merchant_report x criterion of seed
  loyalty_success_criteria. The week's value comes from the weekly report
  (repeat_customer_rate, redemption_rate, error_rate) or, for minutes_to_first_scan,
  from the merchant's onboarding funnel (the same on every week of the merchant).
  is_met = value <comparator> target; null when the week has no value (no issue for a
  redemption rate, no first scan yet). A table rebuilt whole by every run, from the
  weekly report it reads.
-#}
with

weekly as (

    select tenant_id, iso_week, week_start, repeat_customer_rate, redemption_rate, error_rate
    from {{ ref('rpt_weekly_merchant_report') }}

),

onboarding as (

    select tenant_id, minutes_to_first_scan
    from {{ ref('fct_onboarding_funnel') }}

),

criteria as (

    select kpi, comparator, target, unit, label, sort_order
    from {{ ref('loyalty_success_criteria') }}

),

values_long as (

    select tenant_id, iso_week, week_start, 'repeat_customer_rate' as kpi,
        cast(repeat_customer_rate as {{ dbt.type_numeric() }}) as value
    from weekly
    union all
    select tenant_id, iso_week, week_start, 'redemption_rate', cast(redemption_rate as {{ dbt.type_numeric() }})
    from weekly
    union all
    select tenant_id, iso_week, week_start, 'error_rate', cast(error_rate as {{ dbt.type_numeric() }})
    from weekly
    union all
    select weekly.tenant_id, weekly.iso_week, weekly.week_start, 'minutes_to_first_scan',
        cast(onboarding.minutes_to_first_scan as {{ dbt.type_numeric() }})
    from weekly
    left join onboarding
        on weekly.tenant_id = onboarding.tenant_id

)

select
    {{ surrogate_key(['values_long.tenant_id', 'values_long.week_start', 'values_long.kpi']) }} as success_criterion_key,
    values_long.tenant_id,
    values_long.iso_week,
    values_long.week_start,
    values_long.kpi,
    criteria.label,
    criteria.sort_order,
    criteria.unit,
    values_long.value,
    criteria.comparator,
    criteria.target,
    case
        when values_long.value is null then null
        when criteria.comparator = '>' then values_long.value > criteria.target
        when criteria.comparator = '>=' then values_long.value >= criteria.target
        when criteria.comparator = '<' then values_long.value < criteria.target
        when criteria.comparator = '<=' then values_long.value <= criteria.target
    end as is_met
from values_long
inner join criteria
    on values_long.kpi = criteria.kpi
