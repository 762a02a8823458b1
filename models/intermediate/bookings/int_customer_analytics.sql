{#-
  int_customer_analytics (seed 002): customer_analytics' stored rows, one per
  (organization_id, customer_id) — every column of the profile except the whole
  days counted to as_of (days since the first / last booking, last visit,
  profile creation; days until the next booking), which the view
  customer_analytics computes from the dates stored here and this table's as_of.

  Every row is valid for the as_of of the newest write (order by dbt_loaded_at):
  the columns that depend on as_of (visits and upcoming bookings, the 30/90/365-
  day windows, the segment) only change for a customer when one of their
  bookings or payments crosses a boundary as as_of moves. Kept incrementally
  (delete+insert on the two ids). With var customer_refresh_mode = recent
  (default) a run recomputes, each from ALL their rows:
    - the customers of the bookings and attributed payments (re)written since
      the last run (dbt_loaded_at after the watermark in ops.model_watermarks),
      and the customer such a row moved away from (previous_customer_id);
    - the profiles and referral profiles loaded since this table's last write;
    - when as_of moved forward from P to N: the customers with a payment whose
      attributed time lies in (P - k days, N - k days] for k = 0, 30, 90, 365
      (the revenue windows), or a booking whose start_at lies in such a range
      for the visits, the upcoming bookings, the windows and the segment's
      thresholds of 30, 91 and 181 UTC days (booking_crossings below; a UTC-day
      threshold's range is a day wider at its start);
    - the row of the newest write, so that this run's write carries N.
  When as_of moved back, with var customer_refresh_mode = full, or on the
  first build, every customer is recomputed: the pre-hook deletes the stored
  rows in the same transaction (the table and the view over it stay in place;
  readers see the old rows until the commit). A customer in scope who is known
  nowhere any more (a booking moved away) is deleted by the delete+insert.
  Scope: macros/bookings/bookings_customer_analytics_scope.sql.
  Segment rule: docs/DECISIONLOG.md ("customer_segment"); first match wins.
  DECISIONLOG "Customer profile (seed 002)" and "Refresh modes".
-#}
{%- set segment_rule = {
    'new_max_days_since_first_booking': 30,
    'loyal_min_accepted_bookings': 5,
    'at_risk_min_days_since_last_booking': 91,
    'lapsed_min_days_since_last_booking': 181,
} -%}

{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key=['organization_id', 'customer_id'],
    on_schema_change='append_new_columns',
    indexes=[
        {'columns': ['organization_id', 'customer_id'], 'unique': true},
        {'columns': ['organization_id', 'first_booking_at']},
        {'columns': ['organization_id', 'customer_segment']},
        {'columns': ['organization_id', 'last_visit_at']},
        {'columns': ['organization_id', 'total_revenue_cents']},
        {'columns': ['dbt_loaded_at']},
    ],
    pre_hook=["{{ bookings_customer_analytics_reset() }}"],
    post_hook=[
        "{{ kpi_record_input_watermark([ref('stg_bookings__bookings'), ref('int_payments_attributed')]) }}",
    ],
) }}

{%- set scope = bookings_customer_analytics_scope() -%}
{%- set as_of = "cast('" ~ scope.as_of_text ~ "' as " ~ type_timestamp_tz() ~ ")" -%}
{%- set scope_all = scope['all'] -%}
{%- if not scope_all -%}
    {%- set previous = scope.previous -%}
    {%- set previous_as_of = "cast('" ~ previous[2] ~ "' as " ~ type_timestamp_tz() ~ ")" -%}
    {%- set previous_written_at = "cast('" ~ previous[3] ~ "' as " ~ type_timestamp_tz() ~ ")" -%}
    {%- set as_of_moved = scope.as_of_moved -%}
    {%- set watermark = platform_recorded_watermark() -%}
    {#- the start_at ranges (P - a days, N - b days] whose bookings can change a row
        as as_of moves from P to N: visits and upcoming (0, 0); the 30-day window
        and the "new" segment's 30 UTC days (32, 30); the 90-day windows and the
        at_risk segment's 91 UTC days (92, 90); the lapsed segment's 181 UTC days
        (182, 180); the 365-day window (365, 365). A UTC-day threshold of d days
        flips for a booking in [midnight(P) - (d - 1) days, midnight(N) - (d - 1)
        days), inside (P - (d + 1) days, N - (d - 1) days]. -#}
    {%- set booking_crossings = [(0, 0), (32, 30), (92, 90), (182, 180), (365, 365)] -%}
{%- endif %}

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
        preferred_location_id,
        total_cancelled_by_customer,
        total_cancelled_by_seller,
        total_declined,
        total_pending,
        first_booked_at,
        last_booked_at,
        last_no_show_at,
        last_cancellation_at,
        total_notes,
        accepted_locations,
        preferred_weekday,
        preferred_hour_utc,
        total_payments,
        total_failed_payments,
        total_canceled_payments,
        total_refunded_payments,
        total_refunded_cents,
        largest_ticket_cents,
        first_payment_at,
        last_payment_at,
        first_booking_location_id
    from {{ ref('int_customer_facts') }}

),

