{#-
  Seed 003's rollback triggers, evaluated for the alerts engine: one row per trigger.
    * settlement_completion_rate: all deals (every template version), SETTLED / created,
      triggers when below seed pilot_kpi_targets' rollback_settlement_completion_rate
      (< 0.50); severity critical.
    * ledger_invariant_broken: deals whose escrow ledger breaks an invariant
      (macros/marketplace_deal_ledger_checks.sql); triggers when the count > 0; critical.
  Reads the ledger checks through the macro, not int_deal_ledgers_checked, so that it
  still builds (and reports) when the ledger tests on that model fail.
-#}
with

deals as (

    select deal_id, settled_at
    from {{ ref('fct_deals') }}

),

targets as (

    select kpi, comparator, target
    from {{ ref('pilot_kpi_targets') }}
    where kpi = 'rollback_settlement_completion_rate'
        and category = '*'

),

ledger_checks as (

    {{ marketplace_deal_ledger_checks() | indent(4) }}

),

completion as (

    select
        count(*) as deals_created,
        sum(case when settled_at is not null then 1 else 0 end) as deals_settled
    from deals

),

evaluated as (

    select
        'settlement_completion_rate' as trigger_name,
        'critical' as severity,
        round(cast(completion.deals_settled as {{ dbt.type_numeric() }}) / nullif(completion.deals_created, 0), 4)
            as observed_value,
        targets.comparator,
        targets.target as threshold,
        cast(null as {{ dbt.type_bigint() }}) as broken_count,
        case
            when completion.deals_created = 0 then false
            when targets.comparator = '<'
                then cast(completion.deals_settled as {{ dbt.type_numeric() }}) / completion.deals_created < targets.target
            when targets.comparator = '<='
                then cast(completion.deals_settled as {{ dbt.type_numeric() }}) / completion.deals_created <= targets.target
            else false
        end as is_triggered
    from completion
    cross join targets

    union all

    select
        'ledger_invariant_broken',
        'critical',
        cast(count(case when not is_ledger_consistent then 1 end) as {{ dbt.type_numeric() }}),
        '>',
        0,
        count(case when not is_ledger_consistent then 1 end),
        count(case when not is_ledger_consistent then 1 end) > 0
    from ledger_checks

)

select
    trigger_name,
    severity,
    observed_value,
    comparator,
    threshold,
    broken_count,
    is_triggered,
    {{ kpi_as_of() }} as evaluated_at
from evaluated
