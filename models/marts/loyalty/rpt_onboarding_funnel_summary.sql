{#-
  Seed 000's onboarding funnel, summarised: one row per funnel step (5 rows) over
  every merchant tenant — merchants that reached the step, conversion from the
  previous step and from signup (NULL when the denominator is 0), and the median
  minutes from signup among merchants that reached it.
-#}
with

funnel as (

    select
        tenant_id,
        is_signed_up,
        has_location,
        has_staff,
        has_device,
        has_first_scan,
        minutes_to_location,
        minutes_to_staff,
        minutes_to_device,
        minutes_to_first_scan
    from {{ ref('fct_onboarding_funnel') }}

),

steps as (

    select 1 as step_order, 'signup' as step_name,
        sum(case when is_signed_up then 1 else 0 end) as merchants_reached,
        case when sum(case when is_signed_up then 1 else 0 end) > 0
            then cast(0 as {{ dbt.type_numeric() }}) end as median_minutes_from_signup
    from funnel
    union all
    select 2, 'location_created', sum(case when has_location then 1 else 0 end),
        {{ median('minutes_to_location') }}
    from funnel
    union all
    select 3, 'staff_invited', sum(case when has_staff then 1 else 0 end),
        {{ median('minutes_to_staff') }}
    from funnel
    union all
    select 4, 'device_registered', sum(case when has_device then 1 else 0 end),
        {{ median('minutes_to_device') }}
    from funnel
    union all
    select 5, 'first_scan', sum(case when has_first_scan then 1 else 0 end),
        {{ median('minutes_to_first_scan') }}
    from funnel

),

totals as (

    select count(*) as merchants_total from funnel

),

with_previous as (

    select
        steps.step_order,
        steps.step_name,
        totals.merchants_total,
        coalesce(steps.merchants_reached, 0) as merchants_reached,
        lag(coalesce(steps.merchants_reached, 0)) over (order by steps.step_order) as previous_reached,
        first_value(coalesce(steps.merchants_reached, 0)) over (order by steps.step_order) as signed_up,
        steps.median_minutes_from_signup
    from steps
    cross join totals

)

select
    step_order,
    step_name,
    merchants_total,
    merchants_reached,
    case
        when step_order = 1 and merchants_total > 0
            then round(cast(merchants_reached as {{ dbt.type_numeric() }}) / merchants_total, 4)
        when previous_reached > 0
            then round(cast(merchants_reached as {{ dbt.type_numeric() }}) / previous_reached, 4)
    end as conversion_from_previous,
    case
        when signed_up > 0 then round(cast(merchants_reached as {{ dbt.type_numeric() }}) / signed_up, 4)
    end as conversion_from_signup,
    round(cast(median_minutes_from_signup as {{ dbt.type_numeric() }}), 2) as median_minutes_from_signup
from with_previous
