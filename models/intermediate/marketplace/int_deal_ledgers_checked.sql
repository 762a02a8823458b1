{#- One row per deal: ledger sums and seed-003 escrow invariants (macros/marketplace_deal_ledger_checks.sql). -#}
{{ marketplace_deal_ledger_checks() }}