referrers as (

    select
        organization_id,
        customer_id,
        enrolled_at
    from {{ ref('stg_bookings__referral_profiles') }}

),

{% if scope_all -%}
customer_keys as (

    select organization_id, customer_id from customers
    union
    select organization_id, customer_id from customer_facts

),
{%- else -%}
scope as (

    -- customers of the bookings and payments (re)written since the last run, and
    -- the customers those rows no longer count for
    {{ bookings_changed_customers(watermark) }}

    union

    -- profiles and referral profiles loaded since the last write (raw _loaded_at)
    select organization_id, customer_id
    from {{ ref('stg_bookings__customers') }}
    where _loaded_at > {{ previous_written_at }}

    union

    select organization_id, customer_id
    from {{ ref('stg_bookings__referral_profiles') }}
    where _loaded_at > {{ previous_written_at }}

    union

    -- the newest write's row: rewritten, so that this run's write carries this as_of
    select
        '{{ previous[0] | replace("'", "''") }}' as organization_id,
        '{{ previous[1] | replace("'", "''") }}' as customer_id
    {%- if as_of_moved %}

    union

    -- bookings and payments crossing an as_of boundary (start_at and attributed_at indexes)
    select organization_id, customer_id
    from {{ ref('stg_bookings__bookings') }}
    where customer_id is not null
        and (
        {%- for before_p, before_n in booking_crossings %}
            {% if not loop.first %}or {% endif -%}
            (start_at > {{ dbt.dateadd('day', -before_p, previous_as_of) }}
                and start_at <= {{ dbt.dateadd('day', -before_n, as_of) }})
        {%- endfor %}
        )

    union

    select organization_id, customer_id
    from {{ ref('int_payments_attributed') }}
    where customer_id is not null
        and (
        {%- for k in [0, 30, 90, 365] %}
            {% if not loop.first %}or {% endif -%}
            (attributed_at > {{ dbt.dateadd('day', -k, previous_as_of) }}
                and attributed_at <= {{ dbt.dateadd('day', -k, as_of) }})
        {%- endfor %}
        )
    {%- endif %}

),

customer_keys as (

    -- who is still known from a profile, a booking or a payment is decided in joined
    select organization_id, customer_id from scope

),
{%- endif %}

visit_bookings as (

    -- the bookings the as_of-relative columns count: ACCEPTED (visits, upcoming), NO_SHOW, cancelled
    select
        bookings.organization_id,
        bookings.customer_id,
        bookings.start_at,
        bookings.status
    from {{ ref('stg_bookings__bookings') }} as bookings
    {%- if not scope_all %}
    inner join customer_keys
        on bookings.organization_id = customer_keys.organization_id
        and bookings.customer_id = customer_keys.customer_id
    {%- endif %}
    where bookings.customer_id is not null
        and bookings.status in ('ACCEPTED', 'NO_SHOW', 'CANCELLED_BY_CUSTOMER', 'CANCELLED_BY_SELLER')

),

