{#- One row per dispute (seed 003): reason/outcome upper-cased, resolved_by lower-cased. -#}
with

source as (

    select * from {{ source('marketplace', 'disputes') }}

)

select
    dispute_id,
    deal_id,
    upper(trim(reason_code)) as reason_code,
    opened_at,
    resolved_at,
    upper(trim(outcome)) as outcome,
    lower(trim(resolved_by)) as resolved_by,
    resolved_at is not null as is_resolved
from source
