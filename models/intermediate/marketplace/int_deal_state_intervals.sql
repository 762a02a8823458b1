{#-
  One row per deal state change, as an interval: the deal is in to_state from
  changed_at (valid_from) until the next change (valid_to, null = still in it).
  Ties on changed_at are ordered by the lifecycle order of the states.
-#}
with

state_changes as (

    select deal_id, from_state, to_state, changed_at, actor_role
    from {{ ref('stg_marketplace__deal_state_changes') }}

),

ordered as (

    select
        deal_id,
        from_state,
        to_state,
        changed_at,
        actor_role,
        row_number() over (
            partition by deal_id
            order by
                changed_at,
                case to_state
                    when 'CREATED' then 1 when 'FUNDED' then 2 when 'INSPECTION' then 3
                    when 'DISPUTED' then 4 else 5
                end
        ) as state_seq
    from state_changes

),

intervals as (

    select
        deal_id,
        state_seq,
        from_state,
        to_state,
        actor_role,
        changed_at as valid_from,
        lead(changed_at) over (partition by deal_id order by state_seq) as valid_to
    from ordered

)

select
    {{ surrogate_key(['deal_id', 'state_seq']) }} as state_interval_key,
    deal_id,
    state_seq,
    from_state,
    to_state,
    actor_role,
    valid_from,
    valid_to,
    valid_to is null as is_current,
    to_state in ('SETTLED', 'REFUNDED') as is_terminal
from intervals
