-- Seed 004 calls: the daily mart's calls_attempted, summed over all days and
-- services, equals the calls with a call_started event (int_calls_lifecycle,
-- itself one row per distinct started call of staging): no call lost or
-- counted twice by the start-day attribution.
with

mart as (

    select coalesce(sum(calls_attempted), 0) as calls from {{ ref('metrics_daily_calls') }}

),

lifecycle as (

    select count(*) as calls from {{ ref('int_calls_lifecycle') }}

)

select mart.calls as mart_calls, lifecycle.calls as lifecycle_calls
from mart
cross join lifecycle
where mart.calls <> lifecycle.calls
