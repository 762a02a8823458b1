-- Seed 003 escrow invariant: releases and refunds out of escrow never exceed what was held.
select deal_id, hold_cents, immediate_release_cents, holdback_release_cents, refund_cents
from {{ ref('int_deal_ledgers_checked') }}
where not is_within_holds
