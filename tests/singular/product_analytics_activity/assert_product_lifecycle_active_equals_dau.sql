-- Lifecycle invariant (issue 14): the users a day's lifecycle classifies (new +
-- returning + resurrecting, from int_product_user_periods) are that day's DAU of
-- metrics_daily_active_users (from the user-days' running sums), per tenant and
-- domain: two computations, one count. Returns the (day, tenant, domain) where
-- they disagree or only one mart has active users.
with

lifecycle as (

    select metric_date, tenant_id, event_domain, new_users + returning_users + resurrecting_users as users
    from {{ ref('metrics_daily_lifecycle') }}
    where active_users > 0

),

active as (

    select metric_date, tenant_id, event_domain, dau as users
    from {{ ref('metrics_daily_active_users') }}

)

select
    coalesce(lifecycle.metric_date, active.metric_date) as metric_date,
    coalesce(lifecycle.tenant_id, active.tenant_id) as tenant_id,
    coalesce(lifecycle.event_domain, active.event_domain) as event_domain,
    lifecycle.users as lifecycle_users,
    active.users as dau
from lifecycle
full outer join active
    on lifecycle.metric_date = active.metric_date
    and lifecycle.tenant_id = active.tenant_id
    and lifecycle.event_domain = active.event_domain
where lifecycle.users is null or active.users is null or lifecycle.users <> active.users
