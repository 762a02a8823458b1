-- SPEC "daily sums reconcile with staging" (seed 002): over the days the daily
-- fact covers, its bookings, accepted appointments, no-shows, cancellations and
-- completed revenue per organization and day equal a recount from staging
-- (a payment counts on its booking's UTC start day when linked, else on its
-- own UTC created day). Returns the (organization, day) pairs that disagree.
with

daily as (

    select * from {{ ref('fct_appointments_by_location_daily') }}

),

bookings as (

    select * from {{ ref('stg_bookings__bookings') }}

),

payments as (

    select * from {{ ref('stg_bookings__payments') }}

),

covered_days as (

    select
        min(booking_date) as first_day,
        max(booking_date) as last_day
    from daily

),

fact_totals as (

    select
        organization_id,
        booking_date,
        sum(total_bookings) as total_bookings,
        sum(accepted_appointments) as accepted_appointments,
        sum(no_shows) as no_shows,
        sum(cancellations) as cancellations,
        sum(completed_revenue_cents) as completed_revenue_cents
    from daily
    group by organization_id, booking_date

),

staged_bookings as (

    select
        organization_id,
        {{ utc_date('start_at') }} as booking_date,
        count(*) as total_bookings,
        sum(case when status = 'ACCEPTED' then 1 else 0 end) as accepted_appointments,
        sum(case when status = 'NO_SHOW' then 1 else 0 end) as no_shows,
        sum(case when status like 'CANCELLED%' then 1 else 0 end) as cancellations
    from bookings
    group by organization_id, {{ utc_date('start_at') }}

),

staged_payments as (

    select
        payments.organization_id,
        {{ utc_date('coalesce(bookings.start_at, payments.created_at)') }} as booking_date,
        sum(payments.amount_cents) as completed_revenue_cents
    from payments
    left join bookings
        on payments.booking_id = bookings.booking_id
        and payments.organization_id = bookings.organization_id
    where payments.status = 'COMPLETED'
    group by
        payments.organization_id,
        {{ utc_date('coalesce(bookings.start_at, payments.created_at)') }}

),

staged_days as (

    select organization_id, booking_date from staged_bookings
    union
    select organization_id, booking_date from staged_payments

),

staged_totals as (

    select
        staged_days.organization_id,
        staged_days.booking_date,
        coalesce(staged_bookings.total_bookings, 0) as total_bookings,
        coalesce(staged_bookings.accepted_appointments, 0) as accepted_appointments,
        coalesce(staged_bookings.no_shows, 0) as no_shows,
        coalesce(staged_bookings.cancellations, 0) as cancellations,
        coalesce(staged_payments.completed_revenue_cents, 0) as completed_revenue_cents
    from staged_days
    cross join covered_days
    left join staged_bookings
        on staged_days.organization_id = staged_bookings.organization_id
        and staged_days.booking_date = staged_bookings.booking_date
    left join staged_payments
        on staged_days.organization_id = staged_payments.organization_id
        and staged_days.booking_date = staged_payments.booking_date
    where staged_days.booking_date between covered_days.first_day and covered_days.last_day

),

only_in_fact as (

    select organization_id, booking_date, total_bookings, accepted_appointments,
        no_shows, cancellations, completed_revenue_cents
    from fact_totals
    except
    select organization_id, booking_date, total_bookings, accepted_appointments,
        no_shows, cancellations, completed_revenue_cents
    from staged_totals

),

only_in_staging as (

    select organization_id, booking_date, total_bookings, accepted_appointments,
        no_shows, cancellations, completed_revenue_cents
    from staged_totals
    except
    select organization_id, booking_date, total_bookings, accepted_appointments,
        no_shows, cancellations, completed_revenue_cents
    from fact_totals

)

select 'fact' as side, only_in_fact.* from only_in_fact
union all
select 'staging' as side, only_in_staging.* from only_in_staging
