{#-
  One row per UTC day the marketplace data spans: from the first deal's creation day
  to the last day anything happened (state change, dispute, resolution, ledger entry).
  The day spine of metrics_daily_deals.
-#}
{{ config(event_time='day') }}

with

bounds as (

    select
        (select min(created_date) from {{ ref('stg_marketplace__deals') }}) as first_day,
        (
            select max(last_day) from (
                select max({{ utc_date('changed_at') }}) as last_day from {{ ref('stg_marketplace__deal_state_changes') }}
                union all
                select max({{ utc_date('coalesce(resolved_at, opened_at)') }}) from {{ ref('stg_marketplace__disputes') }}
                union all
                select max({{ utc_date('booked_at') }}) from {{ ref('stg_marketplace__ledger_entries') }}
                union all
                select max(created_date) from {{ ref('stg_marketplace__deals') }}
            ) as lasts
        ) as last_day

)

select days.day
from {{ utc_day_series('(select first_day from bounds)', '(select last_day from bounds)') }} as days