visit_facts as (

    -- a visit = an ACCEPTED booking with start_at <= as_of; windows are (as_of - N days, as_of]
    select
        organization_id,
        customer_id,
        sum(case when status = 'ACCEPTED' and start_at <= {{ as_of }} then 1 else 0 end) as total_visits,
        min(case when status = 'ACCEPTED' and start_at <= {{ as_of }} then start_at end) as first_visit_at,
        max(case when status = 'ACCEPTED' and start_at <= {{ as_of }} then start_at end) as last_visit_at,
        sum(
            case
                when status = 'ACCEPTED' and start_at <= {{ as_of }}
                    and start_at > {{ dbt.dateadd('day', -30, as_of) }} then 1
                else 0
            end
        ) as visits_last_30_days,
        sum(
            case
                when status = 'ACCEPTED' and start_at <= {{ as_of }}
                    and start_at > {{ dbt.dateadd('day', -90, as_of) }} then 1
                else 0
            end
        ) as visits_last_90_days,
        sum(
            case
                when status = 'ACCEPTED' and start_at <= {{ as_of }}
                    and start_at > {{ dbt.dateadd('day', -365, as_of) }} then 1
                else 0
            end
        ) as visits_last_365_days,
        sum(
            case
                when status = 'NO_SHOW' and start_at <= {{ as_of }}
                    and start_at > {{ dbt.dateadd('day', -90, as_of) }} then 1
                else 0
            end
        ) as no_shows_last_90_days,
        sum(
            case
                when {{ bookings_is_cancelled('status') }} and start_at <= {{ as_of }}
                    and start_at > {{ dbt.dateadd('day', -90, as_of) }} then 1
                else 0
            end
        ) as cancellations_last_90_days,
        sum(case when status = 'ACCEPTED' and start_at > {{ as_of }} then 1 else 0 end) as upcoming_bookings,
        min(case when status = 'ACCEPTED' and start_at > {{ as_of }} then start_at end) as next_booking_at
    from visit_bookings
    group by organization_id, customer_id

),

recent_payments as (

    -- COMPLETED payments attributed (booking start, else payment time) to the year up to as_of
    select
        payments.organization_id,
        payments.customer_id,
        payments.amount_cents,
        payments.attributed_at
    from {{ ref('int_payments_attributed') }} as payments
    {%- if not scope_all %}
    inner join customer_keys
        on payments.organization_id = customer_keys.organization_id
        and payments.customer_id = customer_keys.customer_id
    {%- endif %}
    where payments.customer_id is not null
        and payments.is_completed
        and payments.attributed_at <= {{ as_of }}
        and payments.attributed_at > {{ dbt.dateadd('day', -365, as_of) }}

),

