{#-
  Seed 001's workshop health scorecard, per partner per UTC day: one row per
  partner (raw.partners) per day, from the partner's first day (its application
  or its first partner event, whichever is earlier) to the latest day of the
  event log. Status and mechanics are end-of-day states (status history from the
  snapshot, mechanics who joined by the end of the day); logins, profile
  updates and API calls are the day's partner events; the health score is
  100 x sum(weight x component) / sum(weight) over the components of seed
  partner_health_score_weights (formula in DECISIONLOG "Partner health score").
  Trailing windows (API reliability, profile activity) are cumulative sums minus
  the cumulative sum `scale` days earlier (linear, the length read from the seed).
  A table rebuilt whole by every run, like fct_partner_metrics_daily: a status
  change or a late event changes every later day of that partner, and the
  partner product's rows are few (DECISIONLOG "Late and corrected data").
-#}
{{ config(
    tags=['daily'],
    event_time='metric_date',
    indexes=[{'columns': ['partner_id', 'metric_date'], 'unique': true}, {'columns': ['metric_date']}],
) }}

with

partners as (

    select partner_id, applied_at
    from {{ ref('stg_partners__partners') }}

),

events as (

    select
        tenant_id as partner_id,
        event_date,
        event_type,
        status
    from {{ ref('stg_platform__events') }}
    where event_domain = 'partners'
        and event_type in ('dashboard_login', 'profile_updated', 'api_request')

),

first_events as (

    select tenant_id as partner_id, min(event_date) as first_event_date
    from {{ ref('stg_platform__events') }}
    where event_domain = 'partners'
    group by tenant_id

),

last_day as (

    select {{ utc_date('max(occurred_at)') }} as last_date
    from {{ ref('stg_platform__events') }}

),

status_history as (

    -- read whole: the state at the end of a day may have started long before
    select partner_id, status, valid_from, valid_to
    from {{ ref('int_partner_status_history') }}

),

mechanics as (

    select partner_id, joined_at
    from {{ ref('int_partner_mechanics') }}

),

weights as (

    select
        max(case when component = 'active_status' then weight end) as w_status,
        max(case when component = 'login_recency' then weight end) as w_recency,
        max(case when component = 'login_recency' then scale end) as recency_days,
        max(case when component = 'mechanics' then weight end) as w_mechanics,
        max(case when component = 'mechanics' then scale end) as mechanics_full,
        max(case when component = 'api_reliability' then weight end) as w_api,
        max(case when component = 'api_reliability' then cast(scale as {{ dbt.type_int() }}) end) as api_days,
        max(case when component = 'profile_activity' then weight end) as w_profile,
        max(case when component = 'profile_activity' then cast(scale as {{ dbt.type_int() }}) end) as profile_days,
        sum(weight) as w_total
    from {{ ref('partner_health_score_weights') }}

),

partner_starts as (

    select
        partners.partner_id,
        case
            when first_events.first_event_date is null then {{ utc_date('partners.applied_at') }}
            when partners.applied_at is null then first_events.first_event_date
            when {{ utc_date('partners.applied_at') }} < first_events.first_event_date
                then {{ utc_date('partners.applied_at') }}
            else first_events.first_event_date
        end as first_date
    from partners
    left join first_events
        on partners.partner_id = first_events.partner_id

),

days as (

    select series.day as date_day
    from {{ utc_day_series(
        '(select min(first_date) from partner_starts)', '(select last_date from last_day)'
    ) }} as series

),

partner_days as (

    select
        partner_starts.partner_id,
        cast(days.date_day as date) as metric_date,
        cast({{ dbt.dateadd('day', 1, 'days.date_day') }} as {{ type_timestamp_tz() }}) as day_end_at
    from partner_starts
    inner join days
        on days.date_day >= partner_starts.first_date

),

day_counts as (

    select
        partner_id,
        event_date as metric_date,
        sum(case when event_type = 'dashboard_login' then 1 else 0 end) as dashboard_logins,
        sum(case when event_type = 'profile_updated' then 1 else 0 end) as profile_updates,
        sum(case when event_type = 'api_request' and status = 'success' then 1 else 0 end) as api_successes,
        sum(case when event_type = 'api_request' and status = 'error' then 1 else 0 end) as api_errors
    from events
    group by partner_id, event_date

),

day_states as (

    select
        partner_days.partner_id,
        partner_days.metric_date,
        max(status_history.status) as partner_status
    from partner_days
    inner join status_history
        on partner_days.partner_id = status_history.partner_id
        and status_history.valid_from < partner_days.day_end_at
        and (status_history.valid_to is null or status_history.valid_to >= partner_days.day_end_at)
    group by partner_days.partner_id, partner_days.metric_date

),

day_mechanics as (

    select
        partner_days.partner_id,
        partner_days.metric_date,
        count(*) as mechanics_active
    from partner_days
    inner join mechanics
        on partner_days.partner_id = mechanics.partner_id
        and mechanics.joined_at < partner_days.day_end_at
    group by partner_days.partner_id, partner_days.metric_date

),

