{#-
  Loyalty events (seed 000) from the cleaned event log, classified once for every
  loyalty mart: the transaction type (issue | redeem | adjust | reverse), the scan
  error code, and the reward and points carried in metadata. An event without a
  tenant is kept under the tenant 'unknown' (never dropped). A view; the daily
  loyalty marts read the days they recompute from it (kpi_in_days on occurred_at).
-#}
with

events as (

    select
        event_id,
        occurred_at,
        event_date,
        {{ unknown_member('tenant_id') }} as tenant_id,
        location_id,
        event_type,
        user_id,
        status,
        metadata
    from {{ ref('stg_platform__events') }}
    where event_domain = 'loyalty'

),

classified as (

    select
        event_id,
        occurred_at,
        event_date,
        tenant_id,
        location_id,
        event_type,
        user_id as customer_id,
        case event_type
            when 'points_issued' then 'issue'
            when 'points_redeemed' then 'redeem'
            when 'points_adjusted' then 'adjust'
            when 'transaction_reversed' then 'reverse'
        end as transaction_type,
        case when event_type = 'scan_error' then status end as scan_error_code,
        case when event_type = 'points_redeemed' then {{ json_get_text('metadata', 'reward_id') }} end as reward_id,
        {{ dbt.safe_cast(json_get_text('metadata', 'points'), dbt.type_int()) }} as points
    from events

)

select
    event_id,
    occurred_at,
    event_date,
    tenant_id,
    location_id,
    event_type,
    customer_id,
    transaction_type,
    transaction_type is not null as is_transaction,
    event_type = 'scan_error' as is_scan_error,
    scan_error_code,
    reward_id,
    points
from classified
