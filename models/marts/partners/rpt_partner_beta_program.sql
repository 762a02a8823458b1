{#-
  Seed 001's beta program tracker: one row per UTC day of
  fct_partner_metrics_daily — progress toward the 3-5 active workshop goal
  (bounds from seed partner_kpi_targets: beta_active_partners_min /
  beta_active_partners_max), the first day the goal was reached (the milestone),
  and readiness indicators (active partners with mechanics, the day's KPIs on
  target in rpt_partner_kpis). A table rebuilt whole by every run.
  DECISIONLOG "Partner funnel and beta tracker".
-#}
with

daily as (

    select metric_date, partners_active, partners_with_mechanics, mechanics_active
    from {{ ref('fct_partner_metrics_daily') }}

),

goal as (

    select
        max(case when kpi = 'beta_active_partners_min' then target end) as goal_min,
        max(case when kpi = 'beta_active_partners_max' then target end) as goal_max
    from {{ ref('partner_kpi_targets') }}

),

kpis as (

    select
        period_start as metric_date,
        sum(case when is_met then 1 else 0 end) as kpis_met,
        sum(case when is_met is not null then 1 else 0 end) as kpis_measured
    from {{ ref('rpt_partner_kpis') }}
    where period_type = 'day'
    group by period_start

),

tracked as (

    select
        daily.metric_date,
        daily.partners_active,
        daily.partners_with_mechanics,
        daily.mechanics_active,
        goal.goal_min,
        goal.goal_max,
        least(cast(1 as {{ dbt.type_numeric() }}), daily.partners_active / goal.goal_min) as goal_progress_rate,
        case
            when daily.partners_active < goal.goal_min then 'below_goal'
            when daily.partners_active <= goal.goal_max then 'in_range'
            else 'above_range'
        end as beta_status,
        min(case when daily.partners_active >= goal.goal_min then daily.metric_date end) over (
            order by daily.metric_date rows between unbounded preceding and current row
        ) as goal_first_reached_date,
        coalesce(kpis.kpis_met, 0) as kpis_met,
        coalesce(kpis.kpis_measured, 0) as kpis_measured
    from daily
    cross join goal
    left join kpis
        on daily.metric_date = kpis.metric_date

)

select
    metric_date,
    cast(partners_active as {{ dbt.type_bigint() }}) as partners_active,
    cast(goal_min as {{ dbt.type_int() }}) as beta_goal_min_partners,
    cast(goal_max as {{ dbt.type_int() }}) as beta_goal_max_partners,
    round(goal_progress_rate, 4) as goal_progress_rate,
    beta_status,
    goal_first_reached_date,
    cast(partners_with_mechanics as {{ dbt.type_bigint() }}) as partners_with_mechanics,
    cast(mechanics_active as {{ dbt.type_bigint() }}) as mechanics_active,
    cast(kpis_met as {{ dbt.type_bigint() }}) as kpis_met,
    cast(kpis_measured as {{ dbt.type_bigint() }}) as kpis_measured
from tracked
