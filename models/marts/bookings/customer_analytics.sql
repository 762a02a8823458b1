{#-
  customer_analytics (seed 002): one row per (organization_id, customer_id).
  Customers = every profile in stg_bookings__customers, plus every customer id
  seen only in bookings or payments. Time-relative columns are computed here,
  against kpi_as_of(), over the incremental int_customer_facts: this table is
  rebuilt on every run, so it is the same whatever refresh mode kept the facts.
  Segment rule: docs/DECISIONLOG.md ("customer_segment"); first match wins.
-#}
{%- set segment_rule = {
    'new_max_days_since_first_booking': 30,
    'loyal_min_accepted_bookings': 5,
    'at_risk_min_days_since_last_booking': 91,
    'lapsed_min_days_since_last_booking': 181,
} -%}

with

customers as (

    select
        organization_id,
        customer_id,
        created_at
    from {{ ref('stg_bookings__customers') }}

),

customer_facts as (

    select
        organization_id,
        customer_id,
        first_booking_at,
        last_booking_at,
        total_bookings,
        total_accepted_bookings,
        total_no_shows,
        total_cancellations,
        total_revenue_cents,
        total_completed_payments,
        booking_notes,
        preferred_location_id
    from {{ ref('int_customer_facts') }}

),

referrers as (

    select
        organization_id,
        customer_id
    from {{ ref('stg_bookings__referral_profiles') }}

),

customer_keys as (

    select organization_id, customer_id from customers
    union
    select organization_id, customer_id from customer_facts

),

as_of as (

    select {{ kpi_as_of() }} as as_of

),

joined as (

    select
        customer_keys.organization_id,
        customer_keys.customer_id,
        customers.customer_id is not null as has_profile,
        customers.created_at as customer_created_at,
        customer_facts.first_booking_at,
        customer_facts.last_booking_at,
        coalesce(customer_facts.total_bookings, 0) as total_bookings,
        coalesce(customer_facts.total_accepted_bookings, 0) as total_accepted_bookings,
        coalesce(customer_facts.total_no_shows, 0) as total_no_shows,
        coalesce(customer_facts.total_cancellations, 0) as total_cancellations,
        coalesce(customer_facts.total_revenue_cents, 0) as total_revenue_cents,
        coalesce(customer_facts.total_completed_payments, 0) as total_completed_payments,
        coalesce(customer_facts.booking_notes, {{ json_empty_array() }}) as booking_notes,
        customer_facts.preferred_location_id,
        referrers.customer_id is not null as is_referrer,
        as_of.as_of
    from customer_keys
    cross join as_of
    left join customers
        on customer_keys.organization_id = customers.organization_id
        and customer_keys.customer_id = customers.customer_id
    left join customer_facts
        on customer_keys.organization_id = customer_facts.organization_id
        and customer_keys.customer_id = customer_facts.customer_id
    left join referrers
        on customer_keys.organization_id = referrers.organization_id
        and customer_keys.customer_id = referrers.customer_id

),

metrics as (

    select
        joined.*,
        -- no-shows among the bookings that were due to happen; null when none
        {{ rounded_rate('total_no_shows', 'total_accepted_bookings + total_no_shows') }} as no_show_rate,
        -- whole cents, half away from zero; null without a completed payment
        case
            when total_completed_payments > 0
                then cast(
                    round(cast(total_revenue_cents as {{ dbt.type_numeric() }}) / total_completed_payments, 0)
                    as {{ dbt.type_bigint() }}
                )
        end as avg_ticket_cents,
        {{ dbt.datediff(utc_date('first_booking_at'), utc_date('as_of'), 'day') }} as days_since_first_booking,
        {{ dbt.datediff(utc_date('last_booking_at'), utc_date('as_of'), 'day') }} as days_since_last_booking
    from joined

),

segmented as (

    select
        metrics.*,
        case
            when total_accepted_bookings = 0
                then 'prospect'
            when days_since_last_booking >= {{ segment_rule.lapsed_min_days_since_last_booking }}
                then 'lapsed'
            when days_since_last_booking >= {{ segment_rule.at_risk_min_days_since_last_booking }}
                then 'at_risk'
            when days_since_first_booking <= {{ segment_rule.new_max_days_since_first_booking }}
                then 'new'
            when total_accepted_bookings >= {{ segment_rule.loyal_min_accepted_bookings }}
                then 'loyal'
            else 'active'
        end as customer_segment
    from metrics

)

select
    organization_id,
    customer_id,
    has_profile,
    customer_created_at,
    first_booking_at,
    last_booking_at,
    total_bookings,
    total_accepted_bookings,
    total_no_shows,
    total_cancellations,
    no_show_rate,
    total_revenue_cents,
    total_completed_payments,
    avg_ticket_cents,
    is_referrer,
    preferred_location_id,
    booking_notes,
    days_since_first_booking,
    days_since_last_booking,
    customer_segment,
    as_of
from segmented
