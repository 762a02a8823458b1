{#- One row per evidence item (seed 003): kind lower-cased. -#}
with

source as (

    select * from {{ source('marketplace', 'dispute_evidence') }}

)

select
    evidence_id,
    dispute_id,
    uploaded_at,
    lower(trim(kind)) as kind
from source
