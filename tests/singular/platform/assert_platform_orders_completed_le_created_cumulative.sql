-- Seed 004 fulfillment invariant "completed <= created", tested where it is
-- meaningful. An order created yesterday and completed today makes
-- orders_completed > orders_created possible on ONE day, so the daily mart is
-- not tested row by row; instead, per service_code, the running totals up to
-- each day must keep completed + cancelled <= created (every completed or
-- cancelled order was created earlier), allowing for orders whose creation
-- lies outside the retained event log (counted from int_orders_lifecycle).
with

daily as (

    select
        metric_date,
        service_code,
        sum(orders_created) over w as created_to_date,
        sum(orders_completed) over w as completed_to_date
    from {{ ref('metrics_daily_fulfillment') }}
    window w as (
        partition by service_code
        order by metric_date
        rows between unbounded preceding and current row
    )

),

orphans as (

    -- completed orders whose order_created is not in the log (created before it)
    select service_code, count(*) as orders_without_creation
    from {{ ref('int_orders_lifecycle') }}
    where created_at is null and completed_at is not null
    group by service_code

)

select
    daily.metric_date,
    daily.service_code,
    daily.created_to_date,
    daily.completed_to_date
from daily
left join orphans
    on coalesce(daily.service_code, '') = coalesce(orphans.service_code, '')
where daily.completed_to_date > daily.created_to_date + coalesce(orphans.orders_without_creation, 0)
