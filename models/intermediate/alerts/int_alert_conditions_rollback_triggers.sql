{#-
  Seed 003's rollback triggers as alert-engine observations (one row per
  trigger): the escrow settlement completion rate (rule rollback_settlement_low,
  critical below 50 %) and the number of deals breaking a ledger invariant (rule
  rollback_ledger_broken, critical above 0). Read from rpt_rollback_triggers,
  which computes them over all deals; a null rate (no deal yet) never fires.
-#}
{{ config(tags=['alerts']) }}

with

triggers as (

    select
        trigger_name,
        observed_value,
        broken_count
    from {{ ref('rpt_rollback_triggers') }}

)

select
    trigger_name as subject,
    cast(case trigger_name
        when 'ledger_invariant_broken' then 'ledger_invariant_broken_deals'
        else trigger_name
    end as {{ dbt.type_string() }}) as metric,
    cast(case trigger_name
        when 'ledger_invariant_broken' then broken_count
        else observed_value
    end as {{ dbt.type_numeric() }}) as metric_value
from triggers
where trigger_name in ('settlement_completion_rate', 'ledger_invariant_broken')
