{#-
  Seed 000's onboarding funnel, summarised: one row per funnel step (5 rows) over
  every merchant tenant — merchants that reached the step, conversion from the
  previous step and from signup (NULL when the denominator is 0), and the median
  minutes from signup among merchants that reached it.
-#}
{%- set later_steps = [
    {'name': 'location_created', 'reached': 'has_location', 'minutes': 'minutes_to_location'},
    {'name': 'staff_invited', 'reached': 'has_staff', 'minutes': 'minutes_to_staff'},
    {'name': 'device_registered', 'reached': 'has_device', 'minutes': 'minutes_to_device'},
    {'name': 'first_scan', 'reached': 'has_first_scan', 'minutes': 'minutes_to_first_scan'},
] -%}
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
    {%- for step in later_steps %}
    union all
    select {{ loop.index + 1 }}, '{{ step.name }}', sum(case when {{ step.reached }} then 1 else 0 end),
        {{ median(step.minutes) }}
    from funnel
    {%- endfor %}

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
    -- step 1's previous step is every merchant tenant
    case
        when step_order = 1 then {{ rounded_rate('merchants_reached', 'merchants_total') }}
        else {{ rounded_rate('merchants_reached', 'previous_reached') }}
    end as conversion_from_previous,
    {{ rounded_rate('merchants_reached', 'signed_up') }} as conversion_from_signup,
    round(cast(median_minutes_from_signup as {{ dbt.type_numeric() }}), 2) as median_minutes_from_signup
from with_previous
