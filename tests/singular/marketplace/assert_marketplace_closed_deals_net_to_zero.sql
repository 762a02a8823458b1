-- Seed 003 escrow invariant: a closed deal (REFUNDED, or SETTLED with its holdback
-- released) leaves nothing in escrow — its ledger entries sum to zero.
select deal_id, current_state, net_cents
from {{ ref('int_deal_ledgers_checked') }}
where is_closed and net_cents <> 0
