{#-
  Partners (workshops), current state (seed 001): one row per partner_id.
  Status trimmed and lower-cased. History of the status lives in the snapshot
  snapshots/partners_snapshot.sql. Daily marts read it whole.
-#}
with

source as (

    select * from {{ source('partners', 'partners') }}

),

renamed as (

    select
        trim(partner_id) as partner_id,
        lower(trim(status)) as status,
        applied_at,
        decided_at,
        updated_at
    from source

)

select
    partner_id,
    status,
    applied_at,
    decided_at,
    updated_at
from renamed
