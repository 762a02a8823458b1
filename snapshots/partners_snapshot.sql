{#-
  SCD2 history of partner status (seed 001): one row per partner version.
  Timestamp strategy on updated_at, so dbt_valid_from is the raw row's
  updated_at (when the status changed), not the time the snapshot ran;
  dbt_valid_to is null for the current version. Target schema `snapshots`.
  Partner status on a past day (pending/active/suspended at end of day) is read
  from here (int_partner_status_history), never from today's state.
-#}
{% snapshot partners_snapshot %}

{{ config(
    target_schema='snapshots',
    unique_key='partner_id',
    strategy='timestamp',
    updated_at='updated_at',
    invalidate_hard_deletes=false,
) }}

select
    partner_id,
    status,
    applied_at,
    decided_at,
    updated_at
from {{ ref('stg_partners__partners') }}

{% endsnapshot %}
