-- Seed 004 calls: the daily mart's calls_attempted, summed over all days and
-- services, equals the distinct calls with a call_started event in staging
-- (no call lost or counted twice by the start-day attribution).
with

mart as (

    select coalesce(sum(calls_attempted), 0) as calls from {{ ref('metrics_daily_calls') }}

),

staging as (

    select count(distinct entity_id) as calls
    from {{ ref('stg_platform__events') }}
    where event_domain = 'calls'
        and event_type = 'call_started'
        and entity_id is not null

)

select mart.calls as mart_calls, staging.calls as staging_calls
from mart
cross join staging
where mart.calls <> staging.calls