recent_revenue as (

    select
        organization_id,
        customer_id,
        cast(
            sum(case when attributed_at > {{ dbt.dateadd('day', -90, as_of) }} then amount_cents else 0 end)
            as {{ dbt.type_bigint() }}
        ) as revenue_last_90_days_cents,
        cast(
            sum(case when attributed_at > {{ dbt.dateadd('day', -30, as_of) }} then amount_cents else 0 end)
            as {{ dbt.type_bigint() }}
        ) as revenue_last_30_days_cents,
        cast(sum(amount_cents) as {{ dbt.type_bigint() }}) as revenue_last_365_days_cents,
        sum(case when attributed_at > {{ dbt.dateadd('day', -90, as_of) }} then 1 else 0 end)
            as completed_payments_last_90_days
    from recent_payments
    group by organization_id, customer_id

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
        coalesce(customer_facts.total_cancelled_by_customer, 0) as total_cancelled_by_customer,
        coalesce(customer_facts.total_cancelled_by_seller, 0) as total_cancelled_by_seller,
        coalesce(customer_facts.total_declined, 0) as total_declined,
        coalesce(customer_facts.total_pending, 0) as total_pending,
        customer_facts.first_booked_at,
        customer_facts.last_booked_at,
        customer_facts.first_booking_location_id,
        customer_facts.last_no_show_at,
        customer_facts.last_cancellation_at,
        coalesce(visit_facts.total_visits, 0) as total_visits,
        visit_facts.first_visit_at,
        visit_facts.last_visit_at,
        coalesce(visit_facts.visits_last_30_days, 0) as visits_last_30_days,
        coalesce(visit_facts.visits_last_90_days, 0) as visits_last_90_days,
        coalesce(visit_facts.visits_last_365_days, 0) as visits_last_365_days,
        coalesce(visit_facts.no_shows_last_90_days, 0) as no_shows_last_90_days,
        coalesce(visit_facts.cancellations_last_90_days, 0) as cancellations_last_90_days,
        coalesce(visit_facts.upcoming_bookings, 0) as upcoming_bookings,
        visit_facts.next_booking_at,
        coalesce(customer_facts.total_payments, 0) as total_payments,
        coalesce(customer_facts.total_failed_payments, 0) as total_failed_payments,
        coalesce(customer_facts.total_canceled_payments, 0) as total_canceled_payments,
        coalesce(customer_facts.total_refunded_payments, 0) as total_refunded_payments,
        coalesce(customer_facts.total_refunded_cents, 0) as total_refunded_cents,
        customer_facts.largest_ticket_cents,
        customer_facts.first_payment_at,
        customer_facts.last_payment_at,
        coalesce(recent_revenue.revenue_last_90_days_cents, 0) as revenue_last_90_days_cents,
        coalesce(recent_revenue.revenue_last_30_days_cents, 0) as revenue_last_30_days_cents,
        coalesce(recent_revenue.revenue_last_365_days_cents, 0) as revenue_last_365_days_cents,
        coalesce(recent_revenue.completed_payments_last_90_days, 0) as completed_payments_last_90_days,
        coalesce(customer_facts.total_notes, 0) as total_notes,
        coalesce(customer_facts.accepted_locations, 0) as accepted_locations,
        customer_facts.preferred_weekday,
        customer_facts.preferred_hour_utc,
        referrers.enrolled_at as referrer_enrolled_at
    from customer_keys
    left join customers
        on customer_keys.organization_id = customers.organization_id
        and customer_keys.customer_id = customers.customer_id
    left join customer_facts
        on customer_keys.organization_id = customer_facts.organization_id
        and customer_keys.customer_id = customer_facts.customer_id
    left join referrers
        on customer_keys.organization_id = referrers.organization_id
        and customer_keys.customer_id = referrers.customer_id
    left join visit_facts
        on customer_keys.organization_id = visit_facts.organization_id
        and customer_keys.customer_id = visit_facts.customer_id
    left join recent_revenue
        on customer_keys.organization_id = recent_revenue.organization_id
        and customer_keys.customer_id = recent_revenue.customer_id
    -- a customer in scope known nowhere any more gets no row (delete+insert drops it)
    where customers.customer_id is not null
        or customer_facts.customer_id is not null

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
        -- the segment's inputs (the view customer_analytics publishes the same day counts)
        {{ dbt.datediff(utc_date('first_booking_at'), utc_date(as_of), 'day') }} as days_since_first_booking,
        {{ dbt.datediff(utc_date('last_booking_at'), utc_date(as_of), 'day') }} as days_since_last_booking,
        {{ dbt.datediff(utc_date('first_visit_at'), utc_date('last_visit_at'), 'day') }} as lifetime_span_days,
        -- whole days from the first to the last visit over the gaps between visits, 1 decimal
        case
            when total_visits > 1
                then round(
                    cast({{ dbt.datediff(utc_date('first_visit_at'), utc_date('last_visit_at'), 'day') }}
                        as {{ dbt.type_numeric() }}) / (total_visits - 1),
                    1
                )
        end as avg_days_between_visits,
        -- cancelled (by customer or seller) among all bookings; null without bookings
        {{ rounded_rate('total_cancellations', 'total_bookings') }} as cancellation_rate,
        {{ rounded_rate('total_cancelled_by_customer', 'total_bookings') }} as customer_cancellation_rate,
        -- whole cents, half away from zero, as avg_ticket_cents; null without a visit
        case
            when total_visits > 0
                then cast(
                    round(cast(total_revenue_cents as {{ dbt.type_numeric() }}) / total_visits, 0)
                    as {{ dbt.type_bigint() }}
                )
        end as avg_revenue_per_visit_cents
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
    customer_segment,
    total_cancelled_by_customer,
    total_cancelled_by_seller,
    total_declined,
    total_pending,
    cancellation_rate,
    customer_cancellation_rate,
    first_booked_at,
    last_booked_at,
    first_booking_location_id,
    last_no_show_at,
    last_cancellation_at,
    total_visits,
    first_visit_at,
    last_visit_at,
    lifetime_span_days,
    avg_days_between_visits,
    visits_last_30_days,
    visits_last_90_days,
    visits_last_365_days,
    no_shows_last_90_days,
    cancellations_last_90_days,
    upcoming_bookings,
    next_booking_at,
    total_payments,
    total_failed_payments,
    total_canceled_payments,
    total_refunded_payments,
    total_refunded_cents,
    largest_ticket_cents,
    first_payment_at,
    last_payment_at,
    revenue_last_30_days_cents,
    revenue_last_90_days_cents,
    revenue_last_365_days_cents,
    completed_payments_last_90_days,
    avg_revenue_per_visit_cents,
    total_notes,
    accepted_locations,
    preferred_weekday,
    preferred_hour_utc,
    referrer_enrolled_at,
    {{ as_of }} as as_of,
    {{ dbt.current_timestamp() }} as dbt_loaded_at
from segmented
