{#-
  marketplace_deal_ledger_checks()
  SQL (a full select) of one row per deal that has ledger entries or a final state,
  with its ledger sums and the seed-003 escrow invariants evaluated against the
  deal's PINNED template version (code + version):
    * immediate release = round_half_up((amount - refunds) * immediate_ratio), whole cents;
    * holdback release = (amount - refunds) - immediate (when booked);
    * releases + refunds never exceed holds;
    * a closed deal (REFUNDED, or SETTLED with its HOLDBACK_RELEASE booked) nets to zero.
  Shared by int_deal_ledgers_checked (which the singular tests read) and
  rpt_rollback_triggers (which must still build when those tests fail).
-#}
{% macro marketplace_deal_ledger_checks() -%}
with

deals as (

    select deal_id, template_code, template_version, amount_cents
    from {{ ref('stg_marketplace__deals') }}

),

current_states as (

    select deal_id, to_state as current_state
    from {{ ref('int_deal_state_intervals') }}
    where is_current

),

templates as (

    select template_code, template_version, immediate_ratio
    from {{ ref('deal_templates') }}

),

ledger as (

    select
        deal_id,
        sum(case when entry_type = 'HOLD' then amount_cents else 0 end) as hold_cents,
        -sum(case when entry_type = 'IMMEDIATE_RELEASE' then amount_cents else 0 end) as immediate_release_cents,
        -sum(case when entry_type = 'HOLDBACK_RELEASE' then amount_cents else 0 end) as holdback_release_cents,
        -sum(case when entry_type = 'REFUND' then amount_cents else 0 end) as refund_cents,
        sum(case when entry_type = 'IMMEDIATE_RELEASE' then 1 else 0 end) as immediate_release_entries,
        sum(case when entry_type = 'HOLDBACK_RELEASE' then 1 else 0 end) as holdback_release_entries,
        sum(amount_cents) as net_cents
    from {{ ref('stg_marketplace__ledger_entries') }}
    group by deal_id

),

joined as (

    select
        deals.deal_id,
        deals.template_code,
        deals.template_version,
        deals.amount_cents,
        current_states.current_state,
        templates.immediate_ratio,
        coalesce(ledger.hold_cents, 0) as hold_cents,
        coalesce(ledger.immediate_release_cents, 0) as immediate_release_cents,
        coalesce(ledger.holdback_release_cents, 0) as holdback_release_cents,
        coalesce(ledger.refund_cents, 0) as refund_cents,
        coalesce(ledger.immediate_release_entries, 0) as immediate_release_entries,
        coalesce(ledger.holdback_release_entries, 0) as holdback_release_entries,
        coalesce(ledger.net_cents, 0) as net_cents,
        -- half-up to the cent on an exact numeric product (amounts are never negative)
        cast(floor(
            cast(deals.amount_cents - coalesce(ledger.refund_cents, 0) as {{ dbt.type_numeric() }})
            * templates.immediate_ratio + 0.5
        ) as {{ dbt.type_bigint() }}) as expected_immediate_cents
    from deals
    left join ledger
        on deals.deal_id = ledger.deal_id
    left join current_states
        on deals.deal_id = current_states.deal_id
    left join templates
        on deals.template_code = templates.template_code
        and deals.template_version = templates.template_version

),

checked as (

    select
        deal_id,
        template_code,
        template_version,
        amount_cents,
        current_state,
        immediate_ratio,
        hold_cents,
        immediate_release_cents,
        holdback_release_cents,
        refund_cents,
        net_cents,
        expected_immediate_cents,
        amount_cents - refund_cents - expected_immediate_cents as expected_holdback_cents,
        current_state = 'REFUNDED'
            or (current_state = 'SETTLED' and holdback_release_entries > 0) as is_closed,
        case
            when current_state = 'SETTLED'
                then immediate_release_entries = 1 and immediate_release_cents = expected_immediate_cents
        end as is_immediate_release_ok,
        case
            when holdback_release_entries > 0
                then holdback_release_entries = 1
                    and holdback_release_cents = amount_cents - refund_cents - expected_immediate_cents
        end as is_holdback_release_ok,
        immediate_release_cents + holdback_release_cents + refund_cents <= hold_cents as is_within_holds
    from joined

)

select
    deal_id,
    template_code,
    template_version,
    amount_cents,
    current_state,
    immediate_ratio,
    hold_cents,
    immediate_release_cents,
    holdback_release_cents,
    refund_cents,
    net_cents,
    expected_immediate_cents,
    expected_holdback_cents,
    is_closed,
    is_immediate_release_ok,
    is_holdback_release_ok,
    is_within_holds,
    case when is_closed then net_cents = 0 end as is_closed_net_zero,
    coalesce(is_immediate_release_ok, true)
        and coalesce(is_holdback_release_ok, true)
        and is_within_holds
        and (not is_closed or net_cents = 0) as is_ledger_consistent
from checked
{%- endmacro %}
