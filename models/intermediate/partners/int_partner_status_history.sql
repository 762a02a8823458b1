{#-
  Partner status intervals (seed 001): one row per partner and status interval
  [valid_from, valid_to) (valid_to null = still in force), from the SCD2
  snapshot. The timestamp strategy dates each version at the raw row's
  updated_at; a partner first snapshotted after its decision (history loaded
  in one go) has no snapshot row for its pending period, so an inferred
  'pending' interval [applied_at, first version's valid_from) is added
  (is_inferred true). DECISIONLOG "partner status on a past day".
  Daily marts read every interval.
-#}
with

snapshot as (

    select
        partner_id,
        status,
        applied_at,
        decided_at,
        dbt_valid_from,
        dbt_valid_to
    from {{ ref('partners_snapshot') }}

),

versions as (

    select
        partner_id,
        status,
        applied_at,
        dbt_valid_from as valid_from,
        dbt_valid_to as valid_to,
        false as is_inferred,
        row_number() over (partition by partner_id order by dbt_valid_from) as version_rank
    from snapshot

),

inferred_pending as (

    select
        partner_id,
        'pending' as status,
        applied_at,
        applied_at as valid_from,
        valid_from as valid_to,
        true as is_inferred
    from versions
    where version_rank = 1
        and status <> 'pending'
        and applied_at is not null
        and applied_at < valid_from

),

unioned as (

    select partner_id, status, applied_at, valid_from, valid_to, is_inferred from versions
    union all
    select partner_id, status, applied_at, valid_from, valid_to, is_inferred from inferred_pending

)

select
    {{ surrogate_key(['partner_id', 'valid_from']) }} as status_interval_key,
    partner_id,
    status,
    applied_at,
    valid_from,
    valid_to,
    is_inferred
from unioned