joined as (

    select
        partner_days.partner_id,
        partner_days.metric_date,
        day_states.partner_status,
        case when day_states.partner_status = 'active' then coalesce(day_mechanics.mechanics_active, 0) else 0 end
            as mechanics_active,
        coalesce(day_counts.dashboard_logins, 0) as dashboard_logins,
        coalesce(day_counts.profile_updates, 0) as profile_updates,
        coalesce(day_counts.api_successes, 0) as api_successes,
        coalesce(day_counts.api_errors, 0) as api_errors
    from partner_days
    left join day_states
        on partner_days.partner_id = day_states.partner_id
        and partner_days.metric_date = day_states.metric_date
    left join day_mechanics
        on partner_days.partner_id = day_mechanics.partner_id
        and partner_days.metric_date = day_mechanics.metric_date
    left join day_counts
        on partner_days.partner_id = day_counts.partner_id
        and partner_days.metric_date = day_counts.metric_date

),

running as (

    -- one row per partner per day without gaps: cumulative sums and the last login day so far
    select
        joined.*,
        max(case when dashboard_logins > 0 then metric_date end) over (
            partition by partner_id order by metric_date rows between unbounded preceding and current row
        ) as last_login_date,
        sum(api_successes) over (
            partition by partner_id order by metric_date rows between unbounded preceding and current row
        ) as api_successes_cum,
        sum(api_errors) over (
            partition by partner_id order by metric_date rows between unbounded preceding and current row
        ) as api_errors_cum,
        sum(profile_updates) over (
            partition by partner_id order by metric_date rows between unbounded preceding and current row
        ) as profile_updates_cum
    from joined

),

windowed as (

    -- trailing windows of the seed's length: the running sum minus the running sum `scale` days earlier
    select
        running.*,
        running.api_successes_cum - coalesce(api_before.api_successes_cum, 0) as api_successes_window,
        running.api_errors_cum - coalesce(api_before.api_errors_cum, 0) as api_errors_window,
        running.profile_updates_cum - coalesce(profile_before.profile_updates_cum, 0) as profile_updates_window
    from running
    cross join weights
    left join running as api_before
        on running.partner_id = api_before.partner_id
        and api_before.metric_date = cast({{ dbt.dateadd('day', '-weights.api_days', 'running.metric_date') }} as date)
    left join running as profile_before
        on running.partner_id = profile_before.partner_id
        and profile_before.metric_date
        = cast({{ dbt.dateadd('day', '-weights.profile_days', 'running.metric_date') }} as date)

),

components as (

    select
        windowed.partner_id,
        windowed.metric_date,
        windowed.partner_status,
        windowed.mechanics_active,
        windowed.dashboard_logins,
        windowed.profile_updates,
        windowed.api_successes,
        windowed.api_errors,
        windowed.last_login_date,
        {{ dbt.datediff('windowed.last_login_date', 'windowed.metric_date', 'day') }} as days_since_last_login,
        case when windowed.partner_status = 'active' then 1.0 else 0.0 end as status_component,
        case
            when windowed.last_login_date is null then 0.0
            else greatest(
                0.0,
                1.0 - {{ dbt.datediff('windowed.last_login_date', 'windowed.metric_date', 'day') }}
                / weights.recency_days
            )
        end as recency_component,
        least(1.0, windowed.mechanics_active / weights.mechanics_full) as mechanics_component,
        case
            when windowed.api_successes_window + windowed.api_errors_window = 0 then 1.0
            else cast(windowed.api_successes_window as {{ dbt.type_numeric() }})
                / (windowed.api_successes_window + windowed.api_errors_window)
        end as api_component,
        case when windowed.profile_updates_window > 0 then 1.0 else 0.0 end as profile_component,
        weights.w_status,
        weights.w_recency,
        weights.w_mechanics,
        weights.w_api,
        weights.w_profile,
        weights.w_total
    from windowed
    cross join weights

)

select
    partner_id,
    metric_date,
    partner_status,
    cast(mechanics_active as {{ dbt.type_bigint() }}) as mechanics_active,
    cast(dashboard_logins as {{ dbt.type_bigint() }}) as dashboard_logins,
    cast(profile_updates as {{ dbt.type_bigint() }}) as profile_updates,
    cast(api_successes as {{ dbt.type_bigint() }}) as api_successes,
    cast(api_errors as {{ dbt.type_bigint() }}) as api_errors,
    last_login_date,
    cast(days_since_last_login as {{ dbt.type_int() }}) as days_since_last_login,
    round(cast(
        100 * (
            w_status * status_component
            + w_recency * recency_component
            + w_mechanics * mechanics_component
            + w_api * api_component
            + w_profile * profile_component
        ) / w_total
        as {{ dbt.type_numeric() }}), 2) as health_score
from components
