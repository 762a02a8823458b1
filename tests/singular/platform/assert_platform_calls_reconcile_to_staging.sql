-- Seed 004 calls: the daily mart's calls_attempted, summed over all days and
-- services, equals the calls with a call_started event (int_calls_lifecycle,
-- itself one row per distinct started call of staging): no call lost or
-- counted twice by the start-day attribution. After a retention run
-- (kpi retention apply) only the days from its horizon on are compared: the
-- mart keeps the aggregates of older days, the event-level rows are gone.
{%- set horizon = kpi_retention_horizon() %}
with

mart as (

    select coalesce(sum(calls_attempted), 0) as calls from {{ ref('metrics_daily_calls') }}
    {%- if horizon %}
    where metric_date >= cast('{{ horizon }}' as date)
    {%- endif %}

),

lifecycle as (

    select count(*) as calls from {{ ref('int_calls_lifecycle') }}
    {%- if horizon %}
    where started_date >= cast('{{ horizon }}' as date)
    {%- endif %}

)

select mart.calls as mart_calls, lifecycle.calls as lifecycle_calls
from mart
cross join lifecycle
where mart.calls <> lifecycle.calls
