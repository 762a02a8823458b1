-- SPEC "daily sums reconcile": over the days metrics_daily_deals covers, its created,
-- settled and disputes-opened counts equal a recount from fct_deals / fct_disputes.
with

daily as (

    select
        sum(deals_created) as deals_created,
        sum(deals_settled) as deals_settled,
        sum(disputes_opened) as disputes_opened,
        min(metric_date) as first_day,
        max(metric_date) as last_day
    from {{ ref('metrics_daily_deals') }}

),

recount as (

    select
        (select count(*) from {{ ref('fct_deals') }}
         where {{ utc_date('created_at') }} between daily.first_day and daily.last_day) as deals_created,
        (select count(*) from {{ ref('fct_deals') }}
         where {{ utc_date('settled_at') }} between daily.first_day and daily.last_day) as deals_settled,
        (select count(*) from {{ ref('fct_disputes') }}
         where {{ utc_date('opened_at') }} between daily.first_day and daily.last_day) as disputes_opened
    from daily

)

select daily.deals_created, recount.deals_created as recount_created,
    daily.deals_settled, recount.deals_settled as recount_settled,
    daily.disputes_opened, recount.disputes_opened as recount_disputes
from daily
cross join recount
where daily.first_day is not null
    and (daily.deals_created <> recount.deals_created
        or daily.deals_settled <> recount.deals_settled
        or daily.disputes_opened <> recount.disputes_opened)
