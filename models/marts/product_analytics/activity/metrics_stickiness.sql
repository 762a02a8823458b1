{#-
  Stickiness per tenant and event domain of the declared streams (PostHog /
  Amplitude stickiness): one row per (period grain week | month, period_start,
  tenant_id, event_domain, active_days) with a user, 'all' tenants and/or 'all'
  domains included: how many users were active on exactly that many UTC days of
  the ISO week (1-7) or calendar month (1-31). The users of one period sum to its
  active users (tested against the user-days). A table rebuilt whole by every run
  from int_product_user_periods (incremental by touched user): it reads
  user-periods, not events.
-#}
{{ config(
    indexes=[{'columns': ['period_grain', 'period_start', 'tenant_id', 'event_domain', 'active_days'], 'unique': true}],
) }}

with

user_periods as (

    select
        period_grain,
        period_start,
        tenant_id,
        event_domain,
        active_days
    from {{ ref('int_product_user_periods') }}
    where period_grain in ('week', 'month')

)

select
    period_grain,
    period_start,
    tenant_id,
    event_domain,
    active_days,
    cast(count(*) as {{ dbt.type_bigint() }}) as users
from user_periods
group by period_grain, period_start, tenant_id, event_domain, active_days
