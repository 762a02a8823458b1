-- Seed 003 escrow invariant: a SETTLED deal has exactly one IMMEDIATE_RELEASE equal to
-- round_half_up((amount - refunds) x immediate_ratio of its PINNED version), whole cents.
select deal_id, template_code, template_version, amount_cents, refund_cents,
    immediate_release_cents, expected_immediate_cents
from {{ ref('int_deal_ledgers_checked') }}
where not is_immediate_release_ok
