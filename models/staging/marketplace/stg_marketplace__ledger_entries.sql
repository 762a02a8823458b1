{#- One row per ledger entry (seed 003): entry_type upper-cased, signed cents as seen from escrow. -#}
with

source as (

    select * from {{ source('marketplace', 'ledger_entries') }}

)

select
    entry_id,
    deal_id,
    upper(trim(entry_type)) as entry_type,
    cast(amount_cents as {{ dbt.type_bigint() }}) as amount_cents,
    booked_at
from source
