-- Seed 003 escrow invariant: a booked HOLDBACK_RELEASE (exactly one) equals
-- (amount - refunds) - immediate release of the pinned version.
select deal_id, template_code, template_version, amount_cents, refund_cents,
    holdback_release_cents, expected_holdback_cents
from {{ ref('int_deal_ledgers_checked') }}
where not is_holdback_release_ok
