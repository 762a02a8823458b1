{#-
  Seed 001's admin funnel (signup -> approval -> active), summarised: one row per
  step (3 rows) over every partner of fct_partner_funnel — partners that reached
  the step, conversion from the previous step and from signup (NULL when the
  denominator is 0), and the median hours from signup among partners that
  reached it. Same shape as rpt_onboarding_funnel_summary (seed 000); plain
  aggregates and lag()/first_value() windows, no funnel() macro. A table rebuilt
  whole by every run.
-#}
with

funnel as (

    select is_signed_up, is_approved, is_active, hours_to_approval, hours_to_active
    from {{ ref('fct_partner_funnel') }}

),

steps as (

    select 1 as step_order, 'signup' as step_name,
        sum(case when is_signed_up then 1 else 0 end) as partners_reached,
        case when sum(case when is_signed_up then 1 else 0 end) > 0
            then cast(0 as {{ dbt.type_numeric() }}) end as median_hours_from_signup
    from funnel
    union all
    select 2, 'approval', sum(case when is_approved then 1 else 0 end), {{ median('hours_to_approval') }}
    from funnel
    union all
    select 3, 'active', sum(case when is_active then 1 else 0 end), {{ median('hours_to_active') }}
    from funnel

),

totals as (

    select count(*) as partners_total from funnel

),

with_previous as (

    select
        steps.step_order,
        steps.step_name,
        totals.partners_total,
        coalesce(steps.partners_reached, 0) as partners_reached,
        lag(coalesce(steps.partners_reached, 0)) over (order by steps.step_order) as previous_reached,
        first_value(coalesce(steps.partners_reached, 0)) over (order by steps.step_order) as signed_up,
        steps.median_hours_from_signup
    from steps
    cross join totals

)

select
    step_order,
    step_name,
    cast(partners_total as {{ dbt.type_bigint() }}) as partners_total,
    cast(partners_reached as {{ dbt.type_bigint() }}) as partners_reached,
    -- step 1's previous step is every partner
    case
        when step_order = 1 then {{ rounded_rate('partners_reached', 'partners_total') }}
        else {{ rounded_rate('partners_reached', 'previous_reached') }}
    end as conversion_from_previous,
    {{ rounded_rate('partners_reached', 'signed_up') }} as conversion_from_signup,
    round(cast(median_hours_from_signup as {{ dbt.type_numeric() }}), 2) as median_hours_from_signup
from with_previous
