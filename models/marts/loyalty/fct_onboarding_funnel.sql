{#-
  Seed 000's pilot_onboarding_funnel: one row per merchant tenant (tenants of kind
  merchant). The funnel is the entry `pilot_onboarding` of var
  product_analytics.funnels (dbt_project.yml; its steps, ordering and window), computed
  per merchant by the ordered-funnel macro (macros/funnel.sql): signup -> first location
  created -> first staff invited -> first device registered -> first successful scan
  (first points_issued or points_redeemed), each step at or after the previous one,
  within the entry's window_days of signup (var loyalty_onboarding_window_days, when
  set, overrides it for this mart; default: no window). Minutes from signup to each
  step. marts.fct_funnel_steps holds the same entry step by step.
-#}
{%- set definition = pa_funnel('pilot_onboarding', ['signup', 'location', 'staff', 'device', 'first_scan'], entity='tenant_id') -%}
{%- set window_days = var('loyalty_onboarding_window_days', none) -%}
{%- if window_days is none and definition is mapping -%}
    {%- set window_days = definition.window_days -%}
{%- endif -%}
{%- set steps = [] -%}
{%- for step in definition.steps -%}
    {%- do steps.append({'name': step.name, 'condition': step.condition}) -%}
{%- endfor -%}
{%- set event_columns = ['tenant_id', 'occurred_at', 'event_domain', 'event_type'] -%}
{%- for column in definition.columns -%}
    {%- if column not in event_columns -%}{%- do event_columns.append(column) -%}{%- endif -%}
{%- endfor -%}

with

merchants as (

    select tenant_id
    from {{ ref('stg_core__tenants') }}
    where tenant_kind = 'merchant'

),

loyalty_events as (

    -- read whole: a merchant's funnel spans its whole history (the entry's step events)
    select
        {%- for column in event_columns %}
        {{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ ref('stg_platform__events') }}
    where
        {%- for step in steps %}
        {{ 'or ' if not loop.first }}{{ step.condition }}
        {%- else %}
        false
        {%- endfor %}

),

funnel as (

    {{ funnel(
        'loyalty_events', 'tenant_id', 'occurred_at', steps,
        window_minutes=(window_days * 1440 if window_days is not none else none),
        strict=(definition.ordering == 'strict'),
    ) | indent(4) }}

),

final as (

    select
        merchants.tenant_id,
        funnel.signup_at as signed_up_at,
        funnel.location_at as first_location_created_at,
        funnel.staff_at as first_staff_invited_at,
        funnel.device_at as first_device_registered_at,
        funnel.first_scan_at,
        funnel.minutes_to_location,
        funnel.minutes_to_staff,
        funnel.minutes_to_device,
        funnel.minutes_to_first_scan,
        coalesce(funnel.is_signup_reached, false) as is_signed_up,
        coalesce(funnel.is_location_reached, false) as has_location,
        coalesce(funnel.is_staff_reached, false) as has_staff,
        coalesce(funnel.is_device_reached, false) as has_device,
        coalesce(funnel.is_first_scan_reached, false) as has_first_scan,
        coalesce(funnel.is_first_scan_reached, false) as is_completed
    from merchants
    left join funnel
        on merchants.tenant_id = funnel.tenant_id

)

select
    tenant_id,
    signed_up_at,
    first_location_created_at,
    first_staff_invited_at,
    first_device_registered_at,
    first_scan_at,
    minutes_to_location,
    minutes_to_staff,
    minutes_to_device,
    minutes_to_first_scan,
    is_signed_up,
    has_location,
    has_staff,
    has_device,
    has_first_scan,
    is_completed,
    case when is_signed_up then 1 else 0 end
        + case when has_location then 1 else 0 end
        + case when has_staff then 1 else 0 end
        + case when has_device then 1 else 0 end
        + case when has_first_scan then 1 else 0 end as steps_reached
from final
