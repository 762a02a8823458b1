{#- One row per deal state transition (seed 003): states upper-cased, actor lower-cased ('timer' -> 'system'). -#}
with

source as (

    select * from {{ source('marketplace', 'deal_state_changes') }}

)

select
    deal_id,
    upper(trim(from_state)) as from_state,
    upper(trim(to_state)) as to_state,
    changed_at,
    case
        when lower(trim(actor_role)) = 'timer' then 'system'
        else lower(trim(actor_role))
    end as actor_role
from source
