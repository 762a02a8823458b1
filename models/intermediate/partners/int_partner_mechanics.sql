{#-
  Mechanics joined to partners (seed 001): one row per accepted invite
  (invite_accepted event; user_id = the mechanic), first acceptance per
  (partner, mechanic) kept. The daily fact needs every mechanic who joined up
  to a day, so it reads this model whole.
-#}
with

accepted as (

    select
        {{ unknown_member('tenant_id') }} as partner_id,
        user_id as mechanic_id,
        occurred_at
    from {{ ref('stg_platform__events') }}
    where event_domain = 'partners'
        and event_type = 'invite_accepted'
        and user_id is not null

),

first_join as (

    select
        partner_id,
        mechanic_id,
        min(occurred_at) as joined_at
    from accepted
    group by partner_id, mechanic_id

)

select
    partner_id,
    mechanic_id,
    joined_at
from first_join
