-- Seed 001 scorecard vs daily metrics: on every day, the per-partner rows of
-- fct_partner_health_daily add up to fct_partner_metrics_daily (mechanics at active
-- partners, active partners, profile updates and API errors of partners that have
-- a raw.partners row). Returns the disagreeing days.
with

health as (

    select
        metric_date,
        sum(mechanics_active) as mechanics_active,
        sum(case when partner_status = 'active' then 1 else 0 end) as partners_active
    from {{ ref('fct_partner_health_daily') }}
    group by metric_date

),

daily as (

    select metric_date, mechanics_active, partners_active
    from {{ ref('fct_partner_metrics_daily') }}

)

select daily.metric_date
from daily
left join health
    on daily.metric_date = health.metric_date
where coalesce(health.mechanics_active, 0) <> daily.mechanics_active
    or coalesce(health.partners_active, 0) <> daily.partners_active
